import {
  type A4MerInputConfig,
  type A4MerSkeletonSpec,
  resolveInputConfig,
  resolveSkeleton,
  type SkeletonIndices,
} from './config';

/**
 * A4Mer model input: joint positions (any rate, any skeleton; metres, world Z up) -> resampled to the
 * model rate, cut into fixed windows, normalised (root-relative pose in the heading frame, root motion,
 * body scale, optionally the pose velocity). The feature layout (D = 3J + 4, or 6J + 5) and every
 * default are documented in config.ts.
 */

/** A joint-position sequence; the field names match main/body/motion/joint-positions.ts. */
export interface A4MerSequence {
  /** names the sequence in errors and outputs (a file path, a session id) */
  source: string;
  names: readonly string[];
  fps: number;
  frames: number;
  /** frames * joints * 3, metres, world Z up */
  positions: Float32Array | Float64Array;
}

/** One window of model input. Model frame k of the sequence is source frame k * ratio. */
export interface A4MerWindow {
  index: number;
  /** first frame, in model frames of the whole (resampled) sequence */
  start: number;
  /** = windowFrames */
  frames: number;
  /** frames 0 .. validFrames-1 are data, the rest padding */
  validFrames: number;
  /** frames * D, row-major; zero in padding */
  features: Float32Array;
  /** frames; 1 = data, 0 = padding */
  mask: Uint8Array;
  /**
   * frames * J * 3: joint positions / scale in the window's canonical frame (origin: the root at the
   * window's first frame projected on the floor; axes: that frame's heading). Input of the atoms.
   */
  trajectory: Float32Array;
}

export interface A4MerInput {
  source: string;
  skeleton: A4MerSkeletonSpec;
  joints: number;
  /** feature size per frame: featureDimension(joints, velocity) */
  D: number;
  /** model frame rate and the source's */
  fps: number;
  sourceFps: number;
  /** source frames per model frame (sourceFps / fps) */
  ratio: number;
  sourceFrames: number;
  /** model frames of the whole sequence */
  frames: number;
  /** body scale s in metres (median root-to-neck distance) */
  scale: number;
  /** floor height in metres (config.floor) */
  floor: number;
  windows: A4MerWindow[];
}

/** Feature size per frame for J joints: pose (3J), root motion (4), with `velocity` the rates (3J + 1). */
export function featureDimension(joints: number, velocity: boolean): number {
  return velocity ? 6 * joints + 5 : 3 * joints + 4;
}

/**
 * Whether feature c (of a frame of J joints) is a rate: the root's planar velocity and yaw rate, and the
 * velocity block. Played backwards, a clip has the same poses in reverse order and these negated.
 */
export function isRateFeature(c: number, joints: number): boolean {
  const P = 3 * joints;
  return (c >= P && c < P + 3) || c >= P + 4;
}

function inputError(source: string, problem: string): Error {
  return new Error(`A4Mer input '${source}': ${problem}`);
}

/** Shape and finiteness checks; the Error names the sequence, the frame and the joint. */
export function validateSequence(seq: A4MerSequence): void {
  const src = seq.source;
  const J = seq.names.length;
  if (J === 0) throw inputError(src, 'no joint names');
  if (!Number.isInteger(seq.frames) || seq.frames < 1) throw inputError(src, `frames = ${seq.frames}`);
  if (!(seq.fps > 0 && Number.isFinite(seq.fps))) throw inputError(src, `fps = ${seq.fps}`);
  if (seq.positions.length !== seq.frames * J * 3) {
    throw inputError(
      src,
      `positions has ${seq.positions.length} values, expected frames x joints x 3 = ${seq.frames} x ${J} x 3`,
    );
  }
  const p = seq.positions;
  for (let i = 0; i < p.length; i++) {
    if (!Number.isFinite(p[i])) {
      const f = Math.floor(i / (3 * J));
      const j = Math.floor(i / 3) % J;
      throw inputError(src, `frame ${f} joint '${seq.names[j]}' ${'xyz'[i % 3]} is ${p[i]}`);
    }
  }
}

/** Model frames covering a source of `frames` frames: instants k / fps within the source's span. */
export function resampledFrameCount(frames: number, sourceFps: number, fps: number): number {
  return Math.floor(((frames - 1) * fps) / sourceFps + 1e-9) + 1;
}

