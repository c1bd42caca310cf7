/**
 * Export of one A4Mer stage (Encoder + LatentFormer inference, model.ts `stageForward`) to an ONNX model,
 * built with graph.ts / layers.ts in the textbook formulation of encoder-reference.ts (frames in time order,
 * assignment matrix A [B, S, T], block masks, Where + ReduceMax max-pool). Only the enc.* and lf.* weights
 * are exported (pass the EMA target's: it is the network extraction uses); pred.* is ignored.
 *
 * Inputs (dims: batch = windows B, frames = T elements, segments = S slots; all symbolic):
 *   features     float32 [batch, frames, inputDim]  stage 1: per-frame features (preprocess.ts);
 *                                                    stage 2: stage-1 atom tokens
 *   segment_ids  int64   [batch, frames]            segment of each element; -1 (or any id outside
 *                                                    0..S-1) = padding: ignored, it changes no output
 *   frame_pos    float32 [batch, frames]            element time in frames (stage 1: the index t;
 *                                                    stage 2: the atom's centre time); 0 in padding
 *   segment_pos  float32 [batch, segments]          segment time in frames (layout.ts segmentPos: midpoint
 *                                                    of its first and last element times); its axis 1 sets S
 * Output:
 *   tokens       float32 [batch, segments, dModel]  a token per segment slot; exact zeros for empty slots
 * Segment validity, frame validity and every mask are derived in the graph from segment_ids (a slot is
 * valid when some element has its id), so a caller cannot feed inconsistent masks.
 * Metadata (model metadata_props): a4mer.format = STAGE_FORMAT, a4mer.stage = "1" | "2",
 * a4mer.config = the StageConfig as JSON, a4mer.inputs = the input names in order.
 *
 * Maths (as the tfjs network, blocks.ts): layer-norm epsilon config.lnEps, erf GELU, pre-norm blocks,
 * sinusoidal PE [sin(p f_i), cos(p f_i)] with f_i = posBase^(-2i/d) built in-graph (Mul, Sin, Cos, Concat).
 * Weight name mapping (model.ts -> layers.ts BlockWeights): self block ln -> norm1, mlp_ln -> norm2; cross
 * block ln_q -> norm1, ln_kv -> normContext, mlp_ln -> norm2; attn.{q,k,v,o} -> query/key/value/output.
 */
import type { StageConfig } from '../model/config';
import { inverseFrequencies } from '../model/blocks';
import { type NamedWeight, type StageModel, stageWeightLayout } from '../model/model';
import { OnnxGraph, type Value } from './graph';
import * as L from './layers';

export const STAGE_FORMAT = 'a4mer-stage/1';
export const STAGE_INPUTS = ['features', 'segment_ids', 'frame_pos', 'segment_pos'] as const;
export const STAGE_OUTPUT = 'tokens';
export const STAGE_META = {
  format: 'a4mer.format',
  stage: 'a4mer.stage',
  config: 'a4mer.config',
  inputs: 'a4mer.inputs',
} as const;

export type StageIndex = 1 | 2;

export interface ExportStageOptions {
  stage: StageIndex;
  /** graph name (default "a4mer-stage<stage>") */
  name?: string;
}

const sameConfig = (a: StageConfig, b: StageConfig): boolean =>
  (Object.keys(a) as (keyof StageConfig)[]).every((k) => a[k] === b[k]) &&
  Object.keys(a).length === Object.keys(b).length;

