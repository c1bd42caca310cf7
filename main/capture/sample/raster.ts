import type { CameraCalibration } from '../../../preload/api';
import { cameraCentre, distortNormalized } from '../../geometry/camera';

/**
 * Software triangle rasteriser with a z-buffer for synthetic room cameras. Vertices are projected with the
 * real camera model (distortion included, via distortNormalized); triangles are then filled in the distorted
 * image with barycentric weights, interpolating 1/z linearly (exact for a pinhole, and a negligible error for
 * the small triangles used here: large planes must be subdivided by the caller). Pixel centres sit at
 * integer coordinates, as in OpenCV. The depth buffer holds camera-space z in metres (Infinity = empty).
 */

/** Triangles with a vertex closer than this (camera z, metres) are dropped rather than clipped. */
export const NEAR_PLANE = 0.05;

/** Colour (RGB, 3 bytes per pixel) and depth buffers plus the bounding box of the pixels drawn into. */
export interface RasterTarget {
  width: number;
  height: number;
  colour: Uint8Array;
  depth: Float32Array;
  /** Inclusive pixel box [x0, y0, x1, y1] touched by draws since the last reset; empty when x0 > x1. */
  dirty: Int32Array;
}

export function createRasterTarget(width: number, height: number): RasterTarget {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`raster target: invalid size ${width}x${height}`);
  }
  const t: RasterTarget = {
    width,
    height,
    colour: new Uint8Array(width * height * 3),
    depth: new Float32Array(width * height).fill(Infinity),
    dirty: new Int32Array(4),
  };
  clearDirty(t);
  return t;
}

export function clearDirty(t: RasterTarget): void {
  t.dirty[0] = t.width;
  t.dirty[1] = t.height;
  t.dirty[2] = -1;
  t.dirty[3] = -1;
}

/** Camera model prepared for projecting many vertices. */
export interface Projector {
  cal: CameraCalibration;
  /** Camera centre in world coordinates (for facing tests). */
  centre: Float64Array;
  /**
   * Largest squared undistorted radius r^2 = x^2 + y^2 where the distortion is still monotonic: beyond it a
   * polynomial with k1 < 0 folds back, so points far outside the field of view would land inside the image.
   */
  r2Max: number;
}

const scratchD = new Float64Array(2);

/**
 * Radius where the distorted radius stops growing, found by walking along the x axis with the same
 * distortNormalized used for projection (one source of truth for the formula). Capped at r = 4 (76 deg).
 */
export function monotonicRadius(dist: number[]): number {
  const step = 1e-3;
  let prev = 0;
  for (let r = step; r <= 4; r += step) {
    const d = distortNormalized(dist, r, 0, scratchD)[0];
    if (d <= prev) return r - step;
    prev = d;
  }
  return 4;
}

export function createProjector(cal: CameraCalibration): Projector {
  const rMax = monotonicRadius(cal.dist);
  return { cal, centre: cameraCentre(cal), r2Max: rMax * rMax };
}

/**
 * Projected vertices: pixel (u, v) and inverse camera depth w = 1 / z (what the rasteriser interpolates);
 * w = -1 marks a vertex no triangle may use.
 */
export interface Projected {
  u: Float32Array;
  v: Float32Array;
  w: Float32Array;
}

export function createProjected(capacity: number): Projected {
  return { u: new Float32Array(capacity), v: new Float32Array(capacity), w: new Float32Array(capacity) };
}

/**
 * Projects `count` world points (x, y, z triples in `positions`) to pixels: X_c = R X_w + t (inlined),
 * then distortNormalized and K. Points before the near plane or beyond the monotonic radius get w = -1.
 */
export function projectVertices(p: Projector, positions: Float32Array, count: number, out: Projected): void {
  const { R, t, K, dist } = p.cal;
  const { u, v, w } = out;
  const fx = K[0],
    s = K[1],
    cx = K[2],
    fy = K[4],
    cy = K[5];
  const r2Max = p.r2Max;
  for (let i = 0, j = 0; i < count; i++, j += 3) {
    const X = positions[j],
      Y = positions[j + 1],
      Z = positions[j + 2];
    const zc = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    if (!(zc >= NEAR_PLANE)) {
      w[i] = -1;
      continue;
    }
    const iz = 1 / zc;
    const xn = (R[0] * X + R[1] * Y + R[2] * Z + t[0]) * iz;
    const yn = (R[3] * X + R[4] * Y + R[5] * Z + t[1]) * iz;
    if (xn * xn + yn * yn > r2Max) {
      w[i] = -1;
      continue;
    }
    const d = distortNormalized(dist, xn, yn, scratchD);
    u[i] = fx * d[0] + s * d[1] + cx;
    v[i] = fy * d[1] + cy;
    w[i] = iz;
  }
}

