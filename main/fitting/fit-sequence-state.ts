import { projectPoint } from '../geometry/camera';
import { rodrigues } from '../geometry/rotation';
import { evaluateBodyState, setRootRef, type BodyLayout, type BodyState } from './body-state';
import type { FitInput } from './types';
import { createSequence, type Sequence } from './windows';

/**
 * Stored fit poses back into the solver's variables, and the slices of a FitInput a window needs: what
 * a refit (refit-window.ts) starts from.
 */

/**
 * The Sequence of stored model poses (frames x J x 3 axis-angle, frames x 3): x = [transl, 0 (root
 * delta), theta of the free joints in layout order], the root as an absolute rotation R = exp(theta_0).
 * The inverse of sequenceTheta for the free joints (joints that are not free are the prior's constants).
 */
export function sequenceFromPoses(layout: BodyLayout, theta: Float32Array, transl: Float32Array): Sequence {
  const J = layout.model.numJoints;
  const frames = transl.length / 3;
  if (theta.length !== frames * J * 3)
    throw new Error(`fit poses: ${theta.length} theta values for ${frames} frames of ${J} joints`);
  const seq = createSequence(frames, layout.n);
  const { n, x, rootR } = seq;
  for (let f = 0; f < frames; f++) {
    x.set(transl.subarray(f * 3, f * 3 + 3), f * n);
    rodrigues(rootR, f * 9, theta, f * J * 3);
    for (let j = 1; j < J; j++) {
      const o = layout.offset[j];
      if (o >= 0) x.set(theta.subarray((f * J + j) * 3, (f * J + j) * 3 + 3), f * n + o);
    }
  }
  return seq;
}

/** Frames [from, from + count) of a FitInput (views' keypoints and foot cameras are views, not copies). */
export function sliceFitInput(input: FitInput, from: number, count: number): FitInput {
  if (
    !Number.isInteger(from) ||
    !Number.isInteger(count) ||
    from < 0 ||
    count < 1 ||
    from + count > input.frameCount
  )
    throw new Error(
      `fit input: frames [${from}, ${from + count}) are not within its ${input.frameCount} frames`,
    );
  const rows = (a: Float32Array, per: number) => a.subarray(from * per, (from + count) * per);
  return {
    ...input,
    firstFrame: input.firstFrame + from,
    frameCount: count,
    views: input.views.map((v) => ({
      ...v,
      keypoints: rows(v.keypoints, v.keypoints.length / input.frameCount),
    })),
    footCameras: input.footCameras.map((c) => ({
      ...c,
      poses: rows(c.poses, 12),
      weights: rows(c.weights, 1),
    })),
  };
}

const pixel = new Float64Array(2);

/**
 * Every reprojection error (pixels) of a sequence against its views' keypoints (frames x K x 3 each,
 * those with confidence >= minConfidence), as frameQuality counts them for its median.
 */
export function reprojectionErrors(
  state: BodyState,
  seq: Sequence,
  views: FitInput['views'],
  minConfidence: number,
): Float64Array {
  const frames = seq.x.length / seq.n;
  const K = state.keypoints.length / 3;
  const available = state.layout.keypointMap!.available;
  const errors: number[] = [];
  for (let f = 0; f < frames; f++) {
    setRootRef(state, seq.rootR.subarray(f * 9, f * 9 + 9));
    evaluateBodyState(state, seq.x.subarray(f * seq.n, (f + 1) * seq.n), false);
    for (const view of views)
      for (let k = 0; k < K; k++) {
        const i = (f * K + k) * 3;
        const kp = view.keypoints;
        if (!available[k] || !(kp[i + 2] >= minConfidence)) continue;
        projectPoint(view.calibration, state.keypoints.subarray(k * 3, k * 3 + 3), pixel);
        const e = Math.hypot(pixel[0] - kp[i], pixel[1] - kp[i + 1]);
        if (Number.isFinite(e)) errors.push(e);
      }
  }
  return Float64Array.from(errors);
}
