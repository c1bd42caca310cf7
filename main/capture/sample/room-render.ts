import type { CameraCalibration } from '../../../preload/api';
import {
  clearDirty,
  createProjected,
  createProjector,
  createRasterTarget,
  DEFAULT_LIGHT,
  drawFlatMesh,
  projectVertices,
  type Light,
  type Projected,
  type Projector,
  type RasterTarget,
} from './raster';
import { drawTexturedMesh, mipTexture, type TextureImage } from './raster-texture';
import { rgbToYuv420p } from './video-writer';

/**
 * One room camera's renderer: the static scene (floor, board, walls, table) is rasterised once into
 * background colour/depth buffers; each frame restores the background where the previous frame drew,
 * rasterises the moving meshes over it with a z-test and converts the changed box to yuv420p.
 */

export type Vec3 = [number, number, number];
export type Rgb = [number, number, number];

/**
 * A flat parallelogram origin + s edgeU + t edgeV (s, t in [0, 1]), subdivided into cells of about
 * `cellSize` metres so that its straight edges bend with the lens distortion. A texture is mapped with
 * its columns along edgeU and its rows along edgeV (pixel (0, 0)'s corner at origin); it reads unmirrored
 * from the side opposite to edgeU x edgeV, so a board on the floor seen from above wants edgeU x edgeV
 * pointing down (e.g. edgeU = +x, edgeV = -y). Lift decals (a board on the floor) 1-2 mm off the surface.
 */
export interface SceneQuad {
  origin: Vec3;
  edgeU: Vec3;
  edgeV: Vec3;
  /** Flat base colour (0..255) when there is no texture; default mid grey. */
  rgb?: Rgb;
  texture?: TextureImage;
  /** How many times the texture repeats along edgeU and edgeV (default [1, 1], clamped at the border). */
  textureRepeat?: [number, number];
  /** Subdivision cell size in metres (default 0.1). */
  cellSize?: number;
}

/** An axis-aligned solid box. */
export interface SceneBox {
  min: Vec3;
  max: Vec3;
  rgb: Rgb;
}

export interface StaticScene {
  quads: SceneQuad[];
  boxes: SceneBox[];
  /** Colour where nothing is drawn (depth stays Infinity); default black. */
  clearRgb?: Rgb;
  light?: Light;
}

/**
 * A table as 5 boxes: a top slab whose upper face is at `height` and 4 legs inset at its corners (legs
 * rather than a solid block so that feet and the floor under the table stay visible from the side).
 */
export function tableBoxes(opts: {
  centre: [number, number];
  /** Extent along world x and y, metres. */
  size: [number, number];
  height?: number;
  topThickness?: number;
  legSize?: number;
  rgb?: Rgb;
}): SceneBox[] {
  const h = opts.height ?? 0.75,
    top = opts.topThickness ?? 0.04,
    leg = opts.legSize ?? 0.06;
  const rgb = opts.rgb ?? [150, 105, 65];
  const [cx, cy] = opts.centre;
  const hx = opts.size[0] / 2,
    hy = opts.size[1] / 2;
  const boxes: SceneBox[] = [{ min: [cx - hx, cy - hy, h - top], max: [cx + hx, cy + hy, h], rgb }];
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      const x = cx + sx * (hx - leg),
        y = cy + sy * (hy - leg);
      boxes.push({ min: [x - leg / 2, y - leg / 2, 0], max: [x + leg / 2, y + leg / 2, h - top], rgb });
    }
  }
  return boxes;
}

/** The 6 faces of a box as quads. */
function boxQuads(b: SceneBox): SceneQuad[] {
  const [x0, y0, z0] = b.min;
  const [dx, dy, dz] = [b.max[0] - x0, b.max[1] - y0, b.max[2] - z0];
  if (!(dx > 0 && dy > 0 && dz > 0)) throw new Error(`scene box: max ${b.max} is not above min ${b.min}`);
  const q = (origin: Vec3, edgeU: Vec3, edgeV: Vec3): SceneQuad => ({ origin, edgeU, edgeV, rgb: b.rgb });
  return [
    q([x0, y0, z0], [dx, 0, 0], [0, dy, 0]),
    q([x0, y0, z0 + dz], [dx, 0, 0], [0, dy, 0]),
    q([x0, y0, z0], [dx, 0, 0], [0, 0, dz]),
    q([x0, y0 + dy, z0], [dx, 0, 0], [0, 0, dz]),
    q([x0, y0, z0], [0, dy, 0], [0, 0, dz]),
    q([x0 + dx, y0, z0], [0, dy, 0], [0, 0, dz]),
  ];
}

