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
import { throwIfAborted } from '../capture/errors';
import {
  frameLabels,
  labelVocabulary,
  readSkeletonDataset,
  type SkeletonDataset,
} from '../capture/skeleton-dataset';
import type { A4MerInputConfig } from './config';
import { KNN_DEFAULTS, labelBoundaries, type KnnOptions } from './eval-metrics';
import { loadMotifExtractor } from './extract';
import { readVocabulary } from './vocabulary';
import { datasetSequences, type DatasetSequence, splitBySubject } from './sequences';
import { trainA4Mer } from './train';
import { type A4MerTrainOverrides, resolveTrainOptions, type TrainPhase } from './train-options';
import {
  clipMeans,
  concatLevels,
  type MethodFigures,
  MethodScore,
  type Prepared,
  rawFrameFeatures,
  type Segment,
  skippedFrames,
} from './eval-scores';
import { resolveInputConfig } from './config';
import { type DirectionFigures, directionDiagnostic } from './eval-direction';

export const MOTIF_EVAL_METHODS = ['a4mer', 'jepa', 'raw', 'clip'] as const;
export type MotifEvalMethod = (typeof MOTIF_EVAL_METHODS)[number];

export interface MotifEvalOptions {
  /** N1, N2, N3 overrides (quick runs); default the training defaults (train-options.ts) */
  steps?: Partial<Record<TrainPhase, number>>;
  /** training seed (both learned methods) */
  seed?: number;
  /** further training overrides shared by a4mer and jepa (network sizes for tests); `steps` wins over
   * their steps; seed and loss are refused (options.seed; each method's loss) */
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

export interface MotifEvalResult {
  dataset: string;
  methods: Record<MotifEvalMethod, MethodFigures>;
  /**
   * Not part of the comparison: the learned methods' ATOM tokens with atom segments (stage 1 alone),
   * and both levels together, to tell what the motif level adds or loses.
   */
  diagnostics: {
    a4merAtoms: MethodFigures;
    jepaAtoms: MethodFigures;
    /** both levels per frame (concatLevels: atom token ⊕ motif token), motif segments */
    a4merLevels: MethodFigures;
    jepaLevels: MethodFigures;
  };
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

/** The labeled dataset, its label vocabulary and its split by subject. */
function datasetSplit(
  datasetDir: string,
  options: Pick<MotifEvalOptions, 'trainFraction' | 'trainSubjects'>,
) {
  const dataset = readSkeletonDataset(datasetDir);
  const classes = labelVocabulary(dataset);
  if (classes.length === 0) throw new Error(`${datasetDir}: the dataset has no labels to evaluate against`);
  const split = splitBySubject(datasetSequences(dataset), {
    label: dataset.name,
    trainFraction: options.trainFraction,
    trainSubjects: options.trainSubjects,
  });
  return { dataset, classes, split };
}

/** What training and scoring share: the dataset, its split by subject, the training options. */
function evalSetup(datasetDir: string, options: MotifEvalOptions) {
  // The evaluation sets these itself; one given in the overrides would be silently replaced.
  if (options.train?.seed !== undefined)
    throw new Error('eval motifs: the training overrides set seed; give the seed as --seed (options.seed)');
  if (options.train?.loss !== undefined)
    throw new Error('eval motifs: the training overrides set loss; each method sets its own (a4mer, jepa)');
  const { dataset, classes, split } = datasetSplit(datasetDir, options);
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

/** k-NN stride (source frames), boundary tolerance, k-NN options and the prepared sequences of both sides. */
function scoringSetup(
  setup: Pick<EvalSetup, 'dataset' | 'classes' | 'split'>,
  input: Partial<A4MerInputConfig>,
  options: Pick<MotifEvalOptions, 'knnStride' | 'toleranceSeconds' | 'knn'>,
) {
  const { dataset, classes, split } = setup;
  const modelFps = resolveInputConfig(input).fps;
  const stride = options.knnStride ?? Math.max(1, Math.round(dataset.fps / modelFps));
  if (!(Number.isInteger(stride) && stride >= 1))
    throw new Error(`knnStride = ${stride}, expected an integer >= 1`);
  return {
    stride,
    tolerance: Math.round((options.toleranceSeconds ?? 1) * dataset.fps),
    knn: options.knn ?? KNN_DEFAULTS,
    train: prepare(dataset, split.train, classes, input),
    test: prepare(dataset, split.test, classes, input),
  };
}

/** A model folder's three views of the sequences: motif tokens, atom tokens, both levels. */
type ModelScores = Record<ModelView, MethodScore>;
export type ModelView = 'motifs' | 'atoms' | 'levels';
const MODEL_VIEWS: readonly ModelView[] = ['motifs', 'atoms', 'levels'];

/** Scores every prepared sequence through one model folder, in its three views. */
async function scoreModel(
  dir: string,
  train: readonly Prepared[],
  test: readonly Prepared[],
  stride: number,
  tolerance: number,
  signal?: AbortSignal,
): Promise<ModelScores> {
  const out: ModelScores = { motifs: new MethodScore(), atoms: new MethodScore(), levels: new MethodScore() };
  const ex = await loadMotifExtractor(dir);
  try {
    for (const [side, list] of [
      ['train', train],
      ['test', test],
    ] as const) {
      for (const p of list) {
        throwIfAborted(signal);
        const fr = await ex.frameRepresentations(p.ds.sequence);
        const motifs = { dim: fr.motifDim, rep: fr.motif, segments: fr.motifs };
        out.motifs.add(side, p, motifs, stride, tolerance);
        const atoms = { dim: fr.atomDim, rep: fr.atom, segments: fr.atoms };
        out.atoms.add(side, p, atoms, stride, tolerance);
        const levels = concatLevels(fr.atom, fr.atomDim, fr.motif, fr.motifDim, fr.frames);
        const both = { dim: fr.atomDim + fr.motifDim, rep: levels, segments: fr.motifs };
        out.levels.add(side, p, both, stride, tolerance);
      }
    }
  } finally {
    await ex.dispose();
  }
  return out;
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
  const { stride, tolerance, knn, train, test } = scoringSetup(setup, input, options);

  const models = {} as Record<'a4mer' | 'jepa', ModelScores>;
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
    models[method] = await scoreModel(dir, train, test, stride, tolerance, signal);
  }
  progress(0.92, 'scoring');
  const scores: Record<MotifEvalMethod, MethodScore> = {
    a4mer: models.a4mer.motifs,
    jepa: models.jepa.motifs,
    raw: new MethodScore(),
    clip: new MethodScore(),
  };
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
      a4merAtoms: models.a4mer.atoms.figures(classes.length, knn),
      jepaAtoms: models.jepa.atoms.figures(classes.length, knn),
      a4merLevels: models.a4mer.levels.figures(classes.length, knn),
      jepaLevels: models.jepa.levels.figures(classes.length, knn),
    },
    validation: {
      ...Object.fromEntries(MOTIF_EVAL_METHODS.map((m) => [m, scores[m].validation(classes.length, knn)])),
      a4merAtoms: models.a4mer.atoms.validation(classes.length, knn),
      jepaAtoms: models.jepa.atoms.validation(classes.length, knn),
      a4merLevels: models.a4mer.levels.validation(classes.length, knn),
      jepaLevels: models.jepa.levels.validation(classes.length, knn),
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

export interface MotifModelEvalResult {
  dataset: string;
  /** the model folder scored */
  model: string;
  /** its motif tokens (what the full evaluation reports as a4mer), atom tokens, and both levels */
  views: Record<ModelView, MethodFigures>;
  /** leave-one-training-subject-out k-NN top-1 / top-3 of each view (what to tune on) */
  validation: Record<ModelView, { knnTop1: number; knnTop3: number; folds: number }>;
  split: { rule: string; trainSubjects: string[]; testSubjects: string[] };
  frames: { knnStride: number; gallery: number; queries: number };
  /** does a token change when its segment is played backwards (eval-direction.ts), training subjects */
  direction: DirectionFigures;
}

/**
 * Scores one trained model folder (a `studio motifs train` model, or a method folder of an evaluation)
 * on a labeled dataset with the same split and k-NN as evaluateMotifs, without training anything: how a
 * model trained elsewhere, or with other options, does on these labels. The model must have the
 * dataset's joints (extraction says which differ).
 */
export async function evaluateMotifModel(
  datasetDir: string,
  modelDir: string,
  options: Pick<
    MotifEvalOptions,
    'trainFraction' | 'trainSubjects' | 'knnStride' | 'knn' | 'toleranceSeconds' | 'signal'
  > = {},
): Promise<MotifModelEvalResult> {
  const { dataset, classes, split } = datasetSplit(datasetDir, options);
  const input = readVocabulary(modelDir).input;
  const { stride, tolerance, knn, train, test } = scoringSetup({ dataset, classes, split }, input, options);
  const m = await scoreModel(modelDir, train, test, stride, tolerance, options.signal);
  const direction = await directionDiagnostic(
    modelDir,
    train.map((p) => p.ds.sequence),
  );
  const per = <T>(f: (score: MethodScore) => T) =>
    Object.fromEntries(MODEL_VIEWS.map((v) => [v, f(m[v])])) as Record<ModelView, T>;
  return {
    dataset: dataset.name,
    model: modelDir,
    views: per((x) => x.figures(classes.length, knn)),
    validation: per((x) => x.validation(classes.length, knn)),
    split: { rule: split.rule, trainSubjects: split.trainSubjects, testSubjects: split.testSubjects },
    frames: {
      knnStride: stride,
      gallery: m.motifs.labels.train.length,
      queries: m.motifs.labels.test.length,
    },
    direction,
  };
}
