import type { CameraCalibration } from '../../../preload/api';
import { distortNormalized, undistortPixel } from '../../geometry/camera';

/**
 * The foot cameras' lens model as the ray caster uses it: per-pixel undistorted rays (exact inverse of
 * the OpenCV distortion), pixel footprints, vignette terms and the motion-field node rays, built once per
 * camera, plus the scratch buffers every frame reuses.
 */

export type CameraIntrinsics = Pick<CameraCalibration, 'width' | 'height' | 'K' | 'dist'>;

/** World -> camera (X_c = R X_w + t), R row-major. */
export interface CameraPose {
  R: number[];
  t: number[];
}

/** 640x480 wide-angle foot camera: ~109 deg horizontal field of view, barrel distortion OpenCV can fit. */
export const FOOT_CAMERA_INTRINSICS: CameraIntrinsics = {
  width: 640,
  height: 480,
  K: [300, 0, 320, 0, 300, 240, 0, 0, 1],
  dist: [-0.28, 0.08, 0, 0, 0],
};

/** Motion field node spacing, px. */
export const GRID = 16;

/** Per-camera tables (intrinsics never change) and scratch buffers, reused for every frame. */
export interface FootCamera {
  intrinsics: CameraIntrinsics;
  /** Undistorted normalised coordinates (x, y) per pixel: the ray through the pixel centre is (x, y, 1). */
  rays: Float32Array;
  /** The rays of pixels (2i, 2j), contiguous. */
  coarseRays: Float32Array;
  /** Per pixel row: xmin xmax ymin ymax of its rays. */
  rowBounds: Float32Array;
  /** Whether x increases along every row (then a board's columns are found by binary search). */
  rowMonotonic: boolean;
  /** Pixel angular size times |(x, y, 1)|^1.5 (see shade). */
  footprintScale: Float32Array;
  /** Vignette gain per pixel, 1 - v (1 - cos^4 theta), for the v it was last built with. */
  gain: Float32Array;
  cos4: Float32Array;
  gainVignette: number;
  /** Rays of the motion-field nodes (every GRID px, one node past the last pixel). */
  nodeRays: Float32Array;
  gridW: number;
  gridH: number;
  // Scratch, overwritten by every frame.
  sharp: Float32Array;
  /** Ray parameter of the board seen at each pixel (Infinity: none). */
  depth: Float32Array;
  boundsScratch: Float64Array;
  /** Half-resolution scratch: room shading at every other pixel (renderSharp), then long blurs. */
  coarse: Float32Array;
  coarseBlurred: Float32Array;
  blurred: Float32Array;
  motion: Float32Array;
  /** Shortest node motion of the last frame, px. */
  shortestMotion: number;
  /** Per grid cell: 1 when all its nodes move more than HALF_RES_BLUR_PX. */
  longCell: Uint8Array;
  rowMotion: Float32Array;
  mid: CameraPose;
  projector: CameraCalibration;
}

const distorted = new Float64Array(2);
const distortedDx = new Float64Array(2);
const distortedDy = new Float64Array(2);

/**
 * Pixel -> undistorted normalised coordinates to 1e-6 px: Newton's method on distort(x, y) = (xd, yd)
 * from `out` (warm start from a neighbour) or from undistortPixel's fixed-point estimate, which converges
 * only slowly near the corners of a strong wide-angle lens.
 */
function undistortExact(
  intr: CameraIntrinsics,
  u: number,
  v: number,
  out: Float64Array,
  warm: boolean,
): void {
  const { K, dist } = intr;
  const yd = (v - K[5]) / K[4];
  const xd = (u - K[2] - K[1] * yd) / K[0];
  if (!warm) undistortPixel(intr as CameraCalibration, u, v, out, 20);
  const h = 1e-7;
  let residual = Infinity;
  for (let it = 0; it < 30; it++) {
    const x = out[0];
    const y = out[1];
    distortNormalized(dist, x, y, distorted);
    const ex = distorted[0] - xd;
    const ey = distorted[1] - yd;
    residual = Math.sqrt(ex * ex * K[0] * K[0] + ey * ey * K[4] * K[4]);
    if (residual < 1e-9) break;
    distortNormalized(dist, x + h, y, distortedDx); // forward-difference Jacobian
    distortNormalized(dist, x, y + h, distortedDy);
    const a = (distortedDx[0] - distorted[0]) / h;
    const b = (distortedDy[0] - distorted[0]) / h;
    const c = (distortedDx[1] - distorted[1]) / h;
    const d = (distortedDy[1] - distorted[1]) / h;
    const det = a * d - b * c;
    out[0] = x - (d * ex - b * ey) / det;
    out[1] = y - (a * ey - c * ex) / det;
  }
  if (!(residual < 1e-6)) {
    throw new Error(
      `prepareFootCamera: lens distortion ${JSON.stringify(dist)} is not invertible at (${u}, ${v})`,
    );
  }
}

