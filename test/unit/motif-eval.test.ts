import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SkeletonDataset, writeSkeletonDataset } from '../../main/capture/skeleton-dataset';
import {
  evaluateMotifModel,
  evaluateMotifs,
  trainEvalModel,
  type MotifEvalResult,
} from '../../main/motifs/eval-motifs';
import { directionDiagnostic } from '../../main/motifs/eval-direction';
import { clipMeans, concatLevels, skippedFrames } from '../../main/motifs/eval-scores';
import type { A4MerTrainOverrides } from '../../main/motifs/train-options';
import { TINY_A4MER_NET } from './motif-fixtures';
import { cleanupTempDirs, tempDir } from './fixtures';

const JOINTS = [
  'HipLeft',
  'HipRight',
  'ShoulderLeft',
  'ShoulderRight',
  'ShoulderCenter',
  'HandLeft',
  'HandRight',
];
const FPS = 10;
/** Each sequence: wave (both hands up and swinging sideways) then squat (body bobbing, hands low), 12 s each. */
const ACTION_FRAMES = 120;

/** One frame of a synthetic body; `phase` in radians, `subject` shifts sizes a little. */
function pose(action: 'wave' | 'squat', phase: number, subject: number, out: Float32Array, o: number): void {
  const k = 1 + 0.05 * subject;
  const hipZ = action === 'squat' ? 0.9 - 0.25 * (0.5 + 0.5 * Math.sin(phase)) : 0.9;
  const sh = hipZ + 0.5 * k;
  const p: number[][] = [
    [-0.1, 0, hipZ],
    [0.1, 0, hipZ],
    [-0.18, 0, sh],
    [0.18, 0, sh],
    [0, 0, sh + 0.05],
    action === 'wave' ? [-0.3 + 0.15 * Math.sin(phase), 0, sh + 0.45] : [-0.2, 0.25, hipZ + 0.1],
    action === 'wave' ? [0.3 + 0.15 * Math.sin(phase), 0, sh + 0.45] : [0.2, 0.25, hipZ + 0.1],
  ];
  p.forEach((q, j) => q.forEach((v, c) => (out[o + 3 * j + c] = v)));
}

function makeDataset(): SkeletonDataset {
  const sequences: SkeletonDataset['sequences'] = [];
  const labels: SkeletonDataset['labels'] = [];
  for (let s = 1; s <= 4; s++) {
    const name = `s0${s}_e01`;
    const frames = 2 * ACTION_FRAMES;
    const positions = new Float32Array(frames * JOINTS.length * 3);
    for (let t = 0; t < frames; t++) {
      const action = t < ACTION_FRAMES ? 'wave' : 'squat';
      pose(action, (2 * Math.PI * t) / (FPS * (1.5 + 0.1 * s)), s, positions, t * JOINTS.length * 3);
    }
    sequences.push({
      name,
      subject: `s0${s}`,
      frames,
      positions,
      meta: { longGaps: [[ACTION_FRAMES + 30, ACTION_FRAMES + 40]] },
    });
    labels.push({ sequence: name, start: 10, end: ACTION_FRAMES, label: 'wave' });
    labels.push({ sequence: name, start: ACTION_FRAMES, end: frames - 10, label: 'squat' });
  }
  return { name: 'synthetic', fps: FPS, joints: JOINTS, sequences, labels };
}

const STAGE = TINY_A4MER_NET;
const TINY: A4MerTrainOverrides = {
  input: { windowFrames: 30 },
  stage1: STAGE,
  stage2: STAGE,
  batch: 4,
  trainStride: 15,
  checkpointEvery: 100,
};

let result: MotifEvalResult;
let datasetDir: string;
let workDir: string;

beforeAll(async () => {
  datasetDir = join(tempDir(), 'synthetic');
  writeSkeletonDataset(datasetDir, makeDataset());
  const fractions: number[] = [];
  result = await evaluateMotifs(datasetDir, {
    steps: { stage1: 4, stage2: 3, joint: 3 },
    seed: 3,
    train: TINY,
    workDir: (workDir = tempDir()),
    onProgress: (f) => fractions.push(f),
  });
  expect(fractions.at(-1)).toBe(1);
}, 60_000);
afterAll(() => cleanupTempDirs());

