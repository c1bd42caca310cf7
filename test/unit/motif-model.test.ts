import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../main/capture/sample/rng';
import { dense, gatherRows, maxOverSlots, type WeightSource } from '../../main/motifs/model/blocks';
import { resolveStageConfig, resolveTrainConfig, type JepaLossConfig } from '../../main/motifs/model/config';
import { emaUpdate } from '../../main/motifs/model/ema';
import { encodeSegments } from '../../main/motifs/model/encoder';
import { stageForwardReference } from '../../main/motifs/model/encoder-reference';
import { jepaLoss, predictFromContext, stopGradient } from '../../main/motifs/model/jepa';
import {
  buildSegmentLayout,
  disposeLayoutTensors,
  keyMaskOf,
  layoutTensors,
  MASK_NEG,
  type SegmentLayout,
} from '../../main/motifs/model/layout';
import { maskedCount, sampleSegmentMask } from '../../main/motifs/model/masking';
import {
  copyStageModel,
  createStageModel,
  stageForward,
  stageWeightLayout,
} from '../../main/motifs/model/model';
import { emaMomentum, learningRate } from '../../main/motifs/model/schedule';
import {
  createTrainer,
  disposeTrainer,
  restoreTrainer,
  trainerState,
  trainStep,
} from '../../main/motifs/model/train-step';

const tiny = resolveStageConfig({
  inputDim: 5,
  dModel: 8,
  heads: 2,
  mlpRatio: 2,
  encoderLayers: 2,
  latentLayers: 1,
  predictorLayers: 1,
  predictorDim: 8,
});

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
});

/** Three windows of T = 12: contiguous segments; a gap slot (2), a split segment and padding; all padding. */
function mixedLayout(): SegmentLayout {
  // prettier-ignore
  const seg = Int32Array.from([
    0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3,
    0, 0, 1, 1, 1, 0, 3, 3, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  ]);
  return buildSegmentLayout(seg, 3, 12, { segments: 5 });
}

function randomInputs(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(n).map(() => rng.gaussian());
}

