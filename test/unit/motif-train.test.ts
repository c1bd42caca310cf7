import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError } from '../../main/capture/errors';
import type { SkeletonDataset } from '../../main/capture/skeleton-dataset';
import { convertUtKinect } from '../../main/capture/utkinect';
import { loadMotifExtractor, type MotifExtraction } from '../../main/motifs/extract';
import {
  datasetSequences,
  type DatasetSequence,
  naturalCompare,
  splitBySubject,
} from '../../main/motifs/sequences';
import { type A4MerTrainResult, trainA4Mer, type TrainLogRow } from '../../main/motifs/train';
import { CHECKPOINT_FILE } from '../../main/motifs/train-checkpoint';
import { trainingFingerprint } from '../../main/motifs/train-data';
import { type A4MerTrainOverrides, resolveTrainOptions } from '../../main/motifs/train-options';
import { readVocabulary, VOCABULARY_FILE } from '../../main/motifs/vocabulary';
import { TINY_A4MER_NET } from './motif-fixtures';
import { cleanupTempDirs, SHARED_DATA, tempDir } from './fixtures';

/** Tiny A4Mer: 8-wide networks, 8 s windows, 6 + 4 + 4 steps, a checkpoint every 3 steps. */
const TINY: A4MerTrainOverrides = {
  input: { windowFrames: 40 },
  stage1: TINY_A4MER_NET,
  stage2: TINY_A4MER_NET,
  steps: { stage1: 6, stage2: 4, joint: 4 },
  batch: 4,
  trainStride: 20,
  checkpointEvery: 3,
  logEvery: 1,
  seed: 7,
};
const TOTAL_STEPS = 14;

let dataset: SkeletonDataset;
let train: DatasetSequence[];
let test: DatasetSequence[];
let fresh: {
  result: A4MerTrainResult;
  rows: TrainLogRow[];
  fractions: number[];
  seconds: number;
  dir: string;
};

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  dataset = convertUtKinect(join(SHARED_DATA, 'utkinect')).dataset;
  const split = splitBySubject(datasetSequences(dataset), { label: 'utkinect' });
  // Two training recordings (subjects s01, s02) and one test recording keep the test fast.
  train = split.train.filter((s) => ['s01_e01', 's02_e01'].includes(s.name));
  test = split.test.filter((s) => s.name === 's06_e01');
});
afterAll(() => cleanupTempDirs());

const files = (dir: string): string[] => readdirSync(dir).sort();
const modelBytes = (dir: string): Buffer[] =>
  ['stage1.onnx', 'stage2.onnx'].map((f) => readFileSync(join(dir, f)));

/** Runs training, aborting (via the signal) once a log row of global step >= abortAt arrives. */
async function run(dir: string, overrides: A4MerTrainOverrides, abortAt = Infinity) {
  const rows: TrainLogRow[] = [];
  const fractions: number[] = [];
  const abort = new AbortController();
  const t0 = performance.now();
  const result = await trainA4Mer(
    train.map((s) => s.sequence),
    { ...TINY, ...overrides },
    {
      dir,
      signal: abort.signal,
      onProgress: (f) => fractions.push(f),
      log: (r) => {
        rows.push(...r);
        if (r.some((row) => row.step >= abortAt)) abort.abort();
      },
    },
  );
  return { result, rows, fractions, seconds: (performance.now() - t0) / 1000, dir };
}

function expectTiling(segments: { start: number; end: number }[], frames: number): void {
  expect(segments[0].start).toBe(0);
  for (let i = 1; i < segments.length; i++) expect(segments[i].start).toBe(segments[i - 1].end);
  for (const s of segments) expect(s.end).toBeGreaterThan(s.start);
  expect(segments[segments.length - 1].end).toBe(frames);
}

describe('by-subject split', () => {
  it('trains on the first half of the subjects in natural order', () => {
    const split = splitBySubject(datasetSequences(dataset), { label: 'utkinect' });
    expect(split.trainSubjects).toEqual(['s01', 's02', 's03', 's04', 's05']);
    expect(split.testSubjects).toEqual(['s06', 's07', 's08', 's09', 's10']);
    expect(split.train).toHaveLength(10);
    expect(split.test.every((s) => Number(s.subject.slice(1)) > 5)).toBe(true);
    expect(naturalCompare('s2', 's10')).toBeLessThan(0);
    expect(() => splitBySubject([{ subject: 'a' }, { subject: 'a' }], { label: 'one' })).toThrow(
      /'one'.*2 subjects/,
    );
    expect(() => splitBySubject(split.train, { trainSubjects: ['s99'] })).toThrow(/unknown training subject/);
  });
});

