import { projectPoint } from '../../geometry/camera';
import { GRID, type CameraPose, type FootCamera } from './foot-camera';
import type { PreparedFootScene } from './foot-raycast';

/**
 * Motion blur of the foot cameras over the shutter interval: the mid-exposure pose (slerp), the image
 * motion at the grid nodes, and a per-pixel gather along the local motion (full resolution for short
 * motions, half resolution for long ones).
 */

/** Camera poses when the shutter opens and closes; the image is their average (linear image motion). */
export interface ShutterPoses {
  open: CameraPose;
  close: CameraPose;
}

/** Longer image motions (px) are blurred at half resolution. */
export const HALF_RES_BLUR_PX = 3;

const qa = new Float64Array(4);
const qb = new Float64Array(4);
const centre = new Float64Array(3);

/** Unit quaternion (w, x, y, z) of a row-major rotation matrix (Shepperd's method). */
function quaternionOf(R: number[], q: Float64Array): void {
  const tr = R[0] + R[4] + R[8];
  if (tr > 0) {
    const s = 2 * Math.sqrt(tr + 1);
    q.set([0.25 * s, (R[7] - R[5]) / s, (R[2] - R[6]) / s, (R[3] - R[1]) / s]);
  } else if (R[0] > R[4] && R[0] > R[8]) {
    const s = 2 * Math.sqrt(1 + R[0] - R[4] - R[8]);
    q.set([(R[7] - R[5]) / s, 0.25 * s, (R[1] + R[3]) / s, (R[2] + R[6]) / s]);
  } else if (R[4] > R[8]) {
    const s = 2 * Math.sqrt(1 + R[4] - R[0] - R[8]);
    q.set([(R[2] - R[6]) / s, (R[1] + R[3]) / s, 0.25 * s, (R[5] + R[7]) / s]);
  } else {
    const s = 2 * Math.sqrt(1 + R[8] - R[0] - R[4]);
    q.set([(R[3] - R[1]) / s, (R[2] + R[6]) / s, (R[5] + R[7]) / s, 0.25 * s]);
  }
}

/** Pose at fraction s from a to b: rotation by quaternion slerp, camera centre C = -R^T t linearly. */
export function interpolatePose(a: CameraPose, b: CameraPose, s: number, out: CameraPose): CameraPose {
  quaternionOf(a.R, qa);
  quaternionOf(b.R, qb);
  let cos = qa[0] * qb[0] + qa[1] * qb[1] + qa[2] * qb[2] + qa[3] * qb[3];
  const sign = cos < 0 ? -1 : 1; // q and -q are the same rotation: take the shorter arc
  cos *= sign;
  let wa = 1 - s;
  let wb = s * sign;
  if (cos < 0.9999) {
    const angle = Math.acos(cos);
    wa = Math.sin((1 - s) * angle) / Math.sin(angle);
    wb = (sign * Math.sin(s * angle)) / Math.sin(angle);
  }
  const w0 = wa * qa[0] + wb * qb[0];
  const x0 = wa * qa[1] + wb * qb[1];
  const y0 = wa * qa[2] + wb * qb[2];
  const z0 = wa * qa[3] + wb * qb[3];
  const inv = 1 / Math.sqrt(w0 * w0 + x0 * x0 + y0 * y0 + z0 * z0);
  const w = w0 * inv;
  const x = x0 * inv;
  const y = y0 * inv;
  const z = z0 * inv;
  const R = out.R;
  R[0] = 1 - 2 * (y * y + z * z);
  R[1] = 2 * (x * y - w * z);
  R[2] = 2 * (x * z + w * y);
  R[3] = 2 * (x * y + w * z);
  R[4] = 1 - 2 * (x * x + z * z);
  R[5] = 2 * (y * z - w * x);
  R[6] = 2 * (x * z - w * y);
  R[7] = 2 * (y * z + w * x);
  R[8] = 1 - 2 * (x * x + y * y);
  for (let k = 0; k < 3; k++) {
    const ca = -(a.R[k] * a.t[0] + a.R[3 + k] * a.t[1] + a.R[6 + k] * a.t[2]);
    const cb = -(b.R[k] * b.t[0] + b.R[3 + k] * b.t[1] + b.R[6 + k] * b.t[2]);
    centre[k] = ca + s * (cb - ca);
  }
  for (let k = 0; k < 3; k++) {
    out.t[k] = -(R[3 * k] * centre[0] + R[3 * k + 1] * centre[1] + R[3 * k + 2] * centre[2]);
  }
  return out;
}

const pOpen = new Float64Array(2);
const pClose = new Float64Array(2);
const hitPoint = new Float64Array(3);

/**
 * Image motion over the shutter at the grid nodes: the point each node sees at mid-exposure, projected
 * with the open and close poses, m = p_close - p_open. Returns the longest motion, px (the shortest goes
 * to cam.shortestMotion).
 */
