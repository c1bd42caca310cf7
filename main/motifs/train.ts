/**
 * The A4Mer training pipeline as a library function (paper, "Loss & Training"; phases and defaults in
 * train-options.ts): stage 1 on atoms -> mining (codes, patterns, motif covers) -> stage 2 on motifs
 * (stage 1 frozen) -> both stages jointly -> final codebook, covers and motif families -> the model
 * folder: stage1.onnx and stage2.onnx (EMA target networks: what extraction runs), vocabulary.json.
 *
 * Durable: a checkpoint (train-state.ts: weights, EMA targets, AdamW moments, phase, step, mining
 * results) is committed atomically every `checkpointEvery` steps and at each phase's end; with
 * `resume: true` the run continues from it and produces bit-for-bit the result of an uninterrupted run
 * (batches and masks come from (seed, phase, step) streams, everything else is restored). Without
 * `resume` an old checkpoint in the folder is deleted first. The checkpoint records a fingerprint of the
 * data and the result-relevant options; resuming with other ones is an Error. Cancel with `signal`
 * (checked between steps and token batches): the run throws CancelledError (capture/errors.ts) and
 * leaves the last committed checkpoint; files are only ever written whole (temp + rename).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { throwIfAborted } from '../capture/errors';
import { Rng } from '../capture/sample/rng';
import { resolveAtomConfig, resolveInputConfig } from './config';
import type { StageConfig } from './model/config';
import { copyStageModel, createStageModel } from './model/model';
import { trainStep } from './model/train-step';
import { createNestedTrainer, type LossFigures, nestedStep } from './nested-step';
import { exportStageOnnx } from './onnx/export-stage';
import type { A4MerSequence } from './preprocess';
import { cleanCheckpointDebris, removeCheckpoint, writeFileAtomic } from './train-checkpoint';
import {
  mixSeed,
  pickWindows,
  prepareWindows,
  stage1Batch,
  stage2Layout,
  trainingFingerprint,
} from './train-data';
import { finalizeMining, mineMotifs, motifMaps } from './train-mining';
import {
  type A4MerTrainOptions,
  type A4MerTrainOverrides,
  extractionInputConfig,
  miningConfigs,
  phaseTrainConfig,
  resolveTrainOptions,
  stageConfigs,
  type TrainPhase,
  TRAIN_PHASES,
} from './train-options';
import {
  disposeTrainState,
  freshTrainState,
  loadTrainState,
  saveTrainState,
  type TrainState,
} from './train-state';
import { STAGE1_FILE, STAGE2_FILE, VOCABULARY_FILE, VOCABULARY_FORMAT, vocabularyJson } from './vocabulary';

/** One logged step: the global step (phases back to back) and its figures (training-log columns). */
export interface TrainLogRow {
  step: number;
  values: Record<string, number>;
}

export interface TrainJob {
  /** the model folder (created): checkpoints while training, the model files at the end */
  dir: string;
  /** fraction 0..1 of the whole run, a line for people, and the latest figures */
  onProgress?: (fraction: number, message: string, figures: Record<string, number | string>) => void;
  signal?: AbortSignal;
  /** logged rows, in order, awaited (e.g. appendTrainingLog); steps after a checkpoint repeat on resume */
  log?: (rows: TrainLogRow[]) => void | Promise<void>;
  /** tfjs backend (default 'wasm'); a resumed run must use the same one to reproduce */
  backend?: 'wasm' | 'cpu';
}

export interface A4MerTrainResult {
  dir: string;
  files: { stage1: string; stage2: string; vocabulary: string };
  options: A4MerTrainOptions;
  stage1: StageConfig;
  stage2: StageConfig;
  /** library size, codes, patterns, motifs, families, mean atom / motif length (model frames) ... */
  summary: Record<string, number | string>;
  /** where this call started: null for a fresh run */
  resumedFrom: { phase: TrainPhase; step: number } | null;
  /** training time over all calls (seconds, carried by the checkpoints) */
  trainSeconds: number;
}

/** Relative cost of a step per phase (progress fraction); mining and finalising ~3% of the steps each. */
const STEP_COST: Record<TrainPhase, number> = { stage1: 1, stage2: 0.6, joint: 1.3 };

async function ensureBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (tf.getBackend() !== name) await tf.setBackend(name);
  await tf.ready();
}

const lossColumns = (suffix: string, f: LossFigures | null): Record<string, number> =>
  f ? Object.fromEntries(Object.entries(f).map(([k, v]) => [`${k}${suffix}`, v])) : {};

