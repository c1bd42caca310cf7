import type { CameraCalibration, FitSummary } from '../../preload/api';
import type { BodyModel } from '../body/model';
import type { FitConfig } from './config';

/** Everything a fit reads, already out of the store: pure data, frame 0 = session frame `firstFrame`. */
export interface FitInput {
  model: BodyModel;
  fps: number;
  firstFrame: number;
  frameCount: number;
  /** The subject's shape (session subject profile); null: estimated once from the first good frames. */
  betas: Float64Array | null;
  /** Room cameras with 2D keypoints, all in the same layout. */
  views: FitView[];
  /** Localised foot cameras (empty or ignored when the foot-camera term is off). */
  footCameras: FitFootCamera[];
}

export interface FitView {
  name: string;
  calibration: CameraCalibration;
  /** Keypoint layout, e.g. 'BODY_25'. */
  layout: string;
  /** frameCount x K x 3: u, v (pixels), confidence; NaN (or confidence 0) where missing. */
  keypoints: Float32Array;
}

export interface FitFootCamera {
  name: string;
  role: 'foot-left' | 'foot-right';
  calibration: CameraCalibration;
  /** frameCount x 12: world -> camera R (row-major 9) then t (3); NaN where not localised. */
  poses: Float32Array;
  /** frameCount weights in [0, 1] from PnP quality (0: no pose, skip the frame). */
  weights: Float32Array;
}

export interface MountEstimate {
  camera: string;
  joint: string;
  /** Camera axes in the foot joint's frame: camera -> joint rotation, row-major. */
  R: number[];
  /** Camera centre in the foot joint's frame, metres. */
  offset: number[];
  /** Frames the estimate averaged. */
  frames: number;
}

export interface FitResult {
  betas: Float64Array;
  /** frameCount x J x 3 axis-angle (every model joint; joints the fit does not move stay 0). */
  theta: Float32Array;
  /** frameCount x 3. */
  transl: Float32Array;
  qualityFields: string[];
  /** frameCount x qualityFields.length. */
  quality: Float32Array;
  mounts: MountEstimate[];
  stats: FitSummary['stats'];
  config: FitConfig;
}

export type FitProgress = (fraction: number, message: string) => void;
