import { mat3Mul, mat3MulAtB, mat3MulVec, rotationBetween } from '../geometry/rotation';

/**
 * An initial camera pose from points on one board (its plane z = 0), in JS: the homography from the
 * plane to the undistorted normalised image points by DLT, taken apart as H = lambda [r1 r2 t] (Zhang,
 * "A flexible new technique for camera calibration", 2000). Levenberg-Marquardt (pose-lm.ts) refines it
 * and its planar mirror (pnp.ts), so it only has to land in one of the two basins, as SQPnP's answer
 * did; it needs no wasm call (SQPnP: ~0.1-0.3 ms there) and no Mat.
 */

const M = new Float64Array(64);
const b = new Float64Array(8);
const h = new Float64Array(9);
const row = new Float64Array(8);
const sum = new Float64Array(3);
const diff = new Float64Array(3);

/**
 * R (row-major) and t of the plane (points x, y, 0 per row of `object`) in the camera frame, from their
 * normalised image points (x, y per point); null when the points fix no homography.
 */
export function planePose(
  object: Float64Array,
  normalized: Float64Array,
): { R: Float64Array; t: Float64Array } | null {
  const n = normalized.length / 2;
  if (n < 4 || object.length !== 3 * n) return null;
  // Conditioning: plane points about their centroid, scaled to unit mean distance (Hartley 1997).
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < n; i++) {
    cx += object[3 * i] / n;
    cy += object[3 * i + 1] / n;
  }
  let spread = 0;
  for (let i = 0; i < n; i++) spread += Math.hypot(object[3 * i] - cx, object[3 * i + 1] - cy) / n;
  if (!(spread > 0)) return null;
  const s = 1 / spread;
  // DLT with h33 = 1 (the centroid, seen in front of the camera, has depth > 0): for each point
  // [X Y 1 0 0 0 -uX -uY] h = u and [0 0 0 X Y 1 -vX -vY] h = v; normal equations.
  M.fill(0);
  b.fill(0);
  for (let i = 0; i < n; i++) {
    const X = (object[3 * i] - cx) * s;
    const Y = (object[3 * i + 1] - cy) * s;
    const u = normalized[2 * i];
    const v = normalized[2 * i + 1];
    for (let k = 0; k < 2; k++) {
      row.fill(0);
      const target = k === 0 ? u : v;
      row[3 * k] = X;
      row[3 * k + 1] = Y;
      row[3 * k + 2] = 1;
      row[6] = -target * X;
      row[7] = -target * Y;
      for (let r = 0; r < 8; r++) {
        if (row[r] === 0) continue;
        b[r] += row[r] * target;
        for (let c = 0; c < 8; c++) M[8 * r + c] += row[r] * row[c];
      }
    }
  }
  if (!solveGauss8(M, b, h)) return null;
  h[8] = 1;
  // H = lambda [r1 r2 t'] with t' the centroid's position; lambda from the mean of |h1|, |h2|.
  const n1 = Math.hypot(h[0], h[3], h[6]);
  const n2 = Math.hypot(h[1], h[4], h[7]);
  if (!(n1 > 0 && n2 > 0)) return null;
  const lambda = 2 / (n1 + n2); // h33 = 1 > 0: the centroid is in front, no sign flip
  // r1, r2 made orthonormal symmetrically (the bisector of the two columns), r3 = r1 x r2: the columns
  // of R (row-major).
  const R = new Float64Array(9);
  for (let k = 0; k < 3; k++) {
    sum[k] = h[3 * k] / n1 + h[3 * k + 1] / n2;
    diff[k] = h[3 * k] / n1 - h[3 * k + 1] / n2;
  }
  const ns = Math.hypot(sum[0], sum[1], sum[2]);
  const nd = Math.hypot(diff[0], diff[1], diff[2]);
  if (!(ns > 0 && nd > 0)) return null;
  for (let k = 0; k < 3; k++) {
    R[3 * k] = (sum[k] / ns + diff[k] / nd) / Math.SQRT2;
    R[3 * k + 1] = (sum[k] / ns - diff[k] / nd) / Math.SQRT2;
  }
  for (let k = 0; k < 3; k++) {
    const i = (k + 1) % 3;
    const j = (k + 2) % 3;
    R[3 * k + 2] = R[3 * i] * R[3 * j + 1] - R[3 * j] * R[3 * i + 1];
  }
  // lambda h3 is the centroid (cx, cy, 0) in the camera frame, in the plane's unit scaled by s:
  // t = lambda h3 / s - R (cx, cy, 0).
  const t = new Float64Array(3);
  for (let k = 0; k < 3; k++) t[k] = (lambda * h[3 * k + 2]) / s - R[3 * k] * cx - R[3 * k + 1] * cy;
  return { R, t };
}

