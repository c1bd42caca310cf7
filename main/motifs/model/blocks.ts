/**
 * The primitive ops every A4Mer network is made of, written with plain tf ops on named weights so the
 * ONNX exporter (main/motifs/onnx/layers.ts) can mirror them op for op:
 * - dense: y = x K + b, K stored [in, out] (as tf.layers.dense);
 * - layer norm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta, biased variance
 *   (= ONNX LayerNormalization-17 with axis -1);
 * - GELU, exact (erf) form: 0.5 x (1 + erf(x / sqrt 2)) (= tf.layers 'gelu', ONNX Erf);
 * - multi-head attention with an additive mask: softmax(Q K^T / sqrt(dh) + mask) V per head;
 * - pre-norm residual blocks: x + Attn(LN(x)), then x + MLP(LN(x)), MLP = fc2(GELU(fc1)).
 */
import * as tf from '@tensorflow/tfjs';

/** Named weights of a stage (model.ts documents the names and shapes). */
export interface WeightSource {
  get(name: string): tf.Tensor;
}

/**
 * y = x K + b on 2-D x, with a hand-written gradient that only uses untransposed 2-D matMuls after
 * explicit transposes (dx = dy K^T, dK = x^T dy, db = sum dy): the wasm backend runs those through
 * XNNPACK, while its transposed/batched matMuls (tfjs' own gradient) are 5-10x slower.
 */
const denseOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, kernel, bias, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    value: tf.add(tf.matMul(x, kernel), bias),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ks] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = dy as tf.Tensor2D;
      return [tf.matMul(dy2, tf.transpose(ks)), tf.matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
    },
  };
}) as (x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D) => tf.Tensor2D;

/** y = x K + b over the last axis of x (any rank >= 2). */
export function dense(x: tf.Tensor, w: WeightSource, name: string): tf.Tensor {
  const kernel = w.get(`${name}.kernel`) as tf.Tensor2D;
  const bias = w.get(`${name}.bias`) as tf.Tensor1D;
  const shape = x.shape;
  const y = denseOp(x.reshape([-1, shape[shape.length - 1]]), kernel, bias);
  return y.reshape([...shape.slice(0, -1), kernel.shape[1]]);
}

/**
 * Rows of x [N, D] picked by `index` [M] (values in [0, N]; N picks a zero row): [M, D]. Its gradient is
 * the same gather with the inverse map `inverse` [N] (values in [0, M]; M = a zero row), exact when every
 * row of x is picked by at most one index (the packing of frames into segment slots). tfjs' own gather
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks.
 */
export function gatherRows(x: tf.Tensor2D, index: tf.Tensor1D, inverse: tf.Tensor1D): tf.Tensor2D {
  const withZero = (a: tf.Tensor2D): tf.Tensor2D => tf.concat([a, tf.zeros([1, a.shape[1]])], 0);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(withZero(args[0] as tf.Tensor2D), index),
    gradFunc: (dy: tf.Tensor) => tf.gather(withZero(dy as tf.Tensor2D), inverse),
  })) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}

/**
 * max over axis 1 of x [M, L, W] -> [M, W]. Gradient: dy to every maximal entry (as tf.max's), computed
 * with Equal on same-shape tensors (the wasm backend's broadcasting Equal and Tile are slow).
 */
export const maxOverSlots = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
  const y = tf.max(x, 1);
  save([x, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ys] = saved;
      const ysFull = tf.add(tf.zerosLike(xs), tf.expandDims(ys, 1)); // broadcast by Add: fast on wasm
      const atMax = tf.cast(tf.equal(xs, ysFull), 'float32');
      return tf.mul(atMax, tf.expandDims(dy, 1));
    },
  };
}) as (x: tf.Tensor3D) => tf.Tensor2D;

/** Layer norm over the last axis, biased variance, eps inside the square root. */
export function layerNorm(x: tf.Tensor, w: WeightSource, name: string, eps: number): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normed, w.get(`${name}.gamma`)), w.get(`${name}.beta`));
}

