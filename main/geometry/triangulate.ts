import type { CameraCalibration } from '../../preload/api';
import { projectPoint, undistortPixel } from './camera';

/**
 * Weighted linear (DLT) triangulation from undistorted normalised observations (Hartley & Zisserman
 * 12.2): each view adds rows x (P3 X) - (P1 X) = 0 and y (P3 X) - (P2 X) = 0 with P = [R | t]; the
 * point is the eigenvector of A^T A with the smallest eigenvalue, found here by solving the 3x3 normal
 * equations of the inhomogeneous system (X_w = 1), fine for points in front of the cameras.
 */
// Scratch space reused across calls: triangulation runs per joint per frame.
const AtA = new Float64Array(9);
const Atb = new Float64Array(3);
const n = new Float64Array(2);
const row = new Float64Array(3);

export function triangulatePoint(
  cals: CameraCalibration[],
  pixels: ArrayLike<number>,
  weights: ArrayLike<number>,
  out: Float64Array = new Float64Array(3),
): Float64Array {
  AtA.fill(0);
  Atb.fill(0);
  let views = 0;
  for (let c = 0; c < cals.length; c++) {
    const w = weights[c];
    const u = pixels[2 * c];
    const v = pixels[2 * c + 1];
    if (!(w > 0) || !Number.isFinite(u) || !Number.isFinite(v)) continue;
    views++;
    const { R, t } = cals[c];
    undistortPixel(cals[c], u, v, n);
    for (let k = 0; k < 2; k++) {
      const m = n[k];
      // Row: (m * R[2,:] - R[k,:]) . X = -(m * t2 - t_k)
      row[0] = m * R[6] - R[3 * k];
      row[1] = m * R[7] - R[3 * k + 1];
      row[2] = m * R[8] - R[3 * k + 2];
      const b = -(m * t[2] - t[k]);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) AtA[3 * i + j] += w * row[i] * row[j];
        Atb[i] += w * row[i] * b;
      }
    }
  }
  if (views < 2) {
    out.fill(NaN);
    return out;
  }
  return solve3(AtA, Atb, out);
}

/** Solves a 3x3 system by Cramer's rule (the normal matrix is symmetric positive definite here). */
export function solve3(A: Float64Array, b: Float64Array, out: Float64Array): Float64Array {
  const det =
    A[0] * (A[4] * A[8] - A[5] * A[7]) -
    A[1] * (A[3] * A[8] - A[5] * A[6]) +
    A[2] * (A[3] * A[7] - A[4] * A[6]);
  if (Math.abs(det) < 1e-18) {
    out.fill(NaN);
    return out;
  }
  const inv = 1 / det;
  out[0] =
    (b[0] * (A[4] * A[8] - A[5] * A[7]) -
      A[1] * (b[1] * A[8] - A[5] * b[2]) +
      A[2] * (b[1] * A[7] - A[4] * b[2])) *
    inv;
  out[1] =
    (A[0] * (b[1] * A[8] - A[5] * b[2]) -
      b[0] * (A[3] * A[8] - A[5] * A[6]) +
      A[2] * (A[3] * b[2] - b[1] * A[6])) *
    inv;
  out[2] =
    (A[0] * (A[4] * b[2] - b[1] * A[7]) -
      A[1] * (A[3] * b[2] - b[1] * A[6]) +
      b[0] * (A[3] * A[7] - A[4] * A[6])) *
    inv;
  return out;
}

const projected = new Float64Array(2);
const active = new Float64Array(64);
const trial = new Float64Array(64);
const point = new Float64Array(3);

export interface RobustTriangulation {
  /** Views kept (weight > 0 after exclusion). */
  views: number;
  /** Largest reprojection error among the kept views, pixels (NaN without a point). */
  maxErrorPx: number;
}

/** Largest reprojection error of X over the views with weight > 0 (Infinity for a point behind one). */
function maxReprojection(
  cals: CameraCalibration[],
  pixels: ArrayLike<number>,
  w: Float64Array,
  X: Float64Array,
): number {
  let worst = 0;
  for (let c = 0; c < cals.length; c++) {
    if (!(w[c] > 0)) continue;
    projectPoint(cals[c], X, projected);
    const e = Math.hypot(projected[0] - pixels[2 * c], projected[1] - pixels[2 * c + 1]);
    worst = Math.max(worst, Number.isFinite(e) ? e : Infinity);
  }
  return worst;
}

/**
 * Pose2Sim-style triangulation: weighted DLT over every view with a detection; while the largest
 * reprojection error exceeds `thresholdPx` and more than `minViews` views remain, the view whose removal
 * leaves the smallest largest error is dropped (leave-one-out: with few views the DLT compromise can make
 * a good view look worst, so the worst residual alone does not name the outlier). `usedOut[c]` says
 * whether view c was kept.
 */
export function triangulateRobust(
  cals: CameraCalibration[],
  pixels: ArrayLike<number>,
  weights: ArrayLike<number>,
  thresholdPx: number,
  minViews: number,
  out: Float64Array,
  usedOut: Uint8Array,
): RobustTriangulation {
  const C = cals.length;
  if (C > active.length) throw new Error(`triangulateRobust: at most ${active.length} views`);
  let views = 0;
  for (let c = 0; c < C; c++) {
    const ok = weights[c] > 0 && Number.isFinite(pixels[2 * c]) && Number.isFinite(pixels[2 * c + 1]);
    active[c] = ok ? weights[c] : 0;
    if (ok) views++;
  }
  triangulatePoint(cals, pixels, active, out);
  let err = Number.isFinite(out[0]) ? maxReprojection(cals, pixels, active, out) : NaN;
  while (err > thresholdPx && views > minViews) {
    let drop = -1;
    let best = Infinity;
    for (let c = 0; c < C; c++) {
      if (!(active[c] > 0)) continue;
      trial.set(active);
      trial[c] = 0;
      triangulatePoint(cals, pixels, trial, point);
      if (!Number.isFinite(point[0])) continue;
      const e = maxReprojection(cals, pixels, trial, point);
      if (e < best) {
        best = e;
        drop = c;
      }
    }
    if (drop < 0) break;
    active[drop] = 0;
    views--;
    triangulatePoint(cals, pixels, active, out);
    err = best;
  }
  for (let c = 0; c < C; c++) usedOut[c] = Number.isFinite(out[0]) && active[c] > 0 ? 1 : 0;
  return Number.isFinite(out[0]) ? { views, maxErrorPx: err } : { views: 0, maxErrorPx: NaN };
}
