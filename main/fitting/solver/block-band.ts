/**
 * Normal equations of a chain of parameter blocks where each residual block reads consecutive blocks, so
 *
 *   H = J^T J (block-banded: H_ab = 0 when blocks a, b never share a residual block),  g = J^T r,
 *
 * stored as a lower-triangular scalar envelope (skyline): row i keeps columns rowStart[i]..i, where
 * rowStart[i] is the first column of the earliest block coupled to i's block. The Cholesky factor of a
 * matrix has no fill outside its envelope (George & Liu 1981, ch. 4), so H + D is factored in place of a
 * copy of the same storage: a block-banded Cholesky whose off-diagonal blocks are dense. Constant blocks
 * are not in the system. Everything is allocated when the structure is built.
 */

/** Marquardt's scaling of the damping, clamped like Ceres' min/max_lm_diagonal. */
export const MIN_LM_DIAGONAL = 1e-6;
export const MAX_LM_DIAGONAL = 1e32;
/** Longest run of rows sharing a sparsity pattern added as one Gram matrix (16 = a pixel in 8 views). */
const MAX_RUN = 16;

export class BlockBandSystem {
  /** Scalar size of the system (the free parameters). */
  readonly n: number;
  /** Per parameter block: offset of its first parameter in the system, -1 for a constant block. */
  readonly blockOffset: Int32Array;
  readonly blockSize: Int32Array;
  /** Largest (last - first) over residual blocks, counted in free blocks. */
  readonly bandwidth: number;
  /** g = J^T r over the free parameters. */
  readonly g: Float64Array;
  /** The damping D (diagonal) of the last `factor` call. */
  readonly damping: Float64Array;
  /** First stored column of each row, and offset of row i's column rowStart[i] in `h` / `l`. */
  readonly rowStart: Int32Array;
  readonly rowPtr: Int32Array;
  /** Lower triangle of H within the envelope. */
  readonly h: Float64Array;
  /** Cholesky factor L of H + D, same layout. */
  readonly l: Float64Array;
  private readonly nzIndex: Int32Array;
  private readonly nzValue: Float64Array;
  /** 1 / L_ii of the last factor. */
  private readonly invDiag: Float64Array;
  private readonly runIndex: Int32Array;
  private readonly runValue: Float64Array;
  private readonly runResidual = new Float64Array(MAX_RUN);

  /**
   * @param blockSize parameters per block
   * @param constant 1 where a block is held fixed (or null)
   * @param residualBlocks the blocks each residual block reads (ascending, consecutive, checked by lm.ts)
   */
  constructor(
    blockSize: ArrayLike<number>,
    constant: ArrayLike<number> | null,
    residualBlocks: readonly (readonly number[])[],
  ) {
    const nb = blockSize.length;
    this.blockSize = Int32Array.from(blockSize);
    this.blockOffset = new Int32Array(nb);
    const freeIndex = new Int32Array(nb);
    let n = 0;
    let free = 0;
    for (let b = 0; b < nb; b++) {
      if (constant !== null && constant[b]) {
        this.blockOffset[b] = -1;
        freeIndex[b] = -1;
      } else {
        this.blockOffset[b] = n;
        freeIndex[b] = free++;
        n += blockSize[b];
      }
    }
    this.n = n;
    // Envelope per block: the earliest free block sharing a residual block with it.
    const firstCoupled = new Int32Array(nb);
    for (let b = 0; b < nb; b++) firstCoupled[b] = b;
    let bandwidth = 0;
    let maxCols = 0;
    for (const blocks of residualBlocks) {
      let first = -1;
      let last = -1;
      let cols = 0;
      for (const b of blocks) {
        if (freeIndex[b] < 0) continue;
        if (first < 0) first = b;
        last = b;
        cols += blockSize[b];
      }
      if (first < 0) continue;
      maxCols = Math.max(maxCols, cols);
      bandwidth = Math.max(bandwidth, freeIndex[last] - freeIndex[first]);
      for (const b of blocks) if (freeIndex[b] >= 0 && first < firstCoupled[b]) firstCoupled[b] = first;
    }
    this.bandwidth = bandwidth;
    this.rowStart = new Int32Array(n);
    this.rowPtr = new Int32Array(n + 1);
    let nnz = 0;
    for (let b = 0; b < nb; b++) {
      const off = this.blockOffset[b];
      if (off < 0) continue;
      const start = this.blockOffset[firstCoupled[b]];
      for (let i = off; i < off + blockSize[b]; i++) {
        this.rowStart[i] = start;
        this.rowPtr[i] = nnz;
        nnz += i - start + 1;
      }
    }
    this.rowPtr[n] = nnz;
    this.h = new Float64Array(nnz);
    this.l = new Float64Array(nnz);
    this.g = new Float64Array(n);
    this.damping = new Float64Array(n);
    this.invDiag = new Float64Array(n);
    this.nzIndex = new Int32Array(maxCols);
    this.nzValue = new Float64Array(maxCols);
    this.runIndex = new Int32Array(maxCols);
    this.runValue = new Float64Array(maxCols * MAX_RUN);
  }

