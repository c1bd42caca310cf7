import type { BodyModel } from '../../body/model';
import type { AsfSkeleton } from '../../body/motion/asf-amc';
import { CMU_FPS, listCmuClips, retargetCmuClip } from '../../body/motion/cmu-clips';
import type { PoseSequence } from '../../body/retarget';
import { fitGmm } from './gmm';
import { parsePosePrior, type PosePrior, type PosePriorJson, posePriorJson } from './pose-prior';

/**
 * Fits the pose prior from the CMU clips in ../shared/data retargeted onto the body model. The clips of
 * the embedded sample's motion are held out: the fit is evaluated on them.
 */

export const HELD_OUT_CLIPS: readonly string[] = ['02_01', '02_02', '02_06'];

export interface FitPosePriorOptions {
  cmuDir: string;
  components?: number;
  /** Keep every step-th mocap frame (120 fps): neighbouring frames add little. */
  step?: number;
  seed?: number;
  /** Added to each covariance diagonal, rad^2. */
  regularization?: number;
  /** A joint is free when its pooled within-clip standard deviation exceeds this (rad). */
  freeThreshold?: number;
  percentiles?: [number, number];
  /** Widening of the percentile limits, rad. */
  margin?: number;
  maxIterations?: number;
  /**
   * Clip-name prefix (e.g. '02_') of the training clips whose values the held joints take; default all.
   * Their constants depend on the subject's ASF skeleton, so a fit of one subject wants that subject's.
   */
  fixedFrom?: string;
  onProgress?: (fraction: number, message: string) => void;
}

export interface PosePriorFit {
  json: PosePriorJson;
  /** `json` parsed back: exactly what the file holds. */
  prior: PosePrior;
  clips: string[];
  frames: number;
  iterations: number;
  converged: boolean;
  meanLogLikelihood: number;
}

/**
 * Free joints: non-root joints whose axis-angle varies within clips. The pooled within-clip deviation
 * is used, not the overall one, because a joint the mocap never moves (CMU hip joints, clavicles) still
 * takes a different constant per subject skeleton, which is no motion.
 */
function freeJoints(seqs: PoseSequence[], J: number, threshold: number): boolean[] {
  const ss = new Float64Array(J);
  let frames = 0;
  for (const s of seqs) {
    const mean = new Float64Array(J * 3);
    for (let f = 0; f < s.frames; f++)
      for (let i = 0; i < J * 3; i++) mean[i] += s.theta[f * J * 3 + i] / s.frames;
    for (let f = 0; f < s.frames; f++)
      for (let i = 0; i < J * 3; i++) ss[Math.floor(i / 3)] += (s.theta[f * J * 3 + i] - mean[i]) ** 2;
    frames += s.frames;
  }
  return Array.from(ss, (v, j) => j > 0 && Math.sqrt(v / (3 * frames)) > threshold);
}

/** Value at percentile p (0..100) of sorted values, linear between ranks. */
function percentile(sorted: Float64Array, p: number): number {
  const r = (p / 100) * (sorted.length - 1);
  const i = Math.floor(r);
  return i + 1 < sorted.length ? sorted[i] + (r - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

function column(data: Float64Array, D: number, i: number): Float64Array {
  const N = data.length / D;
  return Float64Array.from({ length: N }, (_, n) => data[n * D + i]).sort();
}

/** Retargets the training clips, picks the free joints, fits the mixture and the limits. */
export function fitPosePrior(model: BodyModel, options: FitPosePriorOptions): PosePriorFit {
  const step = options.step ?? 8;
  const components = options.components ?? 8;
  const seed = options.seed ?? 1;
  const regularization = options.regularization ?? 1e-3;
  const percentiles = options.percentiles ?? [0.5, 99.5];
  const margin = options.margin ?? 0.1;
  const progress = options.onProgress ?? (() => {});
  const J = model.numJoints;

  const clips = listCmuClips(options.cmuDir).filter((c) => !HELD_OUT_CLIPS.includes(c.name));
  const cache = new Map<string, AsfSkeleton>();
  const seqs = clips.map((c, i) => {
    progress((0.2 * i) / clips.length, `retargeting ${c.name}`);
    return retargetCmuClip(model, c, step, cache);
  });
  const free = freeJoints(seqs, J, options.freeThreshold ?? 0.01);
  const indices = free.flatMap((f, j) => (f ? [j] : []));
  const D = indices.length * 3;
  const N = seqs.reduce((s, q) => s + q.frames, 0);
  const data = new Float64Array(N * D);
  let n = 0;
  for (const s of seqs)
    for (let f = 0; f < s.frames; f++, n++)
      indices.forEach((j, a) => {
        for (let c = 0; c < 3; c++) data[n * D + a * 3 + c] = s.theta[(f * J + j) * 3 + c];
      });

  const maxIterations = options.maxIterations ?? 200;
  progress(0.2, `EM on ${N} frames x ${D} dofs`);
  const fit = fitGmm(data, D, {
    components,
    seed,
    regularization,
    maxIterations,
    onIteration: (it, ll) =>
      progress(0.2 + (0.8 * it) / maxIterations, `EM ${it}: mean log-lik ${ll.toFixed(2)}`),
  });

  const min: number[] = [];
  const max: number[] = [];
  for (let i = 0; i < D; i++) {
    const col = column(data, D, i);
    min.push(percentile(col, percentiles[0]) - margin);
    max.push(percentile(col, percentiles[1]) + margin);
  }
  // Joints held fixed take their median retargeted value, so the fit keeps the retargeted bone layout.
  const fixedSeqs = seqs.filter((_, i) => clips[i].name.startsWith(options.fixedFrom ?? ''));
  if (fixedSeqs.length === 0) throw new Error(`no training clip name starts with "${options.fixedFrom}"`);
  const fixedJoints: Record<string, number[]> = {};
  for (let j = 1; j < J; j++) {
    if (free[j]) continue;
    fixedJoints[model.jointNames[j]] = [0, 1, 2].map((c) => {
      const v: number[] = [];
      for (const s of fixedSeqs) for (let f = 0; f < s.frames; f++) v.push(s.theta[(f * J + j) * 3 + c]);
      return percentile(Float64Array.from(v).sort(), 50);
    });
  }
  const json = posePriorJson(fit.mixture, {
    model: model.name,
    joints: indices.map((j) => model.jointNames[j]),
    limits: { min, max, percentiles, margin },
    fixedJoints,
    training: {
      source: 'CMU Graphics Lab motion capture, retargeted by main/body/retarget.ts',
      clips: clips.map((c) => c.name),
      heldOut: [...HELD_OUT_CLIPS],
      fps: CMU_FPS / step,
      frames: N,
      seed,
      regularization,
      fixedFrom: options.fixedFrom ?? null,
      iterations: fit.iterations,
      meanLogLikelihood: Number(fit.meanLogLikelihood.toFixed(4)),
    },
  });
  progress(1, 'done');
  return {
    json,
    prior: parsePosePrior(json, '(fitted pose prior)'),
    clips: clips.map((c) => c.name),
    frames: N,
    iterations: fit.iterations,
    converged: fit.converged,
    meanLogLikelihood: fit.meanLogLikelihood,
  };
}
