/**
 * Cholesky factorisation A = L L^T of a symmetric positive definite matrix stored as its lower triangle
 * within an envelope (skyline): row i keeps columns rowStart[i]..i at l[rowPtr[i] + j - rowStart[i]].
 * L has no fill outside the envelope (George & Liu 1981, ch. 4), so it is computed in place. Row-oriented:
 * for j in rowStart[i]..i,
 *   L_ij = (A_ij - sum_{k = max(start_i, start_j)}^{j-1} L_ik L_jk) / L_jj,
 *   L_ii = sqrt(A_ii - sum_k L_ik^2).
 */

/** Offsets of each row's first stored column for an envelope (n + 1 entries, the last the size). */
export function envelopePointers(rowStart: Int32Array): Int32Array {
  const n = rowStart.length;
  const ptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) ptr[i + 1] = ptr[i] + i - rowStart[i] + 1;
  return ptr;
}

/**
 * Factors the matrix in `l` in place (n = rowStart.length) and writes 1 / L_ii into invDiag; rows are
 * taken in pairs where the second row reaches the first's diagonal. Returns false when a pivot is not
 * positive (not numerically positive definite).
 */
export function factorEnvelope(
  l: Float64Array,
  rowStart: Int32Array,
  rowPtr: Int32Array,
  invDiag: Float64Array,
): boolean {
  const n = rowStart.length;
  let i = 0;
  while (i < n) {
    if (i + 1 < n && rowStart[i + 1] <= i) {
      if (!factorRowPair(l, rowStart, rowPtr, invDiag, i)) return false;
      i += 2;
    } else {
      if (!factorRow(l, rowStart, rowPtr, invDiag, i)) return false;
      i += 1;
    }
  }
  return true;
}

/** Solves L L^T x = rhs in place in x with a factor from factorEnvelope. */
export function solveEnvelope(
  l: Float64Array,
  rowStart: Int32Array,
  rowPtr: Int32Array,
  invDiag: Float64Array,
  x: Float64Array,
): void {
  const n = rowStart.length;
  // Forward: L y = rhs (row dot products).
  for (let i = 0; i < n; i++) {
    const si = rowStart[i];
    const pi = rowPtr[i] - si;
    let s = x[i];
    for (let k = si; k < i; k++) s -= l[pi + k] * x[k];
    x[i] = s * invDiag[i];
  }
  // Backward: L^T x = y (column sweeps of the rows).
  for (let i = n - 1; i >= 0; i--) {
    const si = rowStart[i];
    const pi = rowPtr[i] - si;
    const xi = x[i] * invDiag[i];
    x[i] = xi;
    for (let k = si; k < i; k++) x[k] -= l[pi + k] * xi;
  }
}

/** Row i of L (rows < i done). Two accumulators break the floating-point add chain of the dot. */
function factorRow(
  l: Float64Array,
  rowStart: Int32Array,
  rowPtr: Int32Array,
  invDiag: Float64Array,
  i: number,
): boolean {
  const si = rowStart[i];
  const pi = rowPtr[i] - si; // L_ik = l[pi + k]
  for (let j = si; j <= i; j++) {
    const sj = rowStart[j];
    const pj = rowPtr[j] - sj;
    let s0 = l[pi + j];
    let s1 = 0;
    let k = si > sj ? si : sj;
    for (; k + 1 < j; k += 2) {
      s0 -= l[pi + k] * l[pj + k];
      s1 -= l[pi + k + 1] * l[pj + k + 1];
    }
    if (k < j) s0 -= l[pi + k] * l[pj + k];
    const s = s0 + s1;
    if (j < i) {
      l[pi + j] = s * invDiag[j];
    } else {
      if (!(s > 0) || !Number.isFinite(s)) return false;
      l[pi + i] = Math.sqrt(s);
      invDiag[i] = 1 / l[pi + i];
    }
  }
  return true;
}

/**
 * Rows i and q = i + 1 of L together (rowStart[i] <= rowStart[q] <= i), two columns j, j + 1 at a
 * time: the four dot products share their loads (L_ik, L_qk, L_jk, L_j+1,k once each for four
 * products), L_i,j+1 takes its last term L_ij L_j+1,j after L_ij. Then L_ii, L_qi and L_qq.
 */