function runEncoder(w: WeightSource, layout: SegmentLayout, x: Float32Array, full = false): Float32Array {
  const lt = layoutTensors(layout);
  const xt = tf.tensor3d(x, [layout.batch, layout.frames, tiny.inputDim]);
  const out = full ? stageForward(w, tiny, xt, lt) : encodeSegments(w, tiny, xt, lt);
  const data = out.dataSync() as Float32Array;
  tf.dispose([xt, out]);
  disposeLayoutTensors(lt);
  return data;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('segment layout', () => {
  it('packs frames by segment, with midpoint positions and empty slots', () => {
    const l = mixedLayout();
    expect([l.segments, l.slots]).toEqual([5, 4]); // segment 2 of window 0 has 4 frames
    expect(Array.from(l.segmentValid)).toEqual([1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(l.segmentLength.slice(5, 10))).toEqual([3, 3, 0, 2, 0]);
    expect(l.segmentPos[5]).toBeCloseTo(2.5, 6); // frames 0, 1, 5 -> (0 + 5) / 2
    expect(l.segmentPos[2]).toBeCloseTo(6.5, 6);
    for (let i = 0; i < 36; i++) {
      if (l.segmentOf[i] < 0) expect(l.unpackIndex[i]).toBe(60);
      else expect(l.packIndex[l.unpackIndex[i]]).toBe(i);
    }
    expect(l.packIndex[(1 * 5 + 0) * 4 + 2]).toBe(12 + 5); // third frame of window 1's segment 0
    // Encoder positions count from the segment's first frame; segmentPos stays absolute.
    expect(Array.from(l.framePos.slice(0, 12))).toEqual([0, 1, 2, 0, 1, 0, 1, 2, 3, 0, 1, 2]);
    expect(Array.from(l.framePos.slice(12, 24))).toEqual([0, 1, 0, 1, 2, 5, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(l.slotPos.slice((1 * 5 + 0) * 4, (1 * 5 + 1) * 4))).toEqual([0, 1, 5, 0]);
    expect(l.slotKeyMask[(1 * 5 + 0) * 4 + 3]).toBe(MASK_NEG);
    expect(Array.from(keyMaskOf(l, new Float32Array(15).fill(1)).slice(5, 10))).toEqual([
      0,
      0,
      MASK_NEG,
      0,
      MASK_NEG,
    ]);
  });

  it('rejects bad input with a clear error', () => {
    expect(() => buildSegmentLayout(new Int32Array(5), 2, 3)).toThrow(/segmentOf has 5 entries, B\*T = 6/);
    expect(() => buildSegmentLayout(Int32Array.from([0, -2]), 1, 2)).toThrow(/segmentOf\[1\] = -2/);
    expect(() => buildSegmentLayout(Int32Array.from([0, 3]), 1, 2, { segments: 2 })).toThrow(
      /does not fit 2/,
    );
    expect(() => resolveStageConfig({ inputDim: 4, dModel: 10, heads: 4 })).toThrow(/dModel = 10/);
    expect(() => resolveTrainConfig({ loss: { mode: 'bert' as never } })).toThrow(/loss.mode/);
  });
});

describe('networks', () => {
  it('gives [B, S, d] tokens for mixed layouts, exact zeros in empty slots', () => {
    const l = mixedLayout();
    const model = createStageModel(tiny, 1);
    const x = randomInputs(36 * 5, 2);
    const out = runEncoder(model, l, x, true);
    expect(out.length).toBe(3 * 5 * 8);
    for (let k = 0; k < 15; k++) {
      const token = out.slice(k * 8, k * 8 + 8);
      expect(token.every(Number.isFinite)).toBe(true);
      if (l.segmentValid[k] === 0) expect(token.every((v) => v === 0)).toBe(true);
      else expect(Math.max(...token.map(Math.abs))).toBeGreaterThan(0.1);
    }
    // Predictor: [B, S, d] as well, finite everywhere.
    const lt = layoutTensors(l);
    const visible = l.segmentValid.map((v, k) => (v > 0 && k % 2 === 0 ? 1 : 0));
    const pred = tf.tidy(() =>
      predictFromContext(
        model,
        tiny,
        tf.tensor3d(x, [3, 12, 5]),
        lt,
        tf.tensor3d(visible, [3, 5, 1]),
        tf.tensor2d(keyMaskOf(l, visible), [3, 5]),
      ),
    );
    expect(pred.shape).toEqual([3, 5, 8]);
    expect((pred.dataSync() as Float32Array).every(Number.isFinite)).toBe(true);
    pred.dispose();
    disposeLayoutTensors(lt);
    model.dispose();
  });

  it("restricts attention: a token ignores other segments' frames and padding", () => {
    const l = mixedLayout();
    const model = createStageModel(tiny, 3);
    const x = randomInputs(36 * 5, 4);
    const base = runEncoder(model, l, x);
    // Change every frame of window 1 outside segment 1, padding included.
    const x2 = x.slice();
    for (let t = 0; t < 12; t++)
      if (l.segmentOf[12 + t] !== 1) for (let j = 0; j < 5; j++) x2[(12 + t) * 5 + j] += 3;
    const changed = runEncoder(model, l, x2);
    const token = (a: Float32Array, k: number): Float32Array => a.slice(k * 8, k * 8 + 8);
    expect(maxAbsDiff(token(changed, 6), token(base, 6))).toBeLessThan(1e-6); // window 1, segment 1
    expect(maxAbsDiff(token(changed, 5), token(base, 5))).toBeGreaterThan(1e-3); // segment 0 did change
    // Padding frames alone: the whole stage output (LatentFormer included) is unchanged.
    const x3 = x.slice();
    for (let t = 8; t < 24; t++)
      if (l.segmentOf[12 + t] < 0) for (let j = 0; j < 5; j++) x3[(12 + t) * 5 + j] = 100;
    expect(maxAbsDiff(runEncoder(model, l, x3, true), runEncoder(model, l, x, true))).toBeLessThan(1e-6);
    // The textbook form (frames in time order, block mask A^T A, assignment max-pool; what ONNX builds).
    const ref = tf.tidy(() => stageForwardReference(model, tiny, tf.tensor3d(x, [3, 12, 5]), l));
    expect(maxAbsDiff(ref.dataSync(), runEncoder(model, l, x, true))).toBeLessThan(1e-5);
    ref.dispose();
    // Window 1 alone has fewer slots (L 3, S 4): empty slots and padded segments change nothing.
    const alone = buildSegmentLayout(l.segmentOf.slice(12, 24), 1, 12);
    expect([alone.slots, alone.segments]).toEqual([3, 4]);
    const single = runEncoder(model, alone, x.slice(60, 120), true);
    expect(maxAbsDiff(single, runEncoder(model, l, x, true).slice(40, 72))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('hides masked segments from the context: predictions ignore their frames', () => {
    const l = mixedLayout();
    const model = createStageModel(tiny, 5);
    const x = randomInputs(36 * 5, 6);
    const visible = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const predict = (input: Float32Array): Float32Array => {
      const lt = layoutTensors(l);
      const p = tf.tidy(() =>
        predictFromContext(
          model,
          tiny,
          tf.tensor3d(input, [3, 12, 5]),
          lt,
          tf.tensor3d(visible, [3, 5, 1]),
          tf.tensor2d(keyMaskOf(l, visible), [3, 5]),
        ),
      );
      const data = p.dataSync() as Float32Array;
      p.dispose();
      disposeLayoutTensors(lt);
      return data;
    };
    const base = predict(x);
    const x2 = x.slice();
    for (let i = 0; i < 36; i++) {
      const s = l.segmentOf[i];
      const k = Math.floor(i / 12) * 5 + s;
      if (s >= 0 && visible[k] === 0) for (let j = 0; j < 5; j++) x2[i * 5 + j] -= 2; // masked frames only
    }
    expect(maxAbsDiff(predict(x2), base)).toBeLessThan(1e-6);
    x2[0] += 1; // a visible frame does matter
    expect(maxAbsDiff(predict(x2), base)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('custom gradients match tfjs: dense, gather of rows, max over slots', () => {
    const rng = new Rng(9);
    const r = (shape: number[]): tf.Tensor =>
      tf.tensor(
        Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.gaussian()),
        shape,
      );
    const x = r([2, 3, 4]);
    const w = new Map([
      ['l.kernel', r([4, 5])],
      ['l.bias', r([5])],
    ]);
    const src: WeightSource = { get: (n) => w.get(n)! };
    const coef = r([2, 3, 5]);
    const ours = tf.grads((a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(dense(a, { get: (n) => (n.endsWith('kernel') ? k : b) }, 'l'), coef)),
    )([x, w.get('l.kernel')!, w.get('l.bias')!]);
    const ref = tf.grads((a: tf.Tensor, k: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.matMul(a.reshape([6, 4]), k), b).reshape([2, 3, 5]), coef)),
    )([x, w.get('l.kernel')!, w.get('l.bias')!]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(ours[i].dataSync(), ref[i].dataSync())).toBeLessThan(1e-5);
    expect(
      maxAbsDiff(
        dense(x, src, 'l').dataSync(),
        tf.add(tf.matMul(x.reshape([6, 4]), w.get('l.kernel')!), w.get('l.bias')!).dataSync(),
      ),
    ).toBeLessThan(1e-6);

    // gatherRows: rows 2, 0, zero row, 1 of a 3-row x; the gradient lands back on the picked rows.
    const rows = r([3, 2]) as tf.Tensor2D;
    const index = tf.tensor1d([2, 0, 3, 1], 'int32');
    const inverse = tf.tensor1d([1, 3, 0], 'int32');
    const picked = gatherRows(rows, index, inverse);
    const rv = rows.dataSync();
    expect(Array.from(picked.dataSync())).toEqual([rv[4], rv[5], rv[0], rv[1], 0, 0, rv[2], rv[3]]);
    const up = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gatherRows(a as tf.Tensor2D, index, inverse), up)))(
      rows,
    );
    expect(Array.from(g.dataSync())).toEqual([3, 4, 7, 8, 1, 2]);

    const m = r([3, 4, 2]);
    const gm = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(maxOverSlots(a as tf.Tensor3D), tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))),
    )(m);
    const gr = tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.max(a, 1), tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))),
    )(m);
    expect(Array.from(gm.dataSync())).toEqual(Array.from(gr.dataSync()));
  });
});

