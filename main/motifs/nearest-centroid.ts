/**
 * Nearest-centroid search for the k-means codebook (kmeans.ts): an exhaustive blocked scan, and a scan
 * of a centroid's nearest other centroids that proves its answer with the triangle inequality when it
 * can. Tokens and centroids are row-major Float32Array rows of `dim` values; distances are Euclidean,
 * accumulated in Float64. Exact distance ties go to the lower centroid index in both.
 */

/** Euclidean distance between row po of p and row qo of q (offsets in elements), 4 partial sums. */
export function dist(p: Float32Array, po: number, q: Float32Array, qo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    const t0 = p[po + j] - q[qo + j];
    const t1 = p[po + j + 1] - q[qo + j + 1];
    const t2 = p[po + j + 2] - q[qo + j + 2];
    const t3 = p[po + j + 3] - q[qo + j + 3];
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  for (; j < dim; j++) {
    const t = p[po + j] - q[qo + j];
    s0 += t * t;
  }
  return Math.sqrt(s0 + s1 + s2 + s3);
}

/**
 * Exhaustive nearest centroid of tokens rows[0..count) (or 0..count-1 when rows is null): a[i] = its
 * index, u[i] = the distance. Blocks of two tokens x four centroids share their loads (~1.5 G
 * multiply-adds/s here against ~0.8 for one distance at a time).
 */
export function nearestAll(
  x: Float32Array,
  rows: Int32Array | null,
  count: number,
  c: Float32Array,
  k: number,
  dim: number,
  a: Int32Array,
  u: Float64Array,
): void {
  const k4 = k - (k % 4);
  for (let p = 0; p < count; p += 2) {
    const i0 = rows ? rows[p] : p;
    const i1 = p + 1 < count ? (rows ? rows[p + 1] : p + 1) : i0;
    const xo = i0 * dim;
    const yo = i1 * dim;
    let b0 = 0;
    let b1 = 0;
    let d0 = Infinity;
    let d1 = Infinity;
    for (let q = 0; q < k4; q += 4) {
      const o0 = q * dim;
      const o1 = o0 + dim;
      const o2 = o1 + dim;
      const o3 = o2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let j = 0; j < dim; j++) {
        const xv = x[xo + j];
        const yv = x[yo + j];
        const c0 = c[o0 + j];
        const c1 = c[o1 + j];
        const c2 = c[o2 + j];
        const c3 = c[o3 + j];
        s0 += (xv - c0) * (xv - c0);
        s1 += (xv - c1) * (xv - c1);
        s2 += (xv - c2) * (xv - c2);
        s3 += (xv - c3) * (xv - c3);
        t0 += (yv - c0) * (yv - c0);
        t1 += (yv - c1) * (yv - c1);
        t2 += (yv - c2) * (yv - c2);
        t3 += (yv - c3) * (yv - c3);
      }
      // strict < in increasing q: the lower index keeps a tie
      if (s0 < d0) {
        d0 = s0;
        b0 = q;
      }
      if (s1 < d0) {
        d0 = s1;
        b0 = q + 1;
      }
      if (s2 < d0) {
        d0 = s2;
        b0 = q + 2;
      }
      if (s3 < d0) {
        d0 = s3;
        b0 = q + 3;
      }
      if (t0 < d1) {
        d1 = t0;
        b1 = q;
      }
      if (t1 < d1) {
        d1 = t1;
        b1 = q + 1;
      }
      if (t2 < d1) {
        d1 = t2;
        b1 = q + 2;
      }
      if (t3 < d1) {
        d1 = t3;
        b1 = q + 3;
      }
    }
    for (let q = k4; q < k; q++) {
      const s = dist(x, xo, c, q * dim, dim) ** 2;
      const t = dist(x, yo, c, q * dim, dim) ** 2;
      if (s < d0) {
        d0 = s;
        b0 = q;
      }
      if (t < d1) {
        d1 = t;
        b1 = q;
      }
    }
    a[i0] = b0;
    u[i0] = Math.sqrt(d0);
    a[i1] = b1;
    u[i1] = Math.sqrt(d1);
  }
}

/** Centroid distances and each centroid's t nearest other centroids (rebuilt after every update). */
export interface CentroidGraph {
  k: number;
  /** neighbours kept per centroid: min(candidates, k - 1) */
  t: number;
  /** cc[a*k + b] = ||c_a - c_b|| */
  cc: Float64Array;
  /** nbr[a*t + m]: the m-th nearest other centroid of c_a (increasing distance, lower index on ties) */
  nbr: Int32Array;
}

export function allocateCentroidGraph(k: number, candidates: number): CentroidGraph {
  const t = Math.min(candidates, k - 1);
  return { k, t, cc: new Float64Array(k * k), nbr: new Int32Array(k * t) };
}

