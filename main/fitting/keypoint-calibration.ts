import type { KeypointAdjustment, KeypointCalibration } from '../../preload/api';
import type { BodyModel } from '../body/model';
import type { KeypointMap } from '../body/landmarks';
import { choleskyLower } from './prior/gmm';

/**
 * Per-session keypoint regressor calibration. A detector's keypoints are not the model's joints: an
 * OpenPose hip sits higher and wider than a skeleton's hip centre, its "Neck" is not the shoulder
 * midpoint, and where exactly depends on the detector and the clothes. With a fixed map the fit
 * trades these offsets against the other views and the reprojection floor rises by several pixels on
 * real captures. So, like SMPL's J_regressor (a linear map from the mesh to a joint), each keypoint is
 * re-regressed once per session as an affine combination of its default landmark d_k and a few nearby
 * joints J_j of the fitted body (its anchor joint, the anchor's parent, children, grandparent and
 * siblings), against the triangulated keypoints P_k(f) of a first pass:
 *   K_k(f) = (1 - sum_j a_j) d_k(f) + sum_j a_j J_j(f),
 *   a = argmin sum_f |P_k(f) - d_k(f) - sum_j a_j (J_j(f) - d_k(f))|^2 + ridge * n * |a|^2.
 * The map stays linear in the posed joints and vertices, so the fit's Jacobians are unchanged.
 */
export type { KeypointAdjustment, KeypointCalibration };

/** A calibration frame: the first pass's posed joints (J x 3) and default keypoints (K x 3), world. */
export interface CalibrationSample {
  joints: Float64Array;
  keypoints: Float64Array;
  /** K x 3 triangulated keypoints, NaN where not triangulated well enough. */
  target: Float64Array;
}

/** Fewer triangulated frames than this leave a keypoint as it is. */
const MIN_FRAMES = 10;
/** Frames farther than this from the first solution (x their median) are dropped before the second. */
const OUTLIER_FACTOR = 3;

/**
 * The joints that move keypoint k most: its own joint terms, or its vertices' skin weights, within half
 * of the largest (both shoulders for a shoulder-midpoint neck).
 */
export function anchorJoints(model: BodyModel, map: KeypointMap, k: number): number[] {
  const J = model.numJoints;
  const acc = new Float64Array(J);
  for (let t = map.termStart[k]; t < map.termStart[k + 1]; t++) {
    const w = Math.abs(map.termWeight[t]);
    if (map.termKind[t] === 0) acc[map.termIndex[t]] += w;
    else {
      const v = map.vertexIds[map.termIndex[t]];
      for (let j = 0; j < J; j++) acc[j] += w * model.weights[v * J + j];
    }
  }
  const top = acc.reduce((m, v) => Math.max(m, v), 0);
  return Array.from(acc.keys()).filter((j) => acc[j] > 0 && acc[j] >= 0.5 * top);
}

/**
 * The joints a keypoint is regressed from: for each anchor, itself, its children, its parent and
 * grandparent, and the children of both (siblings and the parent's siblings: the neck beside a
 * shoulder, the other hip beside a hip).
 */
export function candidateJoints(model: BodyModel, anchors: number[]): number[] {
  const { parents } = model;
  const out = new Set<number>();
  const withChildren = (j: number) => {
    out.add(j);
    for (let c = 0; c < parents.length; c++) if (parents[c] === j) out.add(c);
  };
  for (const a of anchors) {
    withChildren(a);
    const p = parents[a];
    if (p < 0) continue;
    withChildren(p);
    if (parents[p] >= 0) withChildren(parents[p]);
  }
  return [...out].sort((a, b) => a - b);
}

export function calibrateKeypoints(
  model: BodyModel,
  map: KeypointMap,
  samples: CalibrationSample[],
  ridge: number,
): KeypointCalibration {
  const K = map.names.length;
  const adjust: KeypointAdjustment[] = [];
  for (let k = 0; k < K; k++) {
    if (!map.available[k]) continue;
    const cand = candidateJoints(model, anchorJoints(model, map, k));
    const used = samples.filter((s) => Number.isFinite(s.target[k * 3]));
    if (used.length < MIN_FRAMES) continue;
    let a = solveAffine(cand, used, k, ridge, null);
    // One trimmed re-solve: a few mis-triangulated frames should not pull the regressor.
    const residuals = used.map((s) => residual(cand, s, k, a));
    const limit = OUTLIER_FACTOR * median(residuals);
    const keep = used.map((_, i) => residuals[i] <= limit);
    a = solveAffine(cand, used, k, ridge, keep);
    const shifts = used.map((s) => shift(cand, s, k, a));
    adjust.push({
      keypoint: map.names[k],
      joints: cand.map((j) => model.jointNames[j]),
      weights: a,
      shiftMm: median(shifts) * 1000,
      frames: used.length,
    });
  }
  return { layout: map.layout, frames: samples.length, ridge, adjust };
}