  /** Zeroes H and g before a new linearisation. */
  reset(): void {
    this.h.fill(0);
    this.g.fill(0);
  }

  /**
   * Adds a residual block's rows: H += J^T J, g += J^T r. `jacobians[k]` (rows x blockSize[blocks[k]],
   * row-major) belongs to parameter block blocks[k]; constant blocks' are ignored. Per row, the nonzero
   * columns are gathered once and the update runs over those only (Jacobian rows of body terms touch ~20
   * of ~60 columns). Consecutive rows with the same nonzero columns (u and v of a pixel, a keypoint in
   * every view) form a run whose Gram matrix V^T V is added in one pass, dividing the scattered writes
   * into H by the run length.
   */
  accumulate(
    blocks: readonly number[],
    jacobians: readonly Float64Array[],
    residuals: Float64Array,
    rows: number,
  ): void {
    if (rows <= 0) return;
    const idx = this.nzIndex;
    const val = this.nzValue;
    const runIdx = this.runIndex;
    const runVal = this.runValue;
    const runRes = this.runResidual;
    let cnt = this.gather(blocks, jacobians, 0, idx, val);
    let r = 0;
    while (r < rows) {
      // Start a run with row r (already gathered); runVal is column-major: runVal[a * MAX_RUN + k].
      for (let a = 0; a < cnt; a++) {
        runIdx[a] = idx[a];
        runVal[a * MAX_RUN] = val[a];
      }
      runRes[0] = residuals[r];
      let len = 1;
      let next = -1;
      for (r++; r < rows; r++) {
        next = this.gather(blocks, jacobians, r, idx, val);
        let same = len < MAX_RUN && next === cnt;
        for (let a = 0; same && a < cnt; a++) same = idx[a] === runIdx[a];
        if (!same) break;
        for (let a = 0; a < cnt; a++) runVal[a * MAX_RUN + len] = val[a];
        runRes[len++] = residuals[r];
      }
      this.addRun(cnt, len);
      cnt = next;
    }
  }

  /** H += V^T V and g += V^T r over the run's columns (len rows). */
  private addRun(cnt: number, len: number): void {
    const h = this.h;
    const g = this.g;
    const rowPtr = this.rowPtr;
    const rowStart = this.rowStart;
    const idx = this.runIndex;
    const v = this.runValue;
    const res = this.runResidual;
    for (let a = 0; a < cnt; a++) {
      const ia = idx[a];
      const pa = a * MAX_RUN;
      const base = rowPtr[ia] - rowStart[ia];
      if (len === 1) {
        const va = v[pa];
        g[ia] += va * res[0];
        for (let b = 0; b <= a; b++) h[base + idx[b]] += va * v[b * MAX_RUN];
      } else if (len === 2) {
        const va = v[pa];
        const wa = v[pa + 1];
        g[ia] += va * res[0] + wa * res[1];
        for (let b = 0, pb = 0; b <= a; b++, pb += MAX_RUN) h[base + idx[b]] += va * v[pb] + wa * v[pb + 1];
      } else {
        let ga = 0;
        for (let k = 0; k < len; k++) ga += v[pa + k] * res[k];
        g[ia] += ga;
        for (let b = 0, pb = 0; b <= a; b++, pb += MAX_RUN) {
          // Four accumulators: the dot product is otherwise bound by the add latency.
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          let k = 0;
          for (; k + 3 < len; k += 4) {
            s0 += v[pa + k] * v[pb + k];
            s1 += v[pa + k + 1] * v[pb + k + 1];
            s2 += v[pa + k + 2] * v[pb + k + 2];
            s3 += v[pa + k + 3] * v[pb + k + 3];
          }
          for (; k < len; k++) s0 += v[pa + k] * v[pb + k];
          h[base + idx[b]] += s0 + s1 + (s2 + s3);
        }
      }
    }
  }

  /** Row r's nonzero Jacobian entries over the free blocks: system columns in idx, values in val. */
  private gather(
    blocks: readonly number[],
    jacobians: readonly Float64Array[],
    r: number,
    idx: Int32Array,
    val: Float64Array,
  ): number {
    let cnt = 0;
    for (let k = 0; k < blocks.length; k++) {
      const b = blocks[k];
      const off = this.blockOffset[b];
      if (off < 0) continue;
      const m = this.blockSize[b];
      const jac = jacobians[k];
      for (let c = 0, e = r * m; c < m; c++, e++) {
        const v = jac[e];
        if (v !== 0) {
          idx[cnt] = off + c;
          val[cnt] = v;
          cnt++;
        }
      }
    }
    return cnt;
  }

