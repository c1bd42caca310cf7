import type { CameraCalibration } from '../../preload/api';

/**
 * Pinhole camera with Brown-Conrady distortion in OpenCV's convention: x right, y down, z forward,
 * extrinsics world->camera (X_c = R X_w + t), metres.
 */

/** Camera centre in world coordinates: C = -R^T t. */
export function cameraCentre(cal: CameraCalibration, out = new Float64Array(3)): Float64Array {
  return centreOf(cal.R, cal.t, 0, out);
}

/** Camera centre of a flat world -> camera pose (R row-major at 0..8, t at 9..11), e.g. a foot-camera PnP pose. */
export function poseCentre(pose: ArrayLike<number>, out = new Float64Array(3)): Float64Array {
  return centreOf(pose, pose, 9, out);
}

function centreOf(R: ArrayLike<number>, t: ArrayLike<number>, to: number, out: Float64Array): Float64Array {
  const t0 = t[to];
  const t1 = t[to + 1];
  const t2 = t[to + 2];
  out[0] = -(R[0] * t0 + R[3] * t1 + R[6] * t2);
  out[1] = -(R[1] * t0 + R[4] * t1 + R[7] * t2);
  out[2] = -(R[2] * t0 + R[5] * t1 + R[8] * t2);
  return out;
}

/** World point -> camera coordinates. */
export function worldToCamera(cal: CameraCalibration, X: ArrayLike<number>, out: Float64Array): Float64Array {
  const { R, t } = cal;
  out[0] = R[0] * X[0] + R[1] * X[1] + R[2] * X[2] + t[0];
  out[1] = R[3] * X[0] + R[4] * X[1] + R[5] * X[2] + t[1];
  out[2] = R[6] * X[0] + R[7] * X[1] + R[8] * X[2] + t[2];
  return out;
}

/**
 * Applies OpenCV's distortion to normalised coordinates (x, y) (cv::projectPoints model):
 * x' = x (1 + k1 r^2 + k2 r^4 + k3 r^6) + 2 p1 x y + p2 (r^2 + 2 x^2), likewise for y'.
 * With `jac`, also writes d(x', y')/d(x, y) row-major (2 x 2).
 */
export function distortNormalized(
  dist: number[],
  x: number,
  y: number,
  out: Float64Array,
  jac?: Float64Array,
): Float64Array {
  const k1 = dist[0] ?? 0;
  const k2 = dist[1] ?? 0;
  const p1 = dist[2] ?? 0;
  const p2 = dist[3] ?? 0;
  const k3 = dist[4] ?? 0;
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  out[0] = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
  out[1] = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
  if (jac) {
    const dRadial = k1 + r2 * (2 * k2 + 3 * k3 * r2); // d radial / d r2
    const cross = 2 * x * y * dRadial + 2 * p1 * x + 2 * p2 * y;
    jac[0] = radial + 2 * x * x * dRadial + 2 * p1 * y + 6 * p2 * x;
    jac[1] = cross;
    jac[2] = cross;
    jac[3] = radial + 2 * y * y * dRadial + 6 * p1 * y + 2 * p2 * x;
  }
  return out;
}

const scratchCam = new Float64Array(3);
const scratchNorm = new Float64Array(2);
const dDistort = new Float64Array(4);

/** World point -> pixel (with distortion). Returns NaN pixels for points behind the camera. */
export function projectPoint(cal: CameraCalibration, X: ArrayLike<number>, out: Float64Array): Float64Array {
  const c = worldToCamera(cal, X, scratchCam);
  if (c[2] <= 1e-9) {
    out[0] = NaN;
    out[1] = NaN;
    return out;
  }
  const d = distortNormalized(cal.dist, c[0] / c[2], c[1] / c[2], scratchNorm);
  const K = cal.K;
  out[0] = K[0] * d[0] + K[1] * d[1] + K[2];
  out[1] = K[4] * d[1] + K[5];
  return out;
}

/**
 * Pixel -> normalised undistorted coordinates by fixed-point iteration (as cv::undistortPoints does);
 * converges in a few iterations for the mild distortion of real lenses.
 */
export function undistortPixel(
  cal: CameraCalibration,
  u: number,
  v: number,
  out: Float64Array,
  iterations = 20,
): Float64Array {
  const K = cal.K;
  const yd = (v - K[5]) / K[4];
  const xd = (u - K[2] - K[1] * yd) / K[0];
  const k1 = cal.dist[0] ?? 0;
  const k2 = cal.dist[1] ?? 0;
  const p1 = cal.dist[2] ?? 0;
  const p2 = cal.dist[3] ?? 0;
  const k3 = cal.dist[4] ?? 0;
  let x = xd;
  let y = yd;
  for (let i = 0; i < iterations; i++) {
    const r2 = x * x + y * y;
    const icdist = 1 / (1 + r2 * (k1 + r2 * (k2 + r2 * k3)));
    const dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    x = (xd - dx) * icdist;
    y = (yd - dy) * icdist;
  }
  out[0] = x;
  out[1] = y;
  return out;
}

/**
 * projectPoint with its Jacobian d(u, v)/dX (2 x 3, row-major) through the distortion model:
 * J = K_2x2 . d(x_d, y_d)/d(x, y) . d(x, y)/dX_c . R. Returns false (NaN pixels) behind the camera.
 */
export function projectPointJacobian(
  cal: CameraCalibration,
  X: ArrayLike<number>,
  out: Float64Array,
  jac: Float64Array,
): boolean {
  const { R, K, dist } = cal;
  const c = worldToCamera(cal, X, scratchCam);
  if (c[2] <= 1e-9) {
    out[0] = out[1] = NaN;
    return false;
  }
  const iz = 1 / c[2];
  const x = c[0] * iz;
  const y = c[1] * iz;
  const d = distortNormalized(dist, x, y, scratchNorm, dDistort);
  out[0] = K[0] * d[0] + K[1] * d[1] + K[2];
  out[1] = K[4] * d[1] + K[5];
  // d(u, v)/d(x, y) = K . A with A = d(xd, yd)/d(x, y)
  const b00 = K[0] * dDistort[0] + K[1] * dDistort[2];
  const b01 = K[0] * dDistort[1] + K[1] * dDistort[3];
  const b10 = K[4] * dDistort[2];
  const b11 = K[4] * dDistort[3];
  // d(x, y)/dX_c = [[iz, 0, -x iz], [0, iz, -y iz]], then . R
  for (let col = 0; col < 3; col++) {
    const dx = iz * (R[col] - x * R[6 + col]);
    const dy = iz * (R[3 + col] - y * R[6 + col]);
    jac[col] = b00 * dx + b01 * dy;
    jac[3 + col] = b10 * dx + b11 * dy;
  }
  return true;
}