/** Hand computation of the loss (doubles) for pred/target [B][S][d] and masked [B][S]. */
function handLoss(pred: number[][][], target: number[][][], K: number[][], cfg: JepaLossConfig): number {
  const sl1 = (v: number[]): number =>
    v
      .map((x) => (Math.abs(x) < cfg.sl1Beta ? (0.5 * x * x) / cfg.sl1Beta : Math.abs(x) - 0.5 * cfg.sl1Beta))
      .reduce((a, b) => a + b) / v.length;
  let total = 0;
  let windows = 0;
  pred.forEach((P, b) => {
    const ks = K[b].flatMap((m, s) => (m ? [s] : []));
    if (ks.length === 0) return;
    windows++;
    const d = P[0].length;
    const mean = (Z: number[][]): number[] =>
      Array.from({ length: d }, (_, j) => ks.reduce((a, s) => a + Z[s][j], 0) / ks.length);
    const zg = mean(target[b]);
    const pg = mean(P);
    const Lg = sl1(pg.map((v, j) => v - zg[j]));
    let sum = 0;
    for (const s of ks) {
      const Ll = sl1(P[s].map((v, j) => v - pg[j] - (target[b][s][j] - zg[j])));
      if (cfg.mode === 'a4mer') sum += Ll + cfg.alpha * (Ll / Lg) * Lg;
      else if (cfg.mode === 'equal') sum += Ll + Lg;
      else if (cfg.mode === 'local') sum += Ll;
      else sum += sl1(P[s].map((v, j) => v - target[b][s][j]));
    }
    total += sum / ks.length;
  });
  return total / windows;
}

