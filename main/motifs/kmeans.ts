import { Rng } from '../capture/sample/rng';
import { type A4MerKMeansConfig, resolveKMeansConfig } from './mining-config';
import {
  type CentroidGraph,
  allocateCentroidGraph,
  buildCentroidGraph,
  dist,
  nearestAll,
  nearestCandidate,
  nearestFromGuess,
  pilotGuess,
} from './nearest-centroid';

/**
 * k-means codebook for A4Mer's Motifs step: atom tokens (N x d, row-major) -> K codes. Training only (the
 * paper clusters once, on the training library); inference gives each token its nearest centroid
 * (`assignNearest`), the rule that also makes the returned training codes.
 * 1. K = max(1, min(config.k, floor(N / minTokensPerCluster))) (cappedK).
 * 2. k-means++ seeding (Arthur & Vassilvitskii 2007) over a uniform subsample of min(N,
 *    seedTokensPerCluster * K) tokens: first centre uniform, each next one drawn with probability
 *    D(x)^2 / sum D^2, D = distance to the nearest centre so far (a new centre c is not measured for x
 *    when ||c_a(x) - c|| >= 2 D(x): it cannot be closer, Elkan 2003 lemma 1). It stops early when
 *    sum D^2 = 0 (fewer distinct sampled tokens than K), and K is then that number.
 * 3. Exact first assignment: a guess from an inverted file (pilotGuess), then nearestFromGuess.
 * 4. Lloyd iterations: update (centroid = mean of its tokens: Float64 sums rounded to Float32), then
 *    assignment over candidate lists (nearest-centroid.ts nearestCandidate): a token of centroid a is
 *    compared with c_a and the `candidates` centroids nearest to c_a. The step is exact for a token when
 *    the triangle inequality proves it; otherwise it may miss a farther centroid (approximate k-means,
 *    cf. Philbin et al. 2007: an exhaustive pass costs ~2 s for 100k x 64-d tokens and K = 512 here).
 *    Stop when no code changes, when the summed squared centroid shift is <= tolerance * the mean
 *    per-dimension variance of the tokens (scikit-learn's rule), or after maxIterations.
 * 5. Exact final assignment to the final centroids (nearestFromGuess: the candidate scan where it proves its
 *    answer, the exhaustive scan elsewhere), so the returned codes are exactly `assignNearest`'s
 *    (`refined` counts the codes this pass changed; 0 means the centroids are their clusters' means).
 * Empty clusters: after an assignment each empty cluster takes the token farthest from its centroid
 * (first on ties, never the last token of a cluster), as scikit-learn does; none is re-seeded after the
 * final pass (counts tell). Exact distance ties go to the lower centroid index. Deterministic: the same
 * seed, config and tokens give the same codebook on every machine.
 */

export interface KMeansCodebook {
  /** number of centroids */
  k: number;
  dim: number;
  /** k x dim, row-major */
  centroids: Float32Array;
}

export interface KMeansResult extends KMeansCodebook {
  /** k asked for (config.k, or the initial centroids' count) before the small-data cap */
  requestedK: number;
  /** code of each token, 0..k-1: its nearest centroid */
  assignments: Int32Array;
  /** tokens per code */
  counts: Int32Array;
  /** sum over tokens of the squared distance to the assigned centroid */
  inertia: number;
  /** Lloyd iterations run (centroid updates) */
  iterations: number;
  /** stopped because no code changed or the shift fell under the tolerance (not maxIterations) */
  converged: boolean;
  /** empty clusters re-seeded */
  relocations: number;
  /** codes changed by the final exhaustive assignment */
  refined: number;
}

export interface KMeansOptions {
  /** named in Errors (a file, a dataset) */
  source?: string;
  /** start from these centroids (count x dim) instead of k-means++ (e.g. the previous codebook) */
  initialCentroids?: Float32Array;
}

/** The effective K for N tokens (see A4MerKMeansConfig.minTokensPerCluster). */
export function cappedK(requested: number, n: number, minTokensPerCluster: number): number {
  return Math.max(1, Math.min(requested, Math.floor(n / minTokensPerCluster)));
}

function checkTokens(tokens: Float32Array, dim: number, what: string): number {
  if (!(tokens instanceof Float32Array)) throw new Error(`${what}: tokens must be a Float32Array`);
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${what}: dim must be an integer >= 1, got ${dim}`);
  const n = tokens.length / dim;
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${what}: ${tokens.length} values is not a whole number (>= 1) of ${dim}-d tokens`);
  for (let i = 0; i < tokens.length; i++)
    if (!Number.isFinite(tokens[i]))
      throw new Error(`${what}: token ${Math.floor(i / dim)} has a non-finite value (${tokens[i]})`);
  return n;
}

