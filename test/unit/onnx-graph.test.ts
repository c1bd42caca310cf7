/**
 * ONNX graph builder + layers vs the same maths in tfjs (real tf.layers.dense / layerNormalization with the
 * weights copied across), run in ONNX Runtime on cpu; provider fallback and load errors.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxGraph, ONNX_OPSET } from '../../main/motifs/onnx/graph';
import {
  additiveMask,
  type AttentionWeights,
  type BlockWeights,
  dense,
  type DenseWeights,
  keyPaddingMask,
  layerNorm,
  type LayerNormWeights,
  maskedMaxPool,
  maskRows,
  MASK_NEGATIVE,
  multiHeadAttention,
  sameSegmentMask,
  segmentAssignment,
  transformerBlock,
} from '../../main/motifs/onnx/layers';
import {
  type FeedTensor,
  loadOrtModel,
  type OrtModel,
  resolveProviders,
} from '../../main/motifs/onnx/runtime';
import { Rng } from '../../main/capture/sample/rng';

const TOL = 1e-4;
const figures: Record<string, number> = {};

/** Deterministic uniform [0, 1) (the sample's Rng). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}
const rand = rng(20260601);
function randn(n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale * Math.sqrt(3);
  return out;
}

function randDense(inDim: number, outDim: number, bias = true): DenseWeights {
  return {
    kernel: randn(inDim * outDim, 1 / Math.sqrt(inDim)),
    bias: bias ? randn(outDim, 0.1) : null,
    inDim,
    outDim,
  };
}
function randNorm(dim: number, epsilon: number): LayerNormWeights {
  const gamma = randn(dim, 0.2).map((v) => 1 + v);
  return { gamma, beta: randn(dim, 0.1), epsilon };
}
function randAttention(dim: number, heads: number, contextDim = dim): AttentionWeights {
  return {
    heads,
    query: randDense(dim, dim),
    key: randDense(contextDim, dim),
    value: randDense(contextDim, dim),
    output: randDense(dim, dim),
  };
}
function randBlock(dim: number, heads: number, epsilon: number, context = false): BlockWeights {
  return {
    norm1: randNorm(dim, epsilon),
    attention: randAttention(dim, heads),
    norm2: randNorm(dim, epsilon),
    mlp: { fc1: randDense(dim, 2 * dim), fc2: randDense(2 * dim, dim), activation: 'gelu' },
    normContext: context ? randNorm(dim, epsilon) : undefined,
  };
}

// --- tfjs references: real tf layers where tfjs has them, tf ops otherwise ---
function tfDense(x: tf.Tensor, w: DenseWeights, activation?: 'gelu'): tf.Tensor {
  const layer = tf.layers.dense({ units: w.outDim, useBias: !!w.bias, activation });
  layer.build([null, w.inDim]);
  const weights: tf.Tensor[] = [tf.tensor2d(w.kernel, [w.inDim, w.outDim])];
  if (w.bias) weights.push(tf.tensor1d(w.bias));
  layer.setWeights(weights);
  return layer.apply(x) as tf.Tensor;
}
function tfNorm(x: tf.Tensor, w: LayerNormWeights): tf.Tensor {
  const layer = tf.layers.layerNormalization({ epsilon: w.epsilon });
  layer.build(x.shape.map((d, i) => (i === x.rank - 1 ? d : null)));
  layer.setWeights([tf.tensor1d(w.gamma), tf.tensor1d(w.beta)]);
  return layer.apply(x) as tf.Tensor;
}
function tfAttention(
  q: tf.Tensor,
  ctx: tf.Tensor,
  w: AttentionWeights,
  allowed: tf.Tensor | null,
): tf.Tensor {
  const [b, lq, d] = q.shape;
  const lk = ctx.shape[1]!;
  const dh = d! / w.heads;
  const split = (x: tf.Tensor, l: number) => tf.transpose(tf.reshape(x, [b!, l, w.heads, dh]), [0, 2, 1, 3]);
  const Q = split(tfDense(q, w.query), lq!);
  const K = split(tfDense(ctx, w.key), lk);
  const V = split(tfDense(ctx, w.value), lk);
  let scores = tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(dh));
  if (allowed) scores = tf.add(scores, tf.expandDims(tf.mul(tf.sub(allowed, 1), -MASK_NEGATIVE), 1));
  const heads = tf.matMul(tf.softmax(scores), V);
  return tfDense(tf.reshape(tf.transpose(heads, [0, 2, 1, 3]), [b!, lq!, d!]), w.output);
}
function tfBlock(x: tf.Tensor, w: BlockWeights, allowed: tf.Tensor | null, context?: tf.Tensor): tf.Tensor {
  const h = tfNorm(x, w.norm1);
  const ctx = context ? (w.normContext ? tfNorm(context, w.normContext) : context) : h;
  const x1 = tf.add(x, tfAttention(h, ctx, w.attention, allowed));
  const hidden = tfDense(tfNorm(x1, w.norm2), w.mlp.fc1, 'gelu');
  return tf.add(x1, tfDense(hidden, w.mlp.fc2));
}
function tfMaxPool(frames: tf.Tensor, assignment: tf.Tensor): tf.Tensor {
  const member = tf.greater(tf.expandDims(assignment, 3), 0.5);
  const pooled = tf.max(tf.where(member, tf.expandDims(frames, 1), tf.fill(member.shape, MASK_NEGATIVE)), 2);
  return tf.mul(pooled, tf.cast(tf.greater(tf.max(assignment, 2, true), 0.5), 'float32'));
}

/** A batch of segment layouts as per-frame segment ids (-1 = padded frame) and the assignment matrix. */
interface Layout {
  batch: number;
  frames: number;
  segments: number;
  ids: number[][];
  assignment: Float32Array;
  tokenValid: Float32Array;
}
function layoutFrom(ids: number[][], segments: number): Layout {
  const batch = ids.length;
  const frames = ids[0].length;
  const assignment = new Float32Array(batch * segments * frames);
  const tokenValid = new Float32Array(batch * segments);
  ids.forEach((row, b) =>
    row.forEach((k, t) => {
      if (k < 0) return;
      assignment[(b * segments + k) * frames + t] = 1;
      tokenValid[b * segments + k] = 1;
    }),
  );
  return { batch, frames, segments, ids, assignment, tokenValid };
}
/** Fixed layouts: padded segments at the end, empty segments in the middle, padded frames, 1-frame segments. */
const FIXED = layoutFrom(
  [
    [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2],
    [0, 1, 2, 2, 3, 3, 3, 4, -1, -1, -1, -1],
    [0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 4],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1],
  ],
  5,
);
/** Random contiguous layouts of variable length with random gaps of empty segments. */
function randomLayout(batch: number, frames: number, segments: number): Layout {
  const ids: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const used = 1 + Math.floor(rand() * frames);
    const row: number[] = [];
    let k = 0;
    for (let t = 0; t < frames; t++) {
      if (t >= used) row.push(-1);
      else {
        if (t > 0 && rand() < 0.3 && k < segments - 1)
          k = Math.min(segments - 1, k + 1 + (rand() < 0.3 ? 1 : 0));
        row.push(k);
      }
    }
    ids.push(row);
  }
  return layoutFrom(ids, segments);
}
const LAYOUTS = [FIXED, randomLayout(3, 20, 7), randomLayout(2, 9, 9)];