describe('JEPA loss', () => {
  // 3 windows, S = 3, d = 2; window 2 has no masked segment (left out of the mean).
  const pred = [
    [
      [0.2, -1.5],
      [0.9, 0.1],
      [2.5, 0.4],
    ],
    [
      [0.0, 0.3],
      [-0.4, 0.8],
      [1.1, -0.2],
    ],
    [
      [1.0, 1.0],
      [2.0, 2.0],
      [3.0, 3.0],
    ],
  ];
  const target = [
    [
      [0.1, 0.5],
      [0.3, 0.3],
      [-0.2, 0.9],
    ],
    [
      [0.6, -0.1],
      [0.2, 0.2],
      [0.0, 0.0],
    ],
    [
      [0.0, 0.0],
      [0.0, 0.0],
      [0.0, 0.0],
    ],
  ];
  const K = [
    [1, 0, 1],
    [1, 1, 1],
    [0, 0, 0],
  ];
  const base = resolveTrainConfig().loss;
  /** SL1 with beta = 1 over the last axis: 0.5 q^2 + |v| - q, q = min(|v|, 1). */
  const sl1 = (v: tf.Tensor): tf.Tensor =>
    tf.mean(
      tf.add(tf.mul(tf.square(tf.minimum(tf.abs(v), 1)), 0.5), tf.sub(tf.abs(v), tf.minimum(tf.abs(v), 1))),
      -1,
    );

  it('matches a hand computation of the global/local decomposition in every mode', () => {
    for (const mode of ['a4mer', 'jepa', 'local', 'equal'] as const) {
      const cfg = { ...base, mode };
      const parts = tf.tidy(() => jepaLoss(tf.tensor3d(pred), tf.tensor3d(target), tf.tensor2d(K), cfg));
      expect(parts.loss.dataSync()[0]).toBeCloseTo(handLoss(pred, target, K, cfg), 5);
      if (mode === 'a4mer') {
        expect(parts.loss.dataSync()[0]).toBeCloseTo((1 + base.alpha) * parts.local.dataSync()[0], 5);
        expect(parts.local.dataSync()[0]).toBeCloseTo(
          handLoss(pred, target, K, { ...cfg, mode: 'local' }),
          5,
        );
        expect(parts.jepa.dataSync()[0]).toBeCloseTo(handLoss(pred, target, K, { ...cfg, mode: 'jepa' }), 5);
      }
      tf.dispose(Object.values(parts));
    }
  });

  it('treats lambda as a constant: its gradient path vanishes', () => {
    expect(
      Array.from(
        tf
          .grad((x: tf.Tensor) => tf.sum(tf.mul(stopGradient(x), x)))(tf.tensor1d([1, -2, 3]))
          .dataSync(),
      ),
    ).toEqual([1, -2, 3]);
    const P = tf.tensor3d(pred);
    const Z = tf.tensor3d(target);
    const M = tf.tensor2d(K);
    const grad = (cfg: JepaLossConfig): Float32Array =>
      tf
        .grad((p: tf.Tensor) => jepaLoss(p as tf.Tensor3D, Z, M, cfg).loss)(P)
        .dataSync() as Float32Array;
    const gA4mer = grad(base);
    // Reference: L_k^l + alpha * c_k * L_g with c_k = lambda_k as plain numbers.
    const lambdas = tf.tidy(() => {
      const Km = tf.expandDims(M, -1);
      const n = tf.maximum(tf.sum(M, 1, true), 1);
      const mean = (v: tf.Tensor): tf.Tensor => tf.div(tf.sum(tf.mul(v, Km), 1), n);
      const Ll = sl1(tf.sub(tf.sub(P, tf.expandDims(mean(P), 1)), tf.sub(Z, tf.expandDims(mean(Z), 1))));
      return tf.div(Ll, tf.maximum(tf.expandDims(sl1(tf.sub(mean(P), mean(Z))), -1), 1e-8));
    });
    const gRef = tf
      .grad((p: tf.Tensor) =>
        tf.tidy(() => {
          const local = jepaLoss(p as tf.Tensor3D, Z, M, { ...base, mode: 'local' }).loss;
          // alpha * mean_k(c_k) * L_g per window, averaged over the 2 windows with a K.
          const Km = tf.expandDims(M, -1);
          const n = tf.maximum(tf.sum(M, 1), 1);
          const mean = (v: tf.Tensor): tf.Tensor => tf.div(tf.sum(tf.mul(v, Km), 1), tf.expandDims(n, -1));
          const d = tf.sub(mean(p), mean(Z));
          const Lg = sl1(d);
          const cMean = tf.div(tf.sum(tf.mul(lambdas, M), 1), n);
          return tf.add(local, tf.mul(tf.div(tf.sum(tf.mul(cMean, Lg)), 2), base.alpha));
        }),
      )(P)
      .dataSync();
    expect(maxAbsDiff(gA4mer, gRef)).toBeLessThan(1e-6);
    // Without the stop-gradient, alpha * lambda_k * L_g = alpha * L_k^l: the gradient would be (1 + alpha) x local's.
    const gLocal = grad({ ...base, mode: 'local' });
    expect(
      maxAbsDiff(
        gA4mer,
        gLocal.map((v) => (1 + base.alpha) * v),
      ),
    ).toBeGreaterThan(1e-3);
    tf.dispose([P, Z, M, lambdas]);
  });
});