export function motionField(ps: PreparedFootScene, cam: FootCamera, poses: ShutterPoses): number {
  const c = ps.caster;
  const R = cam.mid.R;
  const proj = cam.projector;
  let longest = 0;
  let shortest = Infinity;
  for (let i = 0; i < cam.gridW * cam.gridH; i++) {
    const x = cam.nodeRays[2 * i];
    const y = cam.nodeRays[2 * i + 1];
    const dx = x * R[0] + y * R[3] + R[6];
    const dy = x * R[1] + y * R[4] + R[7];
    const dz = x * R[2] + y * R[5] + R[8];
    c.cast(x, y, dx, dy, dz);
    hitPoint[0] = c.ox + c.t * dx;
    hitPoint[1] = c.oy + c.t * dy;
    hitPoint[2] = c.oz + c.t * dz;
    proj.R = poses.open.R;
    proj.t = poses.open.t;
    projectPoint(proj, hitPoint, pOpen);
    proj.R = poses.close.R;
    proj.t = poses.close.t;
    projectPoint(proj, hitPoint, pClose);
    let mx = pClose[0] - pOpen[0];
    let my = pClose[1] - pOpen[1];
    if (!Number.isFinite(mx + my)) mx = my = 0; // behind the camera at one end: no usable motion
    cam.motion[2 * i] = mx;
    cam.motion[2 * i + 1] = my;
    longest = Math.max(longest, Math.sqrt(mx * mx + my * my));
    shortest = Math.min(shortest, Math.sqrt(mx * mx + my * my));
  }
  cam.shortestMotion = shortest;
  // Cells whose four nodes all move further than the half-res limit.
  const { gridW, gridH, motion, longCell } = cam;
  const lenSq = (n: number) => motion[2 * n] ** 2 + motion[2 * n + 1] ** 2;
  const limitSq = HALF_RES_BLUR_PX * HALF_RES_BLUR_PX;
  for (let j = 0; j < gridH - 1; j++) {
    for (let i = 0; i < gridW - 1; i++) {
      const n = j * gridW + i;
      const long = lenSq(n) > limitSq && lenSq(n + 1) > limitSq && lenSq(n + gridW) > limitSq;
      longCell[j * (gridW - 1) + i] = long && lenSq(n + gridW + 1) > limitSq ? 1 : 0;
    }
  }
  return longest;
}

/** Fills cam.rowMotion with the grid motion at image row position v (linear between node rows), times k. */
function rowMotionAt(cam: FootCamera, v: number, k: number): void {
  const { motion, gridW, rowMotion } = cam;
  const gj = Math.min((v / GRID) | 0, cam.gridH - 2);
  const fj = v / GRID - gj;
  for (let n = 0; n < 2 * gridW; n++) {
    const m0 = motion[2 * gj * gridW + n];
    rowMotion[n] = (m0 + fj * (motion[2 * (gj + 1) * gridW + n] - m0)) * k;
  }
}

/**
 * Half-resolution motion blur, for long motions: cam.sharp is 2x2-averaged into cam.coarse, then each
 * half-res pixel averages `taps` nearest samples along its motion (symmetric about the pixel, so edges are
 * not shifted) into cam.coarseBlurred: I(p) = mean over s in (-1/2, 1/2) of I_sharp(p - s m(p)).
 */
export function blurHalfRes(cam: FootCamera, taps: number): void {
  const { width: w, height: h } = cam.intrinsics;
  const { coarse, coarseBlurred, rowMotion } = cam;
  downsample2(cam.sharp, w, h, coarse);
  const sw = w >> 1;
  const sh = h >> 1;
  const half = (taps - 1) / 2;
  for (let j = 0; j < sh; j++) {
    rowMotionAt(cam, 2 * j + 0.5, 1 / (2 * taps)); // half-res pixel (i, j) is centred on (2i + 1/2, 2j + 1/2)
    for (let i = 0; i < sw; i++) {
      const gu = (2 * i + 0.5) / GRID;
      const n = 2 * (gu | 0);
      const fi = gu - (gu | 0);
      const stepU = rowMotion[n] + fi * (rowMotion[n + 2] - rowMotion[n]);
      const stepV = rowMotion[n + 1] + fi * (rowMotion[n + 3] - rowMotion[n + 1]);
      // Taps at p + k step, k = -half .. half; the first and last decide whether clamping is needed.
      const u0 = i - half * stepU + 0.5;
      const v0 = j - half * stepV + 0.5;
      const u1 = i + half * stepU + 0.5;
      const v1 = j + half * stepV + 0.5;
      let sum = 0;
      if (u0 >= 0 && u1 >= 0 && v0 >= 0 && v1 >= 0 && u0 < sw && u1 < sw && v0 < sh && v1 < sh) {
        // 16.16 fixed-point stepping (positions >= 0, so truncation = floor).
        let fu = (u0 * 65536) | 0;
        let fv = (v0 * 65536) | 0;
        const du = (stepU * 65536) | 0;
        const dv = (stepV * 65536) | 0;
        for (let k = 0; k < taps; k++, fu += du, fv += dv) sum += coarse[(fv >> 16) * sw + (fu >> 16)];
      } else {
        for (let k = -half; k <= half; k++) {
          let su = Math.floor(i + k * stepU + 0.5);
          let sv = Math.floor(j + k * stepV + 0.5);
          su = su < 0 ? 0 : su >= sw ? sw - 1 : su;
          sv = sv < 0 ? 0 : sv >= sh ? sh - 1 : sv;
          sum += coarse[sv * sw + su];
        }
      }
      coarseBlurred[j * sw + i] = sum / taps;
    }
  }
}

