/**
 * One JEPA optimisation step of a stage, and the trainer state a durable job checkpoints.
 *
 * step t (0-based):
 *   1. mask: K per window from Rng(seed, t) (masking.ts), or a given masked set (hierarchical masking);
 *   2. targets z = stageForward(theta_bar, full window), outside the gradient tape (stop-gradient);
 *   3. zhat = predictor(LatentFormer_visible(Encoder(x))), loss = jepaLoss(zhat, z, K);
 *   4. gradients of the online weights (encoder, LatentFormer, predictor), clipped to a global L2 norm;
 *   5. AdamW with lr(t); 6. EMA theta_bar <- m(t) theta_bar + (1 - m(t)) theta.
 * Deterministic given the seed: init from (seed, weight name), masks from (seed, step), no dropout.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../capture/sample/rng';
import { AdamW, type AdamWState } from './adamw';
import type { StageConfig, TrainConfig } from './config';
import { emaUpdate } from './ema';
import { jepaLoss, predictFromContext } from './jepa';
import { disposeLayoutTensors, keyMaskOf, layoutTensors, type SegmentLayout } from './layout';
import { maskFromMasked, sampleSegmentMask } from './masking';
import { copyStageModel, createStageModel, stageForward, type NamedWeight, type StageModel } from './model';
import { emaMomentum, learningRate } from './schedule';

/** A batch: inputs x [B*T*D] (row-major [B,T,D]) and their segment layout. */
export interface SegmentBatch {
  x: Float32Array;
  layout: SegmentLayout;
}

export interface Trainer {
  stage: StageConfig;
  train: TrainConfig;
  seed: number;
  /** steps taken so far (the next step's index) */
  step: number;
  /** online weights theta (encoder, LatentFormer) and phi (predictor) */
  model: StageModel;
  /** EMA target theta_bar (encoder, LatentFormer) */
  target: StageModel;
  optimizer: AdamW;
}

export interface StepResult {
  step: number;
  loss: number;
  local: number;
  global: number;
  lambda: number;
  jepa: number;
  lr: number;
  momentum: number;
  /** global gradient norm before clipping */
  gradNorm: number;
  /** masked segments in the batch (|K| summed over windows) */
  masked: number;
  ms: number;
}

export function createTrainer(stage: StageConfig, train: TrainConfig, seed: number): Trainer {
  const model = createStageModel(stage, seed);
  const target = copyStageModel(model, { parts: ['enc', 'lf'], trainable: false });
  return { stage, train, seed, step: 0, model, target, optimizer: new AdamW(model.vars, train) };
}

export function disposeTrainer(t: Trainer): void {
  t.model.dispose();
  t.target.dispose();
  t.optimizer.dispose();
}

/** Seed of step t's masking stream (splitmix-style mix of seed and step). */
function stepSeed(seed: number, step: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(step + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

function checkBatch(t: Trainer, batch: SegmentBatch): void {
  const { batch: B, frames: T } = batch.layout;
  const D = t.stage.inputDim;
  if (batch.x.length !== B * T * D) {
    throw new Error(
      `A4Mer train step: x has ${batch.x.length} values, the layout needs B*T*D = ${B}*${T}*${D}`,
    );
  }
  for (let i = 0; i < batch.x.length; i++) {
    if (!Number.isFinite(batch.x[i])) throw new Error(`A4Mer train step: x[${i}] is not finite`);
  }
}

/** One optimisation step; `masked` ([B*S]) replaces the random mask (hierarchical masking). */
export function trainStep(
  t: Trainer,
  batch: SegmentBatch,
  options: { masked?: Float32Array } = {},
): StepResult {
  const start = performance.now();
  checkBatch(t, batch);
  const { layout } = batch;
  const { batch: B, frames: T, segments: S } = layout;
  const lr = learningRate(t.step, t.train);
  const momentum = emaMomentum(t.step, t.train);
  const mask = options.masked
    ? maskFromMasked(layout, options.masked)
    : sampleSegmentMask(layout, t.train.maskRatio, new Rng(stepSeed(t.seed, t.step)));
  const nMasked = mask.masked.reduce((a, b) => a + b, 0);

  const lt = layoutTensors(layout);
  const x = tf.tensor3d(batch.x, [B, T, t.stage.inputDim]);
  const visible = tf.tensor3d(mask.visible, [B, S, 1]);
  const masked = tf.tensor2d(mask.masked, [B, S]);
  const visibleKeyMask = tf.tensor2d(keyMaskOf(layout, mask.visible), [B, S]);
  const scratch: tf.Tensor[] = [x, visible, masked, visibleKeyMask];
  let values: number[];
  let gradNorm: number;
  try {
    const targets = stageForward(t.target, t.stage, x, lt); // no tape: stop-gradient by construction
    scratch.push(targets);
    const kept: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const pred = predictFromContext(t.model, t.stage, x, lt, visible, visibleKeyMask);
      const parts = jepaLoss(pred, targets, masked, t.train.loss);
      kept.push(...[parts.local, parts.global, parts.lambda, parts.jepa].map((p) => tf.keep(p)));
      return parts.loss;
    }, [...t.model.vars.values()]);
    scratch.push(value, ...kept, ...Object.values(grads));
    values = [value, ...kept].map((k) => k.dataSync()[0]);

    // Gradients by layout name; global-norm clipping.
    const byVarName = new Map([...t.model.vars].map(([name, v]) => [v.name, name]));
    const named = new Map(Object.entries(grads).map(([varName, g]) => [byVarName.get(varName)!, g]));
    const norm = tf.tidy(() => tf.sqrt(tf.addN([...named.values()].map((g) => tf.sum(tf.square(g))))));
    gradNorm = norm.dataSync()[0];
    norm.dispose();
    if (!Number.isFinite(gradNorm) || !Number.isFinite(values[0])) {
      throw new Error(
        `A4Mer train step ${t.step}: non-finite loss (${values[0]}) or gradient norm (${gradNorm})`,
      );
    }
    const clip = t.train.gradClipNorm;
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    const clipped = new Map([...named].map(([n, g]) => [n, scale === 1 ? g : tf.mul(g, scale)]));
    if (scale !== 1) scratch.push(...clipped.values());
    t.optimizer.apply(clipped, lr);
    emaUpdate(t.target, t.model, momentum);
  } finally {
    tf.dispose(scratch);
    disposeLayoutTensors(lt);
  }
  const [loss, local, global, lambda, jepa] = values;
  const result: StepResult = {
    step: t.step,
    loss,
    local,
    global,
    lambda,
    jepa,
    lr,
    momentum,
    gradNorm,
    masked: nMasked,
    ms: performance.now() - start,
  };
  t.step++;
  return result;
}

/** Everything a job needs to resume bit-for-bit (plain arrays; the caller serialises them). */
export interface TrainerState {
  stage: StageConfig;
  train: TrainConfig;
  seed: number;
  step: number;
  online: NamedWeight[];
  target: NamedWeight[];
  optimizer: AdamWState;
}

export function trainerState(t: Trainer): TrainerState {
  return {
    stage: t.stage,
    train: t.train,
    seed: t.seed,
    step: t.step,
    online: t.model.exportWeights(),
    target: t.target.exportWeights(),
    optimizer: t.optimizer.exportState(),
  };
}

export function restoreTrainer(state: TrainerState): Trainer {
  const t = createTrainer(state.stage, state.train, state.seed);
  t.model.loadWeights(state.online);
  t.target.loadWeights(state.target);
  t.optimizer.loadState(state.optimizer);
  t.step = state.step;
  return t;
}
