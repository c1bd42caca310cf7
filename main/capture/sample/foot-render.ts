import { normalQuantile, type Rng } from './rng';
import {
  blurFullRes,
  blurHalfRes,
  HALF_RES_BLUR_PX,
  interpolatePose,
  motionField,
  type ShutterPoses,
} from './foot-blur';
import type { CameraPose, FootCamera } from './foot-camera';
import { GLUE_EPS, SURFACE, type PreparedFootScene } from './foot-raycast';
import { sampleMip, sampleTile } from './texture';

/**
 * Synthetic images of the small wide-angle cameras on the feet, by per-pixel ray casting: each pixel's
 * (undistorted, precomputed) ray hits the nearest of the ChArUco boards, the table and the room box. Exact
 * for planar boards under any lens distortion. Motion blur is a per-pixel gather along the image motion
 * over the shutter interval, then Gaussian sensor noise is added. Output: 8-bit grey, written in place.
 */

export interface FootRenderOptions {
  /** Sensor noise standard deviation, grey levels (default 3). */
  noiseSigma?: number;
  /** Vignette strength: gain = 1 - v (1 - cos^4 theta) (default 0.25; 0 = none). */
  vignette?: number;
  /** Longest image motion (px) below which no blur is applied (default and minimum 1.5). */
  blurThresholdPx?: number;
  /** Most samples per pixel along the motion, odd (default 9; longer blurs space them out). */
  maxBlurTaps?: number;
}

const BOARD_BACK_GREY = 128;

// Local bindings of the imports used per pixel: reads and calls through a module namespace getter (the
// per-file CommonJS of tsx and vitest) are not inlined by V8 (about 20% of the frame time).
const sampleTileFn = sampleTile;
const sampleMipFn = sampleMip;
const { WALL_X, WALL_Y, FLOOR, CEILING, TABLE_X, TABLE_Z, BOARD_BACK } = SURFACE;
const glueEps = GLUE_EPS;

/** Grey level of the room or table surface hit by the caster's last ray (world direction d). */
function shadeSurface(ps: PreparedFootScene, code: number, dx: number, dy: number, dz: number): number {
  const c = ps.caster;
  const x = c.ox + c.t * dx;
  const y = c.oy + c.t * dy;
  const z = c.oz + c.t * dz;
  const tiles = ps.tiles; // ceiling, wall, floor, table
  // Each face is textured in its own plane coordinates; walls and table sides are a little darker.
  if (code === CEILING) return sampleTileFn(tiles[0], x, y);
  if (code === FLOOR) return sampleTileFn(tiles[2], x, y);
  if (code === WALL_X) return 0.95 * sampleTileFn(tiles[1], y, z);
  if (code === WALL_Y) return sampleTileFn(tiles[1], x + 1.7, z);
  if (code === TABLE_Z) return sampleTileFn(tiles[3], x, y);
  return 0.8 * sampleTileFn(tiles[3], code === TABLE_X ? y : x, z);
}

/** Grey level of the board hit by the caster's last ray (code BOARD_FRONT or BOARD_BACK). */
function shadeBoard(ps: PreparedFootScene, code: number, footprintScale: number): number {
  if (code === BOARD_BACK) return BOARD_BACK_GREY;
  const c = ps.caster;
  // Pixel footprint on the board: angle x distance / sqrt(cos incidence) (isotropic, area-equivalent):
  // t |d| alpha / sqrt(n.d / |d|) = t fs / sqrt(n.d) with fs = alpha |d|^1.5.
  return sampleMipFn(ps.boardMips[c.board], c.bu, c.bv, (c.t * footprintScale) / Math.sqrt(c.nd));
}

let noiseTable: Float32Array | null = null;

/** 65536 quantiles of N(0, 1): a uniform 16-bit integer indexes a Gaussian sample. */
function gaussianTable(): Float32Array {
  if (!noiseTable) {
    noiseTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) noiseTable[i] = normalQuantile((i + 0.5) / 65536);
  }
  return noiseTable;
}

// ---------------------------------------------------------------------------------------------------------
// Frame

