/**
 * Options of the A4Mer training pipeline (train.ts), every number a documented default. Callers pass a
 * partial object; `resolveTrainOptions` merges and validates it (an Error names the field and the value).
 *
 * The pipeline (paper, "Loss & Training"): (1) stage 1 (atoms) alone for `steps.stage1` (N1) steps;
 * (2) mining: stage-1 tokens of every atom of the training library -> k-means codes -> GSP patterns ->
 * per window a fewest-pieces cover -> motif segments; (3) stage 2 (motifs over stage-1 atom tokens) alone
 * for `steps.stage2` (N2) steps, stage 1 frozen; (4) both stages jointly for `steps.joint` (N3) steps.
 * Phases (3) and (4) use hierarchical masking: masking a motif masks its atoms in stage 1.
 */
import { type A4MerAtomConfig, type A4MerInputConfig, resolveAtomConfig, resolveInputConfig } from './config';
import {
  type A4MerFamilyConfig,
  type A4MerKMeansConfig,
  type A4MerPatternConfig,
  resolveFamilyConfig,
  resolveKMeansConfig,
  resolvePatternConfig,
} from './mining-config';
import {
  type JepaLossConfig,
  type JepaLossMode,
  resolveStageConfig,
  resolveTrainConfig,
  type StageConfig,
  type TrainConfig,
  TRAIN_DEFAULTS,
} from './model/config';

export type StageSizes = Omit<StageConfig, 'inputDim'>;
/** Optimisation overrides of one phase (its totalSteps is the phase's step count). */
export type PhaseOptim = Partial<Omit<TrainConfig, 'loss' | 'totalSteps'>> & {
  loss?: Partial<JepaLossConfig>;
};
export type TrainPhase = 'stage1' | 'stage2' | 'joint';
export const TRAIN_PHASES: readonly TrainPhase[] = ['stage1', 'stage2', 'joint'];

export interface A4MerTrainOptions {
  /** preprocessing (config.ts); stride is ignored: mining and extraction use stride = windowFrames */
  input: Partial<A4MerInputConfig>;
  atoms: Partial<A4MerAtomConfig>;
  /** stage-1 network sizes (model/config.ts STAGE_DEFAULTS); inputDim = the feature size (config.ts) */
  stage1: Partial<StageSizes>;
  /** stage-2 network sizes; inputDim = stage 1's dModel */
  stage2: Partial<StageSizes>;
  /** N1, N2, N3 (see the file comment) */
  steps: Record<TrainPhase, number>;
  /** windows per optimisation step */
  batch: number;
  /**
   * model frames between the starts of training windows (overlapping windows: more, shifted views of
   * the same library). 30 = 6 s at 5 fps: 5 views of every 30 s. Mining uses non-overlapping windows.
   */
  trainStride: number;
  /** the JEPA loss of every phase: the paper's 'a4mer', or an ablation ('jepa' | 'local' | 'equal') */
  loss: JepaLossMode;
  /** per-phase optimisation (schedules restart at each phase; warm-up = min(200, N / 10) unless given) */
  optim: Record<TrainPhase, PhaseOptim>;
  /** joint loss = stage1Weight * L(stage 1) + stage2Weight * L(stage 2) */
  jointWeights: { stage1: number; stage2: number };
  kmeans: Partial<A4MerKMeansConfig>;
  patterns: Partial<A4MerPatternConfig>;
  families: Partial<A4MerFamilyConfig>;
  /**
   * After joint training stage 1 has moved: re-fit the codebook on the final atom tokens starting from
   * the mined centroids (same code indices, so the mined patterns keep their meaning) before the final
   * covers and families. false: keep the mined centroids.
   */
  refineCodebook: boolean;
  /**
   * After the final codebook: mine the code patterns again (same GSP settings) from the final codes of
   * the mining windows, so the model ships patterns that are frequent among the codes extraction will
   * assign. With ~4 atoms per code, refining moves about half of the atoms to another code, and the
   * patterns mined after stage 1 then rarely recur (motifs shrink to lone atoms). false: keep the
   * patterns mined after stage 1. Finalisation only: not part of the training fingerprint.
   */
  remineFinal: boolean;
  /** a checkpoint every this many steps of a phase, and at each phase's end */
  checkpointEvery: number;
  /** a log row every this many steps (and the last step of a phase) */
  logEvery: number;
  /** windows per tfjs forward pass when computing tokens (mining, families) */
  tokenBatch: number;
  /** weights init, masks, batches, k-means: the same seed and data give the same model */
  seed: number;
  /** continue from the checkpoint in the output folder (a fresh start when there is none) */
  resume: boolean;
}