interface QuadMesh {
  positions: Float32Array;
  uvs: Float32Array;
  faces: Uint32Array;
}

/** Grid of (nu + 1) x (nv + 1) vertices over the quad, two triangles per cell. */
function subdivideQuad(q: SceneQuad): QuadMesh {
  const cell = q.cellSize ?? 0.1;
  const lu = Math.hypot(...q.edgeU),
    lv = Math.hypot(...q.edgeV);
  if (!(lu > 0 && lv > 0 && cell > 0)) throw new Error(`scene quad at ${q.origin}: zero-length edge or cell`);
  const nu = Math.ceil(lu / cell),
    nv = Math.ceil(lv / cell);
  const [ru, rv] = q.textureRepeat ?? [1, 1];
  const positions = new Float32Array((nu + 1) * (nv + 1) * 3);
  const uvs = new Float32Array((nu + 1) * (nv + 1) * 2);
  for (let j = 0, k = 0; j <= nv; j++) {
    for (let i = 0; i <= nu; i++, k++) {
      const s = i / nu,
        t = j / nv;
      for (let c = 0; c < 3; c++) positions[3 * k + c] = q.origin[c] + s * q.edgeU[c] + t * q.edgeV[c];
      uvs[2 * k] = s * ru;
      uvs[2 * k + 1] = t * rv;
    }
  }
  const faces = new Uint32Array(nu * nv * 6);
  for (let j = 0, f = 0; j < nv; j++) {
    for (let i = 0; i < nu; i++, f += 6) {
      const a = j * (nu + 1) + i,
        b = a + 1,
        c = a + nu + 1,
        d = c + 1;
      faces.set([a, b, d, a, d, c], f);
    }
  }
  return { positions, uvs, faces };
}

function checkCalibration(cal: CameraCalibration): void {
  const bad = (what: string) => new Error(`room renderer: camera calibration ${what}`);
  if (!(Number.isInteger(cal.width) && Number.isInteger(cal.height) && cal.width > 0 && cal.height > 0)) {
    throw bad(`has an invalid image size ${cal.width}x${cal.height}`);
  }
  if (cal.width % 2 || cal.height % 2)
    throw bad(`image size ${cal.width}x${cal.height} must be even (yuv420p)`);
  if (cal.K?.length !== 9 || cal.R?.length !== 9 || cal.t?.length !== 3 || !(cal.dist?.length <= 5)) {
    throw bad('needs K[9], R[9], t[3] and at most 5 distortion terms');
  }
  if (![...cal.K, ...cal.R, ...cal.t, ...cal.dist].every(Number.isFinite))
    throw bad('has non-finite numbers');
}

export interface MeshStyle {
  /** Base colour, 0..255 per channel (default a skin tone). */
  rgb?: Rgb;
  /**
   * Skip back faces (default true): right for closed, consistently wound meshes such as the body, whose
   * outward winding is found from the sign of its volume. Set false for open meshes.
   */
  cullBackFaces?: boolean;
}

const SKIN: Rgb = [205, 160, 130];

export class RoomRenderer {
  readonly width: number;
  readonly height: number;
  /** Milliseconds spent rasterising the static scene in the constructor. */
  readonly prerenderMs: number;
  private readonly projector: Projector;
  private readonly light: Light;
  private readonly frame: RasterTarget;
  private readonly bgColour: Uint8Array;
  private readonly bgColourWords: Uint32Array;
  private readonly colourWords: Uint32Array;
  private readonly bgDepth: Float32Array;
  private readonly bgYuv: Uint8Array;
  private readonly yuvFrame: Uint8Array;
  /** Box (x0, y0, x1, y1, even-aligned) where yuvFrame differs from bgYuv; empty when x0 > x1. */
  private readonly yuvDirty = new Int32Array([1, 1, 0, 0]);
  private proj: Projected = createProjected(0);
  private checkedFaces: Uint32Array | null = null;
  private checkedVertices = 0;
  private clockwise = false;
  private readonly pointScratch = new Float32Array(3);
  private readonly pointProj: Projected = createProjected(1);

