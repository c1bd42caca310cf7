import type { GrayImage } from '../../calibration/opencv';
import { Rng } from './rng';

/**
 * Textures for the synthetic foot-camera renderer: procedural room surfaces (deterministic tiles sampled
 * by world position, nearest texel) and mip-mapped board images (sampled by board position, bilinear).
 * Grey levels 0..255. Texel i covers [i, i+1) texel units, so in OpenCV's pixel-centre convention the
 * position X (metres) has continuous texel coordinate X / texel - 0.5.
 */

/** A square tile of 2^k texels a side, repeating over the plane. */
export interface TileTexture {
  size: number;
  /** Metres per texel, and its inverse. */
  texel: number;
  perMetre: number;
  /** Grey levels; 8 bits keep the tiles small enough for the cache (the sensor noise hides the rounding). */
  data: Uint8Array;
}

/**
 * Nearest-texel sample of a repeating tile at plane position (x, y) metres (x, y > -tile side). The
 * renderer shades the room at half resolution and interpolates, and the tiles are smooth (value noise,
 * cells of 4 texels and more), so bilinear filtering here would cost twice as much for no visible change.
 */
export function sampleTile(tex: TileTexture, x: number, y: number): number {
  // Offsetting by one tile keeps the coordinates positive, so | 0 floors.
  const mask = tex.size - 1;
  const i = ((x * tex.perMetre + tex.size) | 0) & mask;
  const j = ((y * tex.perMetre + tex.size) | 0) & mask;
  return tex.data[j * tex.size + i];
}

/** One octave of value noise: random lattice values every `cell` texels, smoothstep-interpolated. */
interface Octave {
  cellX: number;
  cellY: number;
  amplitude: number;
}

/** Adds tiling value noise (sum of octaves, each cell a power of 2 dividing size) to data in place. */
function addValueNoise(data: Float32Array, size: number, octaves: Octave[], rng: Rng): void {
  for (const { cellX, cellY, amplitude } of octaves) {
    if (size % cellX !== 0 || size % cellY !== 0)
      throw new Error(`texture: cell must divide tile size ${size}`);
    const nx = size / cellX;
    const ny = size / cellY;
    const lattice = new Float32Array(nx * ny);
    for (let i = 0; i < lattice.length; i++) lattice[i] = 2 * rng.next() - 1;
    for (let y = 0; y < size; y++) {
      const gy = Math.floor(y / cellY);
      let fy = y / cellY - gy;
      fy = fy * fy * (3 - 2 * fy); // smoothstep: C1-continuous across cells
      const row0 = gy * nx;
      const row1 = ((gy + 1) % ny) * nx;
      for (let x = 0; x < size; x++) {
        const gx = Math.floor(x / cellX);
        let fx = x / cellX - gx;
        fx = fx * fx * (3 - 2 * fx);
        const gx1 = (gx + 1) % nx;
        const top = lattice[row0 + gx] + fx * (lattice[row0 + gx1] - lattice[row0 + gx]);
        const bottom = lattice[row1 + gx] + fx * (lattice[row1 + gx1] - lattice[row1 + gx]);
        data[y * size + x] += amplitude * (top + fy * (bottom - top));
      }
    }
  }
}

/** Rounds grey levels to bytes. */
function toBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Math.round(data[i]);
  return out;
}

/** Low-contrast mottled surface (plaster, paint, laminate): base grey plus value noise. */
export function noiseTexture(
  seed: number,
  size: number,
  texel: number,
  base: number,
  octaves: Octave[],
): TileTexture {
  const data = new Float32Array(size * size).fill(base);
  addValueNoise(data, size, octaves, new Rng(seed));
  return { size, texel, perMetre: 1 / texel, data: toBytes(data) };
}

/**
 * Wooden floor: planks 32 texels wide (y) and 256 long (x), staggered rows, per-plank tone, grain stretched
 * along x, a darker 1-texel joint. Contrast stays moderate (no black/white squares that could pass for
 * marker cells).
 */
export function woodTexture(seed: number, size: number, texel: number, base: number): TileTexture {
  const rng = new Rng(seed);
  const data = new Float32Array(size * size);
  const plankW = 32;
  const plankL = 256;
  const rows = size / plankW;
  const perRow = size / plankL;
  const tone = new Float32Array(rows * perRow);
  const stagger = new Int32Array(rows);
  for (let i = 0; i < tone.length; i++) tone[i] = 14 * (2 * rng.next() - 1);
  for (let r = 0; r < rows; r++) stagger[r] = rng.int(plankL);
  for (let y = 0; y < size; y++) {
    const r = Math.floor(y / plankW);
    for (let x = 0; x < size; x++) {
      const xs = (x + stagger[r]) % size;
      const k = Math.floor(xs / plankL);
      const joint = y % plankW === 0 || xs % plankL === 0;
      data[y * size + x] = base + tone[r * perRow + k] - (joint ? 22 : 0);
    }
  }
  addValueNoise(
    data,
    size,
    [
      { cellX: 64, cellY: 2, amplitude: 6 },
      { cellX: 16, cellY: 1, amplitude: 3 },
    ],
    rng,
  );
  return { size, texel, perMetre: 1 / texel, data: toBytes(data) };
}

