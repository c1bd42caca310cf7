import { Rng } from '../../capture/sample/rng';

/**
 * Full-covariance Gaussian mixture p(x) = sum_k w_k N(x; mu_k, Sigma_k), fitted by EM (Bishop, PRML
 * 9.2.2) from a k-means++ start (Arthur & Vassilvitskii 2007). Each component is kept as the Cholesky
 * factor of its precision, Sigma_k^-1 = L_k L_k^T (L_k lower), so that
 *   log N(x; mu_k, Sigma_k) = logNorm_k - 1/2 ||L_k^T (x - mu_k)||^2,
 *   logNorm_k = -D/2 log(2 pi) + sum_i log (L_k)_ii.
 */
export interface GaussianMixture {
  dims: number;
  components: number;
  /** K mixing weights, summing to 1. */
  weights: Float64Array;
  /** K x D. */
  means: Float64Array;
  /** K x D x D row-major: L_k^T, upper triangular (zeros below the diagonal). */
  LT: Float64Array;
  /** K: logNorm_k (without the weight). */
  logNorm: Float64Array;
}

export interface GmmOptions {
  components: number;
  seed?: number;
  /** Added to every covariance diagonal (variance units) so no component collapses. */
  regularization?: number;
  maxIterations?: number;
  /** Stop when the mean log-likelihood per sample improves by less than this. */
  tolerance?: number;
  /** Lloyd iterations after k-means++ seeding. */
  kmeansIterations?: number;
  onIteration?: (iteration: number, meanLogLikelihood: number) => void;
}

export interface GmmFit {
  mixture: GaussianMixture;
  iterations: number;
  converged: boolean;
  /** Mean log-likelihood per training sample at the returned parameters. */
  meanLogLikelihood: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** In-place Cholesky A = C C^T of an n x n SPD row-major matrix; the lower triangle becomes C. */
export function choleskyLower(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let k = 0; k < j; k++) d -= A[j * n + k] * A[j * n + k];
    if (!(d > 0)) return false;
    const c = Math.sqrt(d);
    A[j * n + j] = c;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j];
      for (let k = 0; k < j; k++) s -= A[i * n + k] * A[j * n + k];
      A[i * n + j] = s / c;
    }
  }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[i * n + j] = 0;
  return true;
}

/**
 * L^T of the precision's Cholesky factor (Sigma^-1 = L L^T, L lower) written to `out` at `o`, from the
 * covariance: invert Sigma through its own Cholesky factor, then factor the inverse.
 */
export function precisionCholeskyT(sigma: Float64Array, n: number, out: Float64Array, o: number): void {
  const C = Float64Array.from(sigma);
  if (!choleskyLower(C, n)) throw new Error('gmm: covariance is not positive definite');
  // Cinv = C^-1 (lower) by forward substitution, column by column.
  const Cinv = new Float64Array(n * n);
  for (let col = 0; col < n; col++) {
    for (let i = col; i < n; i++) {
      let s = i === col ? 1 : 0;
      for (let k = col; k < i; k++) s -= C[i * n + k] * Cinv[k * n + col];
      Cinv[i * n + col] = s / C[i * n + i];
    }
  }
  // P = Cinv^T Cinv, then P = L L^T.
  const P = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += Cinv[k * n + i] * Cinv[k * n + j];
      P[i * n + j] = s;
      P[j * n + i] = s;
    }
  }
  if (!choleskyLower(P, n)) throw new Error('gmm: precision is not positive definite');
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[o + i * n + j] = P[j * n + i];
}

/** logNorm_k from the diagonal of L_k^T (the same as L_k's). */
export function logNormalizer(LT: Float64Array, o: number, n: number): number {
  let s = -0.5 * n * LOG_2PI;
  for (let i = 0; i < n; i++) s += Math.log(LT[o + i * n + i]);
  return s;
}

/** x - mu scratch, grown on demand: mahalanobis runs per frame and component in the solver's inner loop. */
let diff = new Float64Array(0);

/**
 * ||L_k^T (x - mu_k)||^2 for x at `xo`; `r` (length D) receives L_k^T (x - mu_k) when given. Stops
 * early once the sum exceeds `bound` (its terms are squares, so it only grows) and returns the partial sum.
 */
