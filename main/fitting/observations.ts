import type { CameraCalibration } from '../../preload/api';
import { triangulateRobust } from '../geometry/triangulate';
import type { FitConfig } from './config';
import type { FitInput } from './types';

/**
 * The 2D evidence of a fit, frame-major, and per-frame triangulated keypoints for initialisation and
 * shape estimation.
 */
export interface Observations {
  frames: number;
  views: number;
  keypoints: number;
  layout: string;
  cals: CameraCalibration[];
  /** frames x views x K x 3 (u, v, confidence); confidence 0 where missing or below the threshold. */
  obs: Float32Array;
  /** frames x K x 3 triangulated keypoints, NaN where fewer than minViews views agree. */
  points3d: Float64Array;
  /** frames x K: views kept by the triangulation. */
  pointViews: Uint8Array;
  /**
   * frames x views x K: 1 for a detection the triangulation kept (or that had no triangulation to
   * disagree with), 0 for one it excluded as an outlier or one below the confidence threshold.
   */
  kept: Uint8Array;
}

/** Confidence factor of a detection the Pose2Sim-style triangulation left out as an outlier. */
const EXCLUDED_VIEW_WEIGHT = 0.05;

export function buildObservations(input: FitInput, config: FitConfig): Observations {
  const { frameCount: F, views } = input;
  if (views.length === 0) throw new Error('fit: the session has no room camera with 2D keypoints');
  const layout = views[0].layout.toUpperCase();
  for (const v of views)
    if (v.layout.toUpperCase() !== layout)
      throw new Error(`fit: camera ${v.name} has ${v.layout} keypoints but ${views[0].name} has ${layout}`);
  const C = views.length;
  const K = views[0].keypoints.length / (F * 3);
  if (!Number.isInteger(K) || K === 0)
    throw new Error(`fit: camera ${views[0].name}: keypoints do not cover ${F} frames`);
  for (const v of views)
    if (v.keypoints.length !== F * K * 3)
      throw new Error(`fit: camera ${v.name}: ${v.keypoints.length / 3} keypoints for ${F} frames of ${K}`);
  const obs = new Float32Array(F * C * K * 3);
  for (let f = 0; f < F; f++)
    for (let c = 0; c < C; c++)
      for (let k = 0; k < K; k++) {
        const src = (f * K + k) * 3;
        const dst = ((f * C + c) * K + k) * 3;
        const kp = views[c].keypoints;
        const ok =
          Number.isFinite(kp[src]) && Number.isFinite(kp[src + 1]) && kp[src + 2] >= config.minConfidence;
        obs[dst] = ok ? kp[src] : NaN;
        obs[dst + 1] = ok ? kp[src + 1] : NaN;
        obs[dst + 2] = ok ? kp[src + 2] : 0;
      }
  const cals = views.map((v) => v.calibration);
  const points3d = new Float64Array(F * K * 3).fill(NaN);
  const pointViews = new Uint8Array(F * K);
  const kept = new Uint8Array(F * C * K);
  for (let i = 0; i < kept.length; i++) kept[i] = obs[i * 3 + 2] > 0 ? 1 : 0;
  const pixels = new Float64Array(2 * C);
  const weights = new Float64Array(C);
  const X = new Float64Array(3);
  const used = new Uint8Array(C);
  const { thresholdPx, minViews } = config.triangulation;
  for (let f = 0; f < F; f++)
    for (let k = 0; k < K; k++) {
      for (let c = 0; c < C; c++) {
        const i = ((f * C + c) * K + k) * 3;
        pixels[2 * c] = obs[i];
        pixels[2 * c + 1] = obs[i + 1];
        weights[c] = obs[i + 2];
      }
      const t = triangulateRobust(cals, pixels, weights, thresholdPx, minViews, X, used);
      if (t.views >= minViews && t.maxErrorPx <= thresholdPx) {
        points3d.set(X, (f * K + k) * 3);
        pointViews[f * K + k] = t.views;
        // A view the triangulation excluded disagrees with the others by more than the threshold:
        // it keeps a small say in the fit (it may be the right one where the others are wrong).
        for (let c = 0; c < C; c++)
          if (weights[c] > 0 && !used[c]) {
            obs[((f * C + c) * K + k) * 3 + 2] *= EXCLUDED_VIEW_WEIGHT;
            kept[(f * C + c) * K + k] = 0;
          }
      }
    }
  return { frames: F, views: C, keypoints: K, layout, cals, obs, points3d, pointViews, kept };
}

/** Frames [start, start + count) of the observations (views of the same arrays, no copy). */
export function sliceObservations(obs: Observations, start: number, count: number): Observations {
  const { views: C, keypoints: K } = obs;
  const e = start + count;
  return {
    ...obs,
    frames: count,
    obs: obs.obs.subarray(start * C * K * 3, e * C * K * 3),
    points3d: obs.points3d.subarray(start * K * 3, e * K * 3),
    pointViews: obs.pointViews.subarray(start * K, e * K),
    kept: obs.kept.subarray(start * C * K, e * C * K),
  };
}
