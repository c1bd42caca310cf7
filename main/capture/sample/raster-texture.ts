import {
  DEFAULT_LIGHT,
  EDGE_EPS as RASTER_EDGE_EPS,
  flatShade as rasterFlatShade,
  markDirty as rasterMarkDirty,
  type Light,
  type Projected,
  type RasterTarget,
} from './raster';

/**
 * Textured meshes for the synthetic room cameras: mip-mapped 8-bit textures and a perspective-correct,
 * flat-lit triangle fill into the same colour/depth target as the rasteriser's flat meshes.
 */

// Local bindings of the imports used per pixel and per triangle: reads and calls through a module namespace
// getter (the per-file CommonJS of tsx and vitest) are not inlined by V8 (about a third of the draw time).
const EDGE_EPS = RASTER_EDGE_EPS;
const flatShade = rasterFlatShade;
const markDirty = rasterMarkDirty;

/** An 8-bit image with 1 (gray) or 3 (RGB) interleaved channels, row-major, top row first. */
export interface TextureImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

/** A texture with its box-filtered mip levels (level 0 = the image). */
export interface MipTexture {
  levels: TextureImage[];
}

const mipCache = new WeakMap<Uint8Array, MipTexture>();

/** Builds (once per image data, cached) the 2x2 box-filtered mip chain used to minify without aliasing. */
export function mipTexture(img: TextureImage): MipTexture {
  const cached = mipCache.get(img.data);
  if (cached) return cached;
  const { width, height, channels, data } = img;
  if (!(
    width > 0 &&
    height > 0 &&
    (channels === 1 || channels === 3) &&
    data.length === width * height * channels
  )) {
    throw new Error(
      `texture: ${width}x${height}x${channels} does not match its ${data.length} bytes of data (1 or 3 channels)`,
    );
  }
  const levels: TextureImage[] = [img];
  let cur = img;
  while (cur.width > 1 || cur.height > 1) {
    const w = Math.max(1, cur.width >> 1),
      h = Math.max(1, cur.height >> 1);
    const out = new Uint8Array(w * h * channels);
    const sx = cur.width > 1 ? 1 : 0,
      sy = cur.height > 1 ? 1 : 0;
    for (let y = 0; y < h; y++) {
      const r0 = 2 * y * cur.width,
        r1 = (2 * y + sy) * cur.width;
      for (let x = 0; x < w; x++) {
        const c0 = 2 * x,
          c1 = 2 * x + sx;
        for (let k = 0; k < channels; k++) {
          const s =
            cur.data[(r0 + c0) * channels + k] +
            cur.data[(r0 + c1) * channels + k] +
            cur.data[(r1 + c0) * channels + k] +
            cur.data[(r1 + c1) * channels + k];
          out[(y * w + x) * channels + k] = (s + 2) >> 2;
        }
      }
    }
    cur = { width: w, height: h, channels, data: out };
    levels.push(cur);
  }
  const mip = { levels };
  mipCache.set(img.data, mip);
  return mip;
}

const texel = new Float64Array(3);

/** Bilinear sample at texel coordinates (s, t) (texel centres at integer + 0.5), wrapping or clamping. */
function sampleBilinear(img: TextureImage, s: number, t: number, wrap: boolean, out: Float64Array): void {
  const { width, height, channels, data } = img;
  const fs = s - 0.5,
    ft = t - 0.5;
  const sx = Math.floor(fs),
    sy = Math.floor(ft);
  const ax = fs - sx,
    ay = ft - sy;
  let xa: number, xb: number, ya: number, yb: number;
  if (wrap) {
    xa = ((sx % width) + width) % width;
    xb = xa + 1 === width ? 0 : xa + 1;
    ya = ((sy % height) + height) % height;
    yb = ya + 1 === height ? 0 : ya + 1;
  } else {
    xa = sx < 0 ? 0 : sx >= width ? width - 1 : sx;
    xb = sx + 1 < 0 ? 0 : sx + 1 >= width ? width - 1 : sx + 1;
    ya = sy < 0 ? 0 : sy >= height ? height - 1 : sy;
    yb = sy + 1 < 0 ? 0 : sy + 1 >= height ? height - 1 : sy + 1;
  }
  const i00 = (ya * width + xa) * channels,
    i10 = (ya * width + xb) * channels,
    i01 = (yb * width + xa) * channels,
    i11 = (yb * width + xb) * channels;
  for (let k = 0; k < channels; k++) {
    const top = data[i00 + k] + ax * (data[i10 + k] - data[i00 + k]);
    const bot = data[i01 + k] + ax * (data[i11 + k] - data[i01 + k]);
    out[k] = top + ay * (bot - top);
  }
  if (channels === 1) out[1] = out[2] = out[0];
}

