/**
 * One optimisation step of A4Mer's second level: stage 2 alone (stage 1 frozen) or both stages jointly
 * (paper: "train both stages jointly end-to-end, paired with hierarchical masking").
 *
 * step t (0-based), a batch of windows with stage-1 layout (frames -> atoms) and stage-2 layout
 * (atoms -> motifs):
 *   1. K2: a random set of each window's motifs (masking.ts, Rng(mixSeed(seed, 2|3, t)));
 *      K1: every atom of a masked motif (hierarchical masking: the atoms of a masked motif are hidden
 *      from stage 1 too, so stage 2 cannot read them back through the stage-1 LatentFormer);
 *   2. targets (EMA networks, full windows, stop-gradient): z1 = f1_bar(x), z2 = f2_bar(z1);
 *   3. context: c1 = LatentFormer1(Encoder1(x), keys: visible atoms) with the online stage 1 (the stage-2
 *      input is the stage-1 online output, per the paper); zhat2 = g2(f2(c1), visible motifs);
 *      joint only: zhat1 = g1(c1, visible atoms);
 *   4. loss = w2 L(zhat2, z2, K2) [+ w1 L(zhat1, z1, K1) when joint] (jepa.ts, the configured mode);
 *   5. gradients of the trained weights (stage 2's; both stages' when joint), clipped to a global norm;
 *      one AdamW over them (names prefixed "s1." / "s2."); 6. EMA of the trained stages' targets.
 * Deterministic given the seed: masks from (seed, phase, step), no dropout.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../capture/sample/rng';
import { AdamW, type AdamWState } from './model/adamw';
import type { StageConfig, TrainConfig } from './model/config';
import { emaUpdate } from './model/ema';
import { encodeSegments } from './model/encoder';
import { jepaLoss, type JepaLossParts, predictFromContext } from './model/jepa';
import { latentForward } from './model/latentformer';
import { disposeLayoutTensors, keyMaskOf, layoutTensors, type SegmentLayout } from './model/layout';
import { maskFromMasked, sampleSegmentMask } from './model/masking';
import { stageForward, type StageModel } from './model/model';
import { predictMasked } from './model/predictor';
import { emaMomentum, learningRate } from './model/schedule';
import { mixSeed } from './train-data';

export interface NestedBatch {
  /** [B*T*D] frames */
  x: Float32Array;
  layout1: SegmentLayout;
  /** over the atoms of layout1 (train-data.ts stage2Layout) */
  layout2: SegmentLayout;
}

export interface NestedTrainer {
  stage1: StageConfig;
  stage2: StageConfig;
  /** the phase's schedule and loss */
  train: TrainConfig;
  joint: boolean;
  weights: { stage1: number; stage2: number };
  seed: number;
  /** steps taken in this phase (the next step's index) */
  step: number;
  online1: StageModel;
  target1: StageModel;
  online2: StageModel;
  target2: StageModel;
  optimizer: AdamW;
}

export interface LossFigures {
  loss: number;
  local: number;
  global: number;
  lambda: number;
  jepa: number;
}

export interface NestedStepResult {
  step: number;
  /** the optimised total */
  loss: number;
  stage1: LossFigures | null;
  stage2: LossFigures;
  lr: number;
  momentum: number;
  gradNorm: number;
  masked1: number;
  masked2: number;
  ms: number;
}

/** The weights a phase trains, by prefixed name ("s1.enc.frame_proj.kernel", "s2...."). */
export function trainedVariables(
  t: Pick<NestedTrainer, 'joint' | 'online1' | 'online2'>,
): Map<string, tf.Variable> {
  const vars = new Map<string, tf.Variable>();
  if (t.joint) for (const [n, v] of t.online1.vars) vars.set(`s1.${n}`, v);
  for (const [n, v] of t.online2.vars) vars.set(`s2.${n}`, v);
  return vars;
}

export function createNestedTrainer(
  init: Omit<NestedTrainer, 'optimizer' | 'step'>,
  optimizer?: AdamWState,
  step = 0,
): NestedTrainer {
  const adam = new AdamW(trainedVariables(init), init.train);
  if (optimizer) adam.loadState(optimizer);
  return { ...init, optimizer: adam, step };
}

/** Hierarchical masking: K1 = the valid atoms whose motif is in K2 ([B*S1]). */
export function atomMaskOfMotifs(
  layout1: SegmentLayout,
  layout2: SegmentLayout,
  masked2: Float32Array,
): Float32Array {
  const { batch: B, segments: S1 } = layout1;
  const S2 = layout2.segments;
  const out = new Float32Array(B * S1);
  for (let b = 0; b < B; b++) {
    for (let a = 0; a < S1; a++) {
      const m = layout2.segmentOf[b * S1 + a];
      if (m >= 0 && masked2[b * S2 + m] > 0) out[b * S1 + a] = 1;
    }
  }
  return out;
}

const NO_PARTS = ['loss', 'local', 'global', 'lambda', 'jepa'] as const;

