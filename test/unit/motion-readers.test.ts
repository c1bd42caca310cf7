import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../main/body/npz';
import { type AsfSkeleton, parseAmc, parseAsf, readAmc, readAsf } from '../../main/body/motion/asf-amc';
import { parseBvh, readBvh, writeBvh } from '../../main/body/motion/bvh';
import {
  type Axis,
  eulerExtrinsic,
  eulerIntrinsic,
  matrixToEulerIntrinsic,
} from '../../main/body/motion/euler';
import {
  parseJointPositionsCsv,
  readJointPositionsCsv,
  readJointPositionsNpy,
} from '../../main/body/motion/joint-positions';
import { boneEnd, jointIndex, type MotionClip, restPositions } from '../../main/body/motion/skeleton';
import { cleanupTempDirs, SHARED_DATA, tempDir } from './fixtures';

const CMU02 = join(SHARED_DATA, 'cmu-mocap', '02');
const ASF = join(CMU02, '02.asf');
const INCH = 0.0254 / 0.45; // metres per ASF length unit with `:units length 0.45`

afterAll(cleanupTempDirs);

let cachedAsf: AsfSkeleton | undefined;
const asf = (): AsfSkeleton => (cachedAsf ??= readAsf(ASF));

function position(clip: MotionClip, frame: number, name: string): number[] {
  const j = jointIndex(clip.skeleton, name);
  return Array.from(
    clip.positions.subarray(
      (frame * clip.skeleton.names.length + j) * 3,
      (frame * clip.skeleton.names.length + j) * 3 + 3,
    ),
  );
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tol);
}

/** An AMC text with the given frames, every dof of every bone 0. */
function zeroAmc(skel: AsfSkeleton, frames: number): string {
  const out = [':FULLY-SPECIFIED', ':DEGREES'];
  for (let f = 1; f <= frames; f++) {
    out.push(String(f));
    skel.skeleton.names.forEach((name, j) => {
      const n = j === 0 ? skel.rootChannels.length : skel.dofAxes[j].length;
      if (n > 0) out.push(`${name} ${Array(n).fill('0').join(' ')}`);
    });
  }
  return out.join('\n') + '\n';
}

describe('Euler angles', () => {
  const orders: Axis[][] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];
  it('matrixToEulerIntrinsic inverts eulerIntrinsic for all six orders, gimbal lock included', () => {
    const R = new Float64Array(9);
    const back = new Float64Array(9);
    const angles = new Float64Array(3);
    for (const order of orders) {
      for (const a of [
        [0.3, -0.7, 2.1],
        [-2.5, 1.2, -0.4],
        [1.0, Math.PI / 2, 0.5],
        [-0.6, -Math.PI / 2, 2.0],
      ]) {
        eulerIntrinsic(R, 0, order, a, 0);
        matrixToEulerIntrinsic(angles, 0, R, 0, order);
        eulerIntrinsic(back, 0, order, angles, 0);
        expectClose(back, R, 1e-9);
      }
    }
  });

  it('intrinsic ZXY is Rz Rx Ry and extrinsic XYZ applies X first (= intrinsic ZYX)', () => {
    const R = new Float64Array(9);
    // R = Rz(90) Rx(90) Ry(0): Rx(90) leaves x alone, then Rz(90) takes x to y, so R's first column is y.
    eulerIntrinsic(R, 0, [2, 0, 1], [90, 90, 0], 0, Math.PI / 180);
    expectClose([R[0], R[3], R[6]], [0, 1, 0], 1e-12);
    const E = new Float64Array(9);
    eulerExtrinsic(E, 0, [0, 1, 2], [0.1, 0.2, 0.3], 0);
    eulerIntrinsic(R, 0, [2, 1, 0], [0.3, 0.2, 0.1], 0);
    expectClose(E, R, 1e-12);
  });
});