/**
 * Defaults. Measured on 2 CPU cores (tfjs wasm, default sizes, batch 8 x 150 frames, UTKinect): about
 * 0.4 s per stage-1 step, 0.3 s per stage-2 step, 0.6 s per joint step, so N1/N2/N3 = 4000/1000/1000
 * take about 48 min, plus seconds for mining. N1 was 2000 until chosen on the `validation` k-NN of
 * `eval motifs` on UTKinect's training subjects: stage 1 x2 lifted motif tokens 0.428 -> 0.615, while
 * joint x2 and x4 (2000/1000/2000, 2000/1000/4000) gave 0.558 and 0.563 and stage 2 x3 nothing.
 * Stage 1 x4 (8000) gave 0.620: not worth twice the time.
 */
export const A4MER_TRAIN_DEFAULTS: Readonly<A4MerTrainOptions> = {
  input: {},
  atoms: {},
  stage1: {},
  stage2: {},
  steps: { stage1: 4000, stage2: 1000, joint: 1000 },
  batch: 8,
  trainStride: 30,
  loss: 'a4mer',
  // Joint fine-tuning at half the peak rate: stage 1 must not drift far from the codebook it was mined with.
  optim: { stage1: {}, stage2: {}, joint: { peakLr: 2.5e-4 } },
  jointWeights: { stage1: 1, stage2: 1 },
  kmeans: {},
  patterns: {},
  families: {},
  refineCodebook: true,
  remineFinal: true,
  checkpointEvery: 100,
  logEvery: 10,
  tokenBatch: 16,
  seed: 1,
  resume: false,
};

export type A4MerTrainOverrides = Partial<Omit<A4MerTrainOptions, 'steps' | 'optim' | 'jointWeights'>> & {
  steps?: Partial<Record<TrainPhase, number>>;
  optim?: Partial<Record<TrainPhase, PhaseOptim>>;
  jointWeights?: Partial<A4MerTrainOptions['jointWeights']>;
};

function check(ok: boolean, field: string, value: unknown, rule: string): void {
  if (!ok) throw new Error(`A4Mer training options: ${field} = ${JSON.stringify(value)}, expected ${rule}`);
}

const isCount = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;

/** Merges overrides over the defaults and validates every part (sub-configs with their own resolvers). */
export function resolveTrainOptions(o: A4MerTrainOverrides = {}): A4MerTrainOptions {
  const d = A4MER_TRAIN_DEFAULTS;
  const c: A4MerTrainOptions = {
    ...d,
    ...o,
    steps: { ...d.steps, ...o.steps },
    optim: {
      stage1: { ...d.optim.stage1, ...o.optim?.stage1 },
      stage2: { ...d.optim.stage2, ...o.optim?.stage2 },
      joint: { ...d.optim.joint, ...o.optim?.joint },
    },
    jointWeights: { ...d.jointWeights, ...o.jointWeights },
  };
  for (const p of TRAIN_PHASES) check(isCount(c.steps[p], 1), `steps.${p}`, c.steps[p], 'an integer >= 1');
  check(isCount(c.batch, 1), 'batch', c.batch, 'an integer >= 1');
  check(isCount(c.trainStride, 1), 'trainStride', c.trainStride, 'an integer >= 1');
  check(isCount(c.checkpointEvery, 1), 'checkpointEvery', c.checkpointEvery, 'an integer >= 1');
  check(isCount(c.logEvery, 1), 'logEvery', c.logEvery, 'an integer >= 1');
  check(isCount(c.tokenBatch, 1), 'tokenBatch', c.tokenBatch, 'an integer >= 1');
  check(Number.isInteger(c.seed), 'seed', c.seed, 'an integer');
  check(typeof c.resume === 'boolean', 'resume', c.resume, 'true or false');
  check(typeof c.refineCodebook === 'boolean', 'refineCodebook', c.refineCodebook, 'true or false');
  check(typeof c.remineFinal === 'boolean', 'remineFinal', c.remineFinal, 'true or false');
  for (const k of ['stage1', 'stage2'] as const) {
    const w = c.jointWeights[k];
    check(Number.isFinite(w) && w >= 0, `jointWeights.${k}`, w, 'a number >= 0');
  }
  check(c.jointWeights.stage2 > 0, 'jointWeights.stage2', c.jointWeights.stage2, 'a number > 0');
  // Validate the sub-configs now, so a bad value fails before any work.
  resolveInputConfig(c.input);
  resolveAtomConfig(c.atoms);
  resolveStageConfig({ ...c.stage1, inputDim: 1 });
  resolveStageConfig({ ...c.stage2, inputDim: 1 });
  for (const p of TRAIN_PHASES) phaseTrainConfig(c, p);
  resolveKMeansConfig(c.kmeans);
  resolvePatternConfig(c.patterns);
  resolveFamilyConfig(c.families);
  return c;
}

