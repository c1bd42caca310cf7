/**
 * Configuration of one A4Mer stage network (Encoder + LatentFormer + Predictor) and of its JEPA training.
 * Every number is a documented default; `resolveStageConfig` / `resolveTrainConfig` merge overrides and
 * validate them (an Error names the field and the value). Stage 1 reads frames (inputDim = the
 * per-frame feature size of main/motifs/preprocess.ts); stage 2 reads stage-1 atom tokens
 * (inputDim = stage 1's dModel) grouped into motif segments. Both stages use the same structure.
 */

export interface StageConfig {
  /** D: features per input element (a frame in stage 1, an atom token in stage 2) */
  inputDim: number;
  /** d: token width of the encoder and the LatentFormer */
  dModel: number;
  /** attention heads; head dim = dModel / heads (and predictorDim / heads in the predictor) */
  heads: number;
  /** MLP hidden width = mlpRatio * width of the block */
  mlpRatio: number;
  /** encoder layers, each = intra-segment self-attention block on the frames + cross-attention block on the tokens */
  encoderLayers: number;
  /** LatentFormer layers (self-attention among segment tokens) */
  latentLayers: number;
  /** predictor layers (self-attention over visible tokens + mask tokens) */
  predictorLayers: number;
  /** predictor width (in_proj d -> predictorDim, out_proj back to d) */
  predictorDim: number;
  /** layer-norm epsilon (added to the biased variance) */
  lnEps: number;
  /** sinusoidal position encoding base: frequency i = posBase^(-2i/width) */
  posBase: number;
}

export const STAGE_DEFAULTS: Readonly<Omit<StageConfig, 'inputDim'>> = {
  dModel: 64,
  heads: 4,
  mlpRatio: 4,
  encoderLayers: 2,
  latentLayers: 2,
  predictorLayers: 2,
  predictorDim: 64,
  lnEps: 1e-5,
  posBase: 10000,
};

/** The paper's loss ('a4mer') and its ablations (Table "Local + Global (dynamic weight)" rows). */
export type JepaLossMode = 'a4mer' | 'jepa' | 'local' | 'equal';

export interface JepaLossConfig {
  /**
   * 'a4mer': (1/|K|) sum_k [ L_k^l + alpha * lambda_k * L_g ], lambda_k = sg(L_k^l / L_g);
   * 'jepa': original JEPA, (1/|K|) sum_k SL1(zhat_k - z_k);
   * 'local': (1/|K|) sum_k L_k^l;
   * 'equal': (1/|K|) sum_k [ L_k^l + L_g ] (weight 1, no alpha, no lambda).
   */
  mode: JepaLossMode;
  /** alpha of the global term (paper: 0.05) */
  alpha: number;
  /** smooth-L1 transition point beta: 0.5 x^2 / beta below, |x| - 0.5 beta above (PyTorch's default 1) */
  sl1Beta: number;
  /** floor of L_g in lambda_k = L_k^l / max(L_g, lambdaEps) */
  lambdaEps: number;
}

export interface TrainConfig {
  loss: JepaLossConfig;
  /** fraction of a window's valid segments masked (K); at least 2 (when >= 3 exist) and at most n - 1 */
  maskRatio: number;
  /** AdamW peak learning rate, reached after the linear warm-up */
  peakLr: number;
  /** learning rate at the end of the cosine decay (and after totalSteps) */
  minLr: number;
  warmupSteps: number;
  /** length of the lr and EMA-momentum schedules */
  totalSteps: number;
  beta1: number;
  beta2: number;
  adamEps: number;
  /** decoupled (AdamW) weight decay, applied to the dense kernels only */
  weightDecay: number;
  /** gradients are scaled so their global L2 norm is at most this (0 disables) */
  gradClipNorm: number;
  /** EMA momentum of the target network: cosine from emaStart (step 0) to emaEnd (totalSteps) */
  emaStart: number;
  emaEnd: number;
}

export const TRAIN_DEFAULTS: Readonly<TrainConfig> = {
  loss: { mode: 'a4mer', alpha: 0.05, sl1Beta: 1, lambdaEps: 1e-8 },
  maskRatio: 0.4,
  peakLr: 5e-4,
  minLr: 1e-5,
  warmupSteps: 200,
  totalSteps: 5000,
  beta1: 0.9,
  beta2: 0.999,
  adamEps: 1e-8,
  weightDecay: 0.04,
  gradClipNorm: 1,
  emaStart: 0.996,
  emaEnd: 1,
};

function check(ok: boolean, what: string, field: string, value: unknown, rule: string): void {
  if (!ok) throw new Error(`A4Mer ${what} config: ${field} = ${JSON.stringify(value)}, expected ${rule}`);
}