/**
 * Motion blur into cam.blurred, pixel by pixel by the local motion m (length L): none below 1.5 px; up to
 * HALF_RES_BLUR_PX, the mean of the nearest pixels at p - m/3, p, p + m/3 (symmetric, spacing <= 1 px);
 * beyond, the half-resolution blur (blurHalfRes), upsampled bilinearly, when `long` says it was computed.
 */
export function blurFullRes(cam: FootCamera, long: boolean): void {
  const { width: w, height: h } = cam.intrinsics;
  const { sharp, blurred, rowMotion } = cam;
  if (long) upsample2(cam.coarseBlurred, w, h, blurred);
  // Every node moves further than the half-res limit: treat all pixels as long blurs (a pixel whose
  // interpolated motion dips a little below the limit is blurred equally well at half resolution).
  if (long && cam.shortestMotion > HALF_RES_BLUR_PX) return;
  const longSq = HALF_RES_BLUR_PX * HALF_RES_BLUR_PX;
  const cells = cam.gridW - 1;
  for (let v = 0; v < h; v++) {
    rowMotionAt(cam, v, 1);
    const inner = v > 0 && v < h - 1;
    const cellRow = ((v / GRID) | 0) * cells;
    for (let u = 0; u < w; u++) {
      // Skip the cells whose corners all have long motions (the half-res result is already there).
      if (long && (u & (GRID - 1)) === 0 && cam.longCell[cellRow + u / GRID] === 1) {
        u += GRID - 1;
        continue;
      }
      const p = v * w + u;
      const gu = u / GRID;
      const n = 2 * (gu | 0);
      const fi = gu - (gu | 0);
      const mx = rowMotion[n] + fi * (rowMotion[n + 2] - rowMotion[n]);
      const my = rowMotion[n + 1] + fi * (rowMotion[n + 3] - rowMotion[n + 1]);
      const lengthSq = mx * mx + my * my;
      if (lengthSq > longSq && long) continue;
      // |m / 3| <= 1: the outer taps are at most one pixel away.
      const du = mx > 1.5 ? 1 : mx < -1.5 ? -1 : 0;
      const dv = my > 1.5 ? 1 : my < -1.5 ? -1 : 0;
      const off = dv * w + du;
      if (off === 0) {
        blurred[p] = sharp[p];
      } else if (inner && u > 0 && u < w - 1) {
        blurred[p] = (sharp[p - off] + sharp[p] + sharp[p + off]) * (1 / 3);
      } else {
        const ua = Math.min(Math.max(u - du, 0), w - 1);
        const va = Math.min(Math.max(v - dv, 0), h - 1);
        const ub = Math.min(Math.max(u + du, 0), w - 1);
        const vb = Math.min(Math.max(v + dv, 0), h - 1);
        blurred[p] = (sharp[va * w + ua] + sharp[p] + sharp[vb * w + ub]) * (1 / 3);
      }
    }
  }
}

/** Bilinear upsampling of a (w/2) x (h/2) image of 2x2 block means (block centre (2i + 1/2, 2j + 1/2)). */
function upsample2(src: Float32Array, w: number, h: number, dst: Float32Array): void {
  const hw = w >> 1;
  const hh = h >> 1;
  for (let v = 0; v < h; v++) {
    // Pixel v lies at half-res position (v - 1/2) / 2: weights 3/4, 1/4 on the nearest two rows.
    const jn = (v & 1) === 0 ? Math.max((v >> 1) - 1, 0) : Math.min((v >> 1) + 1, hh - 1);
    const r0 = (v >> 1) * hw;
    const r1 = jn * hw;
    for (let u = 0; u < w; u++) {
      const i = u >> 1;
      const iN = (u & 1) === 0 ? Math.max(i - 1, 0) : Math.min(i + 1, hw - 1);
      const near = 0.75 * src[r0 + i] + 0.25 * src[r1 + i];
      const far = 0.75 * src[r0 + iN] + 0.25 * src[r1 + iN];
      dst[v * w + u] = 0.75 * near + 0.25 * far;
    }
  }
}

/** 2x2 box average of a w x h image into a (w/2) x (h/2) one. */
function downsample2(src: Float32Array, w: number, h: number, dst: Float32Array): void {
  const hw = w >> 1;
  for (let j = 0; j < h >> 1; j++) {
    for (let i = 0; i < hw; i++) {
      const p = 2 * j * w + 2 * i;
      dst[j * hw + i] = 0.25 * (src[p] + src[p + 1] + src[p + w] + src[p + w + 1]);
    }
  }
}