/** First pixel p in [p0, p1) whose ray x is >= x, for rows where x increases with u (binary search). */
function firstRayAtLeast(rays: Float32Array, p0: number, p1: number, x: number): number {
  let lo = p0;
  let hi = p1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rays[2 * mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Ray casts the frame at the camera pose into cam.sharp. The room and the table (smooth, low-contrast
 * textures) are shaded at every other pixel in both directions and upsampled; boards are cast at every
 * pixel of the rows that can see them (with the table as occluder). This quarters the background's cost.
 */
function renderSharp(ps: PreparedFootScene, cam: FootCamera, pose: CameraPose): void {
  const c = ps.caster;
  c.setPose(pose);
  const R = pose.R;
  const { rays, coarseRays, rowBounds, footprintScale, sharp, coarse } = cam;
  const { width: w, height: h } = cam.intrinsics;
  const cw = w >> 1;
  const ch = h >> 1;
  for (let q = 0; q < cw * ch; q++) {
    const x = coarseRays[2 * q];
    const y = coarseRays[2 * q + 1];
    const dx = x * R[0] + y * R[3] + R[6]; // world ray direction d = R^T (x, y, 1)
    const dy = x * R[1] + y * R[4] + R[7];
    const dz = x * R[2] + y * R[5] + R[8];
    const room = c.room(dx, dy, dz);
    coarse[q] = shadeSurface(ps, c.tableHit(x, y, dx, dy, dz, c.t) || room, dx, dy, dz);
  }
  // Upsample: coarse sample (i, j) is pixel (2i, 2j); odd pixels average their even neighbours.
  for (let v = 0; v < h; v++) {
    const r0 = (v >> 1) * cw;
    const r1 = (v & 1) === 0 || v === h - 1 ? r0 : r0 + cw;
    const row = v * w;
    for (let i = 0; i < cw; i++) {
      const a = 0.5 * (coarse[r0 + i] + coarse[r1 + i]);
      const b = i + 1 < cw ? 0.5 * (coarse[r0 + i + 1] + coarse[r1 + i + 1]) : a;
      sharp[row + 2 * i] = a;
      sharp[row + 2 * i + 1] = 0.5 * (a + b);
    }
  }
  // Boards one at a time, over the pixels of their screen bounds; the nearest hit wins per pixel.
  const { depth, rowMonotonic } = cam;
  depth.fill(Infinity);
  const bounds = cam.boundsScratch;
  for (let k = 0; k < c.boardCount; k++) {
    c.boardScreenBounds(k, bounds);
    const xmin = bounds[0];
    const xmax = bounds[1];
    const ymin = bounds[2];
    const ymax = bounds[3];
    if (!(xmin <= xmax && ymin <= ymax)) continue;
    const hideable = c.tableMayHide(k);
    for (let v = 0; v < h; v++) {
      if (rowBounds[4 * v] > xmax || rowBounds[4 * v + 1] < xmin) continue;
      if (rowBounds[4 * v + 2] > ymax || rowBounds[4 * v + 3] < ymin) continue;
      const p0 = rowMonotonic ? firstRayAtLeast(rays, v * w, (v + 1) * w, xmin) : v * w;
      const p1 = rowMonotonic ? firstRayAtLeast(rays, v * w, (v + 1) * w, xmax + 1e-9) : (v + 1) * w;
      for (let p = p0; p < p1; p++) {
        const x = rays[2 * p];
        const y = rays[2 * p + 1];
        if (y < ymin || y > ymax) continue;
        const board = c.boardHitOne(k, x, y, depth[p]);
        if (board === 0) continue;
        depth[p] = c.t;
        if (hideable) {
          // The table occludes boards behind it (boards glued under it win the tie).
          const dx = x * R[0] + y * R[3] + R[6];
          const dy = x * R[1] + y * R[4] + R[7];
          const dz = x * R[2] + y * R[5] + R[8];
          const table = c.tableHit(x, y, dx, dy, dz, c.t - glueEps);
          if (table !== 0) {
            sharp[p] = shadeSurface(ps, table, dx, dy, dz);
            continue;
          }
        }
        sharp[p] = shadeBoard(ps, board, footprintScale[p]);
      }
    }
  }
}

/** Vignette, Gaussian noise (16 random bits per pixel index a quantile table) and rounding to bytes. */
function expose(image: Float32Array, gain: Float32Array, sigma: number, rng: Rng, out: Uint8Array): void {
  const noise = gaussianTable();
  for (let p = 0; p < out.length; p += 2) {
    const bits = rng.uint32();
    const a = image[p] * gain[p] + sigma * noise[bits & 0xffff];
    const b = image[p + 1] * gain[p + 1] + sigma * noise[bits >>> 16];
    out[p] = a <= 0 ? 0 : a >= 255 ? 255 : (a + 0.5) | 0;
    out[p + 1] = b <= 0 ? 0 : b >= 255 ? 255 : (b + 0.5) | 0;
  }
}

/**
 * Renders one frame into out (width x height grey bytes, row-major): ray cast at the mid-exposure pose;
 * when the image motion over the shutter exceeds blurThresholdPx, each pixel is averaged along its own
 * motion vector (exact per-node motions on a 16 px grid, so rotation about any axis and parallax are
 * covered); then vignette and Gaussian noise from rng. The same rng state gives the same bytes.
 * Returns the longest image motion over the shutter, px.
 */
export function renderFootFrame(
  ps: PreparedFootScene,
  cam: FootCamera,
  poses: ShutterPoses,
  rng: Rng,
  out: Uint8Array,
  options: FootRenderOptions = {},
): number {
  const { width: w, height: h } = cam.intrinsics;
  if (out.length !== w * h)
    throw new Error(`renderFootFrame: out has ${out.length} bytes, expected ${w}x${h}`);
  const sigma = options.noiseSigma ?? 3;
  const vignette = options.vignette ?? 0.25;
  if (!(sigma >= 0 && sigma < 100)) throw new Error(`renderFootFrame: noiseSigma ${sigma} not in [0, 100)`);
  if (!(vignette >= 0 && vignette < 1))
    throw new Error(`renderFootFrame: vignette ${vignette} not in [0, 1)`);
  const threshold = Math.max(1.5, options.blurThresholdPx ?? 1.5); // below: the 3 taps coincide
  const maxTaps = Math.max(3, options.maxBlurTaps ?? 9);
  if (cam.gainVignette !== vignette) {
    for (let p = 0; p < w * h; p++) cam.gain[p] = 1 - vignette * (1 - cam.cos4[p]);
    cam.gainVignette = vignette;
  }
  renderSharp(ps, cam, interpolatePose(poses.open, poses.close, 0.5, cam.mid));
  const longest = motionField(ps, cam, poses);
  let image = cam.sharp;
  if (longest >= threshold) {
    // Long motions are blurred at half resolution (they wash out the finest detail anyway), with taps
    // <= 1 half-res pixel apart up to maxTaps (beyond, they space out).
    const long = longest > HALF_RES_BLUR_PX;
    if (long) blurHalfRes(cam, Math.min(maxTaps | 1, Math.ceil(longest / 2) | 1));
    blurFullRes(cam, long);
    image = cam.blurred;
  }
  expose(image, cam.gain, sigma, rng, out);
  return longest;
}
