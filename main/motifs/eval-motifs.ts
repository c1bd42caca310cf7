/**
 * `studio eval motifs`: the issue-6 evaluation of A4Mer on any labeled skeleton dataset in the generic
 * format (main/capture/skeleton-dataset.ts). Protocol (documented choices):
 * - Split by subject (sequences.ts splitBySubject, default: the first half of the subjects in natural
 *   order train, the rest test). Training and the k-NN gallery only ever see training subjects' frames;
 *   the test subjects are only scored, never used to choose anything.
 * - Methods: `a4mer` (full loss) and `jepa` (the original JEPA loss ablation) are trained on the
 *   training sequences with the same options and seed; their per-frame representation is the token of
 *   the motif holding the frame (extract.ts frameRepresentations().motif), segments = motifs.
 *   `raw`: the preprocessing features (root-relative pose in the heading frame / body scale, root motion;
 *   preprocess.ts) computed at the dataset's own frame rate, so one per source frame; segments = single
 *   frames. `clip`: fixed clips of L = round(a4mer sl) source frames tiling each sequence; representation =
 *   the mean raw feature over the clip; segments = the clips.
 * - k-NN (eval-metrics.ts knnRecognition, weighted, k 20, tau 0.07, rows L2-normalised): gallery = the
 *   labelled frames of the training subjects, queries = the labelled frames of the test subjects, both
 *   taken every `knnStride` source frames (default: round(source fps / model fps), i.e. the model rate,
 *   6 frames at 30 fps; frame-wise scoring at 30 fps would mostly repeat near-identical frames and cost
 *   36x more).
 * - Skipped frames: frames inside a sequence's meta.longGaps ([start, end) runs of interpolated frames,
 *   UTKinect) are neither gallery nor query frames, and boundaries inside them are not scored.
 * - sl: the mean segment length in SOURCE frames over the test sequences' segments.
 * - validation: the same k-NN, leave-one-subject-out among the TRAINING subjects only: what to tune
 *   on (the models saw those subjects' motion, never their labels), so test subjects stay unread.
 * - Boundary F1: per test sequence, predicted = interior segment starts (segmentBoundaries), truth =
 *   every label start and end (labelBoundaries), matched within +-tolerance (default 1 s = round(fps)
 *   source frames); matches, predictions and truths are pooled over sequences (micro F1).
 */
import { join } from 'node:path';
import { concatFloat32 } from '../body/ndarray';
import { throwIfAborted } from '../capture/errors';
import {
  frameLabels,
  labelVocabulary,
  readSkeletonDataset,
  type SkeletonDataset,
} from '../capture/skeleton-dataset';
import type { A4MerInputConfig } from './config';
import {
  boundaryF1,
  KNN_DEFAULTS,
  knnRecognition,
  knnRows,
  labelBoundaries,
  segmentBoundaries,
} from './eval-metrics';
import type { KnnOptions } from './eval-metrics';
import { loadMotifExtractor } from './extract';
import { type A4MerSequence, preprocessSequence } from './preprocess';
import { datasetSequences, type DatasetSequence, splitBySubject } from './sequences';
import { trainA4Mer } from './train';
import { type A4MerTrainOverrides, resolveTrainOptions, type TrainPhase } from './train-options';
import { resolveInputConfig } from './config';

export const MOTIF_EVAL_METHODS = ['a4mer', 'jepa', 'raw', 'clip'] as const;
export type MotifEvalMethod = (typeof MOTIF_EVAL_METHODS)[number];

