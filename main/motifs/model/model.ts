/**
 * One A4Mer stage: its weights as a flat map of named tf.Variables, and the inference forward
 * (Encoder + LatentFormer). The names and shapes below are the contract with the ONNX exporter
 * (main/motifs/onnx/layers.ts) and with checkpoints; `stageWeightLayout(config)` lists them in order.
 *
 * D = inputDim, d = dModel, dp = predictorDim, hidden = mlpRatio * width of the block.
 *   enc.frame_proj.{kernel [D,d], bias [d]}
 *   enc.layers.{i}.self.ln.{gamma,beta} [d]                      i < encoderLayers
 *   enc.layers.{i}.self.attn.{q,k,v,o}.{kernel [d,d], bias [d]}
 *   enc.layers.{i}.self.mlp_ln.{gamma,beta} [d]
 *   enc.layers.{i}.self.mlp.fc1.{kernel [d,hidden], bias [hidden]}, .fc2.{kernel [hidden,d], bias [d]}
 *   enc.layers.{i}.cross.ln_q / ln_kv / mlp_ln .{gamma,beta} [d]
 *   enc.layers.{i}.cross.attn.{q,k,v,o}.{kernel [d,d], bias [d]}
 *   enc.layers.{i}.cross.mlp.fc1 / fc2 (as self.mlp)
 *   enc.ln_out.{gamma,beta} [d]
 *   lf.layers.{j}.{ln, attn.{q,k,v,o}, mlp_ln, mlp.{fc1,fc2}} (a self block of width d)   j < latentLayers
 *   lf.ln_out.{gamma,beta} [d]
 *   pred.in_proj.{kernel [d,dp], bias [dp]}
 *   pred.mask_token [dp]
 *   pred.layers.{j}.* (a self block of width dp)                                          j < predictorLayers
 *   pred.ln_out.{gamma,beta} [dp]
 *   pred.out_proj.{kernel [dp,d], bias [d]}
 * Maths per block: blocks.ts (pre-norm, layer-norm eps = config.lnEps (1e-5), exact erf GELU, heads =
 * config.heads with head dim d / heads, scores (q k^T) / sqrt(dh) + additive mask). Mapping to the
 * exporter's BlockWeights (onnx/layers.ts): self block ln -> norm1, mlp_ln -> norm2; cross block
 * ln_q -> norm1, ln_kv -> normContext, mlp_ln -> norm2; attn.{q,k,v,o} -> query/key/value/output;
 * mlp activation 'gelu'. encoder-reference.ts is the same encoder in that exporter's formulation.
 * Initialisation: kernels Glorot-uniform, biases and beta 0, gamma 1, mask token N(0, 0.02^2); each
 * weight from its own Rng seeded by (seed, name), so adding a layer leaves the others' values unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../capture/sample/rng';
import type { WeightSource } from './blocks';
import type { StageConfig } from './config';
import { encodeSegments } from './encoder';
import { latentForward } from './latentformer';
import type { LayoutTensors } from './layout';

export type WeightPart = 'enc' | 'lf' | 'pred';
export type WeightInit = 'glorot' | 'zeros' | 'ones' | 'token';

export interface WeightSpec {
  name: string;
  shape: number[];
  init: WeightInit;
}

function denseSpecs(name: string, fanIn: number, fanOut: number): WeightSpec[] {
  return [
    { name: `${name}.kernel`, shape: [fanIn, fanOut], init: 'glorot' },
    { name: `${name}.bias`, shape: [fanOut], init: 'zeros' },
  ];
}

function normSpecs(name: string, width: number): WeightSpec[] {
  return [
    { name: `${name}.gamma`, shape: [width], init: 'ones' },
    { name: `${name}.beta`, shape: [width], init: 'zeros' },
  ];
}

function attentionSpecs(name: string, width: number): WeightSpec[] {
  return ['q', 'k', 'v', 'o'].flatMap((p) => denseSpecs(`${name}.${p}`, width, width));
}

function mlpSpecs(name: string, width: number, hidden: number): WeightSpec[] {
  return [...denseSpecs(`${name}.fc1`, width, hidden), ...denseSpecs(`${name}.fc2`, hidden, width)];
}

function selfBlockSpecs(name: string, width: number, hidden: number): WeightSpec[] {
  return [
    ...normSpecs(`${name}.ln`, width),
    ...attentionSpecs(`${name}.attn`, width),
    ...normSpecs(`${name}.mlp_ln`, width),
    ...mlpSpecs(`${name}.mlp`, width, hidden),
  ];
}

function crossBlockSpecs(name: string, width: number, hidden: number): WeightSpec[] {
  return [
    ...normSpecs(`${name}.ln_q`, width),
    ...normSpecs(`${name}.ln_kv`, width),
    ...attentionSpecs(`${name}.attn`, width),
    ...normSpecs(`${name}.mlp_ln`, width),
    ...mlpSpecs(`${name}.mlp`, width, hidden),
  ];
}

/** Every weight of a stage, in a fixed order, with its shape (the table in this file's header). */
export function stageWeightLayout(c: StageConfig): WeightSpec[] {
  const d = c.dModel;
  const dp = c.predictorDim;
  const specs: WeightSpec[] = [...denseSpecs('enc.frame_proj', c.inputDim, d)];
  for (let i = 0; i < c.encoderLayers; i++) {
    specs.push(...selfBlockSpecs(`enc.layers.${i}.self`, d, c.mlpRatio * d));
    specs.push(...crossBlockSpecs(`enc.layers.${i}.cross`, d, c.mlpRatio * d));
  }
  specs.push(...normSpecs('enc.ln_out', d));
  for (let j = 0; j < c.latentLayers; j++) specs.push(...selfBlockSpecs(`lf.layers.${j}`, d, c.mlpRatio * d));
  specs.push(...normSpecs('lf.ln_out', d));
  specs.push(...denseSpecs('pred.in_proj', d, dp), { name: 'pred.mask_token', shape: [dp], init: 'token' });
  for (let j = 0; j < c.predictorLayers; j++) {
    specs.push(...selfBlockSpecs(`pred.layers.${j}`, dp, c.mlpRatio * dp));
  }
  specs.push(...normSpecs('pred.ln_out', dp), ...denseSpecs('pred.out_proj', dp, d));
  return specs;
}

