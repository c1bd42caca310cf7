import { rodrigues } from '../geometry/rotation';
import type { LensIntrinsics } from './charuco-board';

/**
 * Levenberg-Marquardt refinement of a camera pose on the pixel reprojection error through the lens model
 * (K with skew; k1, k2, p1, p2, k3), as cv.solvePnPRefineLM does it (same model, same cost, at most 20
 * iterations), in JS: the wasm build spends 0.2-0.3 ms per call in it, this ~20-50 us. The rotation is
 * updated on the left, R <- exp([w]x) R, so the pose never passes through a Rodrigues vector.
 */

/** Reusable buffers for n points (grown as needed). */
interface Scratch {
  J: Float64Array;
  r: Float64Array;
}

const scratch: Scratch = { J: new Float64Array(0), r: new Float64Array(0) };
const A = new Float64Array(36);
const Ad = new Float64Array(36);
const g = new Float64Array(6);
const step = new Float64Array(6);
const dR = new Float64Array(9);
const w = new Float64Array(3);
const Rn = new Float64Array(9);
const tn = new Float64Array(3);

/**
 * Refines R (row-major 3x3) and t in place so that the object points (x, y, z per point) project onto the
 * image points (u, v per point, pixels). Returns the final sum of squared residuals (pixels^2); Infinity
 * when a point is behind the camera at the start.
 */
export function refinePoseLM(
  intrinsics: LensIntrinsics,
  object: Float64Array,
  image: Float64Array,
  R: Float64Array,
  t: Float64Array,
  maxIterations = 20,
): number {
  const n = image.length / 2;
  if (object.length !== 3 * n)
    throw new Error(`refinePoseLM: ${object.length / 3} object points, ${n} image points`);
  if (scratch.r.length < 2 * n) {
    scratch.J = new Float64Array(12 * n);
    scratch.r = new Float64Array(2 * n);
  }
  const { J, r } = scratch;
  let cost = residuals(intrinsics, object, image, R, t, r, J);
  if (!Number.isFinite(cost)) return Infinity;
  let lambda = 1e-3;
  for (let it = 0; it < maxIterations; it++) {
    // Normal equations A = J^T J, g = J^T r.
    A.fill(0);
    g.fill(0);
    for (let k = 0; k < 2 * n; k++) {
      const row = 6 * k;
      for (let i = 0; i < 6; i++) {
        const Ji = J[row + i];
        g[i] += Ji * r[k];
        for (let j = 0; j <= i; j++) A[6 * i + j] += Ji * J[row + j];
      }
    }
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) A[6 * j + i] = A[6 * i + j];
    let improved = false;
    // Marquardt's damping of the diagonal, raised until the cost goes down (or the step vanishes). Every
    // outcome goes through the same arithmetic: branches first met late would deoptimise this in V8.
    for (let tries = 0; tries < 10 && !improved; tries++) {
      Ad.set(A);
      for (let i = 0; i < 6; i++) Ad[7 * i] += lambda * Math.max(A[7 * i], 1e-12);
      const solved = solve6(Ad, g, step);
      let stepNorm = 0;
      for (let i = 0; i < 6; i++) stepNorm += step[i] * step[i];
      for (let i = 0; i < 3; i++) w[i] = -step[i];
      rodrigues(dR, 0, w, 0);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          Rn[3 * i + j] = dR[3 * i] * R[j] + dR[3 * i + 1] * R[3 + j] + dR[3 * i + 2] * R[6 + j];
        }
        tn[i] = t[i] - step[3 + i];
      }
      const newCost = solved ? residuals(intrinsics, object, image, Rn, tn, null, null) : Infinity;
      improved = newCost < cost;
      lambda = Math.max(lambda * (improved ? 0.1 : 10), 1e-12);
      // OpenCV's stopping rule scale: a parameter step or an energy change below FLT_EPSILON (^2).
      const done = solved && Math.sqrt(stepNorm) < 1.1920928955078125e-7;
      if (improved) {
        R.set(Rn);
        t.set(tn);
        const drop = cost - newCost;
        cost = residuals(intrinsics, object, image, R, t, r, J);
        if (done || drop < 1.42e-14) return cost;
      } else if (done) return cost;
    }
    if (!improved) return cost;
  }
  return cost;
}

/**
 * Reprojection residuals (projection - image, pixels) and, when J is given, their Jacobian (2n x 6: a left
 * rotation increment w, then t). Returns the sum of squares (Infinity for a point not in front).
 */
