import type { CameraCalibration } from '../../../preload/api';
import { validateBoardSpec, type BoardSpec } from '../../calibration/charuco-board';
import type { GrayImage } from '../../calibration/opencv';
import { distortNormalized, projectPoint, undistortPixel } from '../../geometry/camera';
import { normalQuantile, type Rng } from './rng';
import {
  buildMip,
  makeRoomTextures,
  sampleMip,
  sampleTile,
  type MipLevel,
  type RoomTextures,
  type TileTexture,
} from './texture';

/**
 * Synthetic images of the small wide-angle cameras on the feet, by per-pixel ray casting: each pixel's
 * (undistorted, precomputed) ray hits the nearest of the ChArUco boards, the table and the room box. Exact
 * for planar boards under any lens distortion. Motion blur is a per-pixel gather along the image motion
 * over the shutter interval, then Gaussian sensor noise is added. Output: 8-bit grey, written in place.
 */

export type CameraIntrinsics = Pick<CameraCalibration, 'width' | 'height' | 'K' | 'dist'>;

/** World -> camera (X_c = R X_w + t), R row-major. */
export interface CameraPose {
  R: number[];
  t: number[];
}

/** Camera poses when the shutter opens and closes; the image is their average (linear image motion). */
export interface ShutterPoses {
  open: CameraPose;
  close: CameraPose;
}

/** Axis-aligned box in world coordinates, metres. */
export interface Box3 {
  min: number[];
  max: number[];
}

export interface FootScene {
  /** The room interior (the camera is always inside). */
  room: Box3;
  /** The table top as a slab (top z ~ 0.75, underside ~ 0.72); legs are not modelled. */
  table: Box3 | null;
  /** Boards with their printed images (boardImage(): squaresX * pxPerSquare wide, no margin). */
  boards: { spec: BoardSpec; image: GrayImage }[];
}

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

/** 640x480 wide-angle foot camera: ~109 deg horizontal field of view, barrel distortion OpenCV can fit. */
export const FOOT_CAMERA_INTRINSICS: CameraIntrinsics = {
  width: 640,
  height: 480,
  K: [300, 0, 320, 0, 300, 240, 0, 0, 1],
  dist: [-0.28, 0.08, 0, 0, 0],
};

const GRID = 16; // motion field node spacing, px
const HALF_RES_BLUR_PX = 3; // longer image motions are blurred at half resolution
const BOARD_BLACK = 30;
const BOARD_WHITE = 215;
const BOARD_BACK_GREY = 128;

// Local bindings of the texture samplers: calls through a module namespace getter are not inlined by V8.
const sampleTileFn = sampleTile;
const sampleMipFn = sampleMip;

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

export interface PreparedFootScene {
  scene: FootScene;
  /** Room textures: ceiling, wall, floor, table. */
  tiles: TileTexture[];
  boardMips: MipLevel[][];
  caster: RayCaster;
}

let roomTextures: RoomTextures | null = null;

/** Checks the scene and builds the board mip pyramids (once per scene; room textures once per process). */
export function prepareFootScene(scene: FootScene): PreparedFootScene {
  const checkBox = (box: Box3, what: string): void => {
    const ok = box?.min?.length === 3 && box.max?.length === 3 && box.min.every((m, i) => m < box.max[i]);
    if (!ok) throw new Error(`prepareFootScene: ${what} must be {min[3], max[3]} with min < max`);
  };
  checkBox(scene.room, 'room');
  if (scene.table) checkBox(scene.table, 'table');
  const boardMips = scene.boards.map(({ spec, image }) => {
    validateBoardSpec(spec);
    const pps = image.width / spec.squaresX;
    if (
      !Number.isInteger(pps) ||
      image.height !== pps * spec.squaresY ||
      image.data.length !== image.width * image.height
    ) {
      throw new Error(
        `prepareFootScene: board "${spec.name}" image ${image.width}x${image.height} is not ` +
          `${spec.squaresX}x${spec.squaresY} whole squares (use boardImage with margin 0)`,
      );
    }
    return buildMip(image, spec.squareLength / pps, BOARD_BLACK, BOARD_WHITE);
  });
  roomTextures ??= makeRoomTextures();
  const { ceiling, wall, floor, table } = roomTextures;
  const tiles = [ceiling, wall, floor, table];
  return { scene, tiles, boardMips, caster: new RayCaster(scene) };
}

// ---------------------------------------------------------------------------------------------------------
// Ray casting