export function mahalanobis(
  g: GaussianMixture,
  k: number,
  x: ArrayLike<number>,
  xo: number,
  r: Float64Array | null = null,
  bound = Infinity,
): number {
  const D = g.dims;
  if (diff.length < D) diff = new Float64Array(D);
  const d = diff;
  const mo = k * D;
  for (let j = 0; j < D; j++) d[j] = x[xo + j] - g.means[mo + j];
  const LT = g.LT;
  let m = 0;
  for (let i = 0; i < D; i++) {
    let s = 0;
    const row = k * D * D + i * D;
    for (let j = i; j < D; j++) s += LT[row + j] * d[j];
    if (r) r[i] = s;
    m += s * s;
    if (m > bound) return m;
  }
  return m;
}

/** out[k] = log w_k + log N(x; mu_k, Sigma_k) for x at `xo`. */
export function componentLogDensities(
  g: GaussianMixture,
  x: ArrayLike<number>,
  xo: number,
  out: Float64Array,
): void {
  for (let k = 0; k < g.components; k++)
    out[k] = Math.log(g.weights[k]) + g.logNorm[k] - 0.5 * mahalanobis(g, k, x, xo);
}

/** log sum_k exp(a_k), stable. */
export function logSumExp(a: Float64Array, n = a.length): number {
  let m = -Infinity;
  for (let k = 0; k < n; k++) m = Math.max(m, a[k]);
  if (m === -Infinity) return m;
  let s = 0;
  for (let k = 0; k < n; k++) s += Math.exp(a[k] - m);
  return m + Math.log(s);
}

/** log p(x) of the whole mixture. */
export function mixtureLogLikelihood(g: GaussianMixture, x: ArrayLike<number>, xo = 0): number {
  const lp = new Float64Array(g.components);
  componentLogDensities(g, x, xo, lp);
  return logSumExp(lp);
}

/** Mean log p(x) over N x D rows. */
export function meanLogLikelihood(g: GaussianMixture, data: Float64Array): number {
  const N = data.length / g.dims;
  const lp = new Float64Array(g.components);
  let s = 0;
  for (let n = 0; n < N; n++) {
    componentLogDensities(g, data, n * g.dims, lp);
    s += logSumExp(lp);
  }
  return s / N;
}

function sqDist(a: Float64Array, ao: number, b: Float64Array, bo: number, D: number): number {
  let s = 0;
  for (let i = 0; i < D; i++) s += (a[ao + i] - b[bo + i]) ** 2;
  return s;
}

/** k-means++ seeding then Lloyd iterations; returns each row's cluster. */
function kmeans(data: Float64Array, D: number, K: number, rng: Rng, iterations: number): Int32Array {
  const N = data.length / D;
  const centres = new Float64Array(K * D);
  const d2 = new Float64Array(N).fill(Infinity);
  let pick = rng.int(N);
  for (let k = 0; k < K; k++) {
    centres.set(data.subarray(pick * D, (pick + 1) * D), k * D);
    let total = 0;
    for (let n = 0; n < N; n++) {
      d2[n] = Math.min(d2[n], sqDist(data, n * D, centres, k * D, D));
      total += d2[n];
    }
    // Next centre with probability proportional to D(x)^2.
    let u = rng.next() * total;
    pick = N - 1;
    for (let n = 0; n < N; n++) {
      u -= d2[n];
      if (u <= 0) {
        pick = n;
        break;
      }
    }
  }
  const label = new Int32Array(N);
  const count = new Float64Array(K);
  for (let it = 0; it <= iterations; it++) {
    for (let n = 0; n < N; n++) {
      let best = 0;
      let bestD = Infinity;
      for (let k = 0; k < K; k++) {
        const d = sqDist(data, n * D, centres, k * D, D);
        if (d < bestD) {
          best = k;
          bestD = d;
        }
      }
      label[n] = best;
    }
    if (it === iterations) break;
    const sum = new Float64Array(K * D);
    count.fill(0);
    for (let n = 0; n < N; n++) {
      count[label[n]]++;
      for (let i = 0; i < D; i++) sum[label[n] * D + i] += data[n * D + i];
    }
    // An emptied cluster keeps its centre.
    for (let k = 0; k < K; k++)
      if (count[k] > 0) for (let i = 0; i < D; i++) centres[k * D + i] = sum[k * D + i] / count[k];
  }
  return label;
}

