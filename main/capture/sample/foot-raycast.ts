import { validateBoardSpec, type BoardSpec } from '../../calibration/charuco-board';
import type { GrayImage } from '../../calibration/opencv';
import type { CameraPose } from './foot-camera';
import { buildMip, makeRoomTextures, type MipLevel, type RoomTextures, type TileTexture } from './texture';

/**
 * The foot cameras' scene (room box, table slab, ChArUco boards) prepared for ray casting, and the
 * nearest-hit ray caster: rays from one camera centre against the room faces, the table (slab test) and
 * the planar boards (one division per board).
 */

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

const BOARD_BLACK = 30;
const BOARD_WHITE = 215;

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
/** Surface codes of the caster's hits (0: none), for shading. */
export const SURFACE = {
  WALL_X,
  WALL_Y,
  FLOOR,
  CEILING,
  TABLE_X,
  TABLE_Y,
  TABLE_Z,
  BOARD_BACK,
  BOARD_FRONT,
} as const;
/**
 * Per board: e1[3] e2[3] n[3] origin[3] W H (world), then per pose: s a0 b0, image bounds xmin xmax ymin
 * ymax, 1 when the table may stand between the camera and the board, and R e1, R e2, R n (camera frame).
 */
const BOARD_STRIDE = 31;
/** Boards win depth ties within this ray parameter (they are glued onto surfaces). */
export const GLUE_EPS = 2e-3;

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