/** Fixed directional light (unit vector towards the light, world frame) with ambient + Lambert terms. */
export interface Light {
  dir: [number, number, number];
  ambient: number;
  diffuse: number;
}

export const DEFAULT_LIGHT: Light = (() => {
  const d = [0.4, 0.3, 0.85];
  const n = Math.hypot(d[0], d[1], d[2]);
  return { dir: [d[0] / n, d[1] / n, d[2] / n], ambient: 0.45, diffuse: 0.55 };
})();

/**
 * Flat shade of triangle (a, b, c) in world coordinates: ambient + diffuse max(0, n.L), with n the unit
 * normal turned towards the camera (two-sided lighting, independent of the mesh's winding).
 * `frontSign` is -1 when the triangle's screen area is negative (its cross-product normal faces the camera).
 */
export function flatShade(
  pos: Float32Array,
  a: number,
  b: number,
  c: number,
  frontSign: number,
  light: Light,
): number {
  const ax = pos[a],
    ay = pos[a + 1],
    az = pos[a + 2];
  const e1x = pos[b] - ax,
    e1y = pos[b + 1] - ay,
    e1z = pos[b + 2] - az;
  const e2x = pos[c] - ax,
    e2y = pos[c + 1] - ay,
    e2z = pos[c + 2] - az;
  const nx = e1y * e2z - e1z * e2y,
    ny = e1z * e2x - e1x * e2z,
    nz = e1x * e2y - e1y * e2x;
  const len = Math.sqrt(nx * nx + ny * ny + nz * nz);
  if (len === 0) return light.ambient;
  const cos = (-frontSign * (nx * light.dir[0] + ny * light.dir[1] + nz * light.dir[2])) / len;
  const shade = light.ambient + (cos > 0 ? light.diffuse * cos : 0);
  return shade < 1 ? shade : 1;
}

/** Small inside tolerance on barycentric weights so shared edges leave no cracks (double hits are harmless). */
export const EDGE_EPS = -1e-9;

/** Grows the target's dirty box to include [minX, maxX] x [minY, maxY]. */
export function markDirty(t: RasterTarget, minX: number, minY: number, maxX: number, maxY: number): void {
  const d = t.dirty;
  if (minX < d[0]) d[0] = minX;
  if (minY < d[1]) d[1] = minY;
  if (maxX > d[2]) d[2] = maxX;
  if (maxY > d[3]) d[3] = maxY;
}

export interface FlatMeshStyle {
  /** Base colour, 0..255 per channel. */
  rgb: [number, number, number];
  light?: Light;
  /** Skip back faces: triangles whose outward side faces away from the camera (closed meshes only). */
  cullBackFaces?: boolean;
  /** The mesh's outward side is clockwise (default counter-clockwise, right-hand normal outward). */
  clockwise?: boolean;
}

/**
 * Draws a flat-shaded triangle mesh (positions: V*3 world coordinates, faces: F*3 vertex indices) already
 * projected into `proj` (projectVertices over the same positions). Each triangle is z-tested per pixel:
 * barycentric weights are affine in the pixel position, w0 = ((y1 - y2) px + (x2 - x1) py + x1 y2 - x2 y1)
 * / area and cyclically, and so is 1/z = w0/z0 + w1/z1 + w2/z2.
 */