/** Solves the 8x8 system A x = y by Gaussian elimination with partial pivoting (A, y overwritten). */
function solveGauss8(A: Float64Array, y: Float64Array, x: Float64Array): boolean {
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(A[8 * r + col]) > Math.abs(A[8 * pivot + col])) pivot = r;
    if (!(Math.abs(A[8 * pivot + col]) > 1e-300)) return false;
    if (pivot !== col) {
      for (let c = 0; c < 8; c++) [A[8 * col + c], A[8 * pivot + c]] = [A[8 * pivot + c], A[8 * col + c]];
      [y[col], y[pivot]] = [y[pivot], y[col]];
    }
    for (let r = col + 1; r < 8; r++) {
      const f = A[8 * r + col] / A[8 * col + col];
      if (f === 0) continue;
      for (let c = col; c < 8; c++) A[8 * r + c] -= f * A[8 * col + c];
      y[r] -= f * y[col];
    }
  }
  for (let r = 7; r >= 0; r--) {
    let v = y[r];
    for (let c = r + 1; c < 8; c++) v -= A[8 * r + c] * x[c];
    x[r] = v / A[8 * r + r];
  }
  return true;
}

const rz = new Float64Array(9);
const a = new Float64Array(9);
const centroid = new Float64Array(3);
const sight = new Float64Array(3);
const Z = [0, 0, 1];

/**
 * The other IPPE solution of a plane pose (plane -> camera, object points with z = 0). In a camera
 * frame turned so that the line of sight to the points' centroid is z (Rz), the two solutions share the
 * x, y rows of the plane's first two axes and differ in the sign of their z components (IPPE: R = Rv
 * [R~ ; ±b^T]); the third axis is the cross product. The centroid keeps its place in the camera frame.
 * Collins & Bartoli, "Infinitesimal Plane-Based Pose Estimation", IJCV 2014.
 */
export function mirrorPose(
  pose: { R: number[]; t: number[] },
  object: Float64Array,
): { R: number[]; t: number[] } {
  const n = object.length / 3;
  centroid.fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < 3; j++) centroid[j] += object[3 * i + j] / n;
  mat3MulVec(sight, 0, pose.R, 0, centroid, 0);
  for (let j = 0; j < 3; j++) sight[j] += pose.t[j];
  rotationBetween(rz, 0, sight, Z);
  mat3Mul(a, 0, rz, 0, pose.R, 0);
  a[6] = -a[6];
  a[7] = -a[7];
  a[2] = a[3] * a[7] - a[6] * a[4];
  a[5] = a[6] * a[1] - a[0] * a[7];
  a[8] = a[0] * a[4] - a[3] * a[1];
  const R = new Array<number>(9);
  mat3MulAtB(R, 0, rz, 0, a, 0);
  const rc = new Float64Array(3);
  mat3MulVec(rc, 0, R, 0, centroid, 0);
  return { R, t: [sight[0] - rc[0], sight[1] - rc[1], sight[2] - rc[2]] };
}