function residuals(
  intrinsics: LensIntrinsics,
  object: Float64Array,
  image: Float64Array,
  R: Float64Array,
  t: Float64Array,
  r: Float64Array | null,
  J: Float64Array | null,
): number {
  const { K, dist } = intrinsics;
  const [fx, s, cx, fy, cy] = [K[0], K[1], K[2], K[4], K[5]];
  const k1 = dist[0] ?? 0;
  const k2 = dist[1] ?? 0;
  const p1 = dist[2] ?? 0;
  const p2 = dist[3] ?? 0;
  const k3 = dist[4] ?? 0;
  let sum = 0;
  const n = image.length / 2;
  for (let i = 0; i < n; i++) {
    const X = object[3 * i];
    const Y = object[3 * i + 1];
    const Z = object[3 * i + 2];
    // a = R X (the rotated point), c = a + t (camera frame).
    const ax = R[0] * X + R[1] * Y + R[2] * Z;
    const ay = R[3] * X + R[4] * Y + R[5] * Z;
    const az = R[6] * X + R[7] * Y + R[8] * Z;
    const cxp = ax + t[0];
    const cyp = ay + t[1];
    const cz = az + t[2];
    if (!(cz > 1e-9)) return Infinity;
    const iz = 1 / cz;
    const x = cxp * iz;
    const y = cyp * iz;
    const r2 = x * x + y * y;
    const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    const du = fx * xd + s * yd + cx - image[2 * i];
    const dv = fy * yd + cy - image[2 * i + 1];
    sum += du * du + dv * dv;
    if (!r || !J) continue;
    r[2 * i] = du;
    r[2 * i + 1] = dv;
    // d(xd, yd)/d(x, y), then d(u, v)/d(x, y).
    const dRad = k1 + r2 * (2 * k2 + 3 * k3 * r2);
    const xdx = radial + 2 * x * x * dRad + 2 * p1 * y + 6 * p2 * x;
    const xdy = 2 * x * y * dRad + 2 * p1 * x + 2 * p2 * y;
    const ydx = 2 * x * y * dRad + 2 * p1 * x + 2 * p2 * y;
    const ydy = radial + 2 * y * y * dRad + 6 * p1 * y + 2 * p2 * x;
    const ux = fx * xdx + s * ydx;
    const uy = fx * xdy + s * ydy;
    const vx = fy * ydx;
    const vy = fy * ydy;
    // d(x, y)/dc = [1/z 0 -x/z; 0 1/z -y/z]; d(u, v)/dc.
    const u0 = ux * iz;
    const u1 = uy * iz;
    const u2 = -(ux * x + uy * y) * iz;
    const v0 = vx * iz;
    const v1 = vy * iz;
    const v2 = -(vx * x + vy * y) * iz;
    // dc/dw = -[a]x, dc/dt = I.
    const ju = 12 * i;
    const jv = ju + 6;
    J[ju] = u2 * ay - u1 * az;
    J[ju + 1] = u0 * az - u2 * ax;
    J[ju + 2] = u1 * ax - u0 * ay;
    J[ju + 3] = u0;
    J[ju + 4] = u1;
    J[ju + 5] = u2;
    J[jv] = v2 * ay - v1 * az;
    J[jv + 1] = v0 * az - v2 * ax;
    J[jv + 2] = v1 * ax - v0 * ay;
    J[jv + 3] = v0;
    J[jv + 4] = v1;
    J[jv + 5] = v2;
  }
  return sum;
}

/** Solves the symmetric positive definite 6x6 system M x = b by Cholesky (M is overwritten); false if not SPD. */
function solve6(M: Float64Array, b: Float64Array, x: Float64Array): boolean {
  for (let j = 0; j < 6; j++) {
    let d = M[7 * j];
    for (let k = 0; k < j; k++) d -= M[6 * j + k] * M[6 * j + k];
    if (!(d > 0)) return false;
    const l = Math.sqrt(d);
    M[7 * j] = l;
    for (let i = j + 1; i < 6; i++) {
      let v = M[6 * i + j];
      for (let k = 0; k < j; k++) v -= M[6 * i + k] * M[6 * j + k];
      M[6 * i + j] = v / l;
    }
  }
  for (let i = 0; i < 6; i++) {
    let v = b[i];
    for (let k = 0; k < i; k++) v -= M[6 * i + k] * x[k];
    x[i] = v / M[7 * i];
  }
  for (let i = 5; i >= 0; i--) {
    let v = x[i];
    for (let k = i + 1; k < 6; k++) v -= M[6 * k + i] * x[k];
    x[i] = v / M[7 * i];
  }
  return true;
}
