import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAmc, readAsf } from '../../main/body/motion/asf-amc';
import {
  allocateAtoms,
  atomsToSourceFrames,
  frameSegmentIds,
  meanAtomLength,
  segmentAtoms,
  windowAtoms,
} from '../../main/motifs/atoms';
import { A4MER_ATOM_DEFAULTS, A4MER_INPUT_DEFAULTS } from '../../main/motifs/config';
import {
  type A4MerSequence,
  featureDimension,
  preprocessSequence,
  resampledFrameCount,
  resampleLinear,
} from '../../main/motifs/preprocess';
import { SHARED_DATA } from './fixtures';

/** Kinect v1 joints (SDK order) and a rest pose facing +Y (right = +X), Z up, metres: name x y z. */
const KINECT = `HipCenter 0 0 1.0, Spine 0 0 1.2, ShoulderCenter 0 0 1.45, Head 0 0.02 1.65,
  ShoulderLeft -0.18 0 1.42, ElbowLeft -0.2 0 1.15, WristLeft -0.2 0 0.9, HandLeft -0.2 0 0.82,
  ShoulderRight 0.18 0 1.42, ElbowRight 0.2 0 1.15, WristRight 0.2 0 0.9, HandRight 0.2 0 0.82,
  HipLeft -0.1 0 0.95, KneeLeft -0.1 0 0.5, AnkleLeft -0.1 0 0.08, FootLeft -0.1 0.1 0.03,
  HipRight 0.1 0 0.95, KneeRight 0.1 0 0.5, AnkleRight 0.1 0 0.08, FootRight 0.1 0.1 0.03`
  .split(',')
  .map((row) => row.trim().split(' '))
  .map(([name, x, y, z]) => [name, Number(x), Number(y), Number(z)] as const);
const NAMES = KINECT.map((k) => k[0]);
const J = NAMES.length;
/** pelvis (hips midpoint, z 0.95) to ShoulderCenter (z 1.45) */
const SCALE = 0.5;

/**
 * A body at `frames` frames: rest pose + per-joint body-frame offsets from `limbs(t, j, out)`, turned by
 * `yaw(t)` about Z and placed at `root(t)` (floor-plane position of the hips' midpoint).
 */
function body(
  frames: number,
  fps: number,
  root: (t: number) => [number, number],
  yaw: (t: number) => number,
  limbs?: (t: number, j: number, out: number[]) => void,
): A4MerSequence {
  const positions = new Float64Array(frames * J * 3);
  const d = [0, 0, 0];
  for (let f = 0; f < frames; f++) {
    const t = f / fps;
    const [rx, ry] = root(t);
    const c = Math.cos(yaw(t));
    const s = Math.sin(yaw(t));
    for (let j = 0; j < J; j++) {
      d[0] = d[1] = d[2] = 0;
      limbs?.(t, j, d);
      const x = KINECT[j][1] + d[0];
      const y = KINECT[j][2] + d[1];
      const o = (f * J + j) * 3;
      positions[o] = rx + c * x - s * y;
      positions[o + 1] = ry + s * x + c * y;
      positions[o + 2] = KINECT[j][3] + d[2];
    }
  }
  return { source: 'synthetic', names: NAMES, fps, frames, positions };
}

/** Arms and legs swinging forward/back (1 Hz) and the hands waving up (0.4 Hz). */
const swing = (t: number, j: number, out: number[]): void => {
  const name = NAMES[j];
  const side = name.endsWith('Left') ? 1 : -1;
  const reach = /Elbow|Knee/.test(name) ? 0.5 : /Wrist|Hand|Ankle|Foot/.test(name) ? 1 : 0;
  out[1] = 0.25 * reach * side * Math.sin(2 * Math.PI * t) * (/Knee|Ankle|Foot/.test(name) ? -1 : 1);
  if (/Hand|Wrist/.test(name)) out[2] = 0.2 * Math.max(0, Math.sin(2 * Math.PI * 0.4 * t + side));
};

