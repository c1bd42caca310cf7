import type { UserKeypoint } from '../store/fit-corrections';
import type { BodyState } from './body-state';
import type { Observations } from './observations';
import { trivialLoss } from './solver/loss';
import type { ResidualBlock } from './solver/problem';
import { reprojectionBlock } from './terms/reprojection';
import type { FitInput } from './types';

/**
 * User keypoints (a joint the user dragged in a camera view) as a refit sees them: in place of the
 * detector's keypoint of the same camera, frame and joint, and in the solve as a reprojection term of
 * their own.
 *
 * Weight: a user keypoint of confidence c costs c x USER_KEYPOINT_WEIGHT x |e|^2 (e its reprojection
 * error in pixels). Near its point a detection of confidence d costs d |e|^2 (Geman-McClure is ~|e|^2
 * there), so a user keypoint counts as ten perfect detections: one corrected view outweighs the three to
 * five detector views of a capture that agree on a wrong point. Unlike a detection it has no robust loss
 * (a user keypoint is never an outlier: under Geman-McClure, sigma 20 px, a joint dragged 80 px or more
 * would not pull at all) and the triangulation never down-weights it.
 */
export const USER_KEYPOINT_WEIGHT = 10;

/** A user keypoint placed in a FitInput: frame (0 = input.firstFrame), view and keypoint indices. */
export interface PlacedKeypoint {
  frame: number;
  view: number;
  joint: number;
  u: number;
  v: number;
  confidence: number;
}

/**
 * Writes user keypoints into the FitInput's views in place of the detector's (those of cameras that
 * are not views of the input, or outside its frames, are left out); returns where they went.
 */
export function placeUserKeypoints(
  input: FitInput,
  viewOfCamera: ReadonlyMap<number, number>,
  kps: readonly UserKeypoint[],
): PlacedKeypoint[] {
  const F = input.frameCount;
  const placed: PlacedKeypoint[] = [];
  for (const kp of kps) {
    const c = viewOfCamera.get(kp.cameraId);
    const f = kp.frame - input.firstFrame;
    if (c === undefined || f < 0 || f >= F) continue;
    const view = input.views[c].keypoints;
    const K = view.length / (F * 3);
    if (kp.joint >= K) continue;
    view.set([kp.u, kp.v, kp.confidence], (f * K + kp.joint) * 3);
    placed.push({ frame: f, view: c, joint: kp.joint, u: kp.u, v: kp.v, confidence: kp.confidence });
  }
  return placed;
}

export interface UserKeypointTerm {
  /** For WindowContext.extraBlocks: one plain least-squares reprojection block per user keypoint of frame f. */
  blocks(state: BodyState, b: number, f: number): ResidualBlock[];
  /** Puts the user keypoints back into the observations (after the solve, for the quality rows). */
  restore(): void;
  /** User keypoints in the observations' frames. */
  count: number;
}

/**
 * The user keypoints of a window's observations (obs frame 0 = input frame `from`): taken out of the
 * robust reprojection term (confidence 0 there) and solved as their own term.
 */
export function userKeypointTerm(
  obs: Observations,
  placed: readonly PlacedKeypoint[],
  from: number,
): UserKeypointTerm {
  const { views: C, keypoints: K, frames } = obs;
  const byFrame = new Map<number, PlacedKeypoint[]>();
  const at = (p: PlacedKeypoint) => (((p.frame - from) * C + p.view) * K + p.joint) * 3;
  const inside = placed.filter((p) => p.frame >= from && p.frame < from + frames);
  for (const p of inside) {
    byFrame.set(p.frame - from, [...(byFrame.get(p.frame - from) ?? []), p]);
    obs.obs.set([NaN, NaN, 0], at(p));
  }
  return {
    count: inside.length,
    blocks: (state, b, f) =>
      (byFrame.get(f) ?? [])
        .filter((p) => state.layout.keypointMap?.available[p.joint])
        .map((p) =>
          reprojectionBlock(
            state,
            b,
            [obs.cals[p.view]],
            p.joint,
            Float64Array.of(p.u, p.v),
            Float64Array.of(p.confidence * USER_KEYPOINT_WEIGHT),
            trivialLoss,
          ),
        ),
    restore: () => {
      for (const p of inside) obs.obs.set([p.u, p.v, p.confidence], at(p));
    },
  };
}