describe('A4Mer training pipeline', () => {
  it('fingerprints the options with their defaults filled in', () => {
    const seqs = train.map((s) => s.sequence);
    const print = (o: A4MerTrainOverrides): string => trainingFingerprint(seqs, resolveTrainOptions(o));
    // the defaults spelled out are the same run; another default (an older version's) is not
    expect(print({ input: { velocity: true }, atoms: { threshold: 0.1 } })).toBe(print({}));
    expect(print({ input: { velocity: false } })).not.toBe(print({}));
    expect(print({ optim: { stage1: { peakLr: 5e-4 } } })).toBe(print({}));
    expect(print({ optim: { stage1: { peakLr: 1e-3 } } })).not.toBe(print({}));
    // options that do not change the model do not count
    expect(print({ logEvery: 7, tokenBatch: 3, remineFinal: false })).toBe(print({}));
    expect(print({ seed: 2 })).not.toBe(print({}));
  });

  it('trains end to end, logs every step and writes the model files', async () => {
    const dir = tempDir('a4mer-train-');
    fresh = await run(dir, {});
    const { result, rows, fractions } = fresh;
    expect(fresh.seconds).toBeLessThan(60);
    expect(files(dir)).toEqual(
      expect.arrayContaining([CHECKPOINT_FILE, 'stage1.onnx', 'stage2.onnx', 'vocabulary.json']),
    );
    expect(files(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(rows.map((r) => r.step)).toEqual([...Array(TOTAL_STEPS).keys()]);
    expect(rows.map((r) => r.values.phase)).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    for (const r of rows) expect(Number.isFinite(r.values.loss)).toBe(true);
    // Stage 2 alone trains only stage 2; joint training sums both stages' losses.
    expect(rows[7].values.loss1).toBeUndefined();
    const joint = rows[12].values;
    expect(joint.loss).toBeCloseTo(joint.loss1 + joint.loss2, 5);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1])).toBe(true);
    expect(fractions[fractions.length - 1]).toBe(1);
    expect(result.resumedFrom).toBeNull();
    const v = readVocabulary(dir);
    expect(v.codebook.k).toBe(result.summary.codes);
    expect(v.codebook.k).toBeGreaterThan(1);
    expect(v.families.k).toBeGreaterThanOrEqual(1);
    expect(v.joints).toEqual(dataset.joints);
  });

  it('reads an older vocabulary (no velocity option) as without it; refuses a feature-size mismatch', () => {
    const raw = JSON.parse(readFileSync(join(fresh.dir, VOCABULARY_FILE), 'utf8'));
    const J = raw.joints.length;
    expect([raw.input.velocity, raw.stage1.inputDim]).toEqual([true, 6 * J + 5]);
    const dir = tempDir('a4mer-vocab-');
    delete raw.input.velocity;
    writeFileSync(join(dir, VOCABULARY_FILE), JSON.stringify(raw));
    expect(() => readVocabulary(dir)).toThrow(
      `${J} joints give ${3 * J + 4} features, stage1.inputDim is ${6 * J + 5}`,
    );
    raw.stage1.inputDim = 3 * J + 4; // as written before the option
    writeFileSync(join(dir, VOCABULARY_FILE), JSON.stringify(raw));
    expect(readVocabulary(dir).input.velocity).toBe(false);
  });

  it('extracts atoms and motifs that tile a test sequence in source frames', async () => {
    const ex = await loadMotifExtractor(fresh.dir, { providers: ['cpu'] });
    try {
      const seq = test[0].sequence;
      const out: MotifExtraction = await ex.extract(seq);
      expect(out.provider).toBe('cpu');
      expectTiling(out.atoms, seq.frames);
      expectTiling(out.motifs, seq.frames);
      const v = ex.vocabulary;
      const atomStarts = new Set(out.atoms.map((a) => a.start));
      expect(out.motifs.length).toBeLessThan(out.atoms.length); // some motifs are mined multi-atom patterns
      expect(out.motifs.some((m) => m.pattern >= 0)).toBe(true);
      for (const a of out.atoms) expect(a.code >= 0 && a.code < v.codebook.k).toBe(true);
      for (const m of out.motifs) {
        expect(atomStarts.has(m.start)).toBe(true); // atoms nested in motifs
        expect(m.end === seq.frames || atomStarts.has(m.end)).toBe(true);
        expect(m.pattern >= -1 && m.pattern < v.patterns.length).toBe(true);
        expect(m.family >= 0 && m.family < v.families.k).toBe(true);
        if (m.pattern >= 0) {
          const codes = out.atoms.filter((a) => a.start >= m.start && a.end <= m.end).map((a) => a.code);
          expect(codes).toEqual(v.patterns[m.pattern]);
        }
      }
      const reps = await ex.frameRepresentations(seq);
      expect(reps.frames).toBe(seq.frames);
      expect(reps.motif).toHaveLength(seq.frames * reps.motifDim);
      const m = out.motifs.find((s) => s.end - s.start >= 2)!;
      const row = (f: number) => Array.from(reps.motif.subarray(f * reps.motifDim, (f + 1) * reps.motifDim));
      expect(row(m.start)).toEqual(row(m.end - 1));
      expect(row(m.start).some((x) => x !== 0)).toBe(true);
      expect(row(0)).not.toEqual(row(seq.frames - 1));
    } finally {
      await ex.dispose();
    }
  });

  it('resumes after cancellations to the same model as an uninterrupted run', async () => {
    const dir = tempDir('a4mer-resume-');
    // Cancelled in phase 1 after step 4: the last complete checkpoint is stage 1 at step 3.
    await expect(run(dir, {}, 4)).rejects.toBeInstanceOf(CancelledError);
    let ckpt = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8'));
    expect([ckpt.meta.phase, ckpt.meta.step]).toEqual(['stage1', 3]);
    expect(files(dir)).toEqual([CHECKPOINT_FILE, ckpt.bin].sort()); // nothing half-written, no model files yet
    // Resumed, then cancelled again in the joint phase (global step 11 = joint step 1): checkpoint at stage 2's end.
    const second = await run(dir, { resume: true }, 11).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(CancelledError);
    ckpt = JSON.parse(readFileSync(join(dir, CHECKPOINT_FILE), 'utf8'));
    expect([ckpt.meta.phase, ckpt.meta.step]).toEqual(['stage2', 4]);
    expect(files(dir)).toEqual([CHECKPOINT_FILE, ckpt.bin].sort());
    const last = await run(dir, { resume: true });
    expect(last.result.resumedFrom).toEqual({ phase: 'stage2', step: 4 });
    expect(last.rows.map((r) => r.step)).toEqual([10, 11, 12, 13]);
    expect(last.rows.map((r) => r.values)).toEqual(
      fresh.rows.slice(10).map((r) => ({ ...r.values, ms: expect.any(Number) })),
    );
    const [a1, a2] = modelBytes(dir);
    const [b1, b2] = modelBytes(fresh.dir);
    expect(a1.equals(b1)).toBe(true);
    expect(a2.equals(b2)).toBe(true);
    const va = readVocabulary(dir);
    const vb = readVocabulary(fresh.dir);
    expect(va.codebook.centroids).toEqual(vb.codebook.centroids);
    expect(va.patterns).toEqual(vb.patterns);
    expect(va.families.centroids).toEqual(vb.families.centroids);
  });

  it('ships patterns mined again from the final codes; remineFinal false keeps the stage-1 ones', async () => {
    const v = readVocabulary(fresh.dir);
    expect(v.patterns).toHaveLength(fresh.result.summary.finalPatterns as number);
    // Re-finalising the finished run (remineFinal is not part of the fingerprint): no training step.
    const dir = tempDir('a4mer-keep-patterns-');
    cpSync(fresh.dir, dir, { recursive: true });
    const kept = await run(dir, { resume: true, remineFinal: false });
    expect(kept.rows).toEqual([]);
    expect(readVocabulary(dir).patterns).toHaveLength(kept.result.summary.patterns as number);
    expect(modelBytes(dir)).toEqual(modelBytes(fresh.dir));
  });

  it('refuses to resume a checkpoint of other options, and trains the ablation losses', async () => {
    const dir = tempDir('a4mer-ablation-');
    await expect(run(dir, {}, 2)).rejects.toBeInstanceOf(CancelledError); // checkpoint at step 3
    await expect(run(dir, { resume: true, seed: 8 })).rejects.toThrow(
      /checkpoint\.json: the checkpoint was made with other/,
    );
    const tensors = tf.memory().numTensors;
    const jepa = await run(dir, { loss: 'jepa', steps: { stage1: 2, stage2: 1, joint: 1 } });
    expect(tf.memory().numTensors).toBe(tensors); // every model, target and moment freed
    expect(readVocabulary(dir).training.loss).toBe('jepa');
    // The original JEPA loss is the plain smooth-L1 distance the a4mer run only reports as a diagnostic.
    for (const r of jepa.rows)
      expect(r.values.loss1 ?? r.values.loss2).toBeCloseTo(r.values.jepa1 ?? r.values.jepa2, 6);
    expect(fresh.rows[0].values.loss1).not.toBeCloseTo(fresh.rows[0].values.jepa1, 3);
  });
});

it('rejects bad options before any work', async () => {
  const dir = join(tempDir(), 'model');
  await expect(trainA4Mer([], { batch: 0 }, { dir })).rejects.toThrow(/batch = 0/);
  await expect(trainA4Mer([], { steps: { joint: 1.5 } }, { dir })).rejects.toThrow(/steps\.joint = 1\.5/);
  await expect(trainA4Mer([], {}, { dir })).rejects.toThrow(/no sequences/);
  expect(existsSync(dir)).toBe(false);
});