/** A rigid transform about Z (angle phi), then a translation, then a uniform scale about the origin. */
function transformed(seq: A4MerSequence, phi: number, t: number[], k: number): A4MerSequence {
  const p = new Float64Array(seq.positions.length);
  const c = Math.cos(phi);
  const s = Math.sin(phi);
  for (let i = 0; i < p.length; i += 3) {
    const [x, y, z] = [seq.positions[i], seq.positions[i + 1], seq.positions[i + 2]];
    p[i] = k * (c * x - s * y + t[0]);
    p[i + 1] = k * (s * x + c * y + t[1]);
    p[i + 2] = k * (z + t[2]);
  }
  return { ...seq, positions: p };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Starts of atoms 1.. (the boundaries) */
const boundaries = (a: ReturnType<typeof segmentAtoms>): number[] =>
  Array.from(a.starts.subarray(1, a.count));

describe('A4Mer input: resampling', () => {
  it('30 fps and 24 fps -> 5 fps is exact on linear motion, with and without the anti-alias box', () => {
    for (const sourceFps of [30, 24]) {
      const frames = 301;
      const C = 4;
      const src = new Float32Array(frames * C);
      const line = (t: number, ch: number): number => 0.3 * ch - 1 + (ch + 1) * 0.7 * t;
      for (let f = 0; f < frames; f++)
        for (let ch = 0; ch < C; ch++) src[f * C + ch] = line(f / sourceFps, ch);
      const N = resampledFrameCount(frames, sourceFps, 5);
      expect(N).toBe(Math.floor((300 * 5) / sourceFps) + 1);
      for (const antiAlias of [false, true]) {
        const out = new Float64Array(N * C);
        expect(resampleLinear(src, frames, C, sourceFps, 5, antiAlias, out)).toBe(N);
        for (let k = 0; k < N; k++)
          for (let ch = 0; ch < C; ch++) expect(out[k * C + ch]).toBeCloseTo(line(k / 5, ch), 5);
      }
    }
  });

  it('the anti-alias box averages: t^2 -> c^2 + h^2/3 inside, the plain sample at the ends', () => {
    const src = Float64Array.from({ length: 61 }, (_, f) => (f / 30) ** 2);
    const plain = new Float64Array(11);
    const boxed = new Float64Array(11);
    resampleLinear(src, 61, 1, 30, 5, false, plain);
    resampleLinear(src, 61, 1, 30, 5, true, boxed);
    expect(plain[3]).toBeCloseTo(0.36, 12);
    // box of half-width h = 0.1 s over the piecewise-linear t^2: c^2 + h^2/3 + (1/30)^2/6 (chords)
    expect(boxed[3]).toBeCloseTo(0.36 + 0.01 / 3 + 1 / 900 / 6, 9);
    expect(boxed[0]).toBe(0);
    expect(boxed[10]).toBeCloseTo(4, 12);
  });
});

describe('A4Mer input: windows and normalisation', () => {
  it('features: D = 6J + 5 (3J + 4 without velocity), pose in the heading frame, forward speed, yaw rate and height', () => {
    // Walking a circle of radius 3 m at 0.3 rad/s, facing along the path (counter-clockwise).
    const w = 0.3;
    const circle = (t: number): [number, number] => [3 * Math.cos(w * t), 3 * Math.sin(w * t)];
    const seq = body(30 * 59 + 15, 30, circle, (t) => w * t);
    expect(preprocessSequence(seq).D).toBe(6 * 20 + 5);
    const input = preprocessSequence(seq, { velocity: false });
    const D = featureDimension(J, false);
    expect(input.D).toBe(3 * 20 + 4);
    expect(input.frames).toBe(298); // floor(1784 / 6) + 1
    expect(input.scale).toBeCloseTo(SCALE, 6);
    expect(input.floor).toBeCloseTo(0.03, 6);
    expect(input.windows.map((x) => `${x.start}+${x.validFrames}`)).toEqual(['0+150', '150+148']);
    const win = input.windows[1];
    expect(Array.from(win.mask.subarray(146, 150))).toEqual([1, 1, 0, 0]);
    expect(maxAbsDiff(win.features.subarray(148 * D), new Float32Array(2 * D))).toBe(0);
    const f = win.features.subarray(20 * D, 21 * D);
    const sr = NAMES.indexOf('ShoulderRight');
    // The anti-alias box (h = 0.1 s) averages the turning body: offsets shrink by sinc(w h); the central
    // difference over +-0.2 s measures the chord: sinc(0.2 w) (sinc x = sin x / x).
    const sinc = (x: number): number => Math.sin(x) / x;
    expect(f[3 * sr]).toBeCloseTo((0.18 / SCALE) * sinc(0.1 * w), 5); // right
    expect(f[3 * sr + 1]).toBeCloseTo(0, 5); // forward
    expect(f[3 * sr + 2]).toBeCloseTo((1.42 - 0.95) / SCALE, 5); // up
    // At yaw = w t the body's right is (cos, sin) and forward (-sin, cos): the path's tangent.
    expect(f[3 * J]).toBeCloseTo(0, 5);
    // (to 1e-4: the 30 fps chords of the linear interpolant shrink the radius by ~(w / 30)^2 / 12 too)
    expect(f[3 * J + 1]).toBeCloseTo(((3 * w) / SCALE) * sinc(0.1 * w) * sinc(0.2 * w), 4);
    expect(f[3 * J + 2]).toBeCloseTo(w, 4);
    expect(f[3 * J + 3]).toBeCloseTo((0.95 - 0.03) / SCALE, 5);
  });

  it('velocity: D = 6J + 5; the pose is the same played backwards, its velocity flips sign', () => {
    // Squatting: everything but the ankles and feet goes down 0.3 m and back up, period 4 s.
    const drop = (t: number): number => -0.15 * (1 - Math.cos((Math.PI / 2) * t));
    const squat = (t: number, j: number, out: number[]): void => {
      if (!/Ankle|Foot/.test(NAMES[j])) out[2] = drop(t);
    };
    const seq = body(
      30 * 20 + 1,
      30,
      () => [0, 0],
      () => 0,
      squat,
    );
    const N = 101; // 20 s at 5 fps: model frame k of the reversed clip is frame N - 1 - k of this one
    const back = new Float64Array(seq.positions.length);
    for (let f = 0; f < seq.frames; f++)
      back.set(seq.positions.subarray((seq.frames - 1 - f) * J * 3, (seq.frames - f) * J * 3), f * J * 3);
    const pose = preprocessSequence(seq, { velocity: false });
    const fwd = preprocessSequence(seq);
    const rev = preprocessSequence({ ...seq, positions: back });
    expect(fwd.D).toBe(featureDimension(J, true));
    expect(fwd.D).toBe(6 * J + 5);
    expect(fwd.frames).toBe(N);
    const D = fwd.D;
    const P = 3 * J + 4;
    const row = (inp: typeof fwd, k: number): Float32Array =>
      inp.windows[0].features.subarray(k * D, (k + 1) * D);
    for (const k of [1, 7, 30, 55, 99]) {
      const a = row(fwd, k);
      const b = row(rev, N - 1 - k);
      // the base features are the ones without the option, and the same backwards
      expect(maxAbsDiff(a.subarray(0, P), pose.windows[0].features.subarray(k * P, (k + 1) * P))).toBe(0);
      expect(maxAbsDiff(a.subarray(0, P), b.subarray(0, P))).toBeLessThan(1e-5);
      // the velocity is their central difference (5 fps: / 0.4 s), and flips played backwards
      const prev = row(fwd, k - 1);
      const next = row(fwd, k + 1);
      for (let c = 0; c < 3 * J; c++) {
        expect(a[P + c]).toBeCloseTo((next[c] - prev[c]) * 2.5, 4);
        expect(a[P + c]).toBeCloseTo(-b[P + c], 4);
      }
      expect(a[P + 3 * J]).toBeCloseTo((next[3 * J + 3] - prev[3 * J + 3]) * 2.5, 4);
      expect(a[P + 3 * J]).toBeCloseTo(-b[P + 3 * J], 4);
    }
    // Going down (t = 1 s, model frame 5) the root height falls at about 0.15 (pi / 2) m/s.
    expect(row(fwd, 5)[P + 3 * J]).toBeCloseTo((-0.15 * (Math.PI / 2)) / SCALE, 1);
    expect(row(fwd, 15)[P + 3 * J]).toBeCloseTo((0.15 * (Math.PI / 2)) / SCALE, 1);
    // the hands move with the hips: no root-relative velocity
    expect(row(fwd, 5)[P + 3 * NAMES.indexOf('HandLeft') + 2]).toBeCloseTo(0, 5);
  });

  it('translating, rotating about Z and scaling leaves features, trajectories and atoms unchanged', () => {
    const path = (t: number): [number, number] => [1.5 * Math.sin(0.2 * t), 0.8 * t];
    const seq = body(30 * 40, 30, path, (t) => 0.4 * Math.sin(0.3 * t), swing);
    const a = preprocessSequence(seq);
    const moved = transformed(seq, 2.3, [4, -7, 0.6], 1.37);
    for (const positions of [moved.positions, Float32Array.from(moved.positions)]) {
      const b = preprocessSequence({ ...moved, positions });
      expect(b.scale).toBeCloseTo(a.scale * 1.37, 5);
      expect(b.windows.length).toBe(a.windows.length);
      for (let w = 0; w < a.windows.length; w++) {
        const fa = a.windows[w].features;
        const fb = b.windows[w].features;
        const P = 3 * J + 4;
        const pose = fa.map((_, i) => (i % a.D < P ? fa[i] - fb[i] : 0));
        const rates = fa.map((_, i) => (i % a.D >= P ? fa[i] - fb[i] : 0));
        expect(maxAbsDiff(pose, new Float32Array(fa.length))).toBeLessThan(1e-5);
        // a rate at 5 fps is a difference of two poses over 0.4 s: input rounding x 2 x 2.5
        expect(maxAbsDiff(rates, new Float32Array(fa.length))).toBeLessThan(5e-5);
        // trajectories reach ~50 scale units in 30 s: float32 input rounding is relative
        const tol = 1e-5 * Math.max(1, ...a.windows[w].trajectory.map(Math.abs));
        expect(maxAbsDiff(a.windows[w].trajectory, b.windows[w].trajectory)).toBeLessThan(tol);
        const atomsA = windowAtoms(a, a.windows[w]);
        const atomsB = windowAtoms(b, b.windows[w]);
        expect(atomsA.count).toBeGreaterThan(5);
        expect(Array.from(atomsB.starts.subarray(0, atomsB.count))).toEqual(
          Array.from(atomsA.starts.subarray(0, atomsA.count)),
        );
      }
    }
  });

  it('overlapping windows repeat the same frames; model frames map back to source frames', () => {
    const seq = body(
      24 * 50,
      24,
      (t) => [0.5 * t, 0],
      () => 0,
      swing,
    );
    const input = preprocessSequence(seq, { stride: 60, windowFrames: 150 });
    expect(input.ratio).toBeCloseTo(4.8, 12);
    expect(input.windows.map((w) => w.start)).toEqual([0, 60, 120]);
    expect(input.windows[2].validFrames).toBe(input.frames - 120);
    const D = input.D;
    expect(input.windows[1].features.subarray(0, 90 * D)).toEqual(input.windows[0].features.subarray(60 * D));
    // The atoms of every window tile the source frames it covers.
    for (const w of input.windows) {
      const src = atomsToSourceFrames(input, w, windowAtoms(input, w));
      expect(src.starts[0]).toBe(Math.round(w.start * 4.8));
      for (let a = 1; a < src.starts.length; a++) expect(src.starts[a]).toBe(src.ends[a - 1]);
      if (w.start + w.validFrames === input.frames) expect(src.ends[src.ends.length - 1]).toBe(seq.frames);
    }
  });
});

describe('A4Mer atoms', () => {
  /** P points moving together with piecewise-constant velocity (xyz per piece, scale units per frame). */
  function piecewise(frames: number, breaks: number[], velocities: number[], P = 5): Float32Array {
    const x = new Float32Array(frames * P * 3);
    const cur = [0, 0, 0];
    let seg = 0;
    for (let t = 0; t < frames; t++) {
      if (t > 0) {
        if (seg < breaks.length && t - 1 === breaks[seg]) seg++;
        for (let c = 0; c < 3; c++) cur[c] += velocities[3 * seg + c];
      }
      for (let p = 0; p < P; p++)
        for (let c = 0; c < 3; c++) x[(t * P + p) * 3 + c] = cur[c] + 0.1 * p * (c + 1);
    }
    return x;
  }
  const BREAKS = [8, 15, 19, 28, 37, 45];
  // prettier-ignore
  const VELOCITIES = [0.3, 0, 0,  0, 0.3, 0,  -0.2, 0.2, 0,  0.1, 0.1, 0.1,
    0.5, 0, 0,  0, 0, 0,  0, -0.4, 0];

  it('piecewise-linear motion: atoms start exactly at the breakpoints', () => {
    const x = piecewise(52, BREAKS, VELOCITIES);
    const departures = new Float32Array(52);
    const atoms = segmentAtoms(x, 52, 5, {}, undefined, departures);
    expect(boundaries(atoms)).toEqual(BREAKS);
    expect(Array.from(atoms.kinematic.subarray(0, atoms.count))).toEqual([0, 1, 1, 1, 1, 1, 1]);
    expect(atoms.ends[atoms.count - 1]).toBe(52);
    // departure at the frame after a corner = |v_new - v_old|, zero elsewhere
    expect(departures[9]).toBeCloseTo(Math.hypot(0.3, 0.3), 5);
    expect(departures[12]).toBeCloseTo(0, 5);
    expect(frameSegmentIds(atoms, 55).subarray(14, 17)).toEqual(Int32Array.from([1, 2, 2]));
    expect(frameSegmentIds(atoms, 55)[53]).toBe(-1);
  });

  it('piecewise-linear body motion through resampling (30 fps) and the windows: within 1 frame', () => {
    // breakpoints at model frames 8, 15, ... ; velocity changes >= 0.7 m/s
    // prettier-ignore
    const v = [1, 0,   0, 1,   -1, 0.5,   0.8, 0.8,   0, -0.5,   1.2, 0,   0, 0]; // m/s, x y per piece
    const knots = [0, ...BREAKS.map((b) => b / 5)];
    const root = (t: number): [number, number] => {
      const p: [number, number] = [0, 0];
      for (let k = 0; k < knots.length; k++) {
        const dt = Math.min(t, knots[k + 1] ?? Infinity) - knots[k];
        if (dt <= 0) break;
        p[0] += v[2 * k] * dt;
        p[1] += v[2 * k + 1] * dt;
      }
      return p;
    };
    const input = preprocessSequence(body(30 * 11, 30, root, () => 0.7));
    const atoms = windowAtoms(input, input.windows[0]);
    const found = boundaries(atoms);
    expect(found.length).toBe(BREAKS.length);
    found.forEach((b, k) => expect(Math.abs(b - BREAKS[k])).toBeLessThanOrEqual(1));
  });

  it('a smooth sinusoid is cut only by the maximum length', () => {
    const frames = 150;
    const x = new Float32Array(frames * 2 * 3);
    for (let t = 0; t < frames; t++) {
      x[t * 6] = 0.5 * Math.sin(t / 4); // |a| dt^2 <= 0.5 / 16 = 0.031 < threshold 0.1
      x[t * 6 + 4] = 0.3 * Math.cos(t / 5);
    }
    for (const maxLength of [10, 7]) {
      const atoms = segmentAtoms(x, frames, 2, { maxLength });
      const lengths = Array.from({ length: atoms.count }, (_, a) => atoms.ends[a] - atoms.starts[a]);
      expect(lengths.slice(0, -1).every((l) => l === maxLength)).toBe(true);
      expect(lengths.reduce((s, l) => s + l, 0)).toBe(frames);
      expect(atoms.kinematic.subarray(0, atoms.count).every((k) => k === 0)).toBe(true);
    }
    // ten times the amplitude: kinematic cuts, still within [minLength, maxLength]
    for (let i = 0; i < x.length; i++) x[i] *= 10;
    const atoms = segmentAtoms(x, frames, 2);
    expect(atoms.kinematic.subarray(0, atoms.count).some((k) => k === 1)).toBe(true);
    for (let a = 0; a < atoms.count; a++) {
      expect(atoms.ends[a] - atoms.starts[a]).toBeGreaterThanOrEqual(A4MER_ATOM_DEFAULTS.minLength);
      expect(atoms.ends[a] - atoms.starts[a]).toBeLessThanOrEqual(A4MER_ATOM_DEFAULTS.maxLength);
    }
  });

  it('zig-zag breaking every frame: every atom respects the minimum length, the tail included', () => {
    for (const [frames, minLength] of [
      [40, 3],
      [41, 3],
      [23, 4],
      [29, 5],
    ]) {
      const x = new Float32Array(frames * 3);
      for (let t = 0; t < frames; t++) x[3 * t] = t % 2;
      const atoms = segmentAtoms(x, frames, 1, { minLength, maxLength: 2 * minLength }, allocateAtoms(64));
      expect(atoms.count).toBeGreaterThan(2);
      expect(atoms.starts[0]).toBe(0);
      expect(atoms.ends[atoms.count - 1]).toBe(frames);
      for (let a = 0; a < atoms.count; a++) {
        if (a > 0) expect(atoms.starts[a]).toBe(atoms.ends[a - 1]);
        expect(atoms.ends[a] - atoms.starts[a]).toBeGreaterThanOrEqual(minLength);
        expect(atoms.ends[a] - atoms.starts[a]).toBeLessThanOrEqual(2 * minLength);
      }
    }
  });

  it('CMU 02_01 walk (120 fps ASF/AMC): mean atom length at 5 fps is a step or so', () => {
    const dir = join(SHARED_DATA, 'cmu-mocap', '02');
    const clip = readAmc(join(dir, '02_01.amc'), readAsf(join(dir, '02.asf')));
    // file axes are y-up: (x, y, z) -> (x, -z, y)
    const positions = new Float64Array(clip.positions.length);
    for (let i = 0; i < positions.length; i += 3) {
      positions[i] = clip.positions[i];
      positions[i + 1] = -clip.positions[i + 2];
      positions[i + 2] = clip.positions[i + 1];
    }
    const seq = {
      source: '02_01.amc',
      names: clip.skeleton.names,
      fps: clip.fps,
      frames: clip.frames,
      positions,
    };
    const input = preprocessSequence(seq);
    expect(input.skeleton.name).toBe('cmu-asf');
    expect(input.frames).toBe(15);
    expect(input.scale).toBeGreaterThan(0.4);
    expect(input.scale).toBeLessThan(0.55);
    // walking forward at ~1.2 m/s: the mean forward root velocity channel
    let forward = 0;
    for (let t = 0; t < 15; t++)
      forward += input.windows[0].features[t * input.D + 3 * input.joints + 1] / 15;
    expect(forward * input.scale).toBeGreaterThan(1);
    expect(forward * input.scale).toBeLessThan(1.5);
    const atoms = input.windows.map((w) => windowAtoms(input, w));
    const mean = meanAtomLength(atoms);
    console.log(`CMU 02_01: ${atoms[0].count} atoms, mean length ${mean.toFixed(2)} frames at 5 fps`);
    expect(mean).toBeGreaterThanOrEqual(2);
    expect(mean).toBeLessThanOrEqual(15);
    expect(atoms[0].kinematic.subarray(0, atoms[0].count).some((k) => k === 1)).toBe(true);
    expect(atomsToSourceFrames(input, input.windows[0], atoms[0]).ends[atoms[0].count - 1]).toBe(343);
  });
});

describe('A4Mer input errors name the sequence and the problem', () => {
  const good = (): A4MerSequence =>
    body(
      60,
      30,
      () => [0, 0],
      () => 0,
    );

  it('NaN, wrong shapes, unknown skeletons, y-up data, bad config', () => {
    const nan = good();
    nan.positions[(7 * J + NAMES.indexOf('HandLeft')) * 3 + 1] = NaN;
    expect(() => preprocessSequence({ ...nan, source: 's07_e01' })).toThrow(
      /'s07_e01': frame 7 joint 'HandLeft' y is NaN/,
    );
    const short = { ...good(), source: 'short.npy', frames: 61 };
    expect(() => preprocessSequence(short)).toThrow(/'short.npy'.*3600 values, expected .* 61 x 20 x 3/);
    expect(() => preprocessSequence({ ...good(), fps: 0 })).toThrow(/'synthetic': fps = 0/);
    const renamed = { ...good(), source: 'odd', names: NAMES.map((n) => `j_${n}`) };
    expect(() => preprocessSequence(renamed)).toThrow(/'odd': no skeleton fits .*'kinect20' needs leftHip/);
    const yUp = transformed(good(), 0, [0, 0, 0], 1);
    for (let i = 0; i < yUp.positions.length; i += 3) {
      const [y, z] = [yUp.positions[i + 1], yUp.positions[i + 2]];
      yUp.positions[i + 1] = z;
      yUp.positions[i + 2] = -y;
    }
    expect(() => preprocessSequence(yUp)).toThrow(/'synthetic': the trunk is not along \+Z/);
    expect(() => preprocessSequence(good(), { stride: 0 })).toThrow(/stride = 0/);
    expect(() => segmentAtoms(new Float32Array(30), 10, 1, { minLength: 3, maxLength: 5 })).toThrow(
      /maxLength = 5, expected an integer >= 2 \* minLength/,
    );
    expect(() => segmentAtoms(new Float32Array(29), 10, 1)).toThrow(/29 values, need 10 x 1 x 3/);
    expect(A4MER_INPUT_DEFAULTS.windowFrames).toBe(150);
  });
});