describe('training', () => {
  it('follows the EMA, lr and momentum schedules', () => {
    const cfg = resolveTrainConfig({ warmupSteps: 10, totalSteps: 110, peakLr: 1e-3, minLr: 1e-5 });
    expect(learningRate(0, cfg)).toBeCloseTo(1e-4, 10);
    expect(learningRate(9, cfg)).toBeCloseTo(1e-3, 10);
    expect(learningRate(60, cfg)).toBeCloseTo(0.5 * (1e-3 + 1e-5), 10);
    expect(learningRate(500, cfg)).toBeCloseTo(1e-5, 10);
    expect(emaMomentum(0, cfg)).toBeCloseTo(0.996, 12);
    expect(emaMomentum(55, cfg)).toBeCloseTo(0.998, 12);
    expect(emaMomentum(110, cfg)).toBe(1);

    const online = createStageModel(tiny, 1, { parts: ['enc'] });
    const target = createStageModel(tiny, 2, { parts: ['enc'] });
    const before = target.get('enc.frame_proj.kernel').dataSync().slice();
    const o = online.get('enc.frame_proj.kernel').dataSync();
    emaUpdate(target, online, 0.9);
    const after = target.get('enc.frame_proj.kernel').dataSync();
    expect(
      maxAbsDiff(
        after,
        before.map((v, i) => 0.9 * v + 0.1 * o[i]),
      ),
    ).toBeLessThan(1e-7);
    const copy = copyStageModel(online, { trainable: false });
    emaUpdate(copy, online, 0.5);
    expect(maxAbsDiff(copy.get('enc.frame_proj.kernel').dataSync(), o)).toBe(0);
    [online, target, copy].forEach((m) => m.dispose());
  });

  it('masks 2..n-1 valid segments per window', () => {
    expect([0, 1, 2, 3, 5, 10].map((n) => maskedCount(n, 0.4))).toEqual([0, 0, 1, 2, 2, 4]);
    const l = mixedLayout();
    const m = sampleSegmentMask(l, 0.5, new Rng(1));
    for (let k = 0; k < 15; k++) {
      expect(m.visible[k] + m.masked[k]).toBe(l.segmentValid[k]);
    }
    expect(m.masked.slice(0, 5).reduce((a, b) => a + b)).toBe(2);
    expect(m.masked.slice(5, 10).reduce((a, b) => a + b)).toBe(2); // 3 valid: 2 masked, 1 visible
    expect(Array.from(sampleSegmentMask(l, 0.5, new Rng(1)).masked)).toEqual(Array.from(m.masked));
  });

  /** Four windows of 40 frames: segments of 3-7 frames, each one of three motions plus noise. */
  function syntheticBatch(): { x: Float32Array; layout: SegmentLayout } {
    const B = 4;
    const T = 40;
    const D = tiny.inputDim;
    const rng = new Rng(3);
    const seg = new Int32Array(B * T);
    const x = new Float32Array(B * T * D);
    for (let b = 0; b < B; b++) {
      for (let s = 0, t = 0; t < T; s++) {
        const len = 3 + rng.int(5);
        const kind = rng.int(3);
        for (let i = 0; i < len && t < T; i++, t++) {
          seg[b * T + t] = s;
          for (let j = 0; j < D; j++)
            x[(b * T + t) * D + j] = Math.sin(0.7 * i * (kind + 1) + j) + 0.5 * kind + 0.05 * rng.gaussian();
        }
      }
    }
    return { x, layout: buildSegmentLayout(seg, B, T) };
  }

  it('decreases the loss over 50 steps, trains every weight', () => {
    const batch = syntheticBatch();
    const cfg = resolveTrainConfig({ peakLr: 3e-3, warmupSteps: 5, totalSteps: 50 });
    const trainer = createTrainer(tiny, cfg, 1);
    const initial = new Map([...trainer.model.vars].map(([n, v]) => [n, v.dataSync().slice()]));
    const losses = Array.from({ length: 50 }, () => trainStep(trainer, batch).loss);
    const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    // Every weight of the layout got gradient (the forward reads each name, and only those).
    expect([...trainer.model.vars.keys()]).toEqual(stageWeightLayout(tiny).map((s) => s.name));
    for (const [name, v] of trainer.model.vars)
      expect(maxAbsDiff(v.dataSync(), initial.get(name)!), name).toBeGreaterThan(0);
    disposeTrainer(trainer);
  });

  it('is deterministic in the seed and resumes bit-for-bit from a checkpoint', () => {
    const batch = syntheticBatch();
    const cfg = resolveTrainConfig({ warmupSteps: 2, totalSteps: 10 });
    const a = createTrainer(tiny, cfg, 42);
    const b = createTrainer(tiny, cfg, 42);
    const c = createTrainer(tiny, cfg, 43);
    const run = (t: ReturnType<typeof createTrainer>): number[] => [0, 1].map(() => trainStep(t, batch).loss);
    const la = run(a);
    expect(run(b)).toEqual(la);
    expect(run(c)[0]).not.toBe(la[0]);
    const resumed = restoreTrainer(trainerState(a));
    const next = trainStep(a, batch);
    const nextResumed = trainStep(resumed, batch);
    expect(nextResumed.loss).toBe(next.loss);
    expect(nextResumed.step).toBe(2);
    expect(
      maxAbsDiff(
        resumed.target.get('lf.ln_out.gamma').dataSync(),
        a.target.get('lf.ln_out.gamma').dataSync(),
      ),
    ).toBe(0);
    [a, b, c, resumed].forEach(disposeTrainer);
    expect(() =>
      trainStep(createTrainer(tiny, cfg, 1), { x: new Float32Array(3), layout: batch.layout }),
    ).toThrow(/x has 3 values/);
  });
});

