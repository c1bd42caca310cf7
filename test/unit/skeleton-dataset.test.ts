import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../main/body/npz';
import {
  frameLabels,
  labelVocabulary,
  readSkeletonDataset,
  summarizeSkeletonDataset,
  type SkeletonDataset,
  writeSkeletonDataset,
} from '../../main/capture/skeleton-dataset';
import {
  convertUtKinect,
  KINECT_V1_JOINTS,
  parseUtKinectJoints,
  UTKINECT_ACTIONS,
  type UtKinectConversion,
} from '../../main/capture/utkinect';
import { cleanupTempDirs, REPO_ROOT, SHARED_DATA, tempDir } from './fixtures';

const UTK = join(SHARED_DATA, 'utkinect');
const UTK_JOINTS = join(UTK, 'joints');

afterAll(cleanupTempDirs);

/** A small dataset: 3 joints, two sequences (5 and 4 frames), three labels. */
function tiny(): SkeletonDataset {
  const seq = (frames: number, k: number) =>
    Float32Array.from({ length: frames * 9 }, (_, i) => Math.fround(Math.sin(i * 0.37 + k) * 1.7));
  return {
    name: 'tiny',
    fps: 25,
    joints: ['pelvis', 'knee', 'foot'],
    parents: [-1, 0, 1],
    labelsMayOverlap: false,
    sequences: [
      { name: 'a_1', subject: 'p1', frames: 5, positions: seq(5, 0), meta: { note: 'x', ids: [1, 2] } },
      { name: 'b_2', subject: 'p2', frames: 4, positions: seq(4, 1) },
    ],
    labels: [
      { sequence: 'a_1', start: 0, end: 2, label: 'walk' },
      { sequence: 'a_1', start: 2, end: 5, label: 'sit' },
      { sequence: 'b_2', start: 1, end: 3, label: 'walk' },
    ],
    source: { made: 'by the test' },
  };
}

/** A fresh dataset folder written from `tiny()`, for a test to damage. */
function tinyDir(format: 'npy' | 'csv' = 'npy'): string {
  const dir = join(tempDir('studio-ds-'), 'tiny');
  writeSkeletonDataset(dir, tiny(), format);
  return dir;
}