  /** Marquardt-scaled diagonal of H (clamped) times mu, for the damping D = mu diag(H). */
  private setDamping(mu: number): void {
    const h = this.h;
    const rowPtr = this.rowPtr;
    for (let i = 0; i < this.n; i++) {
      const d = h[rowPtr[i + 1] - 1];
      this.damping[i] =
        mu * (d < MIN_LM_DIAGONAL ? MIN_LM_DIAGONAL : d > MAX_LM_DIAGONAL ? MAX_LM_DIAGONAL : d);
    }
  }

  /**
   * Factors H + D = L L^T with D = mu clamp(diag(H)) (Madsen, Nielsen & Tingleff 2004, eq. 3.13 with
   * Marquardt's scaling). Row-oriented envelope Cholesky: for j in rowStart[i]..i,
   *   L_ij = (A_ij - sum_{k = max(start_i, start_j)}^{j-1} L_ik L_jk) / L_jj,
   *   L_ii = sqrt(A_ii - sum_k L_ik^2).
   * Returns false when a pivot is not positive (H + D not numerically positive definite).
   */
  factor(mu: number): boolean {
    this.setDamping(mu);
    const l = this.l;
    l.set(this.h);
    for (let i = 0; i < this.n; i++) l[this.rowPtr[i + 1] - 1] += this.damping[i];
    let i = 0;
    while (i < this.n) {
      if (i + 1 < this.n && this.rowStart[i + 1] === this.rowStart[i]) {
        if (!this.factorRowPair(i)) return false;
        i += 2;
      } else {
        if (!this.factorRow(i)) return false;
        i += 1;
      }
    }
    return true;
  }

  /** Row i of L (rows < i done). Two accumulators break the floating-point add chain of the dot. */
  private factorRow(i: number): boolean {
    const l = this.l;
    const rowStart = this.rowStart;
    const rowPtr = this.rowPtr;
    const invDiag = this.invDiag;
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
   * Rows i and q = i + 1 of L together (same rowStart): for j < i both read row j, so each L_jk is loaded
   * once for two products; then L_ii, L_qi and L_qq.
   */
  private factorRowPair(i: number): boolean {
    const l = this.l;
    const rowStart = this.rowStart;
    const rowPtr = this.rowPtr;
    const invDiag = this.invDiag;
    const si = rowStart[i];
    const pi = rowPtr[i] - si;
    const pq = rowPtr[i + 1] - si;
    for (let j = si; j < i; j++) {
      const sj = rowStart[j];
      const pj = rowPtr[j] - sj;
      let a0 = l[pi + j];
      let a1 = 0;
      let b0 = l[pq + j];
      let b1 = 0;
      let k = si > sj ? si : sj;
      for (; k + 1 < j; k += 2) {
        const x0 = l[pj + k];
        const x1 = l[pj + k + 1];
        a0 -= l[pi + k] * x0;
        b0 -= l[pq + k] * x0;
        a1 -= l[pi + k + 1] * x1;
        b1 -= l[pq + k + 1] * x1;
      }
      if (k < j) {
        a0 -= l[pi + k] * l[pj + k];
        b0 -= l[pq + k] * l[pj + k];
      }
      l[pi + j] = (a0 + a1) * invDiag[j];
      l[pq + j] = (b0 + b1) * invDiag[j];
    }
    let s0 = l[pi + i];
    let t0 = l[pq + i];
    let u0 = l[pq + i + 1];
    let s1 = 0;
    let t1 = 0;
    let u1 = 0;
    let k = si;
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

  /** Solves L L^T x = rhs with the last factor (x may alias rhs). */
  solve(rhs: Float64Array, x: Float64Array): void {
    const l = this.l;
    const rowPtr = this.rowPtr;
    const rowStart = this.rowStart;
    const n = this.n;
    if (x !== rhs) x.set(rhs);
    // Forward: L y = rhs (row dot products).
    for (let i = 0; i < n; i++) {
      const si = rowStart[i];
      const pi = rowPtr[i] - si;
      let s = x[i];
      for (let k = si; k < i; k++) s -= l[pi + k] * x[k];
      x[i] = s * this.invDiag[i];
    }
    // Backward: L^T x = y (column sweeps of the rows).
    for (let i = n - 1; i >= 0; i--) {
      const si = rowStart[i];
      const pi = rowPtr[i] - si;
      const xi = x[i] * this.invDiag[i];
      x[i] = xi;
      for (let k = si; k < i; k++) x[k] -= l[pi + k] * xi;
    }
  }
}
