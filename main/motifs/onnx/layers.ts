/**
 * Composite ONNX blocks that mirror the tfjs layers the A4Mer model is built from, with the same weight layouts,
 * so a trained tfjs model exports by copying `layer.getWeights()[i].dataSync()` into these structures.
 *
 * Conventions (all activations are [batch, length, features], row vectors):
 *  - dense: y = x W + b, W stored [in, out] row-major exactly as tf.layers.dense keeps its kernel; b is [out].
 *  - layer norm over the last axis: y = (x - mean) / sqrt(var + epsilon) * gamma + beta with the biased
 *    variance; tf.layers.layerNormalization's default epsilon is 1e-3 (PyTorch's 1e-5): pass the one used.
 *  - gelu: the exact form x * 0.5 * (1 + erf(x / sqrt 2)), tf.layers' 'gelu' activation (not 'gelu_new').
 *  - multi-head attention: four dense layers (query, key, value, output); head h uses features
 *    [h * dh, (h + 1) * dh) of the projected vectors (a reshape [B, L, H, dh]); scores = Q K^T / sqrt(dh) + mask,
 *    softmax over keys, heads concatenated in order before the output dense.
 *  - masks: an "allowed" matrix holds 1 where a query may attend to a key, 0 elsewhere; additiveMask turns it into
 *    (allowed - 1) * 1e9, which is exactly 0 where allowed. A query row with no allowed key gets uniform weights
 *    (the mean of all values), identically in tfjs and ONNX Runtime; zero such rows with maskRows if they matter.
 *  - segments: a float assignment matrix A [B, S, T], A[b, k, t] = 1 when frame t belongs to segment k; padded
 *    frames belong to no segment and padded (empty) segments have no frame.
 */
import type { OnnxGraph, Value } from './graph';

export const TF_LAYER_NORM_EPSILON = 1e-3;
export const TORCH_LAYER_NORM_EPSILON = 1e-5;
/** Added to the scores of disallowed keys and used as -infinity in masked max-pooling. */
export const MASK_NEGATIVE = -1e9;

export interface DenseWeights {
  /** [inDim, outDim] row-major (tf.layers.dense kernel). */
  kernel: Float32Array;
  /** [outDim], or null for useBias: false. */
  bias: Float32Array | null;
  inDim: number;
  outDim: number;
}

export interface LayerNormWeights {
  gamma: Float32Array;
  beta: Float32Array;
  epsilon: number;
}

export type Activation = 'gelu' | 'relu' | 'linear';

export interface MlpWeights {
  fc1: DenseWeights;
  fc2: DenseWeights;
  activation: Activation;
}

export interface AttentionWeights {
  heads: number;
  query: DenseWeights;
  key: DenseWeights;
  value: DenseWeights;
  output: DenseWeights;
}

/** Pre-norm block: x += MHA(LN1(x), context); x += MLP(LN2(x)). normContext (optional) normalises the context. */
export interface BlockWeights {
  norm1: LayerNormWeights;
  attention: AttentionWeights;
  norm2: LayerNormWeights;
  mlp: MlpWeights;
  normContext?: LayerNormWeights;
}

function checkDense(w: DenseWeights, name: string): void {
  if (!Number.isInteger(w.inDim) || !Number.isInteger(w.outDim) || w.inDim < 1 || w.outDim < 1) {
    throw new Error(`dense "${name}": dimensions ${w.inDim} x ${w.outDim} are not positive integers`);
  }
  if (w.kernel.length !== w.inDim * w.outDim) {
    throw new Error(
      `dense "${name}": kernel has ${w.kernel.length} values, ${w.inDim} x ${w.outDim} expected`,
    );
  }
  if (w.bias && w.bias.length !== w.outDim) {
    throw new Error(`dense "${name}": bias has ${w.bias.length} values, ${w.outDim} expected`);
  }
}

/** y = x W + b over the last axis (MatMul broadcasts over the leading axes; ORT fuses the Add). */
export function dense(g: OnnxGraph, x: Value, w: DenseWeights, name: string): Value {
  checkDense(w, name);
  return g.scoped(name, () => {
    const y = g.matMul(x, g.weight(`${name}.kernel`, w.kernel, [w.inDim, w.outDim]));
    return w.bias ? g.add(y, g.weight(`${name}.bias`, w.bias, [w.outDim])) : y;
  });
}