export interface MotifEvalOptions {
  /** N1, N2, N3 overrides (quick runs); default the training defaults (train-options.ts) */
  steps?: Partial<Record<TrainPhase, number>>;
  /** training seed (both learned methods) */
  seed?: number;
  /** further training overrides shared by a4mer and jepa (network sizes for tests); loss/steps/seed win */
  train?: A4MerTrainOverrides;
  /** model folders go to <workDir>/a4mer and <workDir>/jepa */
  workDir: string;
  trainFraction?: number;
  trainSubjects?: readonly string[];
  /** boundary tolerance in seconds (default 1) */
  toleranceSeconds?: number;
  /** source frames between scored k-NN frames (default round(fps / model fps)) */
  knnStride?: number;
  knn?: KnnOptions;
  /**
   * Continue the learned methods' trainings from the checkpoints in workDir (train.ts resume): an
   * interrupted evaluation goes on, a finished training is only re-finalised (same files), so a
   * re-scoring does not retrain.
   */
  resume?: boolean;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

export interface MethodFigures {
  knnTop1: number;
  knnTop3: number;
  /** mean segment length in source frames (test sequences) */
  sl: number;
  boundaryF1: number;
  boundaryPrecision: number;
  boundaryRecall: number;
  /** segments over the test sequences */
  segments: number;
  /**
   * Test frames whose label is their segment's majority label (labelled, unskipped frames): the best
   * top-1 any one-token-per-segment representation could reach with these segments.
   */
  purity: number;
  /** representation size */
  dim: number;
}

export interface MotifEvalResult {
  dataset: string;
  methods: Record<MotifEvalMethod, MethodFigures>;
  /**
   * Not part of the comparison: the learned methods' ATOM tokens with atom segments (stage 1 alone),
   * to tell what the motif level adds or loses.
   */
  diagnostics: { a4merAtoms: MethodFigures; jepaAtoms: MethodFigures };
  /**
   * Leave-one-subject-out k-NN among the training subjects, per method (and the atom diagnostics):
   * what to tune on; the test subjects are only for the final figures.
   */
  validation: Record<string, { knnTop1: number; knnTop3: number; folds: number }>;
  /** training time of a4mer + jepa (seconds) */
  trainSeconds: number;
  trainSecondsByMethod: { a4mer: number; jepa: number };
  evalSeconds: number;
  split: {
    rule: string;
    trainSubjects: string[];
    testSubjects: string[];
    trainSequences: number;
    testSequences: number;
    /** sources of the sequences a4mer and jepa were trained on (training subjects only) */
    trainedOn: string[];
  };
  frames: {
    fps: number;
    knnStride: number;
    /** gallery / query frames scored by k-NN */
    gallery: number;
    queries: number;
    /** source frames skipped (meta.longGaps) over all sequences */
    skipped: number;
  };
  classes: string[];
  toleranceFrames: number;
  clipLength: number;
  steps: Record<TrainPhase, number>;
  seed: number;
}

/** Per frame 1 where it lies in one of the sequence's meta.longGaps runs [start, end). */
export function skippedFrames(
  meta: Record<string, unknown> | undefined,
  frames: number,
  name: string,
): Uint8Array {
  const out = new Uint8Array(frames);
  const gaps = meta?.longGaps;
  if (gaps === undefined) return out;
  if (!Array.isArray(gaps))
    throw new Error(`sequence '${name}': meta.longGaps must be a list of [start, end) frame pairs`);
  for (const g of gaps) {
    if (!Array.isArray(g) || g.length !== 2 || !g.every((v) => Number.isInteger(v)) || g[0] > g[1])
      throw new Error(
        `sequence '${name}': meta.longGaps entry ${JSON.stringify(g)} is not a [start, end) pair`,
      );
    out.fill(1, Math.max(0, g[0] as number), Math.min(frames, g[1] as number));
  }
  return out;
}

/** Raw features (preprocess.ts, D = 3J + 4) of every source frame: preprocessing at the source rate. */
export function rawFrameFeatures(
  seq: A4MerSequence,
  input: Partial<A4MerInputConfig> = {},
): {
  D: number;
  features: Float32Array;
} {
  const W = 150;
  const pre = preprocessSequence(seq, {
    ...input,
    fps: seq.fps,
    antiAlias: false,
    windowFrames: W,
    stride: W,
  });
  const D = pre.D;
  const features = new Float32Array(pre.frames * D);
  for (const w of pre.windows) features.set(w.features.subarray(0, w.validFrames * D), w.start * D);
  return { D, features };
}

/** Means of `x` (frames x d) over clips [c L, (c + 1) L), written to every frame of the clip. */
export function clipMeans(x: Float32Array, d: number, frames: number, L: number): Float32Array {
  const out = new Float32Array(frames * d);
  const mean = new Float64Array(d);
  for (let s = 0; s < frames; s += L) {
    const e = Math.min(frames, s + L);
    mean.fill(0);
    for (let f = s; f < e; f++) for (let c = 0; c < d; c++) mean[c] += x[f * d + c];
    for (let c = 0; c < d; c++) mean[c] /= e - s;
    for (let f = s; f < e; f++) for (let c = 0; c < d; c++) out[f * d + c] = mean[c];
  }
  return out;
}

interface Segment {
  start: number;
  end: number;
}

/** A method's view of one sequence: per-frame representation and segments (source frames). */
interface SequenceView {
  dim: number;
  rep: Float32Array;
  segments: Segment[];
}

/** Per-sequence data shared by every method. */
interface Prepared {
  ds: DatasetSequence;
  labels: Int32Array;
  skip: Uint8Array;
  truth: number[];
  raw: { D: number; features: Float32Array };
}

/** Accumulates gallery/query rows and boundary counts for one method. */
class MethodScore {
  reps: { train: Float32Array[]; test: Float32Array[] } = { train: [], test: [] };
  labels: { train: number[]; test: number[] } = { train: [], test: [] };
  /** subject of each training row (validation folds) */
  trainSubjects: string[] = [];
  dim = 0;
  matched = 0;
  predicted = 0;
  truths = 0;
  segFrames = 0;
  segments = 0;
  pure = 0;
  scored = 0;

