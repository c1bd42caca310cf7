import type { CameraCalibration } from '../../preload/api';
import { distortNormalized, projectPoint, undistortPixel } from '../geometry/camera';
import type { LensIntrinsics } from './charuco-board';

/** Image points through the real lens model: exact undistortion, and reprojection error of a pose. */

const distorted = new Float64Array(2);
const distortedDx = new Float64Array(2);
const distortedDy = new Float64Array(2);

/**
 * Pixels -> undistorted normalised coordinates, to 1e-9 px: undistortPixel's fixed-point start, then
 * Newton on distort(x, y) = (xd, yd) with a forward-difference Jacobian (as the foot renderer does).
 */
export function undistortPoints(intrinsics: LensIntrinsics, image: Float64Array): Float64Array {
  const { K, dist } = intrinsics;
  const cal = { ...intrinsics, width: 0, height: 0, R: [], t: [] } as CameraCalibration;
  const out = new Float64Array(image.length);
  const p = new Float64Array(2);
  const h = 1e-7;
  for (let i = 0; i < image.length; i += 2) {
    const yd = (image[i + 1] - K[5]) / K[4];
    const xd = (image[i] - K[2] - K[1] * yd) / K[0];
    undistortPixel(cal, image[i], image[i + 1], p, 20);
    for (let it = 0; it < 20; it++) {
      distortNormalized(dist, p[0], p[1], distorted);
      const ex = distorted[0] - xd;
      const ey = distorted[1] - yd;
      if (Math.abs(ex) * K[0] + Math.abs(ey) * K[4] < 1e-9) break;
      distortNormalized(dist, p[0] + h, p[1], distortedDx);
      distortNormalized(dist, p[0], p[1] + h, distortedDy);
      const a = (distortedDx[0] - distorted[0]) / h;
      const b = (distortedDy[0] - distorted[0]) / h;
      const c = (distortedDx[1] - distorted[1]) / h;
      const d = (distortedDy[1] - distorted[1]) / h;
      const det = a * d - b * c;
      p[0] -= (d * ex - b * ey) / det;
      p[1] -= (a * ey - c * ex) / det;
    }
    out[i] = p[0];
    out[i + 1] = p[1];
  }
  return out;
}

const projected = new Float64Array(2);

/** RMS distance (pixels) between the projections of the object points and the image points. */
export function reprojectionRms(
  camera: Pick<CameraCalibration, 'K' | 'dist' | 'R' | 't'>,
  object: Float64Array,
  image: Float64Array,
): number {
  const cal = camera as CameraCalibration;
  const n = object.length / 3;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    projectPoint(cal, object.subarray(3 * i, 3 * i + 3), projected);
    const du = projected[0] - image[2 * i];
    const dv = projected[1] - image[2 * i + 1];
    sum += Number.isNaN(du) ? 1e6 : du * du + dv * dv;
  }
  return Math.sqrt(sum / n);
}
