import { createWorkspace, poseShaped, shapeWorkspace } from '../body/lbs';
import type { BodyModel } from '../body/model';

/** Joints a 2D body-keypoint layout cannot see (fingers, thumbs): left out of joint errors. */
export const UNSEEN_JOINTS = /finger|thumb/i;

/** Posed joints of a pose sequence, frames x J x 3. */
export function posedJoints(
  model: BodyModel,
  betas: ArrayLike<number>,
  theta: Float32Array,
  transl: Float32Array,
): Float32Array {
  const J = model.numJoints;
  const frames = transl.length / 3;
  const ws = createWorkspace(model);
  const out = new Float32Array(frames * J * 3);
  shapeWorkspace(model, ws, betas);
  for (let f = 0; f < frames; f++) {
    poseShaped(model, ws, theta.subarray(f * J * 3), transl.subarray(f * 3), null);
    out.set(ws.joints, f * J * 3);
  }
  return out;
}

/**
 * Mean per-joint position error (MPJPE, mm) between two frames x J x 3 joint arrays over the joints
 * named by `jointNames` that are not UNSEEN_JOINTS; frames where `a` is NaN are skipped.
 */
export function mpjpeMm(a: ArrayLike<number>, b: ArrayLike<number>, jointNames: readonly string[]): number {
  const J = jointNames.length;
  const used = jointNames.flatMap((n, j) => (UNSEEN_JOINTS.test(n) ? [] : [j]));
  const frames = Math.min(a.length, b.length) / (J * 3);
  let sum = 0;
  let count = 0;
  for (let f = 0; f < frames; f++) {
    if (!Number.isFinite(a[f * J * 3])) continue;
    for (const j of used) {
      const i = (f * J + j) * 3;
      sum += Math.hypot(a[i] - b[i], a[i + 1] - b[i + 1], a[i + 2] - b[i + 2]);
      count++;
    }
  }
  return (1000 * sum) / count;
}
