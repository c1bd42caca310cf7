/**
 * The figures `studio eval motifs` reports for every method:
 * - frame-wise weighted k-NN recognition (the paper's zero-shot protocol): each test frame's
 *   representation votes with its k most cosine-similar training frames, weight exp(sim / tau) (the
 *   DINO-style weighted k-NN); top-1 and top-3 accuracy over labelled test frames;
 * - boundary F1 of predicted segment boundaries against the labelled action boundaries, a boundary
 *   matched at most once within +-tolerance frames (greedy by distance).
 */

export interface KnnOptions {
  k: number;
  /** Temperature of the vote weights exp(sim / tau). */
  tau: number;
  /**
   * Subtract the gallery's mean row from gallery and queries before L2 normalisation (knnRows): a
   * direction every token shares carries no class information but dominates cosine similarity.
   */
  center: boolean;
}

export const KNN_DEFAULTS: KnnOptions = { k: 20, tau: 0.07, center: false };

/** L2-normalises each row (rows x d) in place; zero rows stay zero. */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  for (let r = 0; r * d < x.length; r++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[r * d + c] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < d; c++) x[r * d + c] *= inv;
  }
  return x;
}

/**
 * The rows k-NN compares: copies of gallery and queries (rows x d), centred on the gallery's mean row
 * when `center` (only the gallery is used, so queries never inform the transform), then L2-normalised.
 */
export function knnRows(
  gallery: Float32Array,
  queries: Float32Array,
  d: number,
  center: boolean,
): { gallery: Float32Array; queries: Float32Array } {
  const g = gallery.slice();
  const q = queries.slice();
  if (center && g.length >= d) {
    const mean = new Float64Array(d);
    const n = g.length / d;
    for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += g[r * d + c] / n;
    for (const x of [g, q]) for (let i = 0; i < x.length; i++) x[i] -= mean[i % d];
  }
  return { gallery: normalizeRows(g, d), queries: normalizeRows(q, d) };
}

export interface KnnResult {
  top1: number;
  top3: number;
  /** Test frames scored (labelled ones). */
  frames: number;
}

/**
 * Weighted k-NN over frames. train/test are rows x d, L2-normalised by the caller (normalizeRows);
 * labels are class indices, -1 for unlabelled frames (skipped on both sides).
 */
export function knnRecognition(
  train: Float32Array,
  trainLabels: Int32Array,
  test: Float32Array,
  testLabels: Int32Array,
  d: number,
  classes: number,
  options: KnnOptions = KNN_DEFAULTS,
): KnnResult {
  const trainRows = trainLabels.length;
  const k = Math.min(options.k, trainRows);
  const bestSim = new Float64Array(k);
  const bestLabel = new Int32Array(k);
  const votes = new Float64Array(classes);
  let hit1 = 0;
  let hit3 = 0;
  let frames = 0;
  for (let q = 0; q < testLabels.length; q++) {
    const truth = testLabels[q];
    if (truth < 0) continue;
    frames++;
    bestSim.fill(-Infinity);
    bestLabel.fill(-1);
    for (let r = 0; r < trainRows; r++) {
      const label = trainLabels[r];
      if (label < 0) continue;
      let s = 0;
      for (let c = 0; c < d; c++) s += test[q * d + c] * train[r * d + c];
      if (s <= bestSim[k - 1]) continue;
      // Insertion into the sorted top-k.
      let i = k - 1;
      while (i > 0 && bestSim[i - 1] < s) {
        bestSim[i] = bestSim[i - 1];
        bestLabel[i] = bestLabel[i - 1];
        i--;
      }
      bestSim[i] = s;
      bestLabel[i] = label;
    }
    votes.fill(0);
    for (let i = 0; i < k; i++)
      if (bestLabel[i] >= 0) votes[bestLabel[i]] += Math.exp(bestSim[i] / options.tau);
    const order = Array.from({ length: classes }, (_, c) => c).sort((a, b) => votes[b] - votes[a]);
    if (order[0] === truth && votes[truth] > 0) hit1++;
    if (order.slice(0, 3).includes(truth) && votes[truth] > 0) hit3++;
  }
  return { top1: frames ? hit1 / frames : NaN, top3: frames ? hit3 / frames : NaN, frames };
}

export interface BoundaryF1 {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Boundary F1: predicted and true boundaries (frame indices) are matched one-to-one when within
 * `tolerance` frames, closest pairs first.
 */
export function boundaryF1(
  predicted: readonly number[],
  truth: readonly number[],
  tolerance: number,
): BoundaryF1 {
  const pairs: [number, number, number][] = [];
  predicted.forEach((p, i) =>
    truth.forEach((t, j) => {
      const dist = Math.abs(p - t);
      if (dist <= tolerance) pairs.push([dist, i, j]);
    }),
  );
  pairs.sort((a, b) => a[0] - b[0]);
  const usedP = new Uint8Array(predicted.length);
  const usedT = new Uint8Array(truth.length);
  let matched = 0;
  for (const [, i, j] of pairs) {
    if (usedP[i] || usedT[j]) continue;
    usedP[i] = usedT[j] = 1;
    matched++;
  }
  const precision = predicted.length ? matched / predicted.length : 0;
  const recall = truth.length ? matched / truth.length : 0;
  return {
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
  };
}

/** Interior boundaries of a segmentation given as [start, end) pieces (the starts after the first). */
export function segmentBoundaries(segments: readonly { start: number; end: number }[]): number[] {
  return [...new Set(segments.map((s) => s.start))].sort((a, b) => a - b).slice(1);
}

/** Boundaries of labelled actions: every label start and end, deduplicated, sorted. */
export function labelBoundaries(labels: readonly { start: number; end: number }[]): number[] {
  return [...new Set(labels.flatMap((l) => [l.start, l.end]))].sort((a, b) => a - b);
}