/**
 * Resamples `frames` x `channels` samples at `sourceFps` to `fps` into `out` (count x channels, count
 * from resampledFrameCount). Model frame k sits at source position c = k * sourceFps / fps. With
 * `antiAlias` it is (1 / 2h) * integral over [c - h, c + h] of the linear interpolant f, h = half a model
 * period shrunk to stay inside the source (exact for linear motion); else f(c).
 */
export function resampleLinear(
  src: ArrayLike<number>,
  frames: number,
  channels: number,
  sourceFps: number,
  fps: number,
  antiAlias: boolean,
  out: Float64Array,
): number {
  const count = resampledFrameCount(frames, sourceFps, fps);
  const ratio = sourceFps / fps;
  const C = channels;
  for (let k = 0; k < count; k++) {
    const c = Math.min(k * ratio, frames - 1);
    const o = k * C;
    const h = antiAlias ? Math.min(ratio / 2, c, frames - 1 - c) : 0;
    if (frames === 1) {
      for (let ch = 0; ch < C; ch++) out[o + ch] = src[ch];
      continue;
    }
    if (h < 1e-9) {
      const i = Math.min(Math.floor(c), frames - 2);
      const w = c - i;
      for (let ch = 0; ch < C; ch++) out[o + ch] = (1 - w) * src[i * C + ch] + w * src[(i + 1) * C + ch];
      continue;
    }
    for (let ch = 0; ch < C; ch++) out[o + ch] = 0;
    const a = c - h;
    const b = c + h;
    // On piece [i, i+1], f = (1 - u) y_i + u y_{i+1}; its integral over [x0, x1] is
    // (x1 - x0) ((1 - m) y_i + m y_{i+1}) with m the mean of u over the piece.
    for (let i = Math.floor(a); i < b; i++) {
      const x0 = Math.max(a, i);
      const x1 = Math.min(b, i + 1);
      if (x1 <= x0) continue;
      const m = (x0 + x1) / 2 - i;
      const wi = ((x1 - x0) * (1 - m)) / (2 * h);
      const wn = ((x1 - x0) * m) / (2 * h);
      for (let ch = 0; ch < C; ch++) out[o + ch] += wi * src[i * C + ch] + wn * src[(i + 1) * C + ch];
    }
  }
  return count;
}

function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
}

/** Root position per frame (N x 3): a joint, or the midpoint of the hips. */
function rootTrajectory(
  pos: Float64Array,
  N: number,
  J: number,
  ix: SkeletonIndices,
  out: Float64Array,
): void {
  for (let t = 0; t < N; t++) {
    for (let c = 0; c < 3; c++) {
      out[3 * t + c] =
        ix.root >= 0
          ? pos[(t * J + ix.root) * 3 + c]
          : 0.5 * (pos[(t * J + ix.leftHip) * 3 + c] + pos[(t * J + ix.rightHip) * 3 + c]);
    }
  }
}

/**
 * Heading per frame (unwrapped, radians): the angle of the body's right direction, the horizontal part
 * of (right hip - left hip) [+ (right shoulder - left shoulder)]; forward = Z x right. Frames where it
 * is shorter than 2% of the scale (lying along the hip line) keep the previous heading.
 */
function headingAngles(
  pos: Float64Array,
  N: number,
  J: number,
  ix: SkeletonIndices,
  s: number,
  out: Float64Array,
): void {
  let prev = NaN;
  let firstValid = -1;
  for (let t = 0; t < N; t++) {
    const b = t * J;
    let ax = pos[(b + ix.rightHip) * 3] - pos[(b + ix.leftHip) * 3];
    let ay = pos[(b + ix.rightHip) * 3 + 1] - pos[(b + ix.leftHip) * 3 + 1];
    if (ix.leftShoulder >= 0) {
      ax += pos[(b + ix.rightShoulder) * 3] - pos[(b + ix.leftShoulder) * 3];
      ay += pos[(b + ix.rightShoulder) * 3 + 1] - pos[(b + ix.leftShoulder) * 3 + 1];
    }
    if (Math.hypot(ax, ay) < 0.02 * s) {
      out[t] = prev;
      continue;
    }
    const raw = Math.atan2(ay, ax);
    if (Number.isNaN(prev)) {
      out[t] = raw;
      firstValid = t;
    } else {
      // unwrap: the smallest turn from the previous heading
      let d = raw - prev;
      d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
      out[t] = prev + d;
    }
    prev = out[t];
  }
  const lead = firstValid < 0 ? 0 : out[firstValid];
  for (let t = 0; t < (firstValid < 0 ? N : firstValid); t++) out[t] = lead;
}