const editJson = (dir: string, edit: (j: Record<string, unknown>) => void) => {
  const file = join(dir, 'dataset.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
};

describe('skeleton dataset format', () => {
  it('round-trips through .npy exactly and through .csv to a micrometre', () => {
    for (const format of ['npy', 'csv'] as const) {
      const dir = tinyDir(format);
      expect(readdirSync(dir).sort()).toEqual(['dataset.json', 'labels.csv', 'sequences']);
      expect(readdirSync(join(dir, 'sequences')).sort()).toEqual([`a_1.${format}`, `b_2.${format}`]);
      expect(readdirSync(join(dir, '..'))).toEqual(['tiny']); // no temporary folder left beside it
      const back = readSkeletonDataset(dir);
      const want = tiny();
      expect({ ...back, sequences: [] }).toEqual({ ...want, sequences: [] });
      back.sequences.forEach((s, i) => {
        const w = want.sequences[i];
        expect({ ...s, positions: null }).toEqual({ ...w, positions: null });
        if (format === 'npy') expect(s.positions).toEqual(w.positions);
        else s.positions.forEach((v, k) => expect(Math.abs(v - w.positions[k])).toBeLessThan(6e-7));
      });
    }
  });

  it('reads sequences found in sequences/ when dataset.json does not list them, and headerless CSV', () => {
    const dir = tinyDir('csv');
    editJson(dir, (j) => delete j.sequences);
    const csv = join(dir, 'sequences', 'b_2.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').split('\n').slice(1).join('\n'));
    const d = readSkeletonDataset(dir);
    expect(d.sequences.map((s) => [s.name, s.frames, s.subject])).toEqual([
      ['a_1', 5, undefined],
      ['b_2', 4, undefined],
    ]);
    expect(d.sequences[1].positions[4]).toBeCloseTo(tiny().sequences[1].positions[4], 6);
    expect(summarizeSkeletonDataset(d)).toMatchObject({
      sequences: 2,
      frames: 9,
      seconds: 9 / 25,
      labels: 3,
    });
  });

  it('gives per-frame label indices', () => {
    const d = tiny();
    expect(labelVocabulary(d)).toEqual(['sit', 'walk']);
    expect([...frameLabels(d, 'a_1')]).toEqual([1, 1, 0, 0, 0]);
    expect([...frameLabels(d, 'b_2')]).toEqual([-1, 1, 1, -1]);
  });

  it('replaces an existing dataset whole, refuses other folders, and leaves nothing after a failed write', () => {
    const dir = tinyDir();
    const smaller = { ...tiny(), sequences: tiny().sequences.slice(0, 1), labels: tiny().labels.slice(0, 2) };
    writeSkeletonDataset(dir, smaller, 'csv');
    expect(readdirSync(join(dir, 'sequences'))).toEqual(['a_1.csv']);
    expect(readdirSync(join(dir, '..'))).toEqual(['tiny']);

    const other = join(tempDir('studio-ds-'), 'mine');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'keep me');
    expect(() => writeSkeletonDataset(other, tiny())).toThrow(/mine: exists and is not a skeleton dataset/);
    expect(readdirSync(other)).toEqual(['notes.txt']);

    // Invalid data is refused before anything is written.
    const parent = tempDir('studio-ds-');
    const bad = tiny();
    bad.sequences[1].positions[7] = NaN;
    expect(() => writeSkeletonDataset(join(parent, 'x'), bad)).toThrow(
      /sequence b_2.*NaN at frame 0, joint foot, y/,
    );
    // A failure midway (meta that JSON cannot hold, after the sequence files) removes the partial folder.
    const unwritable = tiny();
    unwritable.sequences[0].meta = { big: 1n };
    expect(() => writeSkeletonDataset(join(parent, 'x'), unwritable)).toThrow(
      /x: writing the dataset failed .*BigInt.*nothing was changed/,
    );
    expect(readdirSync(parent)).toEqual([]);
    // ... and a failed replacement keeps the old dataset.
    expect(() => writeSkeletonDataset(dir, unwritable)).toThrow(/nothing was changed/);
    expect(readSkeletonDataset(dir).sequences.map((s) => s.name)).toEqual(['a_1']);
  });

  const damaged: Array<[string, (dir: string) => void, RegExp]> = [
    [
      'malformed JSON',
      (d) => writeFileSync(join(d, 'dataset.json'), '{"version": 1,'),
      /dataset\.json: malformed JSON/,
    ],
    ['no fps', (d) => editJson(d, (j) => delete j.fps), /dataset\.json: fps: /],
    ['unknown key', (d) => editJson(d, (j) => (j.fsp = 30)), /dataset\.json: .*fsp/],
    [
      'joint twice',
      (d) => editJson(d, (j) => (j.joints = ['a', 'b', 'a'])),
      /dataset\.json: joint "a" is listed twice/,
    ],
    [
      'parent cycle',
      (d) => editJson(d, (j) => (j.parents = [2, 0, 1])),
      /dataset\.json: parents form a cycle/,
    ],
    [
      'missing sequence file',
      (d) => rmSync(join(d, 'sequences', 'b_2.npy')),
      /dataset\.json \(sequence b_2\): sequence file "sequences\/b_2\.npy" is missing/,
    ],
    [
      'shape mismatch',
      (d) =>
        writeFileSync(
          join(d, 'sequences', 'b_2.npy'),
          encodeNpy({ dtype: 'f4', shape: [4, 4, 3], data: new Float32Array(48) }),
        ),
      /b_2\.npy: shape \(4, 4, 3\) is not T x 3 x 3/,
    ],
    [
      'frame count mismatch',
      (d) =>
        writeFileSync(
          join(d, 'sequences', 'b_2.npy'),
          encodeNpy({ dtype: 'f4', shape: [3, 3, 3], data: new Float32Array(27) }),
        ),
      /b_2\.npy: 3 frames, but dataset\.json says sequence "b_2" has 4/,
    ],
    [
      'NaN in .npy',
      (d) => {
        const data = new Float32Array(36);
        data[3 * 9 + 5] = NaN;
        writeFileSync(join(d, 'sequences', 'b_2.npy'), encodeNpy({ dtype: 'f4', shape: [4, 3, 3], data }));
      },
      /b_2\.npy: NaN at frame 3, joint knee, z/,
    ],
    [
      'not a .npy',
      (d) => writeFileSync(join(d, 'sequences', 'a_1.npy'), 'hello'),
      /a_1\.npy: not a \.npy array/,
    ],
    [
      'label of an unknown sequence',
      (d) => writeFileSync(join(d, 'labels.csv'), 'sequence,start_frame,end_frame,label\nzz,0,1,walk\n'),
      /labels\.csv line 2: unknown sequence "zz"/,
    ],
    [
      'label past the end',
      (d) => writeFileSync(join(d, 'labels.csv'), 'sequence,start_frame,end_frame,label\nb_2,2,5,walk\n'),
      /labels\.csv line 2: frames \[2, 5\) of "walk" are not inside sequence "b_2" \(0 <= start_frame < end_frame <= 4\)/,
    ],
    [
      'empty label range',
      (d) => writeFileSync(join(d, 'labels.csv'), 'sequence,start_frame,end_frame,label\n\nb_2,2,2,walk\n'),
      /labels\.csv line 3: frames \[2, 2\)/,
    ],
    [
      'overlapping labels',
      (d) =>
        writeFileSync(
          join(d, 'labels.csv'),
          'sequence,start_frame,end_frame,label\na_1,0,3,walk\na_1,2,5,sit\n',
        ),
      /labels\.csv line 3: "sit" \[2, 5\) overlaps "walk" \[0, 3\) in "a_1" \(set "labelsMayOverlap"/,
    ],
    [
      'bad labels header',
      (d) => writeFileSync(join(d, 'labels.csv'), 'seq,start,end,label\n'),
      /labels\.csv: first line must be the header "sequence,start_frame,end_frame,label"/,
    ],
    [
      'non-numeric label frame',
      (d) => writeFileSync(join(d, 'labels.csv'), 'sequence,start_frame,end_frame,label\na_1,x,3,walk\n'),
      /labels\.csv: line 2: start_frame "x"/,
    ],
    [
      'path escaping the folder',
      (d) => editJson(d, (j) => ((j.sequences as Array<{ file: string }>)[0].file = '../outside.npy')),
      /dataset\.json \(sequence a_1\): path "\.\.\/outside\.npy" escapes the dataset folder/,
    ],
    [
      'absolute path',
      (d) => editJson(d, (j) => ((j.sequences as Array<{ file: string }>)[0].file = '/etc/passwd')),
      /path "\/etc\/passwd" is absolute/,
    ],
    [
      'symlink leading outside',
      (d) => {
        const outside = join(d, '..', 'elsewhere.npy');
        cpSync(join(d, 'sequences', 'a_1.npy'), outside);
        rmSync(join(d, 'sequences', 'a_1.npy'));
        symlinkSync(outside, join(d, 'sequences', 'a_1.npy'));
      },
      /dataset\.json \(sequence a_1\): path "sequences\/a_1\.npy" links outside the dataset folder/,
    ],
    [
      'bad sequence name',
      (d) => editJson(d, (j) => ((j.sequences as Array<{ name: string }>)[0].name = 'a/b')),
      /sequences\.0\.name: must be letters/,
    ],
  ];
  it.each(damaged)('names the file and the problem: %s', (_, damage, message) => {
    const dir = tinyDir();
    damage(dir);
    expect(() => readSkeletonDataset(dir)).toThrow(message);
  });

  it('names the CSV file, line and column of bad CSV sequences', () => {
    const cases: Array<[(text: string) => string, RegExp]> = [
      [
        (t) => t.replace(/\n[^\n]*\n$/, '\n1,2,3\n'),
        /a_1\.csv: line 6 has 3 values, expected 9 \(3 joints x 3\)/,
      ],
      [
        (t) => t.replace(/\n[^,]*,/, '\nnan,'),
        /a_1\.csv: line 2, column 1 \(pelvis_x\): "nan" is not a finite number/,
      ],
      [(t) => t.replace('knee_y', 'knee_z'), /a_1\.csv: header column 5 is "knee_z", expected "knee_y"/],
      [
        (t) => t.replace(/\n[^\n]*,([^,\n]*)\n/, '\n1,2,3,4,5,6,7,8,\n'),
        /a_1\.csv: line 2, column 9 \(foot_z\): "" is not/,
      ],
    ];
    for (const [damage, message] of cases) {
      const dir = tinyDir('csv');
      const file = join(dir, 'sequences', 'a_1.csv');
      writeFileSync(file, damage(readFileSync(file, 'utf8')));
      expect(() => readSkeletonDataset(dir)).toThrow(message);
    }
  });

  it('accepts overlapping labels when dataset.json allows them', () => {
    const dir = tinyDir();
    writeFileSync(
      join(dir, 'labels.csv'),
      'sequence,start_frame,end_frame,label\na_1,2,5,sit\na_1,0,3,walk\n',
    );
    editJson(dir, (j) => (j.labelsMayOverlap = true));
    const d = readSkeletonDataset(dir);
    expect(d.labels.map((l) => l.label)).toEqual(['walk', 'sit']);
    expect([...frameLabels(d, 'a_1')]).toEqual([1, 1, 0, 0, 0]); // the later-starting label wins
  });
});