const isCount = (v: number, min: number): boolean => Number.isInteger(v) && v >= min;
const isPositive = (v: number): boolean => Number.isFinite(v) && v > 0;
const isUnit = (v: number): boolean => Number.isFinite(v) && v >= 0 && v <= 1;

export function resolveStageConfig(overrides: Partial<StageConfig> & { inputDim: number }): StageConfig {
  const c: StageConfig = { ...STAGE_DEFAULTS, ...overrides };
  check(isCount(c.inputDim, 1), 'stage', 'inputDim', c.inputDim, 'an integer >= 1');
  check(isCount(c.heads, 1), 'stage', 'heads', c.heads, 'an integer >= 1');
  // Even widths: the sinusoidal encoding has a sin and a cos half.
  const width = (v: number): boolean => isCount(v, 2) && v % 2 === 0 && v % c.heads === 0;
  check(width(c.dModel), 'stage', 'dModel', c.dModel, `an even integer divisible by heads (${c.heads})`);
  check(
    width(c.predictorDim),
    'stage',
    'predictorDim',
    c.predictorDim,
    `an even integer divisible by heads (${c.heads})`,
  );
  check(isCount(c.mlpRatio, 1), 'stage', 'mlpRatio', c.mlpRatio, 'an integer >= 1');
  check(isCount(c.encoderLayers, 1), 'stage', 'encoderLayers', c.encoderLayers, 'an integer >= 1');
  check(isCount(c.latentLayers, 0), 'stage', 'latentLayers', c.latentLayers, 'an integer >= 0');
  check(isCount(c.predictorLayers, 1), 'stage', 'predictorLayers', c.predictorLayers, 'an integer >= 1');
  check(isPositive(c.lnEps), 'stage', 'lnEps', c.lnEps, 'a positive number');
  check(isPositive(c.posBase) && c.posBase > 1, 'stage', 'posBase', c.posBase, 'a number > 1');
  return c;
}

export function resolveTrainConfig(
  overrides: Partial<Omit<TrainConfig, 'loss'>> & { loss?: Partial<JepaLossConfig> } = {},
): TrainConfig {
  const c: TrainConfig = {
    ...TRAIN_DEFAULTS,
    ...overrides,
    loss: { ...TRAIN_DEFAULTS.loss, ...overrides.loss },
  };
  const modes: JepaLossMode[] = ['a4mer', 'jepa', 'local', 'equal'];
  check(modes.includes(c.loss.mode), 'train', 'loss.mode', c.loss.mode, modes.join(' | '));
  check(
    Number.isFinite(c.loss.alpha) && c.loss.alpha >= 0,
    'train',
    'loss.alpha',
    c.loss.alpha,
    'a number >= 0',
  );
  check(isPositive(c.loss.sl1Beta), 'train', 'loss.sl1Beta', c.loss.sl1Beta, 'a positive number');
  check(isPositive(c.loss.lambdaEps), 'train', 'loss.lambdaEps', c.loss.lambdaEps, 'a positive number');
  check(c.maskRatio > 0 && c.maskRatio < 1, 'train', 'maskRatio', c.maskRatio, 'a number in (0, 1)');
  check(isPositive(c.peakLr), 'train', 'peakLr', c.peakLr, 'a positive number');
  check(
    Number.isFinite(c.minLr) && c.minLr >= 0 && c.minLr <= c.peakLr,
    'train',
    'minLr',
    c.minLr,
    '0..peakLr',
  );
  check(isCount(c.totalSteps, 1), 'train', 'totalSteps', c.totalSteps, 'an integer >= 1');
  check(
    isCount(c.warmupSteps, 0) && c.warmupSteps <= c.totalSteps,
    'train',
    'warmupSteps',
    c.warmupSteps,
    '0..totalSteps',
  );
  check(isUnit(c.beta1) && c.beta1 < 1, 'train', 'beta1', c.beta1, 'a number in [0, 1)');
  check(isUnit(c.beta2) && c.beta2 < 1, 'train', 'beta2', c.beta2, 'a number in [0, 1)');
  check(isPositive(c.adamEps), 'train', 'adamEps', c.adamEps, 'a positive number');
  check(
    Number.isFinite(c.weightDecay) && c.weightDecay >= 0,
    'train',
    'weightDecay',
    c.weightDecay,
    'a number >= 0',
  );
  check(
    Number.isFinite(c.gradClipNorm) && c.gradClipNorm >= 0,
    'train',
    'gradClipNorm',
    c.gradClipNorm,
    'a number >= 0',
  );
  check(isUnit(c.emaStart), 'train', 'emaStart', c.emaStart, '0..1');
  check(isUnit(c.emaEnd) && c.emaEnd >= c.emaStart, 'train', 'emaEnd', c.emaEnd, 'emaStart..1');
  return c;
}