/** Central difference at frame t of a series with `stride` values per frame (one-sided at the ends). */
function rate(x: Float64Array, N: number, stride: number, c: number, t: number, fps: number): number {
  if (N < 2) return 0;
  const a = Math.max(t - 1, 0);
  const b = Math.min(t + 1, N - 1);
  return ((x[stride * b + c] - x[stride * a + c]) * fps) / (b - a);
}

/**
 * The `velocity` features (config.ts): rates of the 3J pose values and of the root height (feature
 * 3J + 3) of every frame, written after the 3J + 4 base features; central differences as `rate`.
 */
function poseVelocity(f: Float64Array, N: number, D: number, J: number, fps: number): void {
  const base = 3 * J + 4;
  for (let t = 0; t < N; t++) {
    const a = Math.max(t - 1, 0);
    const b = Math.min(t + 1, N - 1);
    const k = b > a ? fps / (b - a) : 0;
    for (let c = 0; c <= 3 * J; c++) {
      const src = c < 3 * J ? c : 3 * J + 3; // the pose values, then the root height
      f[t * D + base + c] = (f[b * D + src] - f[a * D + src]) * k;
    }
  }
}

/**
 * A sequence -> model input: validation, resampling to cfg.fps, skeleton, scale, floor, heading, the
 * features of every model frame (N x D, config.ts), then windows of cfg.windowFrames every cfg.stride
 * frames (the last one padded), each with its mask and canonical trajectories.
 */