describe('ASF/AMC (CMU subject 02)', () => {
  it('parses the ASF: 31 bones with the root, lengths in metres, hierarchy parents first', () => {
    const { skeleton, metresPerUnit } = asf();
    expect(skeleton.names.length).toBe(31);
    expect(skeleton.names[0]).toBe('root');
    expect(skeleton.parents[0]).toBe(-1);
    expect(metresPerUnit).toBeCloseTo(INCH, 12);
    const femur = jointIndex(skeleton, 'lfemur');
    expect(skeleton.lengths![femur]).toBeCloseTo(7.59371 * INCH, 9);
    expect(skeleton.lengths![femur]).toBeCloseTo(0.4286, 4);
    expect(skeleton.names[skeleton.parents[femur]]).toBe('lhipjoint');
    expect(skeleton.names[skeleton.parents[jointIndex(skeleton, 'lclavicle')]]).toBe('thorax');
    for (let j = 1; j < 31; j++) expect(skeleton.parents[j]).toBeLessThan(j);
    // lfemur's direction from the file; ltibia starts at lfemur's end.
    expectClose(skeleton.restDirections!.subarray(3 * femur, 3 * femur + 3), [0.34202, -0.939693, 0], 1e-5);
    const tibia = jointIndex(skeleton, 'ltibia');
    expectClose(
      skeleton.offsets.subarray(3 * tibia, 3 * tibia + 3),
      [0.34202 * 7.59371 * INCH, -0.939693 * 7.59371 * INCH, 0],
      1e-6,
    );
    expect(asf().dofAxes[jointIndex(skeleton, 'lfoot')]).toEqual([0, 2]);
  });

  it('with all AMC values 0 the clip is the ASF rest pose (T-pose)', () => {
    const skel = asf();
    const clip = parseAmc(zeroAmc(skel, 2), skel, 'zero.amc');
    expect(clip.frames).toBe(2);
    const rest = restPositions(skel.skeleton);
    expectClose(clip.positions.subarray(31 * 3), rest, 1e-12);
    for (let j = 0; j < 31; j++)
      expectClose(clip.rotations.subarray(9 * j, 9 * j + 9), [1, 0, 0, 0, 1, 0, 0, 0, 1], 1e-12);
    // Independently from the file's numbers: lfoot starts at lhipjoint end + lfemur + ltibia.
    const lhip = [0.655637, -0.713449, 0.247245].map((d) => d * 2.52691);
    const lfemur = [0.34202, -0.939693, 0].map((d) => d * 7.59371);
    const ltibia = [0.34202, -0.939693, 0].map((d) => d * 7.28717);
    expectClose(
      position(clip, 1, 'lfoot'),
      [0, 1, 2].map((c) => (lhip[c] + lfemur[c] + ltibia[c]) * INCH),
      1e-6,
    );
    // T-pose: the humerus points along +x, horizontal.
    const end = boneEnd(clip, 0, jointIndex(clip.skeleton, 'lhumerus'));
    const start = position(clip, 0, 'lhumerus');
    expect(end[0] - start[0]).toBeCloseTo(4.86513 * INCH, 6);
    expect(Math.abs(end[1] - start[1])).toBeLessThan(1e-9);
  });

  it('02_01 walk: 343 frames, feet reach the floor, steps alternate, root travels ~3.4 m along z', () => {
    const clip = readAmc(join(CMU02, '02_01.amc'), asf());
    expect(clip.frames).toBe(343);
    expect(clip.fps).toBe(120);
    expect(clip.upAxis).toBe('y');
    const J = 31;
    const e = new Float64Array(3);
    for (const toes of ['ltoes', 'rtoes']) {
      const j = jointIndex(clip.skeleton, toes);
      let lowest = Infinity;
      for (let f = 0; f < clip.frames; f++) lowest = Math.min(lowest, boneEnd(clip, f, j, e)[1]);
      expect(Math.abs(lowest)).toBeLessThan(0.05);
    }
    const r = clip.rootTranslation;
    const travel = [0, 1, 2].map((c) => r[3 * (clip.frames - 1) + c] - r[c]);
    expect(travel[2]).toBeGreaterThan(3.1);
    expect(travel[2]).toBeLessThan(3.7);
    expect(Math.abs(travel[0])).toBeLessThan(0.3);
    expect(r[1]).toBeGreaterThan(0.85);
    expect(r[1]).toBeLessThan(1.05);
    // Alternation: which foot is ahead (along z) flips every step, about every half second.
    const lf = jointIndex(clip.skeleton, 'lfoot');
    const rf = jointIndex(clip.skeleton, 'rfoot');
    const flips: number[] = [];
    let ahead = 0;
    for (let f = 0; f < clip.frames; f++) {
      const s = Math.sign(clip.positions[(f * J + lf) * 3 + 2] - clip.positions[(f * J + rf) * 3 + 2]);
      if (ahead !== 0 && s !== 0 && s !== ahead) flips.push(f);
      if (s !== 0) ahead = s;
    }
    expect(flips.length).toBeGreaterThanOrEqual(4);
    for (let k = 1; k < flips.length; k++) expect(flips[k] - flips[k - 1]).toBeGreaterThan(40);
    // Global rotations stay orthonormal: R R^T = I.
    const R = clip.rotations.subarray(9 * (100 * J + jointIndex(clip.skeleton, 'lhand')));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        const dot = R[3 * a] * R[3 * b] + R[3 * a + 1] * R[3 * b + 1] + R[3 * a + 2] * R[3 * b + 2];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 10);
      }
    }
  });

  it('reads a frame range with a step, identical to the same frames of the full clip', () => {
    const full = readAmc(join(CMU02, '02_01.amc'), asf());
    const part = readAmc(join(CMU02, '02_01.amc'), asf(), { from: 8, to: 100, step: 4 });
    expect(part.frames).toBe(23);
    expect(part.fps).toBe(30);
    for (let k = 0; k < part.frames; k++) {
      const f = 8 + 4 * k;
      expectClose(
        part.positions.subarray(k * 93, k * 93 + 93),
        full.positions.subarray(f * 93, f * 93 + 93),
        1e-12,
      );
    }
  });

  it('parses and poses 02_06 (2235 frames) well under a second', () => {
    readAmc(join(CMU02, '02_01.amc'), asf()); // warm up the JIT
    const t0 = performance.now();
    const clip = readAmc(join(CMU02, '02_06.amc'), readAsf(ASF));
    const ms = performance.now() - t0;
    console.log(`02_06.amc: ${clip.frames} frames parsed + FK in ${ms.toFixed(1)} ms`);
    expect(clip.frames).toBe(2235);
    expect(ms).toBeLessThan(1000);
  });

  it('reads subject 01 too (its own ASF)', () => {
    const clip = readAmc(
      join(SHARED_DATA, 'cmu-mocap', '01', '01_01.amc'),
      join(SHARED_DATA, 'cmu-mocap', '01', '01.asf'),
      {
        step: 8,
      },
    );
    expect(clip.skeleton.names.length).toBe(31);
    expect(clip.frames).toBeGreaterThan(10);
    expect(clip.positions.every(Number.isFinite)).toBe(true);
  });
});

