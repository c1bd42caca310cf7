/**
 * A4Mer stage export: the ONNX model (export-stage.ts) run by ONNX Runtime (run-stage.ts) against the tfjs
 * network (model.ts stageForward, wasm backend) with random weights and inputs, at the default size, for
 * stage 1 (frames) and stage 2 (atom tokens), on several segment layouts: padded frames, empty segment
 * slots, 1-frame segments, non-contiguous segments, a window of padding only, different S per window.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../main/capture/sample/rng';
import { resolveStageConfig, type StageConfig } from '../../main/motifs/model/config';
import {
  buildSegmentLayout,
  disposeLayoutTensors,
  layoutTensors,
  type SegmentLayout,
} from '../../main/motifs/model/layout';
import {
  createStageModel,
  type NamedWeight,
  stageForward,
  type StageModel,
} from '../../main/motifs/model/model';
import { exportStageOnnx, STAGE_INPUTS } from '../../main/motifs/onnx/export-stage';
import { OnnxGraph } from '../../main/motifs/onnx/graph';
import {
  loadStage,
  readStageMetadata,
  type StageRunner,
  type StageWindow,
} from '../../main/motifs/onnx/run-stage';

const TOL = 1e-4;
const STAGE1 = resolveStageConfig({ inputDim: 97 }); // 31 joints x 3 + 4 (preprocess.ts)
const STAGE2 = resolveStageConfig({ inputDim: STAGE1.dModel });
const figures: Record<string, number> = {};

/** A model with random weights; norms and biases moved off their 1 / 0 init so they matter. */
function randomModel(cfg: StageConfig, seed: number): StageModel {
  const model = createStageModel(cfg, seed, { parts: ['enc', 'lf'] });
  const rng = new Rng(seed + 1);
  const moved: NamedWeight[] = model
    .exportWeights()
    .filter((w) => !w.name.endsWith('.kernel'))
    .map((w) => ({ ...w, data: w.data.map((v) => v + 0.2 * rng.gaussian()) }));
  model.loadWeights(moved);
  return model;
}

/** Contiguous segments of random lengths in [minLen, maxLen] over the first `valid` frames, -1 after. */
function contiguous(
  rng: Rng,
  T: number,
  valid: number,
  minLen: number,
  maxLen: number,
  skip = 0,
): Int32Array {
  const seg = new Int32Array(T).fill(-1);
  let s = 0;
  for (let t = 0; t < valid; s++) {
    const len = minLen + rng.int(maxLen - minLen + 1);
    for (let i = 0; i < len && t < valid; i++) seg[t++] = s;
    if (rng.next() < skip) s++; // an index with no frame: an empty slot
  }
  return seg;
}

const concat = (parts: Int32Array[]): Int32Array => Int32Array.from(parts.flatMap((p) => [...p]));
const gaussians = (rng: Rng, n: number): Float32Array => new Float32Array(n).map(() => rng.gaussian());

function tfTokens(model: StageModel, x: Float32Array, layout: SegmentLayout): Float32Array {
  const lt = layoutTensors(layout);
  const xt = tf.tensor3d(x, [layout.batch, layout.frames, model.config.inputDim]);
  const out = stageForward(model, model.config, xt, lt);
  const data = out.dataSync() as Float32Array;
  tf.dispose([xt, out]);
  disposeLayoutTensors(lt);
  return data;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Every token of an empty segment slot is exactly 0. */
function expectEmptySlotsZero(tokens: Float32Array, layout: SegmentLayout, d: number): number {
  let empty = 0;
  for (let k = 0; k < layout.batch * layout.segments; k++) {
    if (layout.segmentValid[k] > 0) continue;
    empty++;
    for (let c = 0; c < d; c++) expect(Math.abs(tokens[k * d + c])).toBe(0);
  }
  return empty;
}

/** Stage-2 windows: `atoms` atom tokens with centre times from random atom lengths, motifs of 1-5 atoms. */
function stage2Window(rng: Rng, atoms: number): { segmentOf: Int32Array; framePos: Float32Array } {
  const segmentOf = contiguous(rng, atoms, atoms, 1, 5);
  const framePos = new Float32Array(atoms);
  let start = 0;
  for (let a = 0; a < atoms; a++) {
    const len = 2 + rng.int(9);
    framePos[a] = start + (len - 1) / 2; // centre of frames [start, start + len)
    start += len;
  }
  return { segmentOf, framePos };
}

let stage1: StageModel;
let stage2: StageModel;
let runner1: StageRunner;
let runner2: StageRunner;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  stage1 = randomModel(STAGE1, 101);
  stage2 = randomModel(STAGE2, 202);
  // Stage 1 exported from the model, stage 2 from named arrays (a checkpoint's form).
  runner1 = await loadStage(exportStageOnnx(stage1, STAGE1, { stage: 1 }), ['cpu'], { batchSize: 2 });
  runner2 = await loadStage(exportStageOnnx(stage2.exportWeights(), STAGE2, { stage: 2 }), ['cpu'], {
    batchSize: 3,
  });
});