/**
 * M step from responsibilities R (N x K): w_k = N_k / N, mu_k = sum r x / N_k,
 * Sigma_k = sum r (x - mu)(x - mu)^T / N_k + reg I. A component with no support keeps its mean.
 */
function mStep(data: Float64Array, R: Float64Array, g: GaussianMixture, reg: number): void {
  const D = g.dims;
  const K = g.components;
  const N = data.length / D;
  const sigma = new Float64Array(D * D);
  const d = new Float64Array(D);
  for (let k = 0; k < K; k++) {
    let Nk = 0;
    const mu = new Float64Array(D);
    for (let n = 0; n < N; n++) {
      const r = R[n * K + k];
      Nk += r;
      for (let i = 0; i < D; i++) mu[i] += r * data[n * D + i];
    }
    g.weights[k] = Math.max(Nk / N, 1e-12);
    sigma.fill(0);
    if (Nk > 1e-9) {
      for (let i = 0; i < D; i++) g.means[k * D + i] = mu[i] / Nk;
      for (let n = 0; n < N; n++) {
        const r = R[n * K + k];
        if (r < 1e-12) continue;
        for (let i = 0; i < D; i++) d[i] = data[n * D + i] - g.means[k * D + i];
        for (let i = 0; i < D; i++) {
          const ri = r * d[i];
          const row = i * D;
          for (let j = 0; j <= i; j++) sigma[row + j] += ri * d[j];
        }
      }
      for (let i = 0; i < D; i++) for (let j = 0; j <= i; j++) sigma[i * D + j] /= Nk;
    }
    for (let i = 0; i < D; i++) {
      sigma[i * D + i] += reg;
      for (let j = 0; j < i; j++) sigma[j * D + i] = sigma[i * D + j];
    }
    precisionCholeskyT(sigma, D, g.LT, k * D * D);
    g.logNorm[k] = logNormalizer(g.LT, k * D * D, D);
  }
  let sw = 0;
  for (let k = 0; k < K; k++) sw += g.weights[k];
  for (let k = 0; k < K; k++) g.weights[k] /= sw;
}

/** E step: responsibilities into R (N x K); returns the mean log-likelihood at the current parameters. */
function eStep(data: Float64Array, g: GaussianMixture, R: Float64Array): number {
  const K = g.components;
  const N = data.length / g.dims;
  const lp = new Float64Array(K);
  let total = 0;
  for (let n = 0; n < N; n++) {
    componentLogDensities(g, data, n * g.dims, lp);
    const l = logSumExp(lp);
    total += l;
    for (let k = 0; k < K; k++) R[n * K + k] = Math.exp(lp[k] - l);
  }
  return total / N;
}

/** Fits a K-component mixture to N x `dims` rows; deterministic for a given seed. */
export function fitGmm(data: Float64Array, dims: number, options: GmmOptions): GmmFit {
  const K = options.components;
  const D = dims;
  const N = data.length / D;
  if (!Number.isInteger(K) || K < 1) throw new Error(`gmm: components must be a positive integer, got ${K}`);
  if (!Number.isInteger(N) || N < K) throw new Error(`gmm: need at least ${K} rows of ${D} values, got ${N}`);
  for (let i = 0; i < data.length; i++)
    if (!Number.isFinite(data[i])) throw new Error(`gmm: non-finite value in row ${Math.floor(i / D)}`);
  const reg = options.regularization ?? 1e-6;
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-4;
  const rng = new Rng(options.seed ?? 1);
  const g: GaussianMixture = {
    dims: D,
    components: K,
    weights: new Float64Array(K),
    means: new Float64Array(K * D),
    LT: new Float64Array(K * D * D),
    logNorm: new Float64Array(K),
  };
  // Hard k-means assignments as the first responsibilities.
  const label = kmeans(data, D, K, rng, options.kmeansIterations ?? 10);
  const R = new Float64Array(N * K);
  for (let n = 0; n < N; n++) R[n * K + label[n]] = 1;
  mStep(data, R, g, reg);
  let iterations = 0;
  let converged = false;
  let ll = eStep(data, g, R);
  while (iterations < maxIterations) {
    mStep(data, R, g, reg);
    iterations++;
    const previous = ll;
    ll = eStep(data, g, R);
    options.onIteration?.(iterations, ll);
    if (ll - previous < tolerance) {
      converged = true;
      break;
    }
  }
  return { mixture: g, iterations, converged, meanLogLikelihood: ll };
}
