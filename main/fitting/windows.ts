import type { CameraCalibration } from '../../preload/api';
import { axisAngleFromMatrix, mat3Mul, mat3MulABt, rodrigues } from '../geometry/rotation';
import { createBodyState, setRootRef, type BodyLayout, type BodyState } from './body-state';
import type { FitConfig } from './config';
import type { Observations } from './observations';
import type { PosePrior } from './prior/pose-prior';
import { gemanMcClure } from './solver/loss';
import { solveLM, type LMWorkspace } from './solver/lm';
import type { Problem, ResidualBlock, SolverSummary } from './solver/problem';
import { footCameraBlock, type FootMount } from './terms/foot-camera';
import { groundBlock } from './terms/ground';
import { jointLimitsBlock } from './terms/joint-limits';
import { posePriorBlock } from './terms/pose-prior';
import { reprojectionBlock } from './terms/reprojection';
import { temporalBlock } from './terms/temporal';

/** A foot camera as the window solver uses it: its mount and per-frame PnP poses and weights. */
export interface FootConstraint {
  mount: FootMount;
  /** frames x 12 world -> camera (R, t). */
  poses: Float32Array;
  weights: Float32Array;
}

/** What the sliding-window solve reads. */
export interface WindowContext {
  layout: BodyLayout;
  betas: Float64Array;
  prior: PosePrior;
  obs: Observations;
  /** Room camera names, in obs view order. */
  viewNames: string[];
  config: FitConfig;
  /** Foot constraints in use (empty: term off). */
  feet: FootConstraint[];
  /** More residual blocks of frame f in window slot b (a refit's user keypoints, refit-window.ts). */
  extraBlocks?: (state: BodyState, b: number, f: number) => ResidualBlock[];
}

/**
 * The fitted sequence: x per frame (transl, then joint parameters; the root part is kept 0) and the
 * absolute root rotation per frame, so no frame's root ever lives in axis-angle near pi.
 */
export interface Sequence {
  n: number;
  x: Float64Array;
  rootR: Float64Array;
}

export function createSequence(frames: number, n: number): Sequence {
  const rootR = new Float64Array(frames * 9);
  for (let f = 0; f < frames; f++) rootR.set([1, 0, 0, 0, 1, 0, 0, 0, 1], f * 9);
  return { n, x: new Float64Array(frames * n), rootR };
}

/** Writes the frame's (model) theta root axis-angle into out (3). */
export function rootAxisAngle(seq: Sequence, f: number, out: Float64Array): Float64Array {
  axisAngleFromMatrix(out, 0, seq.rootR, f * 9);
  return out;
}

/**
 * The residual blocks of one frame (slot b of the window), every term but the temporal one: one
 * reprojection block per keypoint over the views that see it.
 */
export function frameBlocks(ctx: WindowContext, state: BodyState, b: number, f: number): ResidualBlock[] {
  const { obs, config, prior } = ctx;
  const w = config.weights;
  const blocks: ResidualBlock[] = [];
  const { views: C, keypoints: K } = obs;
  const loss = gemanMcClure(config.robustSigmaPx);
  for (let k = 0; k < K; k++) {
    if (!state.layout.keypointMap?.available[k]) continue;
    let count = 0;
    for (let c = 0; c < C; c++) if (obs.obs[((f * C + c) * K + k) * 3 + 2] > 0) count++;
    if (count === 0) continue;
    const cals: CameraCalibration[] = [];
    const pixels = new Float64Array(2 * count);
    const weights = new Float64Array(count);
    for (let c = 0, i = 0; c < C; c++) {
      const o = ((f * C + c) * K + k) * 3;
      const conf = obs.obs[o + 2];
      if (!(conf > 0)) continue;
      cals.push(obs.cals[c]);
      pixels[2 * i] = obs.obs[o];
      pixels[2 * i + 1] = obs.obs[o + 1];
      weights[i++] = w.reprojection * conf;
    }
    blocks.push(reprojectionBlock(state, b, cals, k, pixels, weights, loss));
  }
  blocks.push(posePriorBlock(prior, b, w.posePrior), jointLimitsBlock(prior, b, w.jointLimits));
  if (config.ground) blocks.push(groundBlock(state, b, w.ground));
  for (const foot of ctx.feet) {
    const q = foot.weights[f];
    if (!(q > 0)) continue;
    blocks.push(
      footCameraBlock(
        state,
        b,
        foot.mount,
        foot.poses.subarray(f * 12, f * 12 + 12),
        q,
        w.footPosition,
        w.footRotation,
        config.footRobustM,
      ),
    );
  }
  if (ctx.extraBlocks) blocks.push(...ctx.extraBlocks(state, b, f));
  return blocks;
}