afterAll(async () => {
  await runner1?.dispose();
  await runner2?.dispose();
  stage1?.dispose();
  stage2?.dispose();
  console.log(`motif ONNX parity (max abs diff, tolerance ${TOL}): ${JSON.stringify(figures)}`);
});

describe('A4Mer stage ONNX export vs tfjs', () => {
  it('stage 1 on three segment layouts, same batch fed to both', async () => {
    const rng = new Rng(7);
    const T = 150;
    const layouts: [string, SegmentLayout][] = [
      [
        // atoms of 1-10 frames with 30 padded frames; 1-2 frame segments with empty slots; long segments
        // (fewer segments: the window's trailing slots are empty)
        'padded+1frame+fewer',
        buildSegmentLayout(
          concat([
            contiguous(rng, T, 120, 1, 10),
            contiguous(rng, T, T, 1, 2, 0.15),
            contiguous(rng, T, T, 8, 15),
          ]),
          3,
          T,
        ),
      ],
      [
        // non-contiguous segments (a segment split in two runs), a window of padding only
        'split+allPadding',
        buildSegmentLayout(
          // prettier-ignore
          Int32Array.from([
            0, 0, 0, 1, 1, 0, 0, 2, 3, 3, 3, 3, 2, 2, 4, -1, 4, 4, 5, 5, 5, 5, 5, 5, -1, -1,
            ...new Array(26).fill(-1),
          ]),
          2,
          26,
        ),
      ],
      // one segment over the whole window, two extra empty slots, frames at non-integer times
      [
        'one+emptySlots',
        buildSegmentLayout(new Int32Array(20), 1, 20, {
          segments: 3,
          framePos: Float32Array.from({ length: 20 }, (_, t) => 3.5 + 1.25 * t),
        }),
      ],
    ];
    for (const [name, layout] of layouts) {
      const x = gaussians(rng, layout.batch * layout.frames * STAGE1.inputDim);
      const ref = tfTokens(stage1, x, layout);
      const onnx = await runner1.runLayout(x, layout);
      const diff = maxAbsDiff(onnx, ref);
      figures[`stage1 ${name} B${layout.batch} T${layout.frames} S${layout.segments}`] = diff;
      expect(diff).toBeLessThanOrEqual(TOL);
      expect(expectEmptySlotsZero(onnx, layout, STAGE1.dModel)).toBeGreaterThan(0);
      expect(Math.max(...onnx.map(Math.abs))).toBeGreaterThan(0.1); // real tokens, not all zeros
    }
  });

  it('stage 2 (atom tokens at their centre times, motifs as segments), different atom counts', async () => {
    const rng = new Rng(8);
    const counts = [64, 41, 23, 5];
    const T = 64;
    const segmentOf = new Int32Array(counts.length * T).fill(-1);
    const framePos = new Float32Array(counts.length * T);
    counts.forEach((n, b) => {
      const w = stage2Window(rng, n);
      segmentOf.set(w.segmentOf, b * T);
      framePos.set(w.framePos, b * T);
    });
    const layout = buildSegmentLayout(segmentOf, counts.length, T, { framePos });
    const x = gaussians(rng, counts.length * T * STAGE2.inputDim);
    const ref = tfTokens(stage2, x, layout);
    const onnx = await runner2.runLayout(x, layout);
    const diff = maxAbsDiff(onnx, ref);
    figures[`stage2 B${layout.batch} T${T} S${layout.segments}`] = diff;
    expect(diff).toBeLessThanOrEqual(TOL);
    expect(expectEmptySlotsZero(onnx, layout, STAGE2.dModel)).toBeGreaterThan(0);
  });

  it('run(): windows of different lengths batched and padded give each window its own tokens', async () => {
    const rng = new Rng(9);
    const check = async (runner: StageRunner, model: StageModel, windows: StageWindow[], key: string) => {
      const out = await runner.run(windows);
      let worst = 0;
      windows.forEach((w, i) => {
        const T = w.segmentOf.length;
        const layout = buildSegmentLayout(w.segmentOf, 1, T, {
          framePos: w.framePos,
          segments: w.segments,
          segmentPos: w.segmentPos,
        });
        const ref = tfTokens(model, w.features, layout);
        expect(out[i].segments).toBe(layout.segments);
        worst = Math.max(worst, maxAbsDiff(out[i].tokens, ref));
      });
      figures[key] = worst;
      expect(worst).toBeLessThanOrEqual(TOL);
    };
    const D1 = STAGE1.inputDim;
    const lengths1 = [40, 150, 97, 150, 12];
    const windows1: StageWindow[] = lengths1.map((T, i) => ({
      features: gaussians(rng, T * D1),
      segmentOf: contiguous(rng, T, T - (i === 2 ? 7 : 0), 1, 10),
    }));
    windows1[3].segments = windows1[3].segmentOf.reduce((a, b) => Math.max(a, b), 0) + 4; // 3 empty slots
    await check(runner1, stage1, windows1, 'run stage1 5 windows (batch 2)');

    const windows2: StageWindow[] = [30, 7, 55, 1].map((n) => {
      const w = stage2Window(rng, n);
      const S = w.segmentOf[n - 1] + 1;
      return {
        ...w,
        features: gaussians(rng, n * STAGE2.inputDim),
        segmentPos: Float32Array.from({ length: S }, () => 100 * rng.next()), // explicit motif times
      };
    });
    await check(runner2, stage2, windows2, 'run stage2 4 windows (batch 3)');
  });

  it('reports the provider, embeds the config, rejects bad weights, models and windows', async () => {
    const bytes = exportStageOnnx(stage1, STAGE1, { stage: 1, name: 'a4mer-test' });
    expect(readStageMetadata(bytes)).toEqual({ stage: 1, config: STAGE1 });
    expect(runner1.provider).toBe('cpu');
    expect(runner2.stage).toBe(2);
    expect(runner2.config).toEqual(STAGE2);
    // Default providers (cuda, webgpu, cpu): whichever loads is reported, with why the ones before failed.
    const auto = await loadStage(bytes);
    expect(['cuda', 'webgpu', 'cpu']).toContain(auto.provider);
    expect(auto.providerReport.startsWith(auto.provider)).toBe(true);
    console.log(`default providers -> ${auto.providerReport}`);
    await auto.dispose();

    const weights = stage1.exportWeights();
    expect(() =>
      exportStageOnnx(
        weights.filter((w) => w.name !== 'enc.layers.1.cross.ln_kv.gamma'),
        STAGE1,
        { stage: 1 },
      ),
    ).toThrow(/stage 1\): weight "enc.layers.1.cross.ln_kv.gamma" is missing/);
    expect(() => exportStageOnnx(weights, STAGE2, { stage: 2 })).toThrow(
      /weight "enc.frame_proj.kernel" is \[97,64\].*needs \[64,64\]/,
    );
    expect(() => exportStageOnnx(stage1, STAGE2, { stage: 2 })).toThrow(/the model's config/);

    const other = new OnnxGraph('other');
    other.output(other.op('Identity', [other.input(STAGE_INPUTS[0], [1])]), 'y');
    await expect(loadStage(other.toBytes(), ['cpu'], { label: 'other.onnx' })).rejects.toThrow(
      /other.onnx: not an A4Mer stage model/,
    );
    await expect(loadStage(bytes, ['cpu'], { batchSize: 0 })).rejects.toThrow(/batchSize = 0/);
    const T = 10;
    const segmentOf = new Int32Array(T);
    await expect(runner1.run([{ features: new Float32Array(T * 96), segmentOf }])).rejects.toThrow(
      /window 0: features have 960 values, 10 elements x 97 needs 970/,
    );
    await expect(
      runner1.run([{ features: new Float32Array(T * 97), segmentOf: segmentOf.fill(-2, 3, 4) }]),
    ).rejects.toThrow(/window 0: segmentOf\[3\] = -2/);
  });
});
