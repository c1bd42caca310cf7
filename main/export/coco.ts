import type { Db } from '../store/db';
import { findTrack, readTrackRange } from '../store/tracks';
import { cocoSkeleton } from './keypoint-skeleton';

/**
 * A camera's stored 2D keypoints as a COCO keypoint file (Lin et al. 2014, "person_keypoints" layout):
 * one image per sequence frame (file_name names the video frame; frames are not exported), one
 * annotation per frame with any detected keypoint: keypoints [x, y, v] with v = 2 (labelled, visible)
 * for a detection and 0 (x = y = 0) where the detector had none (NaN or confidence 0), the bbox and
 * area of the detected keypoints, and the detector's confidences as keypoint_scores. One category,
 * person, with the layout's keypoint names and limb pairs. Pixels keep 3 decimals, scores 4.
 */

export interface CocoInput {
  sequence: string;
  camera: string;
  layout: string;
  jointNames: readonly string[];
  width: number;
  height: number;
  fps: number;
  /** The session frame of sequence frame 0. */
  firstFrame: number;
  frameCount: number;
  /** frameCount x K x 3 (x, y, confidence), NaN where the track has no frame. */
  keypoints: Float32Array;
}

/**
 * Session frames [start, start + count) of a camera's keypoints2d track (stored from its first_frame),
 * NaN where the track has no frame; undefined when the camera has no keypoints.
 */
export async function readCameraKeypoints(
  db: Db,
  sessionId: number,
  cameraId: number,
  start: number,
  count: number,
): Promise<{ layout: string; jointNames: string[]; data: Float32Array } | undefined> {
  const track = await findTrack(db, sessionId, cameraId, 'keypoints2d');
  if (!track) return undefined;
  const per = (JSON.parse(track.frame_shape) as number[]).reduce((a, b) => a * b, 1);
  const data = new Float32Array(count * per).fill(NaN);
  const from = Math.max(start, track.first_frame);
  const block = await readTrackRange(db, track, from - track.first_frame, start + count - from);
  if (block.count > 0) data.set(block.data, (block.start + track.first_frame - start) * per);
  return { layout: track.layout, jointNames: JSON.parse(track.names) as string[], data };
}

const round = (x: number, digits: number) => {
  const k = 10 ** digits;
  const r = Math.round(x * k) / k;
  return r === 0 ? 0 : r;
};

/** The COCO document (serialise with canonicalJson). */
export function cocoDocument(input: CocoInput): Record<string, unknown> {
  const K = input.jointNames.length;
  if (input.keypoints.length !== input.frameCount * K * 3)
    throw new Error(
      `COCO ${input.sequence}/${input.camera}: ${input.keypoints.length} keypoint values, expected ` +
        `${input.frameCount} frames x ${K} x 3`,
    );
  const images: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const camera = input.camera.replace(/[^A-Za-z0-9._-]/g, '_');
  for (let f = 0; f < input.frameCount; f++) {
    const sessionFrame = input.firstFrame + f;
    const imageId = f + 1;
    images.push({
      id: imageId,
      file_name: `${input.sequence}/${camera}/${String(sessionFrame).padStart(6, '0')}.jpg`,
      width: input.width,
      height: input.height,
      frame_index: f,
      session_frame: sessionFrame,
      time_s: f / input.fps,
    });
    const keypoints: number[] = [];
    const scores: number[] = [];
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    let visible = 0;
    for (let k = 0; k < K; k++) {
      const i = (f * K + k) * 3;
      const x = input.keypoints[i];
      const y = input.keypoints[i + 1];
      const c = input.keypoints[i + 2];
      if (Number.isFinite(x) && Number.isFinite(y) && c > 0) {
        keypoints.push(round(x, 3), round(y, 3), 2);
        scores.push(round(c, 4));
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
        visible++;
      } else {
        keypoints.push(0, 0, 0);
        scores.push(0);
      }
    }
    if (visible === 0) continue;
    const bbox = [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)];
    annotations.push({
      id: annotations.length + 1,
      image_id: imageId,
      category_id: 1,
      keypoints,
      keypoint_scores: scores,
      num_keypoints: visible,
      bbox,
      area: round(bbox[2] * bbox[3], 3),
      iscrowd: 0,
    });
  }
  return {
    info: {
      description: `${input.sequence}: 2D keypoints of camera ${input.camera} (${input.layout}); images are video frames, not exported`,
      layout: input.layout,
      fps: input.fps,
    },
    licenses: [],
    images,
    annotations,
    categories: [
      {
        id: 1,
        name: 'person',
        supercategory: 'person',
        keypoints: [...input.jointNames],
        skeleton: cocoSkeleton(input.jointNames),
      },
    ],
  };
}