/** The working state of one training run (allocated once; the loops allocate nothing). */
interface Lloyd {
  x: Float32Array;
  n: number;
  dim: number;
  k: number;
  c: Float32Array;
  a: Int32Array;
  /** exact distance of each token to its assigned centroid (after an assignment) */
  u: Float64Array;
  sums: Float64Array;
  counts: Int32Array;
  graph: CentroidGraph;
  /** k doubles of scratch (seeding); scan: nearestCandidate's output */
  scratch: Float64Array;
  scan: Float64Array;
}

/** k-means++ seeding into s.c from the tokens listed in `sample` (s.a, s.u: scratch over the sample). */
function seedPlusPlus(s: Lloyd, sample: Int32Array, rng: Rng): number {
  const { x, dim, c, a, u, scratch: toNew } = s;
  const m = sample.length;
  const first = sample[rng.int(m)];
  c.set(x.subarray(first * dim, first * dim + dim), 0);
  for (let i = 0; i < m; i++) {
    a[i] = 0;
    u[i] = dist(x, sample[i] * dim, c, 0, dim);
  }
  let made = 1;
  for (; made < s.k; made++) {
    let total = 0;
    for (let i = 0; i < m; i++) total += u[i] * u[i];
    if (!(total > 0)) break;
    let r = rng.next() * total;
    let pick = -1;
    for (let i = 0; i < m; i++) {
      const w = u[i] * u[i];
      if (w <= 0) continue;
      pick = sample[i]; // the last positive weight absorbs the rounding of r
      if (r < w) break;
      r -= w;
    }
    const co = made * dim;
    c.set(x.subarray(pick * dim, pick * dim + dim), co);
    for (let j = 0; j < made; j++) toNew[j] = dist(c, j * dim, c, co, dim);
    for (let i = 0; i < m; i++) {
      if (toNew[a[i]] >= 2 * u[i]) continue;
      const d = dist(x, sample[i] * dim, c, co, dim);
      if (d < u[i]) {
        u[i] = d;
        a[i] = made;
      }
    }
  }
  return made;
}

/** m distinct token indices drawn uniformly (partial Fisher-Yates), in increasing order. */
function uniformSample(n: number, m: number, rng: Rng): Int32Array {
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  if (m >= n) return index;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = index[i];
    index[i] = index[j];
    index[j] = t;
  }
  return index.slice(0, m).sort();
}

function accumulate(s: Lloyd): void {
  const { x, n, dim, a, sums, counts } = s;
  sums.fill(0);
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const o = a[i] * dim;
    const xo = i * dim;
    for (let j = 0; j < dim; j++) sums[o + j] += x[xo + j];
    counts[a[i]]++;
  }
}

/** Update step: centroid = mean of its tokens (empty ones stay). Returns the summed squared shift. */
function moveCentroids(s: Lloyd): number {
  const { c, k, dim, sums, counts } = s;
  let shift = 0;
  for (let q = 0; q < k; q++) {
    if (counts[q] === 0) continue;
    const inv = 1 / counts[q];
    const o = q * dim;
    for (let j = 0; j < dim; j++) {
      const v = Math.fround(sums[o + j] * inv);
      shift += (v - c[o + j]) ** 2;
      c[o + j] = v;
    }
  }
  return shift;
}

function moveToken(s: Lloyd, i: number, to: number): void {
  const { x, dim, sums, counts, a } = s;
  const from = a[i] * dim;
  const dest = to * dim;
  const xo = i * dim;
  for (let j = 0; j < dim; j++) {
    sums[from + j] -= x[xo + j];
    sums[dest + j] += x[xo + j];
  }
  counts[a[i]]--;
  counts[to]++;
  a[i] = to;
}

/** Each empty cluster takes the token farthest from its centroid (s.u exact); it moves there next update. */
function relocateEmpty(s: Lloyd): number {
  const { n, k, a, u, counts } = s;
  let moved = 0;
  for (let q = 0; q < k; q++) {
    if (counts[q] !== 0) continue;
    let far = -1;
    for (let i = 0; i < n; i++) if (counts[a[i]] > 1 && (far < 0 || u[i] > u[far])) far = i;
    if (far < 0 || !(u[far] > 0)) break; // every token sits on its centroid: nothing to split
    moveToken(s, far, q);
    u[far] = 0;
    moved++;
  }
  return moved;
}

/** Lloyd assignment over candidate lists (see the file comment). Returns how many codes changed. */
function assignStep(s: Lloyd): number {
  const { x, n, dim, c, a, u, graph, scan } = s;
  buildCentroidGraph(c, s.k, dim, graph);
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const best = nearestCandidate(x, i * dim, c, dim, graph, a[i], scan);
    u[i] = scan[0];
    if (best !== a[i]) {
      moveToken(s, i, best);
      changed++;
    }
  }
  return changed;
}