/**
 * Layer norm over the last axis. Native LayerNormalization-17 by default; `decompose` spells it out with
 * ReduceMean/Sub/Mul/Sqrt/Div (same maths, for runtimes without the op).
 */
export function layerNorm(
  g: OnnxGraph,
  x: Value,
  w: LayerNormWeights,
  name: string,
  opts: { decompose?: boolean } = {},
): Value {
  if (w.gamma.length !== w.beta.length || w.gamma.length === 0) {
    throw new Error(
      `layer norm "${name}": gamma (${w.gamma.length}) and beta (${w.beta.length}) sizes differ`,
    );
  }
  if (!(w.epsilon > 0)) throw new Error(`layer norm "${name}": epsilon ${w.epsilon} must be positive`);
  return g.scoped(name, () => {
    const gamma = g.weight(`${name}.gamma`, w.gamma, [w.gamma.length]);
    const beta = g.weight(`${name}.beta`, w.beta, [w.beta.length]);
    if (!opts.decompose) return g.layerNormalization(x, gamma, beta, w.epsilon);
    const centred = g.sub(x, g.reduceMean(x, [-1], true));
    const variance = g.reduceMean(g.mul(centred, centred), [-1], true);
    const normed = g.div(centred, g.sqrt(g.add(variance, g.scalar(w.epsilon))));
    return g.add(g.mul(normed, gamma), beta);
  });
}

/** Exact gelu: x * 0.5 * (1 + erf(x / sqrt 2)), as tf.layers' 'gelu'. */
export function gelu(g: OnnxGraph, x: Value): Value {
  const cdf = g.mul(g.add(g.erf(g.div(x, g.scalar(Math.SQRT2))), g.scalar(1)), g.scalar(0.5));
  return g.mul(x, cdf);
}

export function activation(g: OnnxGraph, x: Value, kind: Activation): Value {
  if (kind === 'gelu') return gelu(g, x);
  if (kind === 'relu') return g.relu(x);
  if (kind === 'linear') return x;
  throw new Error(`activation "${String(kind)}" is not supported (gelu, relu, linear)`);
}

/** fc2(act(fc1(x))). */
export function mlp(g: OnnxGraph, x: Value, w: MlpWeights, name: string): Value {
  if (w.fc1.outDim !== w.fc2.inDim) {
    throw new Error(`mlp "${name}": fc1 gives ${w.fc1.outDim} features, fc2 takes ${w.fc2.inDim}`);
  }
  const hidden = activation(g, dense(g, x, w.fc1, `${name}.fc1`), w.activation);
  return dense(g, hidden, w.fc2, `${name}.fc2`);
}

/** (allowed - 1) * 1e9: 0 where allowed (exactly), -1e9 where not; broadcasts like `allowed`. */
export function additiveMask(g: OnnxGraph, allowed: Value, negative = MASK_NEGATIVE): Value {
  return g.mul(g.sub(allowed, g.scalar(1)), g.scalar(-negative));
}

/** Allowed [B, 1, L] from a validity vector [B, L] (1 = real key, 0 = padding): broadcasts over queries. */
export function keyPaddingMask(g: OnnxGraph, valid: Value): Value {
  return g.unsqueeze(valid, [1]);
}

/** Allowed [B, T, T] = A^T A: 1 when both frames belong to the same segment (frames are in at most one). */
export function sameSegmentMask(g: OnnxGraph, assignment: Value): Value {
  return g.matMul(g.transpose(assignment, [0, 2, 1]), assignment);
}

/** x [B, L, D] with the rows of invalid positions (valid [B, L] = 0) set to 0. */
export function maskRows(g: OnnxGraph, x: Value, valid: Value): Value {
  return g.mul(x, g.unsqueeze(valid, [2]));
}

/** Splits [B, L, H * dh] into heads [B, H, L, dh] (or [B, H, dh, L] with keysLast, for Q K^T). */
function splitHeads(g: OnnxGraph, x: Value, heads: number, headDim: number, keysLast: boolean): Value {
  return g.transpose(g.reshape(x, [0, 0, heads, headDim]), keysLast ? [0, 2, 3, 1] : [0, 2, 1, 3]);
}

/**
 * Multi-head attention: query [B, Lq, D] attends to context [B, Lk, Dc]; `mask` is additive, [B, Lq, Lk] or
 * [B, 1, Lk] (see additiveMask), or null. Returns [B, Lq, output.outDim].
 */