  constructor(cal: CameraCalibration, scene: StaticScene) {
    const t0 = performance.now();
    checkCalibration(cal);
    this.width = cal.width;
    this.height = cal.height;
    this.projector = createProjector(cal);
    this.light = scene.light ?? DEFAULT_LIGHT;
    const bg = createRasterTarget(cal.width, cal.height);
    const [cr, cg, cb] = scene.clearRgb ?? [0, 0, 0];
    for (let k = 0; k < bg.colour.length; k += 3) {
      bg.colour[k] = cr;
      bg.colour[k + 1] = cg;
      bg.colour[k + 2] = cb;
    }
    for (const q of [...scene.quads, ...scene.boxes.flatMap(boxQuads)]) this.drawQuad(bg, q);
    this.bgColour = bg.colour;
    this.bgDepth = bg.depth;
    this.bgYuv = new Uint8Array((this.width * this.height * 3) / 2);
    rgbToYuv420p(this.bgColour, this.width, this.height, this.bgYuv, 0, 0, this.width - 1, this.height - 1);
    this.yuvFrame = this.bgYuv.slice();
    this.frame = createRasterTarget(cal.width, cal.height);
    this.frame.colour.set(this.bgColour);
    this.frame.depth.set(this.bgDepth);
    // W and H are even, so the RGB byte count is a multiple of 4.
    this.bgColourWords = new Uint32Array(this.bgColour.buffer, 0, this.bgColour.length >> 2);
    this.colourWords = new Uint32Array(this.frame.colour.buffer, 0, this.frame.colour.length >> 2);
    this.prerenderMs = performance.now() - t0;
  }

  private drawQuad(target: RasterTarget, q: SceneQuad): void {
    const m = subdivideQuad(q);
    const count = m.positions.length / 3;
    const proj = createProjected(count);
    projectVertices(this.projector, m.positions, count, proj);
    if (q.texture) {
      const wrap = q.textureRepeat !== undefined && (q.textureRepeat[0] !== 1 || q.textureRepeat[1] !== 1);
      const style = { texture: mipTexture(q.texture), wrap, light: this.light };
      drawTexturedMesh(target, m.positions, m.uvs, m.faces, proj, style);
    } else {
      drawFlatMesh(target, m.positions, m.faces, proj, { rgb: q.rgb ?? [128, 128, 128], light: this.light });
    }
  }

  /** Current frame's RGB colour buffer (3 bytes per pixel). */
  get colour(): Uint8Array {
    return this.frame.colour;
  }

  /** Current frame's depth buffer: camera-space z in metres per pixel, Infinity where nothing was drawn. */
  get depth(): Float32Array {
    return this.frame.depth;
  }

  /** Background (static scene only) colour and depth, as prerendered. */
  get background(): { colour: Uint8Array; depth: Float32Array } {
    return { colour: this.bgColour, depth: this.bgDepth };
  }

  /** Starts a frame: restores the background wherever the previous frame drew (no allocation). */
  beginFrame(): void {
    const d = this.frame.dirty;
    const W = this.width;
    const depth = this.frame.depth,
      bgDepth = this.bgDepth;
    // Colour is copied as 32-bit words covering each row's RGB bytes: the few extra bytes copied on
    // either side lie outside the dirty box, where the frame already equals the background.
    const words = this.colourWords,
      bgWords = this.bgColourWords;
    for (let y = d[1]; y <= d[3]; y++) {
      for (let i = y * W + d[0], end = y * W + d[2]; i <= end; i++) depth[i] = bgDepth[i];
      for (let k = (3 * (y * W + d[0])) >> 2, end = (3 * (y * W + d[2]) + 2) >> 2; k <= end; k++) {
        words[k] = bgWords[k];
      }
    }
    clearDirty(this.frame);
  }

  /** Rasterises a triangle mesh (positions: V*3 world metres, faces: F*3 indices) into the current frame. */
  drawMesh(positions: Float32Array, faces: Uint32Array, style: MeshStyle = {}): void {
    const count = positions.length / 3;
    if (!Number.isInteger(count))
      throw new Error(`room renderer: positions length ${positions.length} is not V*3`);
    if (faces !== this.checkedFaces || count !== this.checkedVertices) {
      if (faces.length % 3) throw new Error(`room renderer: faces length ${faces.length} is not F*3`);
      for (let f = 0; f < faces.length; f++) {
        if (faces[f] >= count)
          throw new Error(`room renderer: face index ${faces[f]} >= vertex count ${count}`);
      }
      this.checkedFaces = faces;
      this.checkedVertices = count;
      this.clockwise = signedVolume(positions, faces) < 0;
    }
    if (this.proj.w.length < count) this.proj = createProjected(count);
    projectVertices(this.projector, positions, count, this.proj);
    drawFlatMesh(this.frame, positions, faces, this.proj, {
      rgb: style.rgb ?? SKIN,
      light: this.light,
      cullBackFaces: style.cullBackFaces ?? true,
      clockwise: this.clockwise,
    });
  }