function factorRowPair(
  l: Float64Array,
  rowStart: Int32Array,
  rowPtr: Int32Array,
  invDiag: Float64Array,
  i: number,
): boolean {
  const si = rowStart[i];
  const sq = rowStart[i + 1];
  const pi = rowPtr[i] - si; // L_ik = l[pi + k]
  const pq = rowPtr[i + 1] - sq; // L_qk = l[pq + k]
  let j = si;
  // Columns before row q's start: row i alone.
  for (; j < sq; j++) {
    const sj = rowStart[j];
    const pj = rowPtr[j] - sj;
    l[pi + j] = (l[pi + j] - dot(l, pi, pj, si > sj ? si : sj, j)) * invDiag[j];
  }
  for (; j + 1 < i; j += 2) {
    const j1 = j + 1;
    const sj = rowStart[j];
    const sj1 = rowStart[j1];
    const pj = rowPtr[j] - sj;
    const pj1 = rowPtr[j1] - sj1;
    // Every product exists from k0 on; before it, each dot's own part (sq >= si, sj1 >= sj).
    const k0 = sq > sj1 ? sq : sj1;
    const pre = k0 < j ? k0 : j;
    let aij = l[pi + j] - dot(l, pi, pj, si > sj ? si : sj, pre);
    let aqj = l[pq + j] - dot(l, pq, pj, sq > sj ? sq : sj, pre);
    let aij1 = l[pi + j1] - dot(l, pi, pj1, si > sj1 ? si : sj1, pre);
    let aqj1 = l[pq + j1];
    for (let k = k0; k < j; k++) {
      const x = l[pj + k];
      const y = l[pj1 + k];
      const a = l[pi + k];
      const b = l[pq + k];
      aij -= a * x;
      aqj -= b * x;
      aij1 -= a * y;
      aqj1 -= b * y;
    }
    const lij = aij * invDiag[j];
    const lqj = aqj * invDiag[j];
    l[pi + j] = lij;
    l[pq + j] = lqj;
    const lj1j = sj1 <= j ? l[pj1 + j] : 0;
    l[pi + j1] = (aij1 - lij * lj1j) * invDiag[j1];
    l[pq + j1] = (aqj1 - lqj * lj1j) * invDiag[j1];
  }
  if (j < i) {
    const sj = rowStart[j];
    const pj = rowPtr[j] - sj;
    l[pi + j] = (l[pi + j] - dot(l, pi, pj, si > sj ? si : sj, j)) * invDiag[j];
    l[pq + j] = (l[pq + j] - dot(l, pq, pj, sq > sj ? sq : sj, j)) * invDiag[j];
  }
  let s0 = l[pi + i];
  let t0 = l[pq + i];
  let u0 = l[pq + i + 1];
  let s1 = 0;
  let t1 = 0;
  let u1 = 0;
  let k = si;
  for (; k < sq; k++) s0 -= l[pi + k] * l[pi + k];
  for (; k + 1 < i; k += 2) {
    const x0 = l[pi + k];
    const x1 = l[pi + k + 1];
    const y0 = l[pq + k];
    const y1 = l[pq + k + 1];
    s0 -= x0 * x0;
    s1 -= x1 * x1;
    t0 -= y0 * x0;
    t1 -= y1 * x1;
    u0 -= y0 * y0;
    u1 -= y1 * y1;
  }
  if (k < i) {
    s0 -= l[pi + k] * l[pi + k];
    t0 -= l[pq + k] * l[pi + k];
    u0 -= l[pq + k] * l[pq + k];
  }
  const s = s0 + s1;
  if (!(s > 0) || !Number.isFinite(s)) return false;
  l[pi + i] = Math.sqrt(s);
  invDiag[i] = 1 / l[pi + i];
  const lqi = (t0 + t1) * invDiag[i];
  l[pq + i] = lqi;
  const u = u0 + u1 - lqi * lqi;
  if (!(u > 0) || !Number.isFinite(u)) return false;
  l[pq + i + 1] = Math.sqrt(u);
  invDiag[i + 1] = 1 / l[pq + i + 1];
  return true;
}

/** sum_{k0 <= k < k1} l[a + k] l[b + k], two accumulators (the add latency bounds a single chain). */
function dot(l: Float64Array, a: number, b: number, k0: number, k1: number): number {
  let s0 = 0;
  let s1 = 0;
  let k = k0;
  for (; k + 1 < k1; k += 2) {
    s0 += l[a + k] * l[b + k];
    s1 += l[a + k + 1] * l[b + k + 1];
  }
  if (k < k1) s0 += l[a + k] * l[b + k];
  return s0 + s1;
}