/** name -> values of the enc.* and lf.* weights, checked against the config's layout (names and shapes). */
function exportedWeights(
  weights: readonly NamedWeight[] | StageModel,
  cfg: StageConfig,
  label: string,
): Map<string, Float32Array> {
  let list: readonly NamedWeight[];
  // Not `instanceof`: a StageModel from another copy of model.ts (ESM vs CJS loading) is one too.
  if (!Array.isArray(weights)) {
    const model = weights as StageModel;
    if (!sameConfig(model.config, cfg)) {
      throw new Error(
        `${label}: the model's config ${JSON.stringify(model.config)} differs from the given ${JSON.stringify(cfg)}`,
      );
    }
    list = model.exportWeights();
  } else {
    list = weights as readonly NamedWeight[];
  }
  const byName = new Map(list.map((w) => [w.name, w]));
  const out = new Map<string, Float32Array>();
  for (const spec of stageWeightLayout(cfg)) {
    if (!spec.name.startsWith('enc.') && !spec.name.startsWith('lf.')) continue;
    const w = byName.get(spec.name);
    if (!w) throw new Error(`${label}: weight "${spec.name}" is missing`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (w.shape.join(',') !== spec.shape.join(',') || w.data.length !== size) {
      throw new Error(
        `${label}: weight "${spec.name}" is [${w.shape}] (${w.data.length} values), the config needs [${spec.shape}]`,
      );
    }
    out.set(spec.name, w.data);
  }
  return out;
}

/** Builds the layers.ts weight structures from the model.ts names. */
function weightReader(values: Map<string, Float32Array>, cfg: StageConfig) {
  const d = cfg.dModel;
  const hidden = cfg.mlpRatio * d;
  const get = (name: string): Float32Array => values.get(name)!;
  const dense = (n: string, inDim: number, outDim: number): L.DenseWeights => ({
    kernel: get(`${n}.kernel`),
    bias: get(`${n}.bias`),
    inDim,
    outDim,
  });
  const norm = (n: string): L.LayerNormWeights => ({
    gamma: get(`${n}.gamma`),
    beta: get(`${n}.beta`),
    epsilon: cfg.lnEps,
  });
  const attention = (n: string): L.AttentionWeights => ({
    heads: cfg.heads,
    query: dense(`${n}.q`, d, d),
    key: dense(`${n}.k`, d, d),
    value: dense(`${n}.v`, d, d),
    output: dense(`${n}.o`, d, d),
  });
  const mlp = (n: string): L.MlpWeights => ({
    fc1: dense(`${n}.fc1`, d, hidden),
    fc2: dense(`${n}.fc2`, hidden, d),
    activation: 'gelu',
  });
  return {
    dense,
    norm,
    selfBlock: (n: string): L.BlockWeights => ({
      norm1: norm(`${n}.ln`),
      attention: attention(`${n}.attn`),
      norm2: norm(`${n}.mlp_ln`),
      mlp: mlp(`${n}.mlp`),
    }),
    crossBlock: (n: string): L.BlockWeights => ({
      norm1: norm(`${n}.ln_q`),
      normContext: norm(`${n}.ln_kv`),
      attention: attention(`${n}.attn`),
      norm2: norm(`${n}.mlp_ln`),
      mlp: mlp(`${n}.mlp`),
    }),
  };
}

/** Sinusoidal position encoding of pos [B, N] -> [B, N, width]: [sin(pos f), cos(pos f)] (blocks.ts). */
function positionEncoding(g: OnnxGraph, pos: Value, inverseFrequency: Value): Value {
  return g.scoped('pos_enc', () => {
    const angle = g.mul(g.unsqueeze(pos, [2]), inverseFrequency);
    return g.concat([g.op('Sin', [angle]), g.op('Cos', [angle])], -1);
  });
}

/**
 * The stage's inference network as a serialised ONNX model (see the header for inputs, output, metadata).
 * `weights`: a StageModel (its config must equal `cfg`) or named arrays (e.g. a checkpoint); every enc.* and
 * lf.* weight of `stageWeightLayout(cfg)` must be there with its shape, others are ignored.
 */
export function exportStageOnnx(
  weights: readonly NamedWeight[] | StageModel,
  cfg: StageConfig,
  options: ExportStageOptions,
): Uint8Array {
  const { stage } = options;
  if (stage !== 1 && stage !== 2) throw new Error(`A4Mer ONNX export: stage must be 1 or 2, got ${stage}`);
  const label = `A4Mer ONNX export (stage ${stage})`;
  const w = weightReader(exportedWeights(weights, cfg, label), cfg);
  const d = cfg.dModel;
  const g = new OnnxGraph(options.name ?? `a4mer-stage${stage}`);

  const [featuresName, idsName, framePosName, segmentPosName] = STAGE_INPUTS;
  const x = g.input(featuresName, ['batch', 'frames', cfg.inputDim]);
  const segmentIds = g.input(idsName, ['batch', 'frames'], 'int64');
  const framePos = g.input(framePosName, ['batch', 'frames']);
  const segmentPos = g.input(segmentPosName, ['batch', 'segments']);
  const inverseFrequency = g.weight('pos.inv_freq', inverseFrequencies(d, cfg.posBase), [d / 2]);

  // Encoder (encoder-reference.ts): A [B,S,T]; frame embeddings zeroed outside segments.
  const assignment = L.segmentAssignment(g, segmentIds, segmentPos);
  const frameValid = g.reduceMax(assignment, [1], false); // [B, T]
  const segmentValid = g.reduceMax(assignment, [2], false); // [B, S]
  const embedded = g.add(
    L.dense(g, x, w.dense('enc.frame_proj', cfg.inputDim, d), 'enc.frame_proj'),
    positionEncoding(g, framePos, inverseFrequency),
  );
  let h = L.maskRows(g, embedded, frameValid);
  let z = L.maskedMaxPool(g, h, assignment); // [B, S, d], empty slots 0
  const selfMask = L.additiveMask(g, L.sameSegmentMask(g, assignment)); // [B, T, T]
  const crossMask = L.additiveMask(g, assignment); // [B, S, T]
  for (let i = 0; i < cfg.encoderLayers; i++) {
    const self = `enc.layers.${i}.self`;
    const cross = `enc.layers.${i}.cross`;
    h = L.transformerBlock(g, h, w.selfBlock(self), self, { mask: selfMask });
    z = L.transformerBlock(g, z, w.crossBlock(cross), cross, { mask: crossMask, context: h });
  }
  z = L.maskRows(g, L.layerNorm(g, z, w.norm('enc.ln_out'), 'enc.ln_out'), segmentValid);

  // LatentFormer (latentformer.ts): tokens + PE(segment_pos), keys = valid segments.
  let u = g.add(z, positionEncoding(g, segmentPos, inverseFrequency));
  const keyMask = L.additiveMask(g, L.keyPaddingMask(g, segmentValid)); // [B, 1, S]
  for (let j = 0; j < cfg.latentLayers; j++) {
    u = L.transformerBlock(g, u, w.selfBlock(`lf.layers.${j}`), `lf.layers.${j}`, { mask: keyMask });
  }
  const tokens = L.maskRows(g, L.layerNorm(g, u, w.norm('lf.ln_out'), 'lf.ln_out'), segmentValid);
  g.output(tokens, STAGE_OUTPUT, ['batch', 'segments', d]);

  g.setMetadata(STAGE_META.format, STAGE_FORMAT);
  g.setMetadata(STAGE_META.stage, String(stage));
  g.setMetadata(STAGE_META.config, JSON.stringify(cfg));
  g.setMetadata(STAGE_META.inputs, STAGE_INPUTS.join(','));
  return g.toBytes();
}