  /**
   * The current frame as yuv420p (BT.709, limited range; W*H luma then W/2*H/2 U and V). Only the box
   * that differs from the background is converted. The returned buffer is reused by the next call.
   */
  yuv420p(): Uint8Array {
    const W = this.width,
      H = this.height;
    const old = this.yuvDirty;
    if (old[0] <= old[2]) copyYuvBox(this.bgYuv, this.yuvFrame, W, H, old[0], old[1], old[2], old[3]);
    const d = this.frame.dirty;
    if (d[0] > d[2]) {
      old.set([1, 1, 0, 0]);
      return this.yuvFrame;
    }
    const x0 = d[0] & ~1,
      y0 = d[1] & ~1,
      x1 = d[2] | 1,
      y1 = d[3] | 1;
    rgbToYuv420p(this.frame.colour, W, H, this.yuvFrame, x0, y0, x1, y1);
    old.set([x0, y0, x1, y1]);
    return this.yuvFrame;
  }

  /** beginFrame + drawMesh + yuv420p for a single body. */
  renderFrame(positions: Float32Array, faces: Uint32Array, style: MeshStyle = {}): Uint8Array {
    this.beginFrame();
    this.drawMesh(positions, faces, style);
    return this.yuv420p();
  }

  /**
   * True when world point X projects into the image and its camera depth is not behind the current
   * frame's z-buffer by more than `tolerance` metres (the nearest pixel is tested).
   */
  isVisible(X: ArrayLike<number>, tolerance = 0.03): boolean {
    return this.visibleAt(X[0], X[1], X[2], tolerance);
  }

  /** isVisible for `points` (N*3 world coordinates), 1 (visible) or 0 into out[N]. */
  visibility(points: Float32Array, tolerance: number, out: Uint8Array): Uint8Array {
    for (let i = 0, j = 0; j + 2 < points.length; i++, j += 3) {
      out[i] = this.visibleAt(points[j], points[j + 1], points[j + 2], tolerance) ? 1 : 0;
    }
    return out;
  }

  private visibleAt(x: number, y: number, z: number, tolerance: number): boolean {
    const p = this.pointScratch;
    p[0] = x;
    p[1] = y;
    p[2] = z;
    projectVertices(this.projector, p, 1, this.pointProj);
    const w = this.pointProj.w[0];
    if (w < 0) return false;
    const px = Math.round(this.pointProj.u[0]),
      py = Math.round(this.pointProj.v[0]);
    if (!(px >= 0 && py >= 0 && px < this.width && py < this.height)) return false;
    return 1 / w <= this.frame.depth[py * this.width + px] + tolerance;
  }
}

/**
 * Signed volume of a triangle mesh, sum of det(a, b, c) / 6 over faces: positive when the counter-clockwise
 * side is outward (divergence theorem), for a closed mesh.
 */
function signedVolume(p: Float32Array, faces: Uint32Array): number {
  let v = 0;
  for (let f = 0; f < faces.length; f += 3) {
    const a = 3 * faces[f],
      b = 3 * faces[f + 1],
      c = 3 * faces[f + 2];
    v +=
      p[a] * (p[b + 1] * p[c + 2] - p[b + 2] * p[c + 1]) -
      p[a + 1] * (p[b] * p[c + 2] - p[b + 2] * p[c]) +
      p[a + 2] * (p[b] * p[c + 1] - p[b + 1] * p[c]);
  }
  return v / 6;
}

/** Copies the even-aligned box [x0, x1] x [y0, y1] of a yuv420p frame (luma and both chroma planes). */
function copyYuvBox(
  src: Uint8Array,
  dst: Uint8Array,
  W: number,
  H: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): void {
  for (let y = y0; y <= y1; y++) {
    for (let i = y * W + x0, end = y * W + x1; i <= end; i++) dst[i] = src[i];
  }
  const cw = W >> 1;
  const uBase = W * H,
    vBase = uBase + cw * (H >> 1);
  for (let y = y0 >> 1; y <= y1 >> 1; y++) {
    for (let i = y * cw + (x0 >> 1), end = y * cw + (x1 >> 1); i <= end; i++) {
      dst[uBase + i] = src[uBase + i];
      dst[vBase + i] = src[vBase + i];
    }
  }
}