export function drawFlatMesh(
  t: RasterTarget,
  positions: Float32Array,
  faces: Uint32Array,
  proj: Projected,
  style: FlatMeshStyle,
): void {
  const light = style.light ?? DEFAULT_LIGHT;
  // Image y points down, so a triangle whose counter-clockwise normal faces the camera has area < 0.
  const cullSign = style.cullBackFaces ? (style.clockwise ? -1 : 1) : 0;
  const [R, G, B] = style.rgb;
  const { u, v, w } = proj;
  const { width, colour, depth } = t;
  const W1 = t.width - 1,
    H1 = t.height - 1;
  for (let f = 0; f < faces.length; f += 3) {
    const i0 = faces[f],
      i1 = faces[f + 1],
      i2 = faces[f + 2];
    const q0 = w[i0],
      q1 = w[i1],
      q2 = w[i2];
    if (q0 < 0 || q1 < 0 || q2 < 0) continue;
    const x0 = u[i0],
      y0 = v[i0],
      x1 = u[i1],
      y1 = v[i1],
      x2 = u[i2],
      y2 = v[i2];
    // Pixel centres inside the bounding box, clipped to the image; many body triangles cover none.
    let minX = Math.ceil(x0 < x1 ? (x0 < x2 ? x0 : x2) : x1 < x2 ? x1 : x2);
    let maxX = Math.floor(x0 > x1 ? (x0 > x2 ? x0 : x2) : x1 > x2 ? x1 : x2);
    if (minX < 0) minX = 0;
    if (maxX > W1) maxX = W1;
    if (minX > maxX) continue;
    let minY = Math.ceil(y0 < y1 ? (y0 < y2 ? y0 : y2) : y1 < y2 ? y1 : y2);
    let maxY = Math.floor(y0 > y1 ? (y0 > y2 ? y0 : y2) : y1 > y2 ? y1 : y2);
    if (minY < 0) minY = 0;
    if (maxY > H1) maxY = H1;
    if (minY > maxY) continue;
    const area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (area === 0 || area * cullSign > 0) continue;
    const shade = flatShade(positions, 3 * i0, 3 * i1, 3 * i2, area < 0 ? -1 : 1, light);
    const r = (R * shade + 0.5) | 0,
      g = (G * shade + 0.5) | 0,
      b = (B * shade + 0.5) | 0;
    const ia = 1 / area;
    const a0 = (y1 - y2) * ia,
      b0 = (x2 - x1) * ia,
      c0 = (x1 * y2 - x2 * y1) * ia;
    const a1 = (y2 - y0) * ia,
      b1 = (x0 - x2) * ia,
      c1 = (x2 * y0 - x0 * y2) * ia;
    const a2 = (y0 - y1) * ia,
      b2 = (x1 - x0) * ia,
      c2 = (x0 * y1 - x1 * y0) * ia;
    const aq = a0 * q0 + a1 * q1 + a2 * q2,
      bq = b0 * q0 + b1 * q1 + b2 * q2,
      cq = c0 * q0 + c1 * q1 + c2 * q2;
    // Each row's covered span comes straight from the three edge inequalities a_k px + b_k py + c_k >= 0.
    const ia0 = a0 !== 0 ? 1 / a0 : 0,
      ia1 = a1 !== 0 ? 1 / a1 : 0,
      ia2 = a2 !== 0 ? 1 / a2 : 0;
    for (let py = minY; py <= maxY; py++) {
      let lo = minX,
        hi = maxX;
      const r0 = b0 * py + c0 - EDGE_EPS,
        r1 = b1 * py + c1 - EDGE_EPS,
        r2 = b2 * py + c2 - EDGE_EPS;
      if (a0 > 0) lo = Math.max(lo, -r0 * ia0);
      else if (a0 < 0) hi = Math.min(hi, -r0 * ia0);
      else if (r0 < 0) continue;
      if (a1 > 0) lo = Math.max(lo, -r1 * ia1);
      else if (a1 < 0) hi = Math.min(hi, -r1 * ia1);
      else if (r1 < 0) continue;
      if (a2 > 0) lo = Math.max(lo, -r2 * ia2);
      else if (a2 < 0) hi = Math.min(hi, -r2 * ia2);
      else if (r2 < 0) continue;
      const xs = Math.ceil(lo),
        xe = Math.floor(hi);
      let q = aq * xs + bq * py + cq;
      for (let i = py * width + xs, end = py * width + xe; i <= end; i++) {
        const zp = 1 / q;
        if (zp < depth[i]) {
          depth[i] = zp;
          const k = 3 * i;
          colour[k] = r;
          colour[k + 1] = g;
          colour[k + 2] = b;
        }
        q += aq;
      }
    }
    markDirty(t, minX, minY, maxX, maxY);
  }
}