describe('evaluateMotifs', () => {
  it('reports every method with figures in range', () => {
    expect(Object.keys(result.methods).sort()).toEqual(['a4mer', 'clip', 'jepa', 'raw']);
    for (const f of Object.values(result.methods)) {
      for (const v of [f.knnTop1, f.knnTop3, f.boundaryF1, f.boundaryPrecision, f.boundaryRecall]) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(f.knnTop3).toBeGreaterThanOrEqual(f.knnTop1);
      expect(f.sl).toBeGreaterThanOrEqual(1);
      expect(f.sl).toBeLessThanOrEqual(2 * ACTION_FRAMES);
    }
    // Two classes: top-3 always contains the truth.
    expect(result.methods.raw.knnTop3).toBe(1);
    expect(result.methods.raw.sl).toBe(1);
    // Single frames are pure; longer segments can straddle the action changes.
    expect(result.methods.raw.purity).toBe(1);
    for (const f of Object.values(result.methods)) expect(f.purity).toBeGreaterThan(0.5);
    expect(result.clipLength).toBe(Math.max(1, Math.round(result.methods.a4mer.sl)));
    expect(result.trainSeconds).toBeGreaterThan(0);
    expect(result.steps).toEqual({ stage1: 4, stage2: 3, joint: 3 });
    expect(result.toleranceFrames).toBe(FPS);
    expect(result.classes).toEqual(['squat', 'wave']);
  });

  it('reports the atom-level diagnostics beside the methods', () => {
    for (const f of Object.values(result.diagnostics)) {
      expect(f.knnTop1).toBeGreaterThanOrEqual(0);
      expect(f.knnTop1).toBeLessThanOrEqual(1);
    }
    // Motifs are runs of atoms: atoms are never longer.
    expect(result.diagnostics.a4merAtoms.sl).toBeLessThanOrEqual(result.methods.a4mer.sl + 1e-9);
    expect(result.diagnostics.jepaAtoms.sl).toBeLessThanOrEqual(result.methods.jepa.sl + 1e-9);
    // Both levels together: motif segments, atom + motif width.
    expect(result.diagnostics.a4merLevels.sl).toBe(result.methods.a4mer.sl);
    expect(result.diagnostics.a4merLevels.dim).toBe(
      result.diagnostics.a4merAtoms.dim + result.methods.a4mer.dim,
    );
  });

  it('resume reuses the finished trainings: same figures, no new training', async () => {
    const t0 = performance.now();
    const again = await evaluateMotifs(datasetDir, {
      steps: { stage1: 4, stage2: 3, joint: 3 },
      seed: 3,
      train: TINY,
      workDir,
      resume: true,
    });
    expect(again.methods).toEqual(result.methods);
    expect(again.diagnostics).toEqual(result.diagnostics);
    expect(performance.now() - t0).toBeLessThan(60_000);
  }, 60_000);

  it('scores one model folder alone (--model) exactly as the full evaluation did', async () => {
    const r = await evaluateMotifModel(datasetDir, join(workDir, 'a4mer'));
    expect(r.views.motifs).toEqual(result.methods.a4mer);
    expect(r.views.atoms).toEqual(result.diagnostics.a4merAtoms);
    expect(r.views.levels).toEqual(result.diagnostics.a4merLevels);
    expect(r.validation.motifs).toEqual(result.validation.a4mer);
    expect(r.split.trainSubjects).toEqual(result.split.trainSubjects);
    // the moving sequences' tokens change when played backwards, a still pose's do not
    expect(r.direction.atoms).toBeGreaterThan(0);
    expect(r.direction.atomReversed).toBeLessThan(1 - 1e-4);
    const frames = 300;
    const still = new Float32Array(frames * JOINTS.length * 3);
    for (let t = 0; t < frames; t++) pose('squat', 1, 0, still, t * JOINTS.length * 3);
    const seq = { source: 'still', names: JOINTS, fps: FPS, frames, positions: still };
    const d = await directionDiagnostic(join(workDir, 'a4mer'), [seq]);
    expect(d.atoms).toBeGreaterThan(0);
    expect(d.atomReversed).toBeCloseTo(1, 5);
    if (d.motifs > 0) expect(d.motifReversed).toBeCloseTo(1, 5);
    await expect(evaluateMotifModel(datasetDir, join(workDir, 'none'))).rejects.toThrow(
      /none.vocabulary\.json: not found/,
    );
  });

  it('a method trained alone (--train-only) is what the full evaluation trains', async () => {
    const options = { steps: { stage1: 4, stage2: 3, joint: 3 }, seed: 3, train: TINY, workDir: tempDir() };
    const t = await trainEvalModel(datasetDir, 'jepa', options);
    expect(t.dir).toBe(join(options.workDir, 'jepa'));
    const r = await evaluateMotifs(datasetDir, { ...options, resume: true });
    expect(r.methods).toEqual(result.methods);
    // a seed or loss in the overrides would be replaced by the evaluation's: refused, not ignored
    await expect(
      trainEvalModel(datasetDir, 'a4mer', { ...options, train: { ...TINY, seed: 2 } }),
    ).rejects.toThrow(/overrides set seed; give the seed as --seed/);
    await expect(
      evaluateMotifs(datasetDir, { ...options, train: { ...TINY, loss: 'local' } }),
    ).rejects.toThrow(/overrides set loss/);
  }, 60_000);

  it('separates the two synthetic actions from raw poses', () => {
    expect(result.methods.raw.knnTop1).toBeGreaterThan(0.95);
    // The same among the training subjects alone (leave one of s01, s02 out).
    expect(result.validation.raw).toMatchObject({ folds: 2 });
    expect(result.validation.raw.knnTop1).toBeGreaterThan(0.95);
    expect(Object.keys(result.validation).sort()).toEqual([
      'a4mer',
      'a4merAtoms',
      'a4merLevels',
      'clip',
      'jepa',
      'jepaAtoms',
      'jepaLevels',
      'raw',
    ]);
    expect(result.methods.clip.knnTop1).toBeGreaterThan(0.8);
  });

  it('splits by subject and skips the long gaps', () => {
    expect(result.split.trainSubjects).toEqual(['s01', 's02']);
    expect(result.split.testSubjects).toEqual(['s03', 's04']);
    expect(result.split.trainSequences + result.split.testSequences).toBe(4);
    // Training saw only the training subjects' sequences.
    expect(result.split.trainedOn).toEqual(['synthetic/s01_e01', 'synthetic/s02_e01']);
    for (const m of ['a4mer', 'jepa']) {
      const vocab = JSON.parse(readFileSync(join(workDir, m, 'vocabulary.json'), 'utf8'));
      expect(vocab.training.sequences).toBe(2);
      expect(vocab.training.loss).toBe(m);
    }
    // Labelled frames per sequence: 2 * 120 - 20 = 220, minus the 10 gap frames, every stride-th.
    expect(result.frames.knnStride).toBe(2);
    expect(result.frames.skipped).toBe(40);
    expect(result.frames.gallery).toBe(2 * 105);
    expect(result.frames.queries).toBe(2 * 105);
  });

  it('raw boundaries: every frame is a boundary, so recall is full and precision tiny', () => {
    expect(result.methods.raw.boundaryRecall).toBe(1);
    expect(result.methods.raw.boundaryPrecision).toBeLessThan(0.05);
  });
});

describe('eval-motifs helpers', () => {
  it('clipMeans averages each clip', () => {
    const x = Float32Array.from([1, 3, 5, 7, 9]);
    expect([...clipMeans(x, 1, 5, 2)]).toEqual([2, 2, 6, 6, 9]);
  });

  it('concatLevels puts both levels side by side, each unit length', () => {
    const atom = Float32Array.from([3, 4, 0, 2]); // 2 frames x 2
    const motif = Float32Array.from([5, 0, 0, 0]); // 2 frames x 2; frame 1 all zero
    expect([...concatLevels(atom, 2, motif, 2, 2)].map((v) => +v.toFixed(6))).toEqual([
      0.6, 0.8, 1, 0, 0, 1, 0, 0,
    ]);
  });

  it('skippedFrames marks meta.longGaps and rejects bad entries', () => {
    expect([...skippedFrames({ longGaps: [[1, 3]] }, 5, 'a')]).toEqual([0, 1, 1, 0, 0]);
    expect([...skippedFrames(undefined, 2, 'a')]).toEqual([0, 0]);
    expect(() => skippedFrames({ longGaps: [[3, 1]] }, 5, 'ds/a')).toThrow(/ds\/a.*longGaps/);
  });
});