describe('UTKinect import', () => {
  let conv: UtKinectConversion;
  beforeAll(() => {
    conv = convertUtKinect(UTK);
  });

  it('converts the 20 recordings of 10 subjects with their 10 actions each', () => {
    const d = conv.dataset;
    expect(d.fps).toBe(30);
    expect(d.joints).toEqual([...KINECT_V1_JOINTS]);
    expect(d.sequences).toHaveLength(20);
    const s = summarizeSkeletonDataset(d);
    expect(s.subjects).toEqual(['s01', 's02', 's03', 's04', 's05', 's06', 's07', 's08', 's09', 's10']);
    expect(conv.labelsFile).toBe(join(UTK_JOINTS, 'actionLabel_modified.txt'));
    for (const seq of d.sequences) {
      const meta = seq.meta as { firstFrameId: number; lastFrameId: number; observedFrames: number };
      expect(seq.subject).toBe(seq.name.slice(0, 3));
      expect(seq.frames).toBe(meta.lastFrameId - meta.firstFrameId + 1);
      const own = d.labels.filter((l) => l.sequence === seq.name);
      // The label file has no frame ids (NaN) for s10_e02's carry: skipped with a warning.
      const expected = UTKINECT_ACTIONS.filter((a) => seq.name !== 's10_e02' || a !== 'carry');
      expect(own.map((l) => l.label).sort()).toEqual([...expected].sort());
      for (const l of own) {
        expect(l.start).toBeGreaterThanOrEqual(0);
        expect(l.end).toBeGreaterThan(l.start);
        expect(l.end).toBeLessThanOrEqual(seq.frames);
      }
      own.slice(1).forEach((l, i) => expect(l.start).toBeGreaterThanOrEqual(own[i].end)); // no overlaps
    }
    expect(d.labels).toHaveLength(199);
    expect(conv.warnings).toEqual(['s10_e02 carry: no frame ids (NaN) in actionLabel_modified.txt; skipped']);
    expect(d.labelsMayOverlap).toBe(false);
    // s01_e01 starts at frame id 190; "walk: 252 390" -> frames [62, 201); pull 1640-1686 then push 1686-1748
    // share id 1686, which goes to push.
    const s01 = d.labels.filter((l) => l.sequence === 's01_e01');
    expect(s01.find((l) => l.label === 'walk')).toMatchObject({ start: 62, end: 201 });
    expect(s01.find((l) => l.label === 'pull')).toMatchObject({ start: 1450, end: 1496 });
    expect(s01.find((l) => l.label === 'push')).toMatchObject({ start: 1496, end: 1559 });
    expect(conv.observedFrames + conv.interpolatedFrames).toBe(s.frames);
  });

  it('puts written frames at t = id - firstId in world coordinates, keeps the first of a repeated id, interpolates', () => {
    const file = join(UTK_JOINTS, 'joints_s01_e01.txt');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const rec = parseUtKinectJoints(lines.join('\n'), file);
    const seq = conv.dataset.sequences[0];
    const sensorZ = (seq.meta as { sensorWorld: number[] }).sensorWorld[2];
    const at = (t: number, j: number) =>
      Array.from(seq.positions.subarray((t * 20 + j) * 3, (t * 20 + j) * 3 + 3));
    // The first line: frame 190, HipCenter (0.807139, -0.063421, 1.998671) in Kinect space -> X = -x, Y = z, Z = y + h.
    const [x0, y0, z0] = at(0, 0);
    expect(x0).toBeCloseTo(-0.807139, 5);
    expect(y0).toBeCloseTo(1.998671, 5);
    expect(z0).toBeCloseTo(-0.063421 + sensorZ, 5);
    // A repeated frame id keeps its first line.
    const ids = lines.map((l) => Number(l.split(/\s+/)[0]));
    const k = ids.findIndex((id, i) => i > 0 && id === ids[i - 1]);
    expect(k).toBeGreaterThan(0);
    const first = lines[k - 1].trim().split(/\s+/).map(Number);
    const t = ids[k] - ids[0];
    expect(at(t, 3)[2]).toBeCloseTo(first[3 * 3 + 2] + sensorZ, 5);
    expect(rec.repeated).toBe((seq.meta as { repeatedFrameIds: number }).repeatedFrameIds);
    // A frame between two written ids two apart is their mean.
    const g = rec.ids.findIndex((id, i) => rec.ids[i + 1] - id === 2);
    const tg = rec.ids[g] - rec.ids[0];
    for (let c = 0; c < 3; c++)
      expect(at(tg + 1, 7)[c]).toBeCloseTo((at(tg, 7)[c] + at(tg + 2, 7)[c]) / 2, 5);
  });

  it('stands people 1.5-2 m tall on a roughly horizontal floor at z = 0, facing the sensor', () => {
    const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))];
    for (const s of conv.dataset.sequences) {
      const low: number[] = [];
      const head: number[] = [];
      const depth: number[] = [];
      let facing = 0;
      for (let t = 0; t < s.frames; t++) {
        const p = (j: number, c: number) => s.positions[(t * 20 + j) * 3 + c];
        low.push(Math.min(p(15, 2), p(19, 2)));
        head.push(p(3, 2) - low[t]);
        depth.push(p(0, 1));
        // forward = Z x (shoulderRight - shoulderLeft), towards the sensor at the origin (a proper rotation).
        const rx = p(8, 0) - p(4, 0);
        const ry = p(8, 1) - p(4, 1);
        if (-ry * -p(0, 0) + rx * -p(0, 1) > 0) facing++;
      }
      const height = q(head, 0.5) + 0.15; // head joint ~10 cm under the crown, foot joint ~5 cm over the sole
      expect(height, s.name).toBeGreaterThan(1.5);
      expect(height, s.name).toBeLessThan(2.0);
      expect(Math.abs(q(low, 0.5)), s.name).toBeLessThan(0.02);
      expect(q(low, 0.75) - q(low, 0.25), s.name).toBeLessThan(0.12 * height);
      // Floor height against depth: the uncorrected sensor tilt stays within a few degrees.
      const my = depth.reduce((a, b) => a + b) / depth.length;
      const mz = low.reduce((a, b) => a + b) / low.length;
      let sxy = 0;
      let sxx = 0;
      depth.forEach((y, i) => ((sxy += (y - my) * (low[i] - mz)), (sxx += (y - my) ** 2)));
      expect(Math.abs(Math.atan(sxy / sxx)) * (180 / Math.PI), s.name).toBeLessThan(8);
      expect(facing / s.frames, s.name).toBeGreaterThan(0.95);
    }
  });

  it('writes and reads back the converted dataset', () => {
    const dir = join(tempDir('studio-utk-'), 'utkinect');
    writeSkeletonDataset(dir, conv.dataset);
    const back = readSkeletonDataset(dir);
    expect(back.labels).toEqual(conv.dataset.labels);
    expect(back.sequences.map((s) => [s.name, s.subject, s.frames])).toEqual(
      conv.dataset.sequences.map((s) => [s.name, s.subject, s.frames]),
    );
    expect(back.sequences[19].positions).toEqual(conv.dataset.sequences[19].positions);
    expect(back.source?.labels).toBe('actionLabel_modified.txt');
  });

  it('names the file and the problem in damaged UTKinect input', () => {
    const make = (joints: string, labels: string) => {
      const dir = tempDir('studio-utk-');
      writeFileSync(join(dir, 'joints_s01_e01.txt'), joints);
      writeFileSync(join(dir, 'actionLabel.txt'), labels);
      return dir;
    };
    const line = (id: number) => `${id} ${Array.from({ length: 60 }, () => '0.5').join(' ')}`;
    const good = [line(10), line(12), line(16)].join('\n');
    const ok = convertUtKinect(make(good, 's01_e01\nwalk: 12 16\n'));
    expect(ok.dataset.sequences[0].frames).toBe(7);
    expect(ok.dataset.labels).toEqual([{ sequence: 's01_e01', start: 2, end: 7, label: 'walk' }]);
    expect(ok.interpolatedFrames).toBe(4);
    expect(() => convertUtKinect(make(`${good}\n12 0.1 0.2`, 's01_e01\n'))).toThrow(
      /joints_s01_e01\.txt: line 4 has 3 values, expected 61/,
    );
    expect(() => convertUtKinect(make(`${good}\n${line(8)}`, 's01_e01\n'))).toThrow(
      /joints_s01_e01\.txt: line 4: frame id 8 after 16 \(ids must not decrease\)/,
    );
    expect(() => convertUtKinect(make(good.replace('0.5', 'abc'), 's01_e01\n'))).toThrow(
      /joints_s01_e01\.txt: line 1, value 2 is not a number/,
    );
    expect(() => convertUtKinect(make(good, 's01_e01\nwalk: 12 40\n'))).toThrow(
      /actionLabel\.txt: s01_e01 walk: frame ids 12-40 are outside the recording \(ids 10-16\)/,
    );
    expect(() => convertUtKinect(make(good, 'walk: 12 14\n'))).toThrow(
      /actionLabel\.txt: line 1: action before the first recording name/,
    );
    expect(() => convertUtKinect(make(good, 's01_e01\nwalk 12 14\n'))).toThrow(
      /actionLabel\.txt: line 2: "walk 12 14" is neither a recording/,
    );
    expect(() => convertUtKinect(tempDir('studio-utk-'))).toThrow(/no joints_sXX_eYY\.txt files/);
  });

  it('studio dataset import utkinect / info print a summary and one JSON line', () => {
    const dataDir = tempDir('studio-utk-cli-');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'main/cli/index.ts'), ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
    const r = cli('--data-dir', dataDir, 'dataset', 'import', 'utkinect', UTK, '--format', 'csv', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).toMatchObject({
      out: join(dataDir, 'datasets', 'utkinect'),
      sequences: 20,
      labels: 199,
      fps: 30,
    });
    expect(r.stderr).toMatch(/20 sequences \(10 subjects\), \d+ frames \([\d.]+ min at 30 fps\)/);
    expect(existsSync(join(dataDir, 'datasets', 'utkinect', 'sequences', 's10_e02.csv'))).toBe(true);
    const info = cli('dataset', 'info', join(dataDir, 'datasets', 'utkinect'));
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/utkinect .*: 20 sequences \(10 subjects\).*199 labels \(10 actions\)/);
  });
});
