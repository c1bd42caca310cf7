import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readAmc, readAsf } from '../../main/body/motion/asf-amc';
import { frameSegmentIds, meanAtomLength, windowAtoms } from '../../main/motifs/atoms';
import { resolveInputConfig } from '../../main/motifs/config';
import { resolveStageConfig, resolveTrainConfig } from '../../main/motifs/model/config';
import { buildSegmentLayout } from '../../main/motifs/model/layout';
import { createStageModel } from '../../main/motifs/model/model';
import { createTrainer, disposeTrainer, trainStep } from '../../main/motifs/model/train-step';
import { exportStageOnnx } from '../../main/motifs/onnx/export-stage';
import { loadStage, type StageWindow } from '../../main/motifs/onnx/run-stage';
import { type A4MerSequence, featureDimension, preprocessSequence } from '../../main/motifs/preprocess';

const CMU = resolve(__dirname, '..', '..', '..', 'shared', 'data', 'cmu-mocap');
const CMU_FPS = 120;
/** Source rate of the hour: the studio's capture (and fit) rate; preprocessing resamples it to 5 fps. */
const SOURCE_FPS = 30;
const HOUR_SECONDS = 3600;
const TRAIN_BATCH = 8;
const TRAIN_STEPS = 7;
const TRAIN_WARMUP = 2;

/**
 * One hour of real motion: every CMU clip of subjects 01 and 02 (about 9.4 min in all) read at 30 fps,
 * turned to Z up, and looped; each appended clip is shifted in the floor plane so its root starts where the
 * previous one ended (no jump of the root between clips).
 */
function cmuHour(): A4MerSequence {
  const frames = SOURCE_FPS * HOUR_SECONDS;
  const clips = ['01', '02'].flatMap((subject) => {
    const dir = join(CMU, subject);
    const asf = readAsf(join(dir, `${subject}.asf`));
    return readdirSync(dir)
      .filter((f) => f.endsWith('.amc'))
      .sort()
      .map((f) => readAmc(join(dir, f), asf, { fps: CMU_FPS, step: CMU_FPS / SOURCE_FPS }));
  });
  const names = clips[0].skeleton.names;
  const J = names.length;
  for (const c of clips) {
    if (c.skeleton.names.join() !== names.join())
      throw new Error(`${c.source}: joints differ from ${clips[0].source}`);
  }
  const positions = new Float32Array(frames * J * 3);
  let f = 0;
  let lastX = 0;
  let lastY = 0;
  for (let k = 0; f < frames; k++) {
    const clip = clips[k % clips.length];
    const p = clip.positions;
    // file (x, y up, z) -> world (x, -z, y): Z up
    const dx = lastX - p[0];
    const dy = lastY + p[2];
    for (let i = 0; i < clip.frames && f < frames; i++, f++) {
      for (let q = 0; q < J * 3; q += 3) {
        const s = i * J * 3 + q;
        const o = f * J * 3 + q;
        positions[o] = p[s] + dx;
        positions[o + 1] = -p[s + 2] + dy;
        positions[o + 2] = p[s + 1];
      }
    }
    lastX = positions[(f - 1) * J * 3];
    lastY = positions[(f - 1) * J * 3 + 1];
  }
  return { source: 'CMU 01+02 looped to 1 h', names, fps: SOURCE_FPS, frames, positions };
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

/**
 * A4Mer speed (targets: extraction of one hour < 10 s with ONNX Runtime on CPU; a training step at the
 * default size). extractSecondsPerHour = preprocessing (resampling 30 -> 5 fps, features, windows) + atoms
 * + stage-1 tokens of the 120 windows of 150 frames, including the ONNX session creation; the model has the
 * default config with random weights (the speed does not depend on their values). trainMsPerStep = median
 * of tfjs wasm JEPA steps (train-step.ts) on 8 real windows of 150 frames with their atoms as segments.
 */
export async function benchMotifs(): Promise<Record<string, number | string | null>> {
  await tf.setBackend('wasm');
  await tf.ready();
  let t0 = performance.now();
  const seq = cmuHour();
  const readSeconds = seconds(t0);
  const J = seq.names.length;
  const stage = resolveStageConfig({ inputDim: featureDimension(J, resolveInputConfig().velocity) });
  const model = createStageModel(stage, 1, { parts: ['enc', 'lf'] });
  t0 = performance.now();
  const bytes = exportStageOnnx(model, stage, { stage: 1 });
  const exportSeconds = seconds(t0);
  model.dispose();

  const start = performance.now();
  const runner = await loadStage(bytes, ['cpu']);
  const loadSeconds = seconds(start);
  t0 = performance.now();
  const input = preprocessSequence(seq);
  const preprocessSeconds = seconds(t0);
  t0 = performance.now();
  const atoms = input.windows.map((w) => windowAtoms(input, w));
  const windows: StageWindow[] = input.windows.map((w, i) => ({
    features: w.features,
    segmentOf: frameSegmentIds(atoms[i], w.frames),
  }));
  const atomsSeconds = seconds(t0);
  t0 = performance.now();
  const tokens = await runner.run(windows);
  const onnxSeconds = seconds(t0);
  const extractSecondsPerHour = seconds(start);
  const segments = tokens.reduce((n, t) => n + t.segments, 0);
  const provider = runner.provider;
  await runner.dispose();

  // Training: the first 8 windows, atoms as segments.
  const T = input.windows[0].frames;
  const x = new Float32Array(TRAIN_BATCH * T * input.D);
  const segmentOf = new Int32Array(TRAIN_BATCH * T);
  for (let b = 0; b < TRAIN_BATCH; b++) {
    x.set(input.windows[b].features, b * T * input.D);
    segmentOf.set(windows[b].segmentOf, b * T);
  }
  const layout = buildSegmentLayout(segmentOf, TRAIN_BATCH, T);
  const trainer = createTrainer(stage, resolveTrainConfig(), 7);
  const stepMs: number[] = [];
  let loss = NaN;
  for (let i = 0; i < TRAIN_STEPS; i++) {
    const s0 = performance.now();
    loss = trainStep(trainer, { x, layout }).loss;
    if (i >= TRAIN_WARMUP) stepMs.push(performance.now() - s0);
  }
  disposeTrainer(trainer);
  if (!Number.isFinite(loss)) throw new Error(`training step gave a non-finite loss ${loss}`);

  return {
    extractSecondsPerHour: round(extractSecondsPerHour),
    trainMsPerStep: round(median(stepMs), 1),
    provider,
    preprocessSeconds: round(preprocessSeconds),
    atomsSeconds: round(atomsSeconds),
    onnxSeconds: round(onnxSeconds),
    onnxLoadSeconds: round(loadSeconds),
    windows: windows.length,
    modelFrames: input.frames,
    sourceFps: SOURCE_FPS,
    joints: J,
    atoms: segments,
    meanAtomFrames: round(meanAtomLength(atoms), 2),
    maxAtomsPerWindow: Math.max(...tokens.map((t) => t.segments)),
    onnxBatch: runner.batchSize,
    exportSeconds: round(exportSeconds),
    modelMegabytes: round(bytes.byteLength / 1e6),
    readCmuSeconds: round(readSeconds),
    trainBatch: `${TRAIN_BATCH}x${T}`,
    trainSegments: layout.segments,
    tfBackend: tf.getBackend(),
    cpuCores: cpus().length,
  };
}