export function nestedStep(t: NestedTrainer, batch: NestedBatch): NestedStepResult {
  const start = performance.now();
  const { x: xData, layout1, layout2 } = batch;
  const { batch: B, frames: T, segments: S1 } = layout1;
  const S2 = layout2.segments;
  if (layout2.batch !== B || layout2.frames !== S1)
    throw new Error(
      `A4Mer nested step: the stage-2 layout is ${layout2.batch} x ${layout2.frames}, expected ${B} x ${S1}`,
    );
  if (xData.length !== B * T * t.stage1.inputDim)
    throw new Error(`A4Mer nested step: x has ${xData.length} values, B*T*D = ${B * T * t.stage1.inputDim}`);
  const lr = learningRate(t.step, t.train);
  const momentum = emaMomentum(t.step, t.train);
  const phaseTag = t.joint ? 3 : 2;
  const mask2 = sampleSegmentMask(layout2, t.train.maskRatio, new Rng(mixSeed(t.seed, phaseTag, t.step)));
  const mask1 = maskFromMasked(layout1, atomMaskOfMotifs(layout1, layout2, mask2.masked));
  const count = (m: Float32Array): number => m.reduce((a, b) => a + b, 0);

  const lt1 = layoutTensors(layout1);
  const lt2 = layoutTensors(layout2);
  const x = tf.tensor3d(xData, [B, T, t.stage1.inputDim]);
  const visible1 = tf.tensor3d(mask1.visible, [B, S1, 1]);
  const masked1 = tf.tensor2d(mask1.masked, [B, S1]);
  const keys1 = tf.tensor2d(keyMaskOf(layout1, mask1.visible), [B, S1]);
  const visible2 = tf.tensor3d(mask2.visible, [B, S2, 1]);
  const masked2 = tf.tensor2d(mask2.masked, [B, S2]);
  const keys2 = tf.tensor2d(keyMaskOf(layout2, mask2.visible), [B, S2]);
  const scratch: tf.Tensor[] = [x, visible1, masked1, keys1, visible2, masked2, keys2];
  const context1 = (): tf.Tensor3D =>
    latentForward(
      t.online1,
      t.stage1,
      encodeSegments(t.online1, t.stage1, x, lt1),
      lt1.segmentPos,
      keys1,
      lt1.segmentValid,
    );
  let values1: number[] | null = null;
  let values2: number[];
  let total: number;
  let gradNorm: number;
  try {
    // Targets outside the gradient tape: stop-gradient by construction.
    const z1 = stageForward(t.target1, t.stage1, x, lt1);
    const z2 = stageForward(t.target2, t.stage2, z1, lt2);
    scratch.push(z1, z2);
    const frozen = t.joint ? null : tf.tidy(context1);
    if (frozen) scratch.push(frozen);
    const kept: tf.Scalar[][] = [];
    const keep = (p: JepaLossParts): void => {
      kept.push(NO_PARTS.map((k) => tf.keep(p[k])));
    };
    const vars = trainedVariables(t);
    const { value, grads } = tf.variableGrads(() => {
      const c1 = frozen ?? context1();
      const zhat2 = predictFromContext(t.online2, t.stage2, c1, lt2, visible2, keys2);
      const parts2 = jepaLoss(zhat2, z2, masked2, t.train.loss);
      keep(parts2);
      let loss = tf.mul(parts2.loss, t.weights.stage2);
      if (t.joint) {
        const zhat1 = predictMasked(t.online1, t.stage1, c1, visible1, lt1.segmentPos, lt1.segmentKeyMask);
        const parts1 = jepaLoss(zhat1, z1, masked1, t.train.loss);
        keep(parts1);
        loss = tf.add(loss, tf.mul(parts1.loss, t.weights.stage1));
      }
      return loss as tf.Scalar;
    }, [...vars.values()]);
    scratch.push(value, ...kept.flat(), ...Object.values(grads));
    total = value.dataSync()[0];
    values2 = kept[0].map((s) => s.dataSync()[0]);
    if (t.joint) values1 = kept[1].map((s) => s.dataSync()[0]);

    const byVarName = new Map([...vars].map(([name, v]) => [v.name, name]));
    const named = new Map(Object.entries(grads).map(([varName, g]) => [byVarName.get(varName)!, g]));
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...named.values()].map((g) => tf.sum(tf.square(g))))));
    gradNorm = norm.dataSync()[0];
    norm.dispose();
    if (!Number.isFinite(gradNorm) || !Number.isFinite(total)) {
      throw new Error(
        `A4Mer ${t.joint ? 'joint' : 'stage-2'} step ${t.step}: non-finite loss (${total}) or gradient norm (${gradNorm})`,
      );
    }
    const clip = t.train.gradClipNorm;
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    const clipped = new Map([...named].map(([n, g]) => [n, scale === 1 ? g : tf.mul(g, scale)]));
    if (scale !== 1) scratch.push(...clipped.values());
    t.optimizer.apply(clipped, lr);
    emaUpdate(t.target2, t.online2, momentum);
    if (t.joint) emaUpdate(t.target1, t.online1, momentum);
  } finally {
    tf.dispose(scratch);
    disposeLayoutTensors(lt1);
    disposeLayoutTensors(lt2);
  }
  const figures = (v: number[]): LossFigures => ({
    loss: v[0],
    local: v[1],
    global: v[2],
    lambda: v[3],
    jepa: v[4],
  });
  const result: NestedStepResult = {
    step: t.step,
    loss: total,
    stage1: values1 ? figures(values1) : null,
    stage2: figures(values2),
    lr,
    momentum,
    gradNorm,
    masked1: count(mask1.masked),
    masked2: count(mask2.masked),
    ms: performance.now() - start,
  };
  t.step++;
  return result;
}

export function disposeNestedTrainer(t: NestedTrainer): void {
  t.optimizer.dispose();
}