/** Fills g for the first k centroids of c (k <= the allocated k). */
export function buildCentroidGraph(c: Float32Array, k: number, dim: number, g: CentroidGraph): void {
  const t = Math.min(g.t, k - 1);
  const { cc, nbr } = g;
  g.k = k;
  g.t = t;
  for (let p = 0; p < k; p++) {
    cc[p * k + p] = 0;
    for (let q = p + 1; q < k; q++) cc[p * k + q] = cc[q * k + p] = dist(c, p * dim, c, q * dim, dim);
  }
  if (t === 0) return;
  for (let p = 0; p < k; p++) {
    const row = p * t;
    let filled = 0;
    for (let q = 0; q < k; q++) {
      if (q === p) continue;
      const v = cc[p * k + q];
      if (filled === t && v >= cc[p * k + nbr[row + t - 1]]) continue;
      let m = filled < t ? filled++ : t - 1; // insertion into the sorted kept list
      for (; m > 0 && cc[p * k + nbr[row + m - 1]] > v; m--) nbr[row + m] = nbr[row + m - 1];
      nbr[row + m] = q;
    }
  }
}

/**
 * Nearest centroid of token row xo among c_own and own's neighbours in g, visited in increasing
 * ||c_own - c_j||. The scan stops at the first j with ||c_own - c_j|| > d(x, c_own) + d_best: then
 * d(x, c_j) >= ||c_own - c_j|| - d(x, c_own) > d_best for it and every later or unlisted centroid, so
 * the answer is the exact nearest (proven). Returns the index; out[0] = its distance, out[1] = 1 when
 * proven (or the list holds every other centroid), 0 when the list ran out first.
 */
export function nearestCandidate(
  x: Float32Array,
  xo: number,
  c: Float32Array,
  dim: number,
  g: CentroidGraph,
  own: number,
  out: Float64Array,
): number {
  const { k, t, cc, nbr } = g;
  const dOwn = dist(x, xo, c, own * dim, dim);
  let best = own;
  let dBest = dOwn;
  let proven = t === k - 1 ? 1 : 0;
  for (let m = 0; m < t; m++) {
    const j = nbr[own * t + m];
    if (cc[own * k + j] > dOwn + dBest) {
      proven = 1;
      break;
    }
    const d = dist(x, xo, c, j * dim, dim);
    if (d < dBest || (d === dBest && j < best)) {
      dBest = d;
      best = j;
    }
  }
  out[0] = dBest;
  out[1] = proven;
  return best;
}

/**
 * A first guess of every token's nearest centroid (an inverted file): the first G = ceil(sqrt(k))
 * centroids (spread out by k-means++) are pilots, each centroid is listed under its nearest pilot, and a
 * token takes the nearest centroid listed under its nearest pilot: G + ~k/G distances instead of k.
 * Writes a (the guess) and u (the distance to it).
 */
export function pilotGuess(
  x: Float32Array,
  n: number,
  c: Float32Array,
  k: number,
  dim: number,
  a: Int32Array,
  u: Float64Array,
): void {
  const g = Math.min(k, Math.ceil(Math.sqrt(k)));
  const owner = new Int32Array(k);
  const start = new Int32Array(g + 1);
  const members = new Int32Array(k);
  for (let q = 0; q < k; q++) {
    for (let p = 1, dOwner = dist(c, q * dim, c, 0, dim); p < g; p++) {
      const d = dist(c, q * dim, c, p * dim, dim);
      if (d < dOwner) {
        dOwner = d;
        owner[q] = p;
      }
    }
    start[owner[q] + 1]++;
  }
  for (let p = 0; p < g; p++) start[p + 1] += start[p];
  const fill = start.slice(0, g);
  for (let q = 0; q < k; q++) members[fill[owner[q]]++] = q;
  for (let i = 0; i < n; i++) {
    const xo = i * dim;
    let best = 0;
    let dBest = Infinity;
    for (let p = 0; p < g; p++) {
      const d = dist(x, xo, c, p * dim, dim);
      if (d < dBest) {
        dBest = d;
        best = p;
      }
    }
    const pilot = best;
    for (let m = start[pilot]; m < start[pilot + 1]; m++) {
      const q = members[m];
      const d = q === pilot ? dBest : dist(x, xo, c, q * dim, dim);
      if (d < dBest || (d === dBest && q < best)) {
        dBest = d;
        best = q;
      }
    }
    a[i] = best;
    u[i] = dBest;
  }
}

/**
 * Exact nearest centroid of every token from a guess in a: nearestCandidate where it proves its answer,
 * the exhaustive scan (nearestAll) for the rest; so a and u end as nearestAll would leave them. g is
 * rebuilt for c. Returns how many codes changed from the guess.
 */
export function nearestFromGuess(
  x: Float32Array,
  n: number,
  c: Float32Array,
  k: number,
  dim: number,
  g: CentroidGraph,
  a: Int32Array,
  u: Float64Array,
): number {
  buildCentroidGraph(c, k, dim, g);
  const scan = new Float64Array(2);
  const unproven = new Int32Array(n);
  const guess = a.slice(0, n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    a[i] = nearestCandidate(x, i * dim, c, dim, g, a[i], scan);
    u[i] = scan[0];
    if (scan[1] === 0) unproven[count++] = i;
  }
  nearestAll(x, unproven, count, c, k, dim, a, u);
  let changed = 0;
  for (let i = 0; i < n; i++) if (a[i] !== guess[i]) changed++;
  return changed;
}