export interface RoomTextures {
  ceiling: TileTexture;
  wall: TileTexture;
  floor: TileTexture;
  table: TileTexture;
}

/** The fixed look of the room (deterministic: same textures in every session). */
export function makeRoomTextures(): RoomTextures {
  return {
    ceiling: noiseTexture(11, 512, 0.01, 188, [
      { cellX: 64, cellY: 64, amplitude: 7 },
      { cellX: 16, cellY: 16, amplitude: 5 },
      { cellX: 4, cellY: 4, amplitude: 3 },
    ]),
    wall: noiseTexture(23, 512, 0.01, 160, [
      { cellX: 128, cellY: 128, amplitude: 12 },
      { cellX: 16, cellY: 16, amplitude: 5 },
      { cellX: 4, cellY: 4, amplitude: 2 },
    ]),
    floor: woodTexture(37, 1024, 0.005, 112),
    table: noiseTexture(41, 256, 0.005, 92, [
      { cellX: 32, cellY: 32, amplitude: 5 },
      { cellX: 4, cellY: 4, amplitude: 3 },
    ]),
  };
}

/** One level of a mip pyramid; texel i covers [i, i+1) * texel metres of the board. */
export interface MipLevel {
  width: number;
  height: number;
  texel: number;
  perMetre: number;
  data: Float32Array;
}

/**
 * Mip pyramid of a board image with grey levels mapped 0 -> black, 255 -> white. Each level halves the
 * previous by 2x2 box averaging while both sides are even, so every level covers exactly the same board
 * rectangle (texel edges stay aligned with the board's square edges).
 */
export function buildMip(image: GrayImage, texel: number, black: number, white: number): MipLevel[] {
  const { width, height } = image;
  const base = new Float32Array(width * height);
  for (let i = 0; i < base.length; i++) base[i] = black + ((white - black) * image.data[i]) / 255;
  const levels: MipLevel[] = [{ width, height, texel, perMetre: 1 / texel, data: base }];
  for (;;) {
    const prev = levels[levels.length - 1];
    if (prev.width % 2 !== 0 || prev.height % 2 !== 0 || prev.width < 4 || prev.height < 4) break;
    const w = prev.width / 2;
    const h = prev.height / 2;
    const data = new Float32Array(w * h);
    const p = prev.data;
    const pw = prev.width;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 2 * y * pw + 2 * x;
        data[y * w + x] = 0.25 * (p[i] + p[i + 1] + p[i + pw] + p[i + pw + 1]);
      }
    }
    levels.push({ width: w, height: h, texel: prev.texel * 2, perMetre: 0.5 * prev.perMetre, data });
  }
  return levels;
}

/** Bilinear sample of one level at board position (X, Y) metres, clamped to the edge texels. */
export function sampleLevel(level: MipLevel, X: number, Y: number): number {
  const w = level.width;
  const h = level.height;
  let u = X * level.perMetre - 0.5;
  let v = Y * level.perMetre - 0.5;
  u = u < 0 ? 0 : u > w - 1 ? w - 1 : u;
  v = v < 0 ? 0 : v > h - 1 ? h - 1 : v;
  let i = u | 0; // u >= 0
  let j = v | 0;
  if (i > w - 2) i = w - 2;
  if (j > h - 2) j = h - 2;
  const a = u - i;
  const b = v - j;
  const d = level.data;
  const k = j * w + i;
  const top = d[k] + a * (d[k + 1] - d[k]);
  const bottom = d[k + w] + a * (d[k + w + 1] - d[k + w]);
  return top + b * (bottom - top);
}

/**
 * Mip-mapped sample: bilinear in the level whose texel best matches `footprint` (metres covered by the
 * pixel on the board; the level's texel is within [2/3, 4/3] of it), so that distant boards are
 * area-averaged instead of aliased. One level, not a trilinear blend of two: half the cost, and the
 * box-filtered levels keep every edge in place, so switching levels never shifts a corner.
 */
export function sampleMip(levels: MipLevel[], X: number, Y: number, footprint: number): number {
  let r = footprint / levels[0].texel; // footprint in level-0 texels
  let l = 0;
  while (r >= 1.5 && l < levels.length - 1) {
    r *= 0.5;
    l++;
  }
  return sampleLevel(levels[l], X, Y);
}