  add(side: 'train' | 'test', p: Prepared, view: SequenceView, stride: number, tolerance: number): void {
    this.dim = view.dim;
    const F = p.ds.sequence.frames;
    const rep = new Float32Array(Math.ceil(F / stride) * view.dim);
    const lab: number[] = [];
    let n = 0;
    for (let f = 0; f < F; f += stride) {
      if (p.skip[f] || p.labels[f] < 0) continue;
      rep.set(view.rep.subarray(f * view.dim, (f + 1) * view.dim), n * view.dim);
      lab.push(p.labels[f]);
      n++;
    }
    this.reps[side].push(rep.subarray(0, n * view.dim));
    this.labels[side].push(...lab);
    if (side === 'train') {
      for (let i = 0; i < n; i++) this.trainSubjects.push(p.ds.subject);
      return;
    }
    for (const s of view.segments) {
      this.segFrames += s.end - s.start;
      const counts = new Map<number, number>();
      for (let f = s.start; f < s.end; f++)
        if (!p.skip[f] && p.labels[f] >= 0) counts.set(p.labels[f], (counts.get(p.labels[f]) ?? 0) + 1);
      const n = [...counts.values()];
      this.pure += n.length ? Math.max(...n) : 0;
      this.scored += n.reduce((a, b) => a + b, 0);
    }
    this.segments += view.segments.length;
    const kept = (b: number): boolean => b >= F || !p.skip[b];
    const predicted = segmentBoundaries(view.segments).filter(kept);
    const truth = p.truth.filter(kept);
    const bf = boundaryF1(predicted, truth, tolerance);
    this.matched += Math.round(bf.precision * predicted.length);
    this.predicted += predicted.length;
    this.truths += truth.length;
  }

  figures(classes: number, knn: KnnOptions): MethodFigures {
    const rows = knnRows(
      concatFloat32(this.reps.train),
      concatFloat32(this.reps.test),
      this.dim,
      knn.center,
    );
    const r = knnRecognition(
      rows.gallery,
      Int32Array.from(this.labels.train),
      rows.queries,
      Int32Array.from(this.labels.test),
      this.dim,
      classes,
      knn,
    );
    const precision = this.predicted ? this.matched / this.predicted : 0;
    const recall = this.truths ? this.matched / this.truths : 0;
    return {
      knnTop1: r.top1,
      knnTop3: r.top3,
      sl: this.segments ? this.segFrames / this.segments : NaN,
      boundaryF1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      boundaryPrecision: precision,
      boundaryRecall: recall,
      segments: this.segments,
      purity: this.scored ? this.pure / this.scored : NaN,
      dim: this.dim,
    };
  }