export const partOf = (name: string): WeightPart => name.slice(0, name.indexOf('.')) as WeightPart;

/** FNV-1a of the name mixed with the seed: each weight's own init stream. */
function weightSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function initialValues(spec: WeightSpec, seed: number): Float32Array {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  if (spec.init === 'ones') return out.fill(1);
  if (spec.init === 'zeros') return out;
  const rng = new Rng(weightSeed(seed, spec.name));
  if (spec.init === 'token') return out.map(() => 0.02 * rng.gaussian());
  const limit = Math.sqrt(6 / (spec.shape[0] + spec.shape[1])); // Glorot uniform
  return out.map(() => rng.uniform(-limit, limit));
}

/** A named weight and its values (checkpoints, ONNX export). */
export interface NamedWeight {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class StageModel implements WeightSource {
  constructor(
    readonly config: StageConfig,
    readonly vars: ReadonlyMap<string, tf.Variable>,
  ) {}

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v)
      throw new Error(`A4Mer stage model: no weight "${name}" (parts held: ${[...this.parts()].join(', ')})`);
    return v;
  }

  parts(): Set<WeightPart> {
    return new Set([...this.vars.keys()].map(partOf));
  }

  /** The weights as plain arrays, in layout order. */
  exportWeights(): NamedWeight[] {
    return [...this.vars].map(([name, v]) => ({
      name,
      shape: [...v.shape],
      data: v.dataSync() as Float32Array,
    }));
  }

  /** Overwrites weights by name; every given weight must exist with the same shape. */
  loadWeights(weights: readonly NamedWeight[]): void {
    for (const w of weights) {
      const v = this.get(w.name);
      if (w.shape.join(',') !== v.shape.join(',') || w.data.length !== v.size) {
        throw new Error(
          `A4Mer stage model: weight "${w.name}" is [${w.shape}] (${w.data.length} values), expected [${v.shape}]`,
        );
      }
      tf.tidy(() => v.assign(tf.tensor(w.data, v.shape)));
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}

export interface CreateOptions {
  /** which parts to hold (default all; the EMA target holds ['enc', 'lf']) */
  parts?: WeightPart[];
  trainable?: boolean;
}

/** A stage with freshly initialised weights (deterministic in `seed`). */
export function createStageModel(config: StageConfig, seed: number, options: CreateOptions = {}): StageModel {
  const parts = new Set(options.parts ?? ['enc', 'lf', 'pred']);
  const vars = new Map<string, tf.Variable>();
  for (const spec of stageWeightLayout(config)) {
    if (!parts.has(partOf(spec.name))) continue;
    const init = tf.tensor(initialValues(spec, seed), spec.shape);
    vars.set(spec.name, tf.variable(init, options.trainable ?? true));
    init.dispose();
  }
  return new StageModel(config, vars);
}

/** A copy of `parts` of a model (the EMA target starts as a copy of the online encoder + LatentFormer). */
export function copyStageModel(model: StageModel, options: CreateOptions = {}): StageModel {
  const parts = new Set(options.parts ?? model.parts());
  const vars = new Map<string, tf.Variable>();
  for (const [name, v] of model.vars) {
    if (parts.has(partOf(name))) vars.set(name, tf.variable(v, options.trainable ?? true));
  }
  return new StageModel(model.config, vars);
}

/**
 * Inference: Encoder + LatentFormer over all valid segments -> segment tokens [B,S,d] (what stage 1
 * gives per atom, stage 2 per motif; what the ONNX graph computes).
 */
export function stageForward(
  w: WeightSource,
  c: StageConfig,
  x: tf.Tensor3D,
  lt: LayoutTensors,
): tf.Tensor3D {
  return tf.tidy(() => {
    const tokens = encodeSegments(w, c, x, lt);
    return latentForward(w, c, tokens, lt.segmentPos, lt.segmentKeyMask, lt.segmentValid);
  });
}