export interface TexturedMeshStyle {
  texture: MipTexture;
  /** Repeat the texture outside uv in [0, 1] (floor tiles) or clamp to its border (a board). */
  wrap: boolean;
  light?: Light;
}

/**
 * Draws a textured, flat-lit triangle mesh; uvs (V*2, texture widths/heights, v down the image) are
 * interpolated perspective-correctly: u/z, v/z and 1/z are affine in the pixel position. Each triangle
 * samples the mip level whose texel spacing best matches its pixel spacing (bilinear within the level).
 */
export function drawTexturedMesh(
  t: RasterTarget,
  positions: Float32Array,
  uvs: Float32Array,
  faces: Uint32Array,
  proj: Projected,
  style: TexturedMeshStyle,
): void {
  const light = style.light ?? DEFAULT_LIGHT;
  const { u, v, w } = proj;
  const levels = style.texture.levels;
  const { width, height, colour, depth } = t;
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
    const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2))),
      maxX = Math.min(width - 1, Math.floor(Math.max(x0, x1, x2)));
    const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2))),
      maxY = Math.min(height - 1, Math.floor(Math.max(y0, y1, y2)));
    const area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (minX > maxX || minY > maxY || area === 0) continue;
    const shade = flatShade(positions, 3 * i0, 3 * i1, 3 * i2, area < 0 ? -1 : 1, light);
    // Mip level from the ratio of texel area to pixel area of the triangle (log2 of the linear ratio).
    const s0 = uvs[2 * i0],
      t0 = uvs[2 * i0 + 1],
      s1 = uvs[2 * i1],
      t1 = uvs[2 * i1 + 1],
      s2 = uvs[2 * i2],
      t2 = uvs[2 * i2 + 1];
    const base = levels[0];
    const texArea = Math.abs((s1 - s0) * (t2 - t0) - (t1 - t0) * (s2 - s0)) * base.width * base.height;
    const lod = Math.round(0.5 * Math.log2(texArea / Math.abs(area)));
    const img = levels[Math.max(0, Math.min(levels.length - 1, lod))];
    const sw = img.width,
      sh = img.height;
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
    for (let py = minY; py <= maxY; py++) {
      for (let px = minX; px <= maxX; px++) {
        const w0 = a0 * px + b0 * py + c0,
          w1 = a1 * px + b1 * py + c1,
          w2 = a2 * px + b2 * py + c2;
        if (w0 < EDGE_EPS || w1 < EDGE_EPS || w2 < EDGE_EPS) continue;
        const q = w0 * q0 + w1 * q1 + w2 * q2;
        const zp = 1 / q;
        const i = py * width + px;
        if (!(zp < depth[i])) continue;
        depth[i] = zp;
        const ss = (w0 * q0 * s0 + w1 * q1 * s1 + w2 * q2 * s2) * zp * sw;
        const tt = (w0 * q0 * t0 + w1 * q1 * t1 + w2 * q2 * t2) * zp * sh;
        sampleBilinear(img, ss, tt, style.wrap, texel);
        const k = 3 * i;
        colour[k] = Math.min(255, Math.round(texel[0] * shade));
        colour[k + 1] = Math.min(255, Math.round(texel[1] * shade));
        colour[k + 2] = Math.min(255, Math.round(texel[2] * shade));
      }
    }
    markDirty(t, minX, minY, maxX, maxY);
  }
}