/** GELU, erf form (not the tanh approximation). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** [B, N, H*dh] -> [B, H, N, dh] */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [B, N, W] = x.shape;
  return x.reshape([B, N, heads, W / heads]).transpose([0, 2, 1, 3]);
}

/**
 * Multi-head attention `${name}.{q,k,v,o}` (dense, [w, w] kernels). Queries from xq [B,Nq,w], keys and
 * values from xkv [B,Nk,w]; `mask` is additive and broadcasts to [B, H, Nq, Nk] (pass [B,1,Nq,Nk] or
 * [B,1,1,Nk]). Scores are (q k^T) * (1 / sqrt(dh)) + mask, softmax over the keys.
 */
export function attention(
  xq: tf.Tensor,
  xkv: tf.Tensor,
  mask: tf.Tensor,
  w: WeightSource,
  name: string,
  heads: number,
): tf.Tensor {
  const [B, Nq, W] = xq.shape;
  const q = splitHeads(dense(xq, w, `${name}.q`), heads);
  const k = splitHeads(dense(xkv, w, `${name}.k`), heads);
  const v = splitHeads(dense(xkv, w, `${name}.v`), heads);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(W / heads)), mask);
  const mixed = tf.matMul(tf.softmax(scores, -1), v); // [B, H, Nq, dh]
  return dense(mixed.transpose([0, 2, 1, 3]).reshape([B, Nq, W]), w, `${name}.o`);
}

/** fc2(GELU(fc1(x))) */
export function mlp(x: tf.Tensor, w: WeightSource, name: string): tf.Tensor {
  return dense(gelu(dense(x, w, `${name}.fc1`)), w, `${name}.fc2`);
}

/**
 * Pre-norm self-attention block `${name}`: x += attn(LN_ln(x)); x += mlp(LN_mlp_ln(x)).
 * Weights: ${name}.ln, ${name}.attn.{q,k,v,o}, ${name}.mlp_ln, ${name}.mlp.{fc1,fc2}.
 */
export function selfAttentionBlock(
  x: tf.Tensor,
  mask: tf.Tensor,
  w: WeightSource,
  name: string,
  heads: number,
  eps: number,
): tf.Tensor {
  const h = layerNorm(x, w, `${name}.ln`, eps);
  const x1 = tf.add(x, attention(h, h, mask, w, `${name}.attn`, heads));
  return tf.add(x1, mlp(layerNorm(x1, w, `${name}.mlp_ln`, eps), w, `${name}.mlp`));
}

/**
 * Pre-norm cross-attention block `${name}` (Transformer-decoder style): the queries x read the memory m:
 * x += attn(LN_ln_q(x), LN_ln_kv(m)); x += mlp(LN_mlp_ln(x)).
 */
export function crossAttentionBlock(
  x: tf.Tensor,
  memory: tf.Tensor,
  mask: tf.Tensor,
  w: WeightSource,
  name: string,
  heads: number,
  eps: number,
): tf.Tensor {
  const q = layerNorm(x, w, `${name}.ln_q`, eps);
  const kv = layerNorm(memory, w, `${name}.ln_kv`, eps);
  const x1 = tf.add(x, attention(q, kv, mask, w, `${name}.attn`, heads));
  return tf.add(x1, mlp(layerNorm(x1, w, `${name}.mlp_ln`, eps), w, `${name}.mlp`));
}

/** Inverse frequencies of the sinusoidal encoding: base^(-2i/width), i = 0 .. width/2 - 1. */
export function inverseFrequencies(width: number, base: number): Float32Array {
  const half = width / 2;
  const f = new Float32Array(half);
  for (let i = 0; i < half; i++) f[i] = Math.pow(base, (-2 * i) / width);
  return f;
}

/**
 * Sinusoidal position encoding of times `pos` [B, N] (in frames): [B, N, width] with the first half
 * sin(pos * f_i) and the second half cos(pos * f_i) (halves concatenated, not interleaved).
 */
export function positionEncoding(pos: tf.Tensor, width: number, base: number): tf.Tensor {
  const angle = tf.mul(tf.expandDims(pos, -1), inverseFrequencies(width, base));
  return tf.concat([tf.sin(angle), tf.cos(angle)], -1);
}
