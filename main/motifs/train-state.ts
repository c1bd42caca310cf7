/**
 * The in-memory state of an A4Mer training run and its checkpoint form (train-checkpoint.ts files).
 * Arrays: "s1.online/<weight>", "s1.target/<weight>" (stage 1, model.ts names), "s2.online/",
 * "s2.target/" (stage 2, once mined), "opt.m/<name>", "opt.v/<name>" (AdamW moments of the current
 * phase's optimizer: stage-1 names in phase 1, "s1." / "s2." prefixed names after), "codebook" (k x d1).
 * Meta (JSON): fingerprint, phase, step (steps done in the phase), seconds (training time so far),
 * optimizer update count, and the mining results without the codebook (patterns, covers, stats).
 */
import { join } from 'node:path';
import type { StageConfig } from './model/config';
import { createStageModel, type NamedWeight, type StageModel } from './model/model';
import { createTrainer, restoreTrainer, type Trainer } from './model/train-step';
import { createNestedTrainer, type NestedTrainer } from './nested-step';
import { arraysUnder, CHECKPOINT_FILE, prefixed, readCheckpoint, writeCheckpoint } from './train-checkpoint';
import type { MiningResult } from './train-mining';
import { type A4MerTrainOptions, phaseTrainConfig, type TrainPhase } from './train-options';

export interface TrainState {
  phase: TrainPhase;
  /** phase 1 */
  trainer1: Trainer | null;
  /** phases 2 and 3 */
  nested: NestedTrainer | null;
  mining: MiningResult | null;
}

export interface CheckpointMeta {
  fingerprint: string;
  phase: TrainPhase;
  step: number;
  seconds: number;
  optimizerUpdates: number;
  mining: (Omit<MiningResult, 'codebook'> & { k: number }) | null;
}

export interface StageConfigs {
  stage1: StageConfig;
  stage2: StageConfig;
}

export function freshTrainState(o: A4MerTrainOptions, c: StageConfigs): TrainState {
  return {
    phase: 'stage1',
    trainer1: createTrainer(c.stage1, phaseTrainConfig(o, 'stage1'), o.seed),
    nested: null,
    mining: null,
  };
}

/** Commits the state as the checkpoint of (phase, step). */
export function saveTrainState(
  dir: string,
  s: TrainState,
  step: number,
  fingerprint: string,
  seconds: number,
): void {
  const arrays: NamedWeight[] = [];
  let optimizer;
  if (s.phase === 'stage1') {
    const t = s.trainer1!;
    arrays.push(
      ...prefixed('s1.online/', t.model.exportWeights()),
      ...prefixed('s1.target/', t.target.exportWeights()),
    );
    optimizer = t.optimizer.exportState();
  } else {
    const n = s.nested!;
    const book = s.mining!.codebook;
    arrays.push(
      ...prefixed('s1.online/', n.online1.exportWeights()),
      ...prefixed('s1.target/', n.target1.exportWeights()),
      ...prefixed('s2.online/', n.online2.exportWeights()),
      ...prefixed('s2.target/', n.target2.exportWeights()),
      { name: 'codebook', shape: [book.k, book.dim], data: book.centroids },
    );
    optimizer = n.optimizer.exportState();
  }
  arrays.push(...prefixed('opt.m/', optimizer.m), ...prefixed('opt.v/', optimizer.v));
  let mining: CheckpointMeta['mining'] = null;
  if (s.mining) {
    const { codebook, ...rest } = s.mining;
    mining = { ...rest, k: codebook.k };
  }
  const meta: CheckpointMeta = {
    fingerprint,
    phase: s.phase,
    step,
    seconds,
    optimizerUpdates: optimizer.updates,
    mining,
  };
  writeCheckpoint(dir, `${s.phase}-${step}`, meta, arrays);
}

/**
 * The state of the committed checkpoint in `dir` (null when there is none). A checkpoint of other data
 * or options (fingerprint) is an Error naming the file.
 */
export function loadTrainState(
  dir: string,
  o: A4MerTrainOptions,
  c: StageConfigs,
  fingerprint: string,
): { state: TrainState; meta: CheckpointMeta } | null {
  const file = join(dir, CHECKPOINT_FILE);
  const ckpt = readCheckpoint(dir);
  if (!ckpt) return null;
  const meta = ckpt.meta as CheckpointMeta;
  if (meta?.fingerprint !== fingerprint) {
    throw new Error(
      `${file}: the checkpoint was made with other data or options; ` +
        'train into another folder or start afresh (resume: false)',
    );
  }
  const under = (prefix: string): NamedWeight[] => arraysUnder(ckpt.arrays, prefix);
  const optimizer = { updates: meta.optimizerUpdates, m: under('opt.m/'), v: under('opt.v/') };
  if (meta.phase === 'stage1') {
    const trainer1 = restoreTrainer({
      stage: c.stage1,
      train: phaseTrainConfig(o, 'stage1'),
      seed: o.seed,
      step: meta.step,
      online: under('s1.online/'),
      target: under('s1.target/'),
      optimizer,
    });
    return { state: { phase: 'stage1', trainer1, nested: null, mining: null }, meta };
  }
  const centroids = ckpt.arrays.get('codebook');
  if (!centroids || !meta.mining) throw new Error(`${file}: the mining results are missing`);
  const mining: MiningResult = {
    ...meta.mining,
    codebook: { k: meta.mining.k, dim: c.stage1.dModel, centroids: centroids.data },
  };
  const load = (cfg: StageConfig, target: boolean, prefix: string): StageModel => {
    const model = createStageModel(cfg, o.seed, target ? { parts: ['enc', 'lf'], trainable: false } : {});
    model.loadWeights(under(prefix));
    return model;
  };
  const nested = createNestedTrainer(
    {
      ...c,
      train: phaseTrainConfig(o, meta.phase),
      joint: meta.phase === 'joint',
      weights: o.jointWeights,
      seed: o.seed,
      online1: load(c.stage1, false, 's1.online/'),
      target1: load(c.stage1, true, 's1.target/'),
      online2: load(c.stage2, false, 's2.online/'),
      target2: load(c.stage2, true, 's2.target/'),
    },
    optimizer,
    meta.step,
  );
  return { state: { phase: meta.phase, trainer1: null, nested, mining }, meta };
}

/** Frees the tensors of a state (models, EMA targets, optimizer moments). */
export function disposeTrainState(s: TrainState): void {
  if (s.trainer1) {
    s.trainer1.model.dispose();
    s.trainer1.target.dispose();
    s.trainer1.optimizer.dispose();
  }
  if (s.nested) {
    const n = s.nested;
    n.optimizer.dispose();
    for (const m of new Set([n.online1, n.target1, n.online2, n.target2])) m.dispose();
  }
  s.trainer1 = null;
  s.nested = null;
}