function maxAbs(onnxOut: { data: Float32Array; dims: number[] }, ref: tf.Tensor): number {
  expect(onnxOut.dims).toEqual(ref.shape);
  const r = ref.dataSync();
  let m = 0;
  for (let i = 0; i < r.length; i++) m = Math.max(m, Math.abs(onnxOut.data[i] - r[i]));
  expect(Number.isFinite(m)).toBe(true);
  return m;
}
function feed(data: Float32Array, dims: number[]): FeedTensor {
  return { data, dims };
}
async function cpuModel(g: OnnxGraph): Promise<OrtModel> {
  return loadOrtModel(g.toBytes(), { providers: ['cpu'], label: g.name });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  console.info(`onnx-graph parity (max abs, opset ${ONNX_OPSET}):`, JSON.stringify(figures));
});

describe('onnx layers vs tfjs', () => {
  it('dense and layer norm (native and decomposed, eps 1e-3 and 1e-5) match tf.layers', async () => {
    const g = new OnnxGraph('dense-norm');
    const x = g.input('x', ['batch', 'frames', 24]);
    const wd = randDense(24, 16);
    const wNoBias = randDense(24, 8, false);
    const n3 = randNorm(24, 1e-3);
    const n5 = randNorm(24, 1e-5);
    g.output(dense(g, x, wd, 'd'), 'dense');
    g.output(dense(g, x, wNoBias, 'nb'), 'denseNoBias');
    g.output(layerNorm(g, x, n3, 'ln3'), 'norm3');
    g.output(layerNorm(g, x, n5, 'ln5', { decompose: true }), 'norm5');
    expect(g.opCounts().LayerNormalization).toBe(1);
    const model = await cpuModel(g);
    for (const [b, t] of [
      [3, 11],
      [1, 1],
    ]) {
      const xs = randn(b * t * 24, 2);
      const out = await model.run({ x: feed(xs, [b, t, 24]) });
      const xt = tf.tensor3d(xs, [b, t, 24]);
      figures.dense = Math.max(figures.dense ?? 0, maxAbs(out.dense, tfDense(xt, wd)));
      figures.denseNoBias = Math.max(figures.denseNoBias ?? 0, maxAbs(out.denseNoBias, tfDense(xt, wNoBias)));
      figures.layerNorm = Math.max(figures.layerNorm ?? 0, maxAbs(out.norm3, tfNorm(xt, n3)));
      figures.layerNormDecomposed = Math.max(
        figures.layerNormDecomposed ?? 0,
        maxAbs(out.norm5, tfNorm(xt, n5)),
      );
    }
    for (const k of ['dense', 'denseNoBias', 'layerNorm', 'layerNormDecomposed'])
      expect(figures[k]).toBeLessThan(TOL);
    await model.dispose();
  });

  it('masked multi-head attention matches over several segment layouts (same model, symbolic dims)', async () => {
    const D = 32;
    const g = new OnnxGraph('attention');
    const frames = g.input('frames', ['batch', 'frames', D]);
    const tokens = g.input('tokens', ['batch', 'segments', D]);
    const assignment = g.input('assignment', ['batch', 'segments', 'frames']);
    const tokenValid = g.input('tokenValid', ['batch', 'segments']);
    const wFrames = randAttention(D, 4);
    const wCross = randAttention(D, 4);
    const wTokens = randAttention(D, 2);
    // frames attend within their own segment; tokens attend to their segment's frames; tokens to valid tokens.
    g.output(
      multiHeadAttention(g, frames, frames, wFrames, additiveMask(g, sameSegmentMask(g, assignment)), 'sa'),
      'intra',
    );
    g.output(multiHeadAttention(g, tokens, frames, wCross, additiveMask(g, assignment), 'ca'), 'cross');
    const latent = multiHeadAttention(
      g,
      tokens,
      tokens,
      wTokens,
      additiveMask(g, keyPaddingMask(g, tokenValid)),
      'la',
    );
    g.output(maskRows(g, latent, tokenValid), 'latent');
    const model = await cpuModel(g);
    let worst = 0;
    for (const L of LAYOUTS) {
      const fs = randn(L.batch * L.frames * D);
      const ts = randn(L.batch * L.segments * D);
      const out = await model.run({
        frames: feed(fs, [L.batch, L.frames, D]),
        tokens: feed(ts, [L.batch, L.segments, D]),
        assignment: feed(L.assignment, [L.batch, L.segments, L.frames]),
        tokenValid: feed(L.tokenValid, [L.batch, L.segments]),
      });
      const ft = tf.tensor3d(fs, [L.batch, L.frames, D]);
      const tt = tf.tensor3d(ts, [L.batch, L.segments, D]);
      const at = tf.tensor3d(L.assignment, [L.batch, L.segments, L.frames]);
      const vt = tf.tensor2d(L.tokenValid, [L.batch, L.segments]);
      const same = tf.matMul(at, at, true, false);
      const tokenAllowed = tf.expandDims(vt, 1);
      const latentRef = tf.mul(tfAttention(tt, tt, wTokens, tokenAllowed), tf.expandDims(vt, 2));
      worst = Math.max(worst, maxAbs(out.intra, tfAttention(ft, ft, wFrames, same)));
      worst = Math.max(worst, maxAbs(out.cross, tfAttention(tt, ft, wCross, at)));
      worst = Math.max(worst, maxAbs(out.latent, latentRef));
      // Padded tokens really are zeroed, and a masked-out frame cannot influence another segment's output.
      const invalid = L.tokenValid.findIndex((v) => v === 0);
      if (invalid >= 0)
        expect(Math.max(...out.latent.data.slice(invalid * D, invalid * D + D).map(Math.abs))).toBe(0);
    }
    figures.attention = worst;
    expect(worst).toBeLessThan(TOL);
    await model.dispose();
  });

  it('segment masking isolates segments: changing one segment leaves the others unchanged', async () => {
    const D = 16;
    const g = new OnnxGraph('isolation');
    const frames = g.input('frames', ['batch', 'frames', D]);
    const assignment = g.input('assignment', ['batch', 'segments', 'frames']);
    const w = randAttention(D, 2);
    g.output(
      multiHeadAttention(g, frames, frames, w, additiveMask(g, sameSegmentMask(g, assignment)), 'sa'),
      'y',
    );
    const model = await cpuModel(g);
    const L = layoutFrom([[0, 0, 0, 1, 1, 1, 1, 2, 2, 2]], 3);
    const fs = randn(10 * D);
    const a = await model.run({ frames: feed(fs, [1, 10, D]), assignment: feed(L.assignment, [1, 3, 10]) });
    const changed = fs.slice();
    for (let i = 3 * D; i < 7 * D; i++) changed[i] += 5; // segment 1 only
    const b = await model.run({
      frames: feed(changed, [1, 10, D]),
      assignment: feed(L.assignment, [1, 3, 10]),
    });
    const diff = (from: number, to: number) =>
      Math.max(
        ...Array.from({ length: (to - from) * D }, (_, i) =>
          Math.abs(a.y.data[from * D + i] - b.y.data[from * D + i]),
        ),
      );
    expect(diff(0, 3)).toBe(0);
    expect(diff(7, 10)).toBe(0);
    expect(diff(3, 7)).toBeGreaterThan(0.01);
    await model.dispose();
  });

  it('pre-norm transformer blocks (self and cross with context norm) match', async () => {
    const D = 32;
    const g = new OnnxGraph('blocks');
    const frames = g.input('frames', ['batch', 'frames', D]);
    const tokens = g.input('tokens', ['batch', 'segments', D]);
    const assignment = g.input('assignment', ['batch', 'segments', 'frames']);
    const self = randBlock(D, 4, 1e-5);
    const cross = randBlock(D, 4, 1e-3, true);
    g.output(
      transformerBlock(g, frames, self, 'self', { mask: additiveMask(g, sameSegmentMask(g, assignment)) }),
      'self',
    );
    g.output(
      transformerBlock(g, tokens, cross, 'cross', { mask: additiveMask(g, assignment), context: frames }),
      'cross',
    );
    const model = await cpuModel(g);
    let worst = 0;
    for (const L of LAYOUTS) {
      const fs = randn(L.batch * L.frames * D);
      const ts = randn(L.batch * L.segments * D);
      const out = await model.run({
        frames: feed(fs, [L.batch, L.frames, D]),
        tokens: feed(ts, [L.batch, L.segments, D]),
        assignment: feed(L.assignment, [L.batch, L.segments, L.frames]),
      });
      const ft = tf.tensor3d(fs, [L.batch, L.frames, D]);
      const at = tf.tensor3d(L.assignment, [L.batch, L.segments, L.frames]);
      worst = Math.max(worst, maxAbs(out.self, tfBlock(ft, self, tf.matMul(at, at, true, false))));
      worst = Math.max(
        worst,
        maxAbs(out.cross, tfBlock(tf.tensor3d(ts, [L.batch, L.segments, D]), cross, at, ft)),
      );
    }
    figures.transformerBlock = worst;
    expect(worst).toBeLessThan(TOL);
    await model.dispose();
  });

  it('masked max-pool (from segment ids built in-graph) matches, empty segments give 0', async () => {
    const D = 8;
    const g = new OnnxGraph('maxpool');
    const frames = g.input('frames', ['batch', 'frames', D]);
    const ids = g.input('segmentIds', ['batch', 'frames'], 'int64');
    const tokenValid = g.input('tokenValid', ['batch', 'segments']);
    g.output(maskedMaxPool(g, frames, segmentAssignment(g, ids, tokenValid)), 'pooled');
    const model = await cpuModel(g);
    let worst = 0;
    for (const L of LAYOUTS) {
      const fs = randn(L.batch * L.frames * D).map((v) => v - 4); // all in [-5.8, -2.2]: 0-padding would show up
      const out = await model.run({
        frames: feed(fs, [L.batch, L.frames, D]),
        segmentIds: { data: BigInt64Array.from(L.ids.flat().map(BigInt)), dims: [L.batch, L.frames] },
        tokenValid: feed(L.tokenValid, [L.batch, L.segments]),
      });
      const ref = tfMaxPool(
        tf.tensor3d(fs, [L.batch, L.frames, D]),
        tf.tensor3d(L.assignment, [L.batch, L.segments, L.frames]),
      );
      worst = Math.max(worst, maxAbs(out.pooled, ref));
      for (let s = 0; s < L.batch * L.segments; s++) {
        const row = out.pooled.data.slice(s * D, s * D + D);
        if (L.tokenValid[s] === 0) expect(Array.from(row)).toEqual(new Array(D).fill(0));
        else expect(Math.max(...row)).toBeLessThan(0);
      }
    }
    figures.maskedMaxPool = worst;
    expect(worst).toBe(0);
    await model.dispose();
  });
});