describe('BVH', () => {
  it('round-trips an AMC clip: writeBvh then readBvh gives the same joint positions (1e-4 m)', () => {
    const clip = readAmc(join(CMU02, '02_01.amc'), asf(), { step: 2 });
    const file = join(tempDir(), 'walk.bvh');
    writeFileSync(file, writeBvh(clip));
    const back = readBvh(file);
    expect(back.skeleton.names).toEqual(clip.skeleton.names);
    expect(back.frames).toBe(clip.frames);
    expect(back.fps).toBe(60);
    expectClose(back.skeleton.offsets, clip.skeleton.offsets, 1e-7); // written in cm, default scale 0.01
    expectClose(back.positions, clip.positions, 1e-4);
    expectClose(back.rotations, clip.rotations, 1e-5);
    expectClose(back.skeleton.lengths!, clip.skeleton.lengths!, 1e-7);
    // A leaf bone's end comes back from its End Site.
    const toes = jointIndex(clip.skeleton, 'ltoes');
    expectClose(boneEnd(back, 50, toes), boneEnd(clip, 50, toes), 1e-4);
  });

  const handWritten = (order: string, values: string): string => `HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 1 0 0
    CHANNELS 3 ${order}
    JOINT Head
    {
      OFFSET 1 0 0
      End Site
      {
        OFFSET 0 0 1
      }
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
0 0 0 0 0 0 0 0 0
1 2 3 90 90 0 ${values}
`;

  it('applies rotation channels in their listed order (hand-computed ZXY vs XYZ)', () => {
    // Root: R = Rz(90) Rx(90), at (1, 2, 3); Spine at root + R (1,0,0) = (1, 3, 3).
    // Spine `Xrotation Yrotation Zrotation` 90 0 90: G = R Rx(90) Rz(90); Head = Spine + G (1,0,0) = (2, 3, 3),
    // its end = Head + G (0,0,1) = (2, 3, 2).
    const xyz = parseBvh(handWritten('Xrotation Yrotation Zrotation', '90 0 90'), 'xyz.bvh');
    expect(xyz.fps).toBe(30);
    expect(xyz.skeleton.names).toEqual(['Hips', 'Spine', 'Head']);
    expectClose(position(xyz, 0, 'Head'), [2, 0, 0], 1e-12); // rest pose, metres (extent 2 < 10)
    expectClose(position(xyz, 1, 'Spine'), [1, 3, 3], 1e-12);
    expectClose(position(xyz, 1, 'Head'), [2, 3, 3], 1e-12);
    expectClose(boneEnd(xyz, 1, 2), [2, 3, 2], 1e-12);
    // Spine `Zrotation Xrotation Yrotation` 90 90 0: G = R Rz(90) Rx(90); Head = (1,3,3) + G (1,0,0) = (1, 3, 4).
    const zxy = parseBvh(handWritten('Zrotation Xrotation Yrotation', '90 90 0'), 'zxy.bvh');
    expectClose(position(zxy, 1, 'Head'), [1, 3, 4], 1e-12);
    // Scale option and the centimetre default for large skeletons.
    expectClose(
      position(
        parseBvh(handWritten('Zrotation Xrotation Yrotation', '90 90 0'), 'cm.bvh', { unitScale: 0.01 }),
        1,
        'Head',
      ),
      [0.01, 0.03, 0.04],
      1e-12,
    );
    // Written back (ZXY everywhere) and read again, the same positions.
    const again = parseBvh(writeBvh(xyz, { unitsPerMetre: 1 }), 'again.bvh');
    expectClose(again.positions, xyz.positions, 1e-9);
  });

  it('keeps animated translations of non-root joints through writeBvh', () => {
    const text = handWritten('Xposition Yposition Zposition Xrotation Yrotation Zrotation', '1 0.5 0 0 0 90')
      .replace('CHANNELS 3 Xposition', 'CHANNELS 6 Xposition')
      .replace('0 0 0 0 0 0 0 0 0', '0 0 0 0 0 0 1 0 0 0 0 0');
    const clip = parseBvh(text, 'moving.bvh');
    // Spine local translation (1, 0.5, 0) in the root frame R = Rz(90) Rx(90): R (1, 0.5, 0) = (0, 1, 0.5).
    expectClose(position(clip, 1, 'Spine'), [1, 3, 3.5], 1e-12);
    const again = parseBvh(writeBvh(clip), 'again.bvh', { unitScale: 0.01 });
    expectClose(again.positions, clip.positions, 1e-9);
  });
});