describe('weight layout', () => {
  it('lists the documented names and shapes', () => {
    const c = resolveStageConfig({ inputDim: 97 });
    const specs = stageWeightLayout(c);
    const shape = new Map(specs.map((s) => [s.name, s.shape]));
    expect(shape.size).toBe(specs.length);
    expect(shape.get('enc.frame_proj.kernel')).toEqual([97, 64]);
    expect(shape.get('enc.layers.1.self.mlp.fc1.kernel')).toEqual([64, 256]);
    expect(shape.get('enc.layers.1.cross.ln_kv.gamma')).toEqual([64]);
    expect(shape.get('lf.layers.1.attn.o.bias')).toEqual([64]);
    expect(shape.get('pred.mask_token')).toEqual([64]);
    expect(shape.get('pred.out_proj.kernel')).toEqual([64, 64]);
    // Per width-64 self block 49,984 values, cross block + 128 (ln_kv); plus the projections and norms.
    const total = specs.reduce((a, s) => a + s.shape.reduce((p, q) => p * q, 1), 0);
    const block = 4 * (64 * 64 + 64) + 2 * 2 * 64 + (64 * 256 + 256) + (256 * 64 + 64);
    expect(block).toBe(49984);
    expect(total).toBe(
      97 * 64 +
        64 +
        2 * (2 * block + 128) +
        128 +
        2 * block +
        128 +
        (64 * 64 + 64) +
        64 +
        2 * block +
        128 +
        64 * 64 +
        64,
    );
  });
});