export function preprocessSequence(
  seq: A4MerSequence,
  overrides: Partial<A4MerInputConfig> = {},
): A4MerInput {
  const cfg = resolveInputConfig(overrides);
  validateSequence(seq);
  const src = seq.source;
  const J = seq.names.length;
  const ix = resolveSkeleton(seq.names, cfg.skeleton, src);
  const N = resampledFrameCount(seq.frames, seq.fps, cfg.fps);
  const pos = new Float64Array(N * J * 3);
  resampleLinear(seq.positions, seq.frames, J * 3, seq.fps, cfg.fps, cfg.antiAlias, pos);

  const root = new Float64Array(N * 3);
  rootTrajectory(pos, N, J, ix, root);
  // Body scale: the median pelvis-to-neck distance (a near-rigid trunk length that arm/leg poses,
  // sitting or bending do not change, unlike height; the median ignores glitched frames).
  const trunk = new Float64Array(N);
  const upright = new Float64Array(N);
  for (let t = 0; t < N; t++) {
    const n = (t * J + ix.neck) * 3;
    const dx = pos[n] - root[3 * t];
    const dy = pos[n + 1] - root[3 * t + 1];
    const dz = pos[n + 2] - root[3 * t + 2];
    trunk[t] = Math.hypot(dx, dy, dz);
    upright[t] = trunk[t] > 0 ? dz / trunk[t] : 0;
  }
  const s = quantile(trunk, 0.5);
  if (!(s > 1e-3))
    throw inputError(src, `degenerate body scale ${s} m (root and '${ix.spec.neck}' coincide)`);
  const cosUp = quantile(upright, 0.5);
  if (cosUp < cfg.minUprightCosine) {
    throw inputError(
      src,
      `the trunk is not along +Z (median cosine ${cosUp.toFixed(2)}): is it in world axes (Z up)? ` +
        'Convert y-up data first, or lower minUprightCosine for sequences lying down throughout',
    );
  }
  let floor = 0;
  if (cfg.floor === 'lowest-joint') {
    for (let t = 0; t < N; t++) {
      let low = Infinity;
      for (let j = 0; j < J; j++) low = Math.min(low, pos[(t * J + j) * 3 + 2]);
      trunk[t] = low;
    }
    floor = quantile(trunk, cfg.floorQuantile);
  }
  const heading = new Float64Array(N);
  headingAngles(pos, N, J, ix, s, heading);

  const D = featureDimension(J, cfg.velocity);
  // float64 until the rates are taken: differences of float32-rounded poses would lose digits
  const f64 = new Float64Array(N * D);
  for (let t = 0; t < N; t++) {
    const cs = Math.cos(heading[t]);
    const sn = Math.sin(heading[t]);
    const o = t * D;
    // pose: R_t^T (p_j - r_t) / s with R_t = [right, forward, up]
    for (let j = 0; j < J; j++) {
      const p = (t * J + j) * 3;
      const dx = pos[p] - root[3 * t];
      const dy = pos[p + 1] - root[3 * t + 1];
      f64[o + 3 * j] = (dx * cs + dy * sn) / s;
      f64[o + 3 * j + 1] = (-dx * sn + dy * cs) / s;
      f64[o + 3 * j + 2] = (pos[p + 2] - root[3 * t + 2]) / s;
    }
    // root motion: horizontal velocity in the heading frame, yaw rate, height above the floor
    const vx = rate(root, N, 3, 0, t, cfg.fps);
    const vy = rate(root, N, 3, 1, t, cfg.fps);
    f64[o + 3 * J] = (vx * cs + vy * sn) / s;
    f64[o + 3 * J + 1] = (-vx * sn + vy * cs) / s;
    f64[o + 3 * J + 2] = rate(heading, N, 1, 0, t, cfg.fps);
    f64[o + 3 * J + 3] = (root[3 * t + 2] - floor) / s;
  }
  if (cfg.velocity) poseVelocity(f64, N, D, J, cfg.fps);
  const features = Float32Array.from(f64);

  const windows: A4MerWindow[] = [];
  const W = cfg.windowFrames;
  for (let start = 0; ; start += cfg.stride) {
    const valid = Math.min(W, N - start);
    const w: A4MerWindow = {
      index: windows.length,
      start,
      frames: W,
      validFrames: valid,
      features: new Float32Array(W * D),
      mask: new Uint8Array(W),
      trajectory: new Float32Array(W * J * 3),
    };
    w.features.set(features.subarray(start * D, (start + valid) * D));
    w.mask.fill(1, 0, valid);
    canonicalTrajectory(pos, root, heading, start, valid, J, s, floor, w.trajectory);
    windows.push(w);
    if (start + W >= N) break;
  }
  return {
    source: src,
    skeleton: ix.spec,
    joints: J,
    D,
    fps: cfg.fps,
    sourceFps: seq.fps,
    ratio: seq.fps / cfg.fps,
    sourceFrames: seq.frames,
    frames: N,
    scale: s,
    floor,
    windows,
  };
}

/** (p - o) / s in the heading frame of the window's first frame; o = its root on the floor. */
function canonicalTrajectory(
  pos: Float64Array,
  root: Float64Array,
  heading: Float64Array,
  start: number,
  valid: number,
  J: number,
  s: number,
  floor: number,
  out: Float32Array,
): void {
  const cs = Math.cos(heading[start]);
  const sn = Math.sin(heading[start]);
  const ox = root[3 * start];
  const oy = root[3 * start + 1];
  for (let t = 0; t < valid; t++) {
    for (let j = 0; j < J; j++) {
      const p = ((start + t) * J + j) * 3;
      const q = (t * J + j) * 3;
      const dx = pos[p] - ox;
      const dy = pos[p + 1] - oy;
      out[q] = (dx * cs + dy * sn) / s;
      out[q + 1] = (-dx * sn + dy * cs) / s;
      out[q + 2] = (pos[p + 2] - floor) / s;
    }
  }
}

/**
 * Source frame of a window frame boundary: model frame k (of the sequence) is the source instant
 * k * ratio and stands for source frames [k * ratio, (k + 1) * ratio). The sequence's end maps to
 * sourceFrames, so segments tiling a window tile the source.
 */
export function sourceFrameOf(input: A4MerInput, window: A4MerWindow, frame: number): number {
  const k = window.start + frame;
  if (k >= input.frames) return input.sourceFrames;
  return Math.min(input.sourceFrames, Math.round(k * input.ratio));
}