const WALL_X = 1;
const WALL_Y = 2;
const FLOOR = 3;
const CEILING = 4;
const TABLE_X = 5;
const TABLE_Y = 6;
const TABLE_Z = 7;
const BOARD_BACK = 8;
const BOARD_FRONT = 9;
/**
 * Per board: e1[3] e2[3] n[3] origin[3] W H (world), then per pose: s a0 b0, image bounds xmin xmax ymin
 * ymax, 1 when the table may stand between the camera and the board, and R e1, R e2, R n (camera frame).
 */
const BOARD_STRIDE = 31;
/** Boards win depth ties within this ray parameter (they are glued onto surfaces). */
const GLUE_EPS = 2e-3;

/**
 * Bounds of the points' projections on the normalised image plane (x/z, y/z) into out[at..at+3] as
 * xmin xmax ymin ymax: a conservative screen-space test for rays (x, y, 1). Unbounded when some point is
 * behind the camera, empty when all are.
 */
function projectedBounds(pose: CameraPose, pts: number[], out: Float64Array, at: number): void {
  const { R, t } = pose;
  let xmin = Infinity;
  let xmax = -Infinity;
  let ymin = Infinity;
  let ymax = -Infinity;
  let behind = 0;
  for (let i = 0; i < pts.length; i += 3) {
    const X = pts[i];
    const Y = pts[i + 1];
    const Z = pts[i + 2];
    const z = R[6] * X + R[7] * Y + R[8] * Z + t[2];
    if (z <= 1e-6) {
      behind++;
      continue;
    }
    const x = (R[0] * X + R[1] * Y + R[2] * Z + t[0]) / z;
    const y = (R[3] * X + R[4] * Y + R[5] * Z + t[1]) / z;
    xmin = Math.min(xmin, x);
    xmax = Math.max(xmax, x);
    ymin = Math.min(ymin, y);
    ymax = Math.max(ymax, y);
  }
  if (behind > 0 && behind < pts.length / 3)
    [xmin, xmax, ymin, ymax] = [-Infinity, Infinity, -Infinity, Infinity];
  out[at] = xmin;
  out[at + 1] = xmax;
  out[at + 2] = ymin;
  out[at + 3] = ymax;
}

/** Nearest-hit queries for rays o + t d (t > 0) from one camera centre; public fields hold the last hit. */
export class RayCaster {
  private readonly lo: number[];
  private readonly hi: number[];
  private readonly table: Box3 | null;
  private readonly tableCorners: number[] = [];
  private readonly boardCorners: number[][] = [];
  private readonly boards: Float64Array;
  private readonly nBoards: number;
  private ihx = 0;
  private ihy = 0;
  private ihz = 0;
  private ilx = 0;
  private ily = 0;
  private ilz = 0;
  private tableOn = false;
  private readonly tb = new Float64Array(10); // min - o, max - o, screen bounds
  ox = 0;
  oy = 0;
  oz = 0;
  /** Ray parameter of the hit; for boards: board coordinates (metres), n.d and the board index. */
  t = 0;
  bu = 0;
  bv = 0;
  nd = 0;
  board = -1;