  /**
   * Leave-one-subject-out k-NN among the TRAINING subjects (gallery: the other training subjects):
   * the figure to tune on, since it never reads a test subject.
   */
  validation(classes: number, knn: KnnOptions): { knnTop1: number; knnTop3: number; folds: number } {
    const x = concatFloat32(this.reps.train);
    const subjects = [...new Set(this.trainSubjects)];
    const rowsOf = (keep: (s: string) => boolean): { x: Float32Array; y: Int32Array } => {
      const idx = this.trainSubjects.flatMap((s, i) => (keep(s) ? [i] : []));
      const out = new Float32Array(idx.length * this.dim);
      idx.forEach((i, n) => out.set(x.subarray(i * this.dim, (i + 1) * this.dim), n * this.dim));
      return { x: out, y: Int32Array.from(idx, (i) => this.labels.train[i]) };
    };
    let hit1 = 0;
    let hit3 = 0;
    let queries = 0;
    for (const held of subjects) {
      const g = rowsOf((s) => s !== held);
      const q = rowsOf((s) => s === held);
      if (g.y.length === 0 || q.y.length === 0) continue;
      const rows = knnRows(g.x, q.x, this.dim, knn.center);
      const r = knnRecognition(rows.gallery, g.y, rows.queries, q.y, this.dim, classes, knn);
      hit1 += r.top1 * q.y.length;
      hit3 += r.top3 * q.y.length;
      queries += q.y.length;
    }
    return {
      knnTop1: queries ? hit1 / queries : NaN,
      knnTop3: queries ? hit3 / queries : NaN,
      folds: subjects.length,
    };
  }
}

function prepare(
  dataset: SkeletonDataset,
  items: DatasetSequence[],
  vocabulary: string[],
  input: Partial<A4MerInputConfig>,
): Prepared[] {
  return items.map((ds) => {
    const s = dataset.sequences.find((q) => q.name === ds.name)!;
    const own = dataset.labels.filter((l) => l.sequence === ds.name);
    return {
      ds,
      labels: frameLabels(dataset, ds.name, vocabulary),
      skip: skippedFrames(s.meta, s.frames, `${dataset.name}/${s.name}`),
      truth: labelBoundaries(own),
      raw: rawFrameFeatures(ds.sequence, input),
    };
  });
}

const frameSegments = (F: number, L: number): Segment[] =>
  Array.from({ length: Math.ceil(F / L) }, (_, i) => ({ start: i * L, end: Math.min(F, (i + 1) * L) }));

/** What training and scoring share: the dataset, its split by subject, the training options. */
function evalSetup(datasetDir: string, options: MotifEvalOptions) {
  const dataset = readSkeletonDataset(datasetDir);
  const classes = labelVocabulary(dataset);
  if (classes.length === 0) throw new Error(`${datasetDir}: the dataset has no labels to evaluate against`);
  const split = splitBySubject(datasetSequences(dataset), {
    label: dataset.name,
    trainFraction: options.trainFraction,
    trainSubjects: options.trainSubjects,
  });
  const seed = options.seed ?? 1;
  const base: A4MerTrainOverrides = {
    ...options.train,
    seed,
    steps: { ...options.train?.steps, ...options.steps },
  };
  return { dataset, classes, split, seed, base, resolved: resolveTrainOptions(base) };
}

type EvalSetup = ReturnType<typeof evalSetup>;

/** Trains (or with options.resume continues) one learned method into <workDir>/<method>. */
function trainMethod(
  setup: EvalSetup,
  method: 'a4mer' | 'jepa',
  options: MotifEvalOptions,
  onProgress: (fraction: number, message: string) => void,
): ReturnType<typeof trainA4Mer> {
  return trainA4Mer(
    setup.split.train.map((s) => s.sequence),
    { ...setup.base, loss: method, resume: options.resume ?? false },
    { dir: join(options.workDir, method), signal: options.signal, onProgress },
  );
}

/**
 * Trains only one learned method's model into <workDir>/<method> (no scoring): the two learned methods
 * can then train at the same time (two processes or machines sharing the work folder), and an
 * evaluation with `resume` scores them without retraining.
 */
export async function trainEvalModel(
  datasetDir: string,
  method: 'a4mer' | 'jepa',
  options: MotifEvalOptions,
): Promise<{ dir: string; trainSeconds: number }> {
  const r = await trainMethod(
    evalSetup(datasetDir, options),
    method,
    options,
    options.onProgress ?? (() => {}),
  );
  return { dir: r.dir, trainSeconds: r.trainSeconds };
}

/** Trains a4mer and jepa, scores all four methods (see the file comment). */
export async function evaluateMotifs(
  datasetDir: string,
  options: MotifEvalOptions,
): Promise<MotifEvalResult> {
  const t0 = performance.now();
  const { signal } = options;
  const progress = options.onProgress ?? (() => {});
  const setup = evalSetup(datasetDir, options);
  const { dataset, classes, split, seed, resolved } = setup;
  const input = resolved.input;
  const modelFps = resolveInputConfig(input).fps;
  const stride = options.knnStride ?? Math.max(1, Math.round(dataset.fps / modelFps));
  if (!(Number.isInteger(stride) && stride >= 1))
    throw new Error(`knnStride = ${stride}, expected an integer >= 1`);
  const tolerance = Math.round((options.toleranceSeconds ?? 1) * dataset.fps);
  const knn = options.knn ?? KNN_DEFAULTS;
  const train = prepare(dataset, split.train, classes, input);
  const test = prepare(dataset, split.test, classes, input);

  const scores = Object.fromEntries(MOTIF_EVAL_METHODS.map((m) => [m, new MethodScore()])) as Record<
    MotifEvalMethod,
    MethodScore
  >;
  const atomScores = { a4mer: new MethodScore(), jepa: new MethodScore() };
  const trainSecondsByMethod = { a4mer: 0, jepa: 0 };
  const trainingSequences = split.train.map((s) => s.sequence);
  const learned = ['a4mer', 'jepa'] as const;
  // Progress: training ~90% split evenly, extraction + scoring the rest.
  for (const [i, method] of learned.entries()) {
    throwIfAborted(signal);
    const dir = join(options.workDir, method);
    const r = await trainMethod(setup, method, options, (f, msg) =>
      progress((i + f) * 0.45, `${method}: ${msg}`),
    );
    trainSecondsByMethod[method] = r.trainSeconds;
    progress((i + 1) * 0.45, `${method}: extracting motifs`);
    const ex = await loadMotifExtractor(dir);
    try {
      for (const [side, list] of [
        ['train', train],
        ['test', test],
      ] as const) {
        for (const p of list) {
          throwIfAborted(signal);
          const fr = await ex.frameRepresentations(p.ds.sequence);
          scores[method].add(
            side,
            p,
            { dim: fr.motifDim, rep: fr.motif, segments: fr.motifs },
            stride,
            tolerance,
          );
          const atoms = { dim: fr.atomDim, rep: fr.atom, segments: fr.atoms };
          atomScores[method].add(side, p, atoms, stride, tolerance);
        }
      }
    } finally {
      await ex.dispose();
    }
  }
  progress(0.92, 'scoring');
  const a4mer = scores.a4mer.figures(classes.length, knn);
  const L = Math.max(1, Math.round(a4mer.sl));
  for (const [side, list] of [
    ['train', train],
    ['test', test],
  ] as const) {
    for (const p of list) {
      const F = p.ds.sequence.frames;
      const { D, features } = p.raw;
      scores.raw.add(side, p, { dim: D, rep: features, segments: frameSegments(F, 1) }, stride, tolerance);
      const clip = { dim: D, rep: clipMeans(features, D, F, L), segments: frameSegments(F, L) };
      scores.clip.add(side, p, clip, stride, tolerance);
    }
  }
  const methods = {
    a4mer,
    jepa: scores.jepa.figures(classes.length, knn),
    raw: scores.raw.figures(classes.length, knn),
    clip: scores.clip.figures(classes.length, knn),
  };
  progress(1, 'done');
  const skipped = [...train, ...test].reduce((n, p) => n + p.skip.reduce((a, b) => a + b, 0), 0);
  return {
    dataset: dataset.name,
    methods,
    diagnostics: {
      a4merAtoms: atomScores.a4mer.figures(classes.length, knn),
      jepaAtoms: atomScores.jepa.figures(classes.length, knn),
    },
    validation: {
      ...Object.fromEntries(MOTIF_EVAL_METHODS.map((m) => [m, scores[m].validation(classes.length, knn)])),
      a4merAtoms: atomScores.a4mer.validation(classes.length, knn),
      jepaAtoms: atomScores.jepa.validation(classes.length, knn),
    },
    trainSeconds: trainSecondsByMethod.a4mer + trainSecondsByMethod.jepa,
    trainSecondsByMethod,
    evalSeconds: (performance.now() - t0) / 1000,
    split: {
      rule: split.rule,
      trainSubjects: split.trainSubjects,
      testSubjects: split.testSubjects,
      trainSequences: split.train.length,
      testSequences: split.test.length,
      trainedOn: trainingSequences.map((s) => s.source),
    },
    frames: {
      fps: dataset.fps,
      knnStride: stride,
      gallery: scores.raw.labels.train.length,
      queries: scores.raw.labels.test.length,
      skipped,
    },
    classes,
    toleranceFrames: tolerance,
    clipLength: L,
    steps: resolved.steps,
    seed,
  };
}