/** Body states for a window of `size` frames plus the constant frame before it. */
export function windowStates(ctx: WindowContext): BodyState[] {
  return Array.from({ length: ctx.config.window.size + 1 }, () => createBodyState(ctx.layout, ctx.betas));
}

const Rrel = new Float64Array(9);

/**
 * Solves frames [start, end) together with frame start-1 (when solved) held constant and coupled by the
 * temporal term; with `holdEnd`, frame `end` (when in seq) is held and coupled the same way (a refit of
 * a window between two frames it must join, refit-window.ts). Frames start..end-1 must hold a warm
 * start in seq, and `states` one body state per frame of the problem. The roots are re-expressed as
 * small rotations about the first frame's root, solved, and written back as absolute rotations.
 * `workspace` carries the solver's buffers from window to window (all windows but the first and last
 * share a shape).
 */
export function solveWindow(
  ctx: WindowContext,
  seq: Sequence,
  states: BodyState[],
  start: number,
  end: number,
  iterations: number,
  signal?: AbortSignal,
  workspace?: LMWorkspace,
  holdEnd = false,
): SolverSummary {
  const { n } = seq;
  const first = start > 0 ? start - 1 : start;
  const last = holdEnd && end < seq.x.length / n ? end + 1 : end;
  const count = last - first;
  const ref = seq.rootR.slice(start * 9, start * 9 + 9);
  const params: Float64Array[] = [];
  const constant = new Uint8Array(count);
  const blocks: ResidualBlock[] = [];
  for (let b = 0; b < count; b++) {
    const f = first + b;
    const x = seq.x.slice(f * n, f * n + n);
    // delta = log(R_f R_ref^T): the root as a left perturbation of the reference.
    mat3MulABt(Rrel, 0, seq.rootR, f * 9, ref, 0);
    axisAngleFromMatrix(x, 3, Rrel, 0);
    params.push(x);
    setRootRef(states[b], ref);
    if (f < start || f >= end) constant[b] = 1;
    else blocks.push(...frameBlocks(ctx, states[b], b, f));
    if (b > 0)
      blocks.push(temporalBlock(b - 1, n, ctx.config.weights.smoothTransl, ctx.config.weights.smoothTheta));
  }
  const problem: Problem = { params, constant, residualBlocks: blocks };
  const summary = solveLM(
    problem,
    {
      maxIterations: iterations,
      functionTolerance: 1e-5,
      gradientTolerance: 1e-10,
      parameterTolerance: 1e-7,
      initialLambda: 1e-3,
      signal,
    },
    workspace,
  );
  for (let b = 0; b < count; b++) {
    const f = first + b;
    if (constant[b]) continue;
    const x = params[b];
    rodrigues(Rrel, 0, x, 3);
    mat3Mul(seq.rootR, f * 9, Rrel, 0, ref, 0);
    x[3] = x[4] = x[5] = 0;
    seq.x.set(x, f * n);
  }
  return summary;
}

/** Copies frame `from`'s solution into frame `to` as a warm start. */
export function copyFrame(seq: Sequence, from: number, to: number): void {
  const { n } = seq;
  seq.x.copyWithin(to * n, from * n, from * n + n);
  seq.rootR.copyWithin(to * 9, from * 9, from * 9 + 9);
}
