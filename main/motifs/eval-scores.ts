/**
 * What `studio eval motifs` (eval-motifs.ts) scores per method: the baselines' per-frame
 * representations (raw features, clip means), the two-level concatenation, the frames left out
 * (meta.longGaps), and MethodScore, which gathers gallery / query rows and segment counts and turns them
 * into the figures (k-NN on the test subjects, leave-one-training-subject-out validation, sl, boundary
 * F1, purity).
 */
import { concatFloat32 } from '../body/ndarray';
import type { DatasetSequence } from './sequences';
import type { A4MerInputConfig } from './config';
import {
  boundaryF1,
  knnRecognition,
  knnRows,
  normalizeRows,
  segmentBoundaries,
  type KnnOptions,
} from './eval-metrics';
import { type A4MerSequence, preprocessSequence } from './preprocess';

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

/**
 * Raw features (preprocess.ts, D = 3J + 4) of every source frame: preprocessing at the source rate.
 * Always the pose without its velocity (the "raw pose frames" baseline stays the same whatever input
 * options the model was trained with).
 */
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
    velocity: false,
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

/**
 * Per frame, [a / |a|, b / |b|] (frames x (da + db)): both levels of A4Mer's two-level representation
 * with equal weight in the cosine.
 */
export function concatLevels(
  a: Float32Array,
  da: number,
  b: Float32Array,
  db: number,
  frames: number,
): Float32Array {
  const d = da + db;
  const out = new Float32Array(frames * d);
  for (let f = 0; f < frames; f++) {
    out.set(a.subarray(f * da, (f + 1) * da), f * d);
    out.set(b.subarray(f * db, (f + 1) * db), f * d + da);
    normalizeRows(out.subarray(f * d, f * d + da), da);
    normalizeRows(out.subarray(f * d + da, (f + 1) * d), db);
  }
  return out;
}

export interface Segment {
  start: number;
  end: number;
}

/** A method's view of one sequence: per-frame representation and segments (source frames). */
export interface SequenceView {
  dim: number;
  rep: Float32Array;
  segments: Segment[];
}

/** Per-sequence data shared by every method. */
export interface Prepared {
  ds: DatasetSequence;
  labels: Int32Array;
  skip: Uint8Array;
  truth: number[];
  raw: { D: number; features: Float32Array };
}

/** Accumulates gallery/query rows and boundary counts for one method. */
export class MethodScore {
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
    const rows = knnRows(concatFloat32(this.reps.train), concatFloat32(this.reps.test), this.dim, knn.center);
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