  constructor(scene: FootScene) {
    this.lo = [...scene.room.min];
    this.hi = [...scene.room.max];
    this.table = scene.table;
    if (this.table) {
      const { min, max } = this.table;
      for (let k = 0; k < 8; k++)
        this.tableCorners.push(k & 1 ? max[0] : min[0], k & 2 ? max[1] : min[1], k & 4 ? max[2] : min[2]);
    }
    this.nBoards = scene.boards.length;
    this.boards = new Float64Array(BOARD_STRIDE * this.nBoards);
    scene.boards.forEach(({ spec }, k) => {
      const { R, t } = spec.pose;
      const W = spec.squaresX * spec.squareLength;
      const H = spec.squaresY * spec.squareLength;
      // Board axes in the world are the columns of R; corners X_w = R (a, b, 0) + t.
      this.boards.set(
        [R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8], t[0], t[1], t[2], W, H],
        k * BOARD_STRIDE,
      );
      const corners: number[] = [];
      for (const [a, b] of [
        [0, 0],
        [W, 0],
        [0, H],
        [W, H],
      ]) {
        corners.push(R[0] * a + R[1] * b + t[0], R[3] * a + R[4] * b + t[1], R[6] * a + R[7] * b + t[2]);
      }
      this.boardCorners.push(corners);
    });
  }

  /** Moves the ray origin to the camera centre of pose (C = -R^T t) and updates the per-origin terms. */
  setPose(pose: CameraPose): void {
    const { R, t } = pose;
    const ox = -(R[0] * t[0] + R[3] * t[1] + R[6] * t[2]);
    const oy = -(R[1] * t[0] + R[4] * t[1] + R[7] * t[2]);
    const oz = -(R[2] * t[0] + R[5] * t[1] + R[8] * t[2]);
    const lo = this.lo;
    const hi = this.hi;
    if (!(ox > lo[0] && oy > lo[1] && oz > lo[2] && ox < hi[0] && oy < hi[1] && oz < hi[2])) {
      throw new Error(`renderFootFrame: camera centre (${ox}, ${oy}, ${oz}) is not inside the room`);
    }
    this.ox = ox;
    this.oy = oy;
    this.oz = oz;
    // 1/t of a room face is d_k / (face - o_k): positive for the faces the ray heads to.
    this.ihx = 1 / (hi[0] - ox);
    this.ihy = 1 / (hi[1] - oy);
    this.ihz = 1 / (hi[2] - oz);
    this.ilx = 1 / (lo[0] - ox);
    this.ily = 1 / (lo[1] - oy);
    this.ilz = 1 / (lo[2] - oz);
    const table = this.table;
    this.tableOn = table !== null;
    if (table) {
      for (let a = 0; a < 3; a++) {
        const o = a === 0 ? ox : a === 1 ? oy : oz;
        this.tb[a] = table.min[a] - o;
        this.tb[3 + a] = table.max[a] - o;
      }
      projectedBounds(pose, this.tableCorners, this.tb, 6);
    }
    const B = this.boards;
    for (let k = 0; k < this.nBoards; k++) {
      const i = k * BOARD_STRIDE;
      const rx = ox - B[i + 9];
      const ry = oy - B[i + 10];
      const rz = oz - B[i + 11];
      B[i + 14] = -(B[i + 6] * rx + B[i + 7] * ry + B[i + 8] * rz); // s = n.(origin - o): > 0 in front
      B[i + 15] = B[i] * rx + B[i + 1] * ry + B[i + 2] * rz; // a0 = e1.(o - origin)
      B[i + 16] = B[i + 3] * rx + B[i + 4] * ry + B[i + 5] * rz; // b0 = e2.(o - origin)
      projectedBounds(pose, this.boardCorners[k], B, i + 17);
      B[i + 21] = table && this.tableBetween(this.boardCorners[k], B, i + 17) ? 1 : 0;
      // Board axes in the camera frame: for a ray d = R^T (x, y, 1), e.d = (R e).(x, y, 1).
      for (let a = 0; a < 3; a++) {
        for (let r = 0; r < 3; r++) {
          B[i + 22 + 3 * a + r] =
            R[3 * r] * B[i + 3 * a] + R[3 * r + 1] * B[i + 3 * a + 1] + R[3 * r + 2] * B[i + 3 * a + 2];
        }
      }
    }
  }

  /**
   * Whether the table may hide part of a board (corners pts, screen bounds at B[at..at+3]) from the
   * camera: their screen bounds overlap, and no face plane of the table has the camera and the whole
   * board strictly outside it (segments between two points beyond a plane never cross the box).
   */
  private tableBetween(pts: number[], B: Float64Array, at: number): boolean {
    const tb = this.tb;
    if (B[at] > tb[7] || B[at + 1] < tb[6] || B[at + 2] > tb[9] || B[at + 3] < tb[8]) return false;
    for (let a = 0; a < 3; a++) {
      const o = a === 0 ? this.ox : a === 1 ? this.oy : this.oz;
      const lo = tb[a] + o; // tb[a] = min_a - o_a, tb[3 + a] = max_a - o_a
      const hi = tb[3 + a] + o;
      let below = o < lo;
      let above = o > hi;
      for (let i = a; i < pts.length; i += 3) {
        below &&= pts[i] < lo;
        above &&= pts[i] > hi;
      }
      if (below || above) return false;
    }
    return true;
  }

  /** Whether the table may hide part of board k (see tableBetween); when false, tableHit can be skipped. */
  tableMayHide(k: number): boolean {
    return this.boards[k * BOARD_STRIDE + 21] === 1;
  }

  /** Surface code of the nearest hit of the ray with camera-frame direction (x, y, 1), world direction d. */
  cast(x: number, y: number, dx: number, dy: number, dz: number): number {
    let code = this.room(dx, dy, dz);
    code = this.tableHit(x, y, dx, dy, dz, this.t) || code;
    return this.boardHit(x, y, this.t + GLUE_EPS) || code;
  }

  /** Leaving the room box from inside: the face with the largest 1/t = d_k / (face_k - o_k). */
  room(dx: number, dy: number, dz: number): number {
    const wx = dx * (dx > 0 ? this.ihx : this.ilx);
    const wy = dy * (dy > 0 ? this.ihy : this.ily);
    const wz = dz * (dz > 0 ? this.ihz : this.ilz);
    if (wz >= wx && wz >= wy) {
      this.t = 1 / wz;
      return dz > 0 ? CEILING : FLOOR;
    }
    this.t = 1 / (wx > wy ? wx : wy);
    return wx > wy ? WALL_X : WALL_Y;
  }

  /** Table face code when the ray hits the table nearer than tMax (then this.t is set), else 0. */
  tableHit(x: number, y: number, dx: number, dy: number, dz: number, tMax: number): number {
    const tb = this.tb;
    if (!this.tableOn || x < tb[6] || x > tb[7] || y < tb[8] || y > tb[9]) return 0;
    // Slab test (Kay-Kajiya): entry = largest per-axis entry, exit = smallest exit.
    const ix = 1 / dx;
    const iy = 1 / dy;
    const iz = 1 / dz;
    let p = tb[0] * ix;
    let q = tb[3] * ix;
    let near = p < q ? p : q;
    let far = p < q ? q : p;
    let axis = TABLE_X;
    p = tb[1] * iy;
    q = tb[4] * iy;
    if ((p < q ? p : q) > near) {
      near = p < q ? p : q;
      axis = TABLE_Y;
    }
    if ((p < q ? q : p) < far) far = p < q ? q : p;
    p = tb[2] * iz;
    q = tb[5] * iz;
    if ((p < q ? p : q) > near) {
      near = p < q ? p : q;
      axis = TABLE_Z;
    }
    if ((p < q ? q : p) < far) far = p < q ? q : p;
    if (!(near <= far && near > 0 && near < tMax)) return 0;
    this.t = near;
    return axis;
  }

  /** BOARD_FRONT/BOARD_BACK when the ray hits some board nearer than tMax (see boardHitOne), else 0. */
  boardHit(x: number, y: number, tMax: number): number {
    let code = 0;
    for (let k = 0; k < this.nBoards; k++) {
      const hit = this.boardHitOne(k, x, y, tMax);
      if (hit !== 0) {
        code = hit;
        tMax = this.t;
      }
    }
    return code;
  }

  /**
   * BOARD_FRONT/BOARD_BACK when the ray (x, y, 1) (camera frame) hits board k nearer than tMax (then
   * this.t, bu, bv, nd and board are set), else 0. Everything is linear in (x, y) but one division:
   * t = s / (n.d), (u, v) = (a0, b0) + t (e1.d, e2.d).
   */
  boardHitOne(k: number, x: number, y: number, tMax: number): number {
    const B = this.boards;
    const i = k * BOARD_STRIDE;
    if (x < B[i + 17] || x > B[i + 18] || y < B[i + 19] || y > B[i + 20]) return 0;
    const nd = B[i + 28] * x + B[i + 29] * y + B[i + 30];
    const t = B[i + 14] / nd; // plane n.(X - origin) = 0
    if (!(t > 0 && t < tMax)) return 0;
    const u = B[i + 15] + t * (B[i + 22] * x + B[i + 23] * y + B[i + 24]);
    if (u < 0 || u >= B[i + 12]) return 0;
    const v = B[i + 16] + t * (B[i + 25] * x + B[i + 26] * y + B[i + 27]);
    if (v < 0 || v >= B[i + 13]) return 0;
    this.t = t;
    this.bu = u;
    this.bv = v;
    this.nd = nd;
    this.board = k;
    // The printed face looks along -z: it faces the ray when the ray runs along +z (n.d > 0).
    return nd > 0 ? BOARD_FRONT : BOARD_BACK;
  }

  get boardCount(): number {
    return this.nBoards;
  }

  /** Screen bounds of board k (xmin xmax ymin ymax of x/z, y/z) into out. */
  boardScreenBounds(k: number, out: Float64Array): Float64Array {
    out.set(this.boards.subarray(k * BOARD_STRIDE + 17, k * BOARD_STRIDE + 21));
    return out;
  }
}

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

// ---------------------------------------------------------------------------------------------------------
// Shutter interval

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
function motionField(ps: PreparedFootScene, cam: FootCamera, poses: ShutterPoses): number {
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
          const table = c.tableHit(x, y, dx, dy, dz, c.t - GLUE_EPS);
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
function blurHalfRes(cam: FootCamera, taps: number): void {
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
function blurFullRes(cam: FootCamera, long: boolean): void {
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