describe('onnx runtime loading', () => {
  function tinyModel(): Uint8Array {
    const g = new OnnxGraph('tiny');
    g.output(g.relu(g.input('x', ['n'])), 'y');
    return g.toBytes();
  }
  const bin = join(
    dirname(require.resolve('onnxruntime-node')),
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  const cudaInstalled = existsSync(join(bin, 'libonnxruntime_providers_cuda.so'));

  it('falls back from cuda to cpu and reports the provider that ran', async () => {
    const model = await loadOrtModel(tinyModel(), { providers: ['cuda', 'cpu'] });
    if (!cudaInstalled) {
      expect(model.provider).toBe('cpu');
      expect(model.attempts.map((a) => a.provider)).toEqual(['cuda']);
      expect(model.attempts[0].error).toMatch(/cuda/i);
    } else expect(['cuda', 'cpu']).toContain(model.provider);
    const out = await model.run({ x: feed(Float32Array.from([-1, 2, -3]), [3]) });
    expect(Array.from(out.y.data)).toEqual([0, 2, 0]);
    await model.dispose();
    await expect(model.run({ x: feed(new Float32Array(1), [1]) })).rejects.toThrow(/disposed/);
  });

  it('takes providers from STUDIO_ORT_PROVIDERS and rejects unknown names', () => {
    expect(resolveProviders(undefined, { STUDIO_ORT_PROVIDERS: 'webgpu, CPU' })).toEqual(['webgpu', 'cpu']);
    expect(resolveProviders(undefined, {})).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(resolveProviders(['cpu'], { STUDIO_ORT_PROVIDERS: 'cuda' })).toEqual(['cpu']);
    expect(() => resolveProviders(undefined, { STUDIO_ORT_PROVIDERS: 'gpu,cpu' })).toThrow(
      /STUDIO_ORT_PROVIDERS.*"gpu"/,
    );
  });

  it('gives clear errors for a malformed model, bad feeds and a dangling graph input', async () => {
    const bytes = tinyModel();
    await expect(
      loadOrtModel(bytes.slice(0, bytes.length - 7), { providers: ['cpu'], label: 'broken.onnx' }),
    ).rejects.toThrow(/^broken\.onnx: ONNX Runtime cannot load the model: .*protobuf parsing failed/);
    const g2 = new OnnxGraph('bad-op');
    g2.output(g2.op('NoSuchOp', [g2.input('x', ['n'])]), 'y');
    await expect(
      loadOrtModel(g2.toBytes(), { providers: ['cuda', 'cpu'], label: 'bad-op.onnx' }),
    ).rejects.toThrow(
      /^bad-op\.onnx: ONNX Runtime cannot load the model: .*NoSuchOp.*\(other providers: cuda: /,
    );
    await expect(loadOrtModel(new Uint8Array(0), { label: 'empty.onnx' })).rejects.toThrow(
      /empty\.onnx: the model is empty/,
    );
    const model = await loadOrtModel(bytes, { providers: ['cpu'], label: 'tiny.onnx' });
    await expect(model.run({ x: feed(new Float32Array(3), [2]) })).rejects.toThrow(
      /tiny\.onnx: input "x" has 3 values/,
    );
    await expect(model.run({})).rejects.toThrow(/input "x" is missing/);
    await expect(
      model.run({ x: feed(new Float32Array(1), [1]), z: feed(new Float32Array(1), [1]) }),
    ).rejects.toThrow(/unknown input "z"/);
    await expect(model.run({ x: feed(new Float32Array(4), [2, 2]) })).rejects.toThrow(
      /tiny\.onnx: inference on cpu failed/,
    );
    await model.dispose();
    const g = new OnnxGraph('dangling');
    expect(() => g.add('nowhere', g.scalar(1))).toThrow(/"dangling": Add reads "nowhere"/);
    expect(() => g.weight('w', new Float32Array(5), [2, 3])).toThrow(/weight "w" has 5 values/);
    expect(() =>
      dense(g, g.input('x', [1, 4]), { kernel: new Float32Array(3), bias: null, inDim: 4, outDim: 2 }, 'fc'),
    ).toThrow(/dense "fc": kernel has 3 values, 4 x 2 expected/);
  });
});