/**
 * Trains A4Mer on `sequences` (one skeleton) into `job.dir` (see the file comment). Log columns: phase
 * (1, 2, 3), loss (the optimised total), loss1/local1/global1/lambda1/jepa1 (stage 1, when trained),
 * loss2/... (stage 2), lr, gradNorm, ms. Global step = N1 + N2 offsets of the phases.
 */
export async function trainA4Mer(
  sequences: readonly A4MerSequence[],
  overrides: A4MerTrainOverrides,
  job: TrainJob,
): Promise<A4MerTrainResult> {
  const o = resolveTrainOptions(overrides);
  const { dir, signal } = job;
  await ensureBackend(job.backend ?? 'wasm');
  const started = performance.now();
  const trainInput = { ...resolveInputConfig(o.input), stride: o.trainStride };
  const trainLib = prepareWindows(sequences, trainInput, o.atoms);
  const mineInput = extractionInputConfig(o.input);
  const mineLib =
    o.trainStride === mineInput.stride ? trainLib : prepareWindows(sequences, mineInput, o.atoms);
  const configs = stageConfigs(o, trainLib.D);
  const { stage1, stage2 } = configs;
  const fingerprint = trainingFingerprint(sequences, o);
  mkdirSync(dir, { recursive: true });

  const offsets: Record<TrainPhase, number> = {
    stage1: 0,
    stage2: o.steps.stage1,
    joint: o.steps.stage1 + o.steps.stage2,
  };
  const before = (p: TrainPhase): number =>
    TRAIN_PHASES.slice(0, TRAIN_PHASES.indexOf(p)).reduce((n, q) => n + STEP_COST[q] * o.steps[q], 0);
  const stageUnits = 0.03 * before('joint') + 0.03 * STEP_COST.joint * o.steps.joint;
  const total = before('joint') + STEP_COST.joint * o.steps.joint + 2 * stageUnits;
  const fraction = (p: TrainPhase, step: number): number =>
    (before(p) + STEP_COST[p] * step + (p === 'stage1' ? 0 : stageUnits)) / total;

  cleanCheckpointDebris(dir);
  if (!o.resume) removeCheckpoint(dir);
  const loaded = o.resume ? loadTrainState(dir, o, configs, fingerprint) : null;
  const state: TrainState = loaded?.state ?? freshTrainState(o, configs);
  const resumedFrom = loaded ? { phase: loaded.meta.phase, step: loaded.meta.step } : null;
  const priorSeconds = loaded?.meta.seconds ?? 0;
  const seconds = (): number => priorSeconds + (performance.now() - started) / 1000;

  let rows: TrainLogRow[] = [];
  const flush = async (): Promise<void> => {
    if (rows.length > 0 && job.log) await job.log(rows);
    rows = [];
  };
  const random = (phaseTag: number, step: number): (() => number) => {
    const rng = new Rng(mixSeed(o.seed, phaseTag, step, 0xba7c));
    return () => rng.next();
  };
  /** Runs phase p from its current step to its end: log rows, progress, checkpoints. */
  const phaseLoop = async (
    p: TrainPhase,
    at: () => number,
    stepOnce: (step: number) => Record<string, number>,
  ): Promise<void> => {
    const n = o.steps[p];
    while (at() < n) {
      throwIfAborted(signal);
      const step = at();
      const values = stepOnce(step);
      rows.push({ step: offsets[p] + step, values: { phase: TRAIN_PHASES.indexOf(p) + 1, ...values } });
      const next = step + 1;
      const commit = next % o.checkpointEvery === 0 || next === n;
      if (next % o.logEvery === 0 || commit) {
        await flush();
        const message = `${p}: step ${next}/${n}, loss ${values.loss.toPrecision(4)}`;
        job.onProgress?.(fraction(p, next), message, { phase: p, step: next, steps: n, ...values });
      }
      if (commit) saveTrainState(dir, state, next, fingerprint, seconds());
    }
  };
  const nestedLoop = async (p: TrainPhase, phaseTag: number): Promise<void> => {
    const motifOf = motifMaps(trainLib, state.mining!.covers);
    const n = state.nested!;
    await phaseLoop(
      p,
      () => n.step,
      (step) => {
        const pick = pickWindows(trainLib.windows.length, o.batch, random(phaseTag, step));
        const b = stage1Batch(trainLib, pick);
        const layout2 = stage2Layout(
          b.layout,
          pick.map((w) => motifOf[w]),
        );
        const r = nestedStep(n, { x: b.x, layout1: b.layout, layout2 });
        return {
          loss: r.loss,
          ...lossColumns('1', r.stage1),
          ...lossColumns('2', r.stage2),
          lr: r.lr,
          gradNorm: r.gradNorm,
          ms: r.ms,
        };
      },
    );
  };

  try {
    // Phase 1: stage 1 on atoms, then mining and the start of stage 2.
    if (state.phase === 'stage1') {
      const t = state.trainer1!;
      await phaseLoop(
        'stage1',
        () => t.step,
        (step) => {
          const pick = pickWindows(trainLib.windows.length, o.batch, random(1, step));
          const r = trainStep(t, stage1Batch(trainLib, pick));
          const { loss, local, global, lambda, jepa } = r;
          const figures = lossColumns('1', { loss, local, global, lambda, jepa });
          return { loss, ...figures, lr: r.lr, gradNorm: r.gradNorm, ms: r.ms };
        },
      );
      await flush();
      job.onProgress?.(fraction('stage1', o.steps.stage1), 'mining motifs (codes, patterns, covers)', {});
      const mining = mineMotifs({ stage1: t.target, config1: stage1 }, mineLib, trainLib, { ...o, signal });
      const online2 = createStageModel(stage2, mixSeed(o.seed, 2));
      const target2 = copyStageModel(online2, { parts: ['enc', 'lf'], trainable: false });
      const common = { ...configs, weights: o.jointWeights, seed: o.seed };
      state.nested = createNestedTrainer({
        ...common,
        train: phaseTrainConfig(o, 'stage2'),
        joint: false,
        online1: t.model,
        target1: t.target,
        online2,
        target2,
      });
      t.optimizer.dispose();
      state.trainer1 = null;
      state.mining = mining;
      state.phase = 'stage2';
      saveTrainState(dir, state, 0, fingerprint, seconds());
      const message = `mined ${mining.codebook.k} codes and ${mining.patterns.length} patterns`;
      job.onProgress?.(fraction('stage2', 0), message, mining.stats);
    }
    // Phase 2: stage 2 on motifs (stage 1 frozen), then a fresh optimizer over both stages.
    if (state.phase === 'stage2') {
      await nestedLoop('stage2', 2);
      const n = state.nested!;
      n.optimizer.dispose();
      state.nested = createNestedTrainer({ ...n, train: phaseTrainConfig(o, 'joint'), joint: true });
      state.phase = 'joint';
    }
    // Phase 3: both stages jointly.
    await nestedLoop('joint', 3);
    await flush();

    // Final codes, families, and the model files.
    const n = state.nested!;
    job.onProgress?.(fraction('joint', o.steps.joint), 'final codes, motif families, ONNX export', {});
    const nets = { stage1: n.target1, config1: stage1, stage2: n.target2, config2: stage2 };
    const final = finalizeMining(nets, mineLib, state.mining!, { ...o, signal });
    throwIfAborted(signal);
    const files = {
      stage1: join(dir, STAGE1_FILE),
      stage2: join(dir, STAGE2_FILE),
      vocabulary: join(dir, VOCABULARY_FILE),
    };
    writeFileAtomic(files.stage1, exportStageOnnx(n.target1, stage1, { stage: 1 }));
    writeFileAtomic(files.stage2, exportStageOnnx(n.target2, stage2, { stage: 2 }));
    const trainSeconds = seconds();
    const summary: Record<string, number | string> = {
      loss: o.loss,
      sequences: sequences.length,
      trainWindows: trainLib.windows.length,
      mineWindows: mineLib.windows.length,
      ...state.mining!.stats,
      ...final.stats,
      trainSeconds,
    };
    const vocabulary = vocabularyJson({
      format: VOCABULARY_FORMAT,
      input: mineInput,
      atoms: resolveAtomConfig(o.atoms),
      joints: [...sequences[0].names],
      ...configs,
      codebook: final.codebook,
      patterns: final.patterns,
      patternSupport: final.patternSupport,
      families: final.families,
      mining: miningConfigs(o),
      training: { ...summary, steps: o.steps, batch: o.batch, seed: o.seed, fingerprint },
    });
    writeFileAtomic(files.vocabulary, vocabulary);
    job.onProgress?.(1, 'done', summary);
    return { dir, files, options: o, ...configs, summary, resumedFrom, trainSeconds };
  } finally {
    disposeTrainState(state);
  }
}