/** Precomputes the per-pixel rays, footprints and vignette terms of a camera (once per camera). */
export function prepareFootCamera(intr: CameraIntrinsics): FootCamera {
  const { width: w, height: h, K, dist } = intr;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 16 || h < 16 || w % 2 !== 0 || h % 2 !== 0) {
    throw new Error(`prepareFootCamera: image size ${w}x${h} must be even and at least 16x16`);
  }
  if (K?.length !== 9 || !K.every(Number.isFinite) || !(K[0] > 0 && K[4] > 0)) {
    throw new Error(`prepareFootCamera: K must be 9 finite numbers with fx, fy > 0`);
  }
  if (!Array.isArray(dist) || dist.length > 5 || !dist.every(Number.isFinite)) {
    throw new Error(`prepareFootCamera: dist must be at most 5 finite numbers (k1, k2, p1, p2, k3)`);
  }
  const n = w * h;
  const rays = new Float32Array(2 * n);
  const xy = new Float64Array(2);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      undistortExact(intr, u, v, xy, u > 0);
      rays[2 * (v * w + u)] = xy[0];
      rays[2 * (v * w + u) + 1] = xy[1];
    }
  }
  const coarseRays = new Float32Array((w >> 1) * (h >> 1) * 2);
  for (let j = 0; j < h >> 1; j++) {
    for (let i = 0; i < w >> 1; i++) {
      const p = 2 * j * w + 2 * i;
      coarseRays[2 * (j * (w >> 1) + i)] = rays[2 * p];
      coarseRays[2 * (j * (w >> 1) + i) + 1] = rays[2 * p + 1];
    }
  }
  const rowBounds = new Float32Array(4 * h);
  for (let v = 0; v < h; v++) {
    const xs = rays.subarray(2 * v * w, 2 * (v + 1) * w).filter((_, k) => k % 2 === 0);
    const ys = rays.subarray(2 * v * w, 2 * (v + 1) * w).filter((_, k) => k % 2 === 1);
    rowBounds.set([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)], 4 * v);
  }
  let rowMonotonic = true;
  for (let p = 0; p < n; p++) if (p % w !== 0 && !(rays[2 * p] > rays[2 * p - 2])) rowMonotonic = false;
  // Pixel angular size: geometric mean of the angles to the right and lower neighbours (chord of unit rays).
  const footprintScale = new Float32Array(n);
  const cos4 = new Float32Array(n);
  const unitChord = (p: number, q: number): number => {
    const ip = 1 / Math.sqrt(rays[2 * p] ** 2 + rays[2 * p + 1] ** 2 + 1);
    const iq = 1 / Math.sqrt(rays[2 * q] ** 2 + rays[2 * q + 1] ** 2 + 1);
    const dx = rays[2 * p] * ip - rays[2 * q] * iq;
    const dy = rays[2 * p + 1] * ip - rays[2 * q + 1] * iq;
    return Math.sqrt(dx * dx + dy * dy + (ip - iq) ** 2);
  };
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const p = v * w + u;
      const angle = Math.sqrt(
        unitChord(p, u < w - 1 ? p + 1 : p - 1) * unitChord(p, v < h - 1 ? p + w : p - w),
      );
      const len2 = rays[2 * p] ** 2 + rays[2 * p + 1] ** 2 + 1; // |(x, y, 1)|^2 = 1 / cos^2 theta
      footprintScale[p] = angle * len2 ** 0.75;
      cos4[p] = 1 / (len2 * len2);
    }
  }
  const gridW = Math.ceil((w - 1) / GRID) + 1;
  const gridH = Math.ceil((h - 1) / GRID) + 1;
  const nodeRays = new Float32Array(2 * gridW * gridH);
  for (let j = 0; j < gridH; j++) {
    for (let i = 0; i < gridW; i++) {
      undistortExact(intr, i * GRID, j * GRID, xy, false);
      nodeRays[2 * (j * gridW + i)] = xy[0];
      nodeRays[2 * (j * gridW + i) + 1] = xy[1];
    }
  }
  return {
    intrinsics: intr,
    rays,
    coarseRays,
    rowBounds,
    rowMonotonic,
    footprintScale,
    gain: new Float32Array(n).fill(1),
    cos4,
    gainVignette: 0,
    nodeRays,
    gridW,
    gridH,
    sharp: new Float32Array(n),
    depth: new Float32Array(n),
    boundsScratch: new Float64Array(4),
    coarse: new Float32Array((w >> 1) * (h >> 1)),
    coarseBlurred: new Float32Array((w >> 1) * (h >> 1)),
    blurred: new Float32Array(n),
    motion: new Float32Array(2 * gridW * gridH),
    shortestMotion: 0,
    longCell: new Uint8Array((gridW - 1) * (gridH - 1)),
    rowMotion: new Float32Array(2 * gridW),
    mid: { R: new Array(9).fill(0), t: [0, 0, 0] },
    projector: { width: w, height: h, K: [...K], dist: [...dist], R: new Array(9).fill(0), t: [0, 0, 0] },
  };
}