describe('joint-position sequences', () => {
  it('reads a CSV with a frame column and applies the name map', () => {
    const file = join(tempDir(), 'joints.csv');
    writeFileSync(
      file,
      'frame,Head_x,Head_y,Head_z,LAnkle_x,LAnkle_y,LAnkle_z\n0,0.1,1.7,0.2,0.1,0.05,0\n1,0.2,1.71,0.25,0.12,0.06,0.01\n',
    );
    const seq = readJointPositionsCsv(file, { nameMap: { Head: 'head', LAnkle: 'left_ankle' }, fps: 50 });
    expect(seq.names).toEqual(['head', 'left_ankle']);
    expect(seq.frames).toBe(2);
    expect(seq.fps).toBe(50);
    expectClose(seq.positions, [0.1, 1.7, 0.2, 0.1, 0.05, 0, 0.2, 1.71, 0.25, 0.12, 0.06, 0.01], 1e-12);
    const timed = parseJointPositionsCsv(
      'time;A.x;A.y;A.z;B_x;B_y;B_z\n0;1;2;3;4;5;6\n0.04;1;2;3;4;5;6\n',
      'timed.csv',
      {
        nameMap: { B: 'b' },
        dropUnmapped: true,
        scale: 0.001,
      },
    );
    expect(timed.names).toEqual(['b']);
    expect(timed.fps).toBeCloseTo(25, 9);
    expectClose(timed.positions, [0.004, 0.005, 0.006, 0.004, 0.005, 0.006], 1e-12);
  });

  it('reads a float32 .npy [frames, joints, 3] with separate names', () => {
    const file = join(tempDir(), 'joints.npy');
    const data = Float32Array.from({ length: 3 * 2 * 3 }, (_, i) => i * 0.5);
    writeFileSync(file, encodeNpy({ dtype: 'f4', shape: [3, 2, 3], data }));
    const seq = readJointPositionsNpy(file, ['nose', 'pelvis'], { nameMap: { pelvis: 'root' }, fps: 60 });
    expect(seq.names).toEqual(['nose', 'root']);
    expect(seq.frames).toBe(3);
    expect(seq.fps).toBe(60);
    expectClose(seq.positions, data, 1e-12);
    const picked = readJointPositionsNpy(file, ['nose', 'pelvis'], {
      nameMap: { pelvis: 'root' },
      dropUnmapped: true,
    });
    expectClose(picked.positions, [1.5, 2, 2.5, 4.5, 5, 5.5, 7.5, 8, 8.5], 1e-12);
    expect(() => readJointPositionsNpy(file, ['only-one'])).toThrow(
      /joints\.npy: 2 joints in the array but 1 names/,
    );
  });
});