/**
 * Trains a k-means codebook on `tokens` (N x dim, row-major); see the file comment. K = cappedK(config.k,
 * N, config.minTokensPerCluster) or the initial centroids' count, lowered to the number of distinct
 * sampled tokens when there are fewer.
 */
export function trainKMeans(
  tokens: Float32Array,
  dim: number,
  config: Partial<A4MerKMeansConfig> = {},
  options: KMeansOptions = {},
): KMeansResult {
  const what = `A4Mer k-means${options.source ? ` (${options.source})` : ''}`;
  const cfg = resolveKMeansConfig(config);
  const n = checkTokens(tokens, dim, what);
  const init = options.initialCentroids;
  const requestedK = init ? init.length / dim : cfg.k;
  if (init && (!Number.isInteger(requestedK) || requestedK < 1 || requestedK > n))
    throw new Error(`${what}: initialCentroids hold ${init.length} values, not 1..${n} rows of ${dim}`);
  if (init && !init.every(Number.isFinite)) throw new Error(`${what}: initialCentroids are not all finite`);
  let k = init ? requestedK : cappedK(cfg.k, n, cfg.minTokensPerCluster);
  const s: Lloyd = {
    x: tokens,
    n,
    dim,
    k,
    c: new Float32Array(k * dim),
    a: new Int32Array(n),
    u: new Float64Array(n),
    sums: new Float64Array(k * dim),
    counts: new Int32Array(k),
    graph: allocateCentroidGraph(k, cfg.candidates),
    scratch: new Float64Array(k),
    scan: new Float64Array(2),
  };
  if (init) s.c.set(init);
  else {
    const rng = new Rng(cfg.seed);
    s.k = seedPlusPlus(s, uniformSample(n, Math.ceil(cfg.seedTokensPerCluster * k), rng), rng);
  }
  k = s.k;
  pilotGuess(tokens, n, s.c, k, dim, s.a, s.u);
  nearestFromGuess(tokens, n, s.c, k, dim, s.graph, s.a, s.u);
  accumulate(s);
  let relocations = relocateEmpty(s);

  // tolerance in absolute units: tolerance * mean per-dimension variance (scikit-learn)
  let variance = 0;
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += tokens[i * dim + j];
    mean /= n;
    for (let i = 0; i < n; i++) variance += (tokens[i * dim + j] - mean) ** 2 / n;
  }
  const tol = (cfg.tolerance * variance) / dim;

  let iterations = 0;
  let converged: boolean;
  for (;;) {
    const shift = moveCentroids(s);
    iterations++;
    converged = shift <= tol;
    if (converged || iterations >= cfg.maxIterations) break;
    const changed = assignStep(s);
    const moved = relocateEmpty(s);
    relocations += moved;
    if (changed + moved === 0) {
      converged = true;
      break;
    }
  }

  const refined = nearestFromGuess(tokens, n, s.c, k, dim, s.graph, s.a, s.u);
  let inertia = 0; // sum of squared distances to the assigned centroids
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    inertia += s.u[i] * s.u[i];
    counts[s.a[i]]++;
  }
  return {
    k,
    dim,
    centroids: s.c.slice(0, k * dim),
    requestedK,
    assignments: s.a,
    counts,
    inertia,
    iterations,
    converged,
    relocations,
    refined,
  };
}

/**
 * Inference: the nearest centroid of each token (N x codebook.dim) into `out` (length >= N), lower index
 * on exact ties, by the same exhaustive scan as training's last step. `distances` (length >= N), if
 * given, receives the Euclidean distance to it.
 */
export function assignNearest(
  tokens: Float32Array,
  codebook: KMeansCodebook,
  out?: Int32Array,
  distances?: Float64Array,
  source?: string,
): Int32Array {
  const what = `A4Mer k-means assignment${source ? ` (${source})` : ''}`;
  const { k, dim, centroids } = codebook;
  if (!Number.isInteger(k) || k < 1 || centroids.length !== k * dim)
    throw new Error(`${what}: codebook has ${centroids.length} values, expected k ${k} x dim ${dim}`);
  const n = checkTokens(tokens, dim, what);
  const codes = out ?? new Int32Array(n);
  const dist2 = distances ?? new Float64Array(n);
  if (codes.length < n || dist2.length < n)
    throw new Error(`${what}: output arrays are shorter than the ${n} tokens`);
  nearestAll(tokens, null, n, centroids, k, dim, codes, dist2);
  return codes;
}