/** The map with each adjusted keypoint's default terms scaled by 1 - sum a and its joint terms added. */
export function adjustedKeypointMap(
  model: BodyModel,
  map: KeypointMap,
  cal: KeypointCalibration,
): KeypointMap {
  if (cal.layout !== map.layout)
    throw new Error(`keypoint calibration is for ${cal.layout}, the fit's keypoints are ${map.layout}`);
  const byName = new Map(cal.adjust.map((a) => [a.keypoint, a]));
  const start = [0];
  const kind: number[] = [];
  const index: number[] = [];
  const weight: number[] = [];
  map.names.forEach((name, k) => {
    const adj = map.available[k] ? byName.get(name) : undefined;
    const sum = adj ? adj.weights.reduce((s, w) => s + w, 0) : 0;
    for (let t = map.termStart[k]; t < map.termStart[k + 1]; t++) {
      kind.push(map.termKind[t]);
      index.push(map.termIndex[t]);
      weight.push(map.termWeight[t] * (1 - sum));
    }
    adj?.joints.forEach((jointName, i) => {
      const j = model.jointNames.indexOf(jointName);
      if (j < 0)
        throw new Error(`keypoint calibration names joint "${jointName}", not a joint of ${model.file}`);
      kind.push(0);
      index.push(j);
      weight.push(adj.weights[i]);
    });
    start.push(kind.length);
  });
  return {
    ...map,
    termStart: Int32Array.from(start),
    termKind: Uint8Array.from(kind),
    termIndex: Int32Array.from(index),
    termWeight: Float32Array.from(weight),
  };
}

/** Ridge least squares of the affine weights (normal equations, m <= ~8 unknowns). */
function solveAffine(
  cand: number[],
  samples: CalibrationSample[],
  k: number,
  ridge: number,
  keep: boolean[] | null,
): number[] {
  const m = cand.length;
  const A = new Float64Array(m * m);
  const b = new Float64Array(m);
  const g = new Float64Array(m);
  let n = 0;
  samples.forEach((s, i) => {
    if (keep && !keep[i]) return;
    n++;
    for (let c = 0; c < 3; c++) {
      const d = s.keypoints[k * 3 + c];
      const r = s.target[k * 3 + c] - d;
      for (let q = 0; q < m; q++) g[q] = s.joints[cand[q] * 3 + c] - d;
      for (let q = 0; q < m; q++) {
        b[q] += g[q] * r;
        for (let p = 0; p < m; p++) A[q * m + p] += g[q] * g[p];
      }
    }
  });
  for (let q = 0; q < m; q++) A[q * m + q] += ridge * Math.max(n, 1);
  return choleskySolve(A, b, m);
}

/**
 * x = A^-1 b for the SPD system of solveAffine (ridge > 0 keeps it so), by gmm.ts's Cholesky factor and
 * two triangular solves; a system that is not positive definite (no ridge, degenerate frames) gives
 * zero weights, the keypoint's default map.
 */
function choleskySolve(A: Float64Array, b: Float64Array, m: number): number[] {
  const x = new Array<number>(m).fill(0);
  if (!choleskyLower(A, m)) return x;
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= A[i * m + p] * y[p];
    y[i] = s / A[i * m + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i];
    for (let p = i + 1; p < m; p++) s -= A[p * m + i] * x[p];
    x[i] = s / A[i * m + i];
  }
  return x;
}

/** |adjusted keypoint - target| of one sample. */
function residual(cand: number[], s: CalibrationSample, k: number, a: number[]): number {
  let sq = 0;
  for (let c = 0; c < 3; c++) {
    let p = s.keypoints[k * 3 + c];
    for (let q = 0; q < cand.length; q++) p += a[q] * (s.joints[cand[q] * 3 + c] - s.keypoints[k * 3 + c]);
    sq += (p - s.target[k * 3 + c]) ** 2;
  }
  return Math.sqrt(sq);
}

/** |adjusted keypoint - default keypoint| of one sample. */
function shift(cand: number[], s: CalibrationSample, k: number, a: number[]): number {
  let sq = 0;
  for (let c = 0; c < 3; c++) {
    let p = 0;
    for (let q = 0; q < cand.length; q++) p += a[q] * (s.joints[cand[q] * 3 + c] - s.keypoints[k * 3 + c]);
    sq += p * p;
  }
  return Math.sqrt(sq);
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s.length ? s[s.length >> 1] : NaN;
}