describe('malformed files name the file, the line and the problem', () => {
  const amcLines = (): string[] => readFileSync(join(CMU02, '02_01.amc'), 'utf8').split('\n');
  const withLine = (lines: string[], n: number, text: string): string =>
    lines.map((l, i) => (i === n - 1 ? text : l)).join('\n');

  it('AMC: unknown bone, wrong value count, NaN, missing bone, truncated frame', () => {
    const lines = amcLines();
    expect(lines[5]).toMatch(/^lowerback /);
    expect(() => parseAmc(withLine(lines, 6, 'lowrback 1 2 3'), asf(), 'bad.amc')).toThrow(
      "bad.amc:6: unknown bone 'lowrback'",
    );
    expect(() => parseAmc(withLine(lines, 6, 'lowerback 1 2'), asf(), 'bad.amc')).toThrow(
      "bad.amc:6: bone 'lowerback' needs 3 values, got 2",
    );
    expect(() => parseAmc(withLine(lines, 6, 'lowerback 1 nan 3'), asf(), 'bad.amc')).toThrow(
      /bad\.amc:6: .*not a number: 'nan'/,
    );
    expect(() => parseAmc(withLine(lines, 6, ''), asf(), 'bad.amc')).toThrow(
      "bad.amc:4: frame is missing bone 'lowerback'",
    );
    expect(() => parseAmc(lines.slice(0, -5).join('\n'), asf(), 'cut.amc')).toThrow(
      /cut\.amc:\d+: frame is missing bone/,
    );
    // A damaged frame outside the requested range is never parsed.
    expect(readAmc(join(CMU02, '02_01.amc'), asf(), { to: 10 }).frames).toBe(10);
    expect(parseAmc(withLine(lines, 6, 'lowrback 1 2 3'), asf(), 'bad.amc', { from: 1 }).frames).toBe(342);
  });

  it('ASF: missing :hierarchy, unknown bone in it, bad numbers', () => {
    const text = readFileSync(ASF, 'utf8');
    expect(() => parseAsf(text.slice(0, text.indexOf(':hierarchy')), 'a.asf')).toThrow(
      'a.asf: missing :hierarchy section',
    );
    expect(() => parseAsf(text.replace('lfemur ltibia', 'lfemur ltibya'), 'a.asf')).toThrow(
      "a.asf: :hierarchy names unknown bone 'ltibya'",
    );
    const lines = text.split('\n');
    const n = lines.findIndex((l) => l.includes('7.59371'));
    lines[n] = '     length seven';
    expect(() => parseAsf(lines.join('\n'), 'a.asf')).toThrow(
      `a.asf:${n + 1}: length has a non-number: seven`,
    );
  });

  it('BVH: frame with the wrong value count, CHANNELS count mismatch, missing MOTION, too few frames', () => {
    const good = `HIERARCHY\nROOT A\n{\n  OFFSET 0 0 0\n  CHANNELS 3 Zrotation Xrotation Yrotation\n  End Site\n  {\n    OFFSET 0 1 0\n  }\n}\nMOTION\nFrames: 2\nFrame Time: 0.01\n0 0 0\n1 2 3\n`;
    expect(parseBvh(good, 'ok.bvh').frames).toBe(2);
    expect(() => parseBvh(good.replace('1 2 3', '1 2'), 'b.bvh')).toThrow(
      'b.bvh:15: frame has 2 values, CHANNELS need 3',
    );
    expect(() => parseBvh(good.replace('1 2 3', '1 x 3'), 'b.bvh')).toThrow(
      "b.bvh:15: value 2 is not a number: 'x'",
    );
    expect(() => parseBvh(good.replace('CHANNELS 3', 'CHANNELS 4'), 'b.bvh')).toThrow(
      'b.bvh:5: CHANNELS says 4 channels but lists 3',
    );
    expect(() => parseBvh(good.replace('Xrotation', 'Xrot'), 'b.bvh')).toThrow(
      "b.bvh:5: unknown channel 'Xrot'",
    );
    expect(() => parseBvh(good.slice(0, good.indexOf('MOTION')), 'b.bvh')).toThrow(
      'b.bvh: missing MOTION section',
    );
    expect(() => parseBvh(good.replace('Frames: 2', 'Frames: 3'), 'b.bvh')).toThrow(
      /b\.bvh:\d+: 'Frames: 3' but the file has 2 frame lines/,
    );
  });

  it('CSV: rows of the wrong length, non-numbers, incomplete joints', () => {
    expect(() => parseJointPositionsCsv('A_x,A_y,A_z\n1,2,3\n1,2\n', 'j.csv')).toThrow(
      'j.csv:3: row has 2 values, header has 3',
    );
    expect(() => parseJointPositionsCsv('A_x,A_y,A_z\n1,two,3\n', 'j.csv')).toThrow(
      "j.csv:2: 'A_y' is not a number: 'two'",
    );
    expect(() => parseJointPositionsCsv('A_x,A_y\n1,2\n', 'j.csv')).toThrow(
      "j.csv:1: joint 'A' lacks its z column",
    );
    const gaps = parseJointPositionsCsv('A_x,A_y,A_z\n1,,3\n', 'j.csv', { missing: 'nan' });
    expect(Number.isNaN(gaps.positions[1])).toBe(true);
  });
});