export function multiHeadAttention(
  g: OnnxGraph,
  query: Value,
  context: Value,
  w: AttentionWeights,
  mask: Value | null,
  name: string,
): Value {
  const { heads } = w;
  const qk = w.query.outDim;
  if (!Number.isInteger(heads) || heads < 1 || qk % heads !== 0 || w.value.outDim % heads !== 0) {
    throw new Error(`attention "${name}": ${heads} heads do not divide ${qk} / ${w.value.outDim} features`);
  }
  if (w.key.outDim !== qk)
    throw new Error(`attention "${name}": key gives ${w.key.outDim} features, query ${qk}`);
  if (w.key.inDim !== w.value.inDim) {
    throw new Error(`attention "${name}": key takes ${w.key.inDim} features, value ${w.value.inDim}`);
  }
  if (w.output.inDim !== w.value.outDim) {
    throw new Error(
      `attention "${name}": output takes ${w.output.inDim} features, value gives ${w.value.outDim}`,
    );
  }
  const headDim = qk / heads;
  const q = splitHeads(g, dense(g, query, w.query, `${name}.query`), heads, headDim, false);
  const kT = splitHeads(g, dense(g, context, w.key, `${name}.key`), heads, headDim, true);
  const v = splitHeads(g, dense(g, context, w.value, `${name}.value`), heads, w.value.outDim / heads, false);
  const attended = g.scoped(name, () => {
    let scores = g.mul(g.matMul(q, kT), g.scalar(1 / Math.sqrt(headDim)));
    if (mask) scores = g.add(scores, g.unsqueeze(mask, [1]));
    const weights = g.softmax(scores, -1);
    return g.reshape(g.transpose(g.matMul(weights, v), [0, 2, 1, 3]), [0, 0, w.value.outDim]);
  });
  return dense(g, attended, w.output, `${name}.output`);
}

/**
 * Pre-norm transformer block. Self-attention when `context` is absent; cross-attention from x to `context`
 * (normalised by normContext when given) otherwise. `mask` is additive as in multiHeadAttention.
 */
export function transformerBlock(
  g: OnnxGraph,
  x: Value,
  w: BlockWeights,
  name: string,
  opts: { mask?: Value | null; context?: Value } = {},
): Value {
  const h = layerNorm(g, x, w.norm1, `${name}.norm1`);
  let ctx = h;
  if (opts.context !== undefined) {
    ctx = w.normContext ? layerNorm(g, opts.context, w.normContext, `${name}.normContext`) : opts.context;
  }
  const x1 = g.add(x, multiHeadAttention(g, h, ctx, w.attention, opts.mask ?? null, `${name}.attention`));
  return g.add(x1, mlp(g, layerNorm(g, x1, w.norm2, `${name}.norm2`), w.mlp, `${name}.mlp`));
}

/**
 * Masked max-pool: token k = max over frames t with A[b, k, t] = 1 of frames[b, t, :]; [B, S, D]. Segments with
 * no frame (padding) give 0. Builds a [B, S, T, D] intermediate (Where + ReduceMax).
 */
export function maskedMaxPool(g: OnnxGraph, frames: Value, assignment: Value): Value {
  return g.scoped('maxpool', () => {
    const member = g.greater(g.unsqueeze(assignment, [3]), g.scalar(0.5)); // [B, S, T, 1]
    const candidates = g.where(member, g.unsqueeze(frames, [1]), g.scalar(MASK_NEGATIVE)); // [B, S, T, D]
    const pooled = g.reduceMax(candidates, [2], false);
    const nonEmpty = g.greater(g.reduceMax(assignment, [2], true), g.scalar(0.5)); // [B, S, 1]
    return g.where(nonEmpty, pooled, g.scalar(0));
  });
}

/**
 * The assignment matrix A [B, S, T] (float 0/1) from per-frame segment ids [B, T] (int64, -1 or >= S for padded
 * frames); S is read from axis 1 of `segmentsLike` (e.g. the token validity input [B, S]).
 */
export function segmentAssignment(g: OnnxGraph, segmentIds: Value, segmentsLike: Value): Value {
  return g.scoped('assignment', () => {
    const count = g.squeeze(g.shape(segmentsLike, 1, 2), [0]);
    const ks = g.range(g.int64s([0], []), count, g.int64s([1], []));
    const same = g.equal(g.unsqueeze(segmentIds, [1]), g.reshape(ks, [1, -1, 1])); // [B, S, T]
    return g.cast(same, 'float32');
  });
}