/** The TrainConfig of a phase: its overrides, totalSteps = its steps, warm-up min(200, N / 10). */
export function phaseTrainConfig(c: A4MerTrainOptions, phase: TrainPhase): TrainConfig {
  const n = c.steps[phase];
  const o = c.optim[phase];
  return resolveTrainConfig({
    warmupSteps: Math.min(TRAIN_DEFAULTS.warmupSteps, Math.floor(n / 10)),
    ...o,
    totalSteps: n,
    loss: { ...o.loss, mode: c.loss },
  });
}

/** Input config of mining and extraction windows: non-overlapping (stride = windowFrames). */
export function extractionInputConfig(input: Partial<A4MerInputConfig>): A4MerInputConfig {
  const cfg = resolveInputConfig(input);
  return { ...cfg, stride: cfg.windowFrames };
}

/** The two stages' configs for a feature size D. */
export function stageConfigs(c: A4MerTrainOptions, D: number): { stage1: StageConfig; stage2: StageConfig } {
  const stage1 = resolveStageConfig({ ...c.stage1, inputDim: D });
  const stage2 = resolveStageConfig({ ...c.stage2, inputDim: stage1.dModel });
  return { stage1, stage2 };
}

/** The resolved mining configs (stored in vocabulary.json). */
export function miningConfigs(c: A4MerTrainOptions): {
  kmeans: A4MerKMeansConfig;
  patterns: A4MerPatternConfig;
  families: A4MerFamilyConfig;
} {
  return {
    kmeans: resolveKMeansConfig(c.kmeans),
    patterns: resolvePatternConfig(c.patterns),
    families: resolveFamilyConfig(c.families),
  };
}

/**
 * Every option that changes the trained model, with the defaults filled in: what a checkpoint's
 * fingerprint (train-data.ts) hashes, so a checkpoint made under other defaults (an older version) is
 * refused rather than resumed as this run. Left out: resume, logEvery, checkpointEvery, tokenBatch and
 * remineFinal (which only acts after the last step).
 */
export function effectiveTrainOptions(c: A4MerTrainOptions): Record<string, unknown> {
  const { resume: _r, logEvery: _l, checkpointEvery: _c, tokenBatch: _t, remineFinal: _m, ...relevant } = c;
  return {
    ...relevant,
    input: resolveInputConfig(c.input),
    atoms: resolveAtomConfig(c.atoms),
    stage1: resolveStageConfig({ ...c.stage1, inputDim: 1 }),
    stage2: resolveStageConfig({ ...c.stage2, inputDim: 1 }),
    optim: Object.fromEntries(TRAIN_PHASES.map((p) => [p, phaseTrainConfig(c, p)])),
    kmeans: resolveKMeansConfig(c.kmeans),
    patterns: resolvePatternConfig(c.patterns),
    families: resolveFamilyConfig(c.families),
  };
}
