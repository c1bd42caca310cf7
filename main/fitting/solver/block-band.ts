/**
 * Normal equations of a chain of parameter blocks where each residual block reads consecutive blocks, so
 *
 *   H = J^T J (block-banded: H_ab = 0 when blocks a, b never share a residual block),  g = J^T r,
 *
 * stored as a lower-triangular scalar envelope (skyline): row i keeps columns rowStart[i]..i. The Cholesky
 * factor of a matrix has no fill outside its envelope (George & Liu 1981, ch. 4), so H + D is factored in
 * place of a copy of the same storage. The envelope starts as the block envelope (row i from the first
 * column of the earliest block coupled to i's block: dense off-diagonal blocks) and, after the first
 * accumulation, is narrowed to each row's first nonzero column of H (kept nondecreasing): a temporal term
 * couples consecutive frames through a diagonal block only, which halves the factorisation. A later H with
 * an entry outside the narrowed envelope is reported (`overflowed`) and the caller widens back and
 * re-accumulates. Constant blocks are not in the system.
 */

import { envelopePointers, factorEnvelope, solveEnvelope } from './envelope-cholesky';

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
  rowStart: Int32Array;
  rowPtr: Int32Array;
  /** Lower triangle of H within the envelope. */
  h: Float64Array;
  /** Cholesky factor L of H + D, same layout. */
  l: Float64Array;
  /** Set by accumulate when H has an entry outside a narrowed envelope (that part was not added). */
  overflowed = false;
  /** The block envelope's row starts, and whether the envelope may still be narrowed. */
  private readonly blockRowStart: Int32Array;
  private narrowable = true;
  /** What the structure was built from, for sameStructure. */
  private readonly constantKey: Uint8Array;
  private readonly firstCoupled: Int32Array;
  private readonly maxCols: number;
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
    this.constantKey = Uint8Array.from({ length: nb }, (_, b) => (constant !== null && constant[b] ? 1 : 0));
    this.firstCoupled = firstCoupled;
    this.maxCols = maxCols;
    this.blockRowStart = new Int32Array(n);
    for (let b = 0; b < nb; b++) {
      const off = this.blockOffset[b];
      if (off >= 0) this.blockRowStart.fill(this.blockOffset[firstCoupled[b]], off, off + blockSize[b]);
    }
    this.rowStart = this.blockRowStart.slice();
    this.rowPtr = envelopePointers(this.rowStart);
    this.h = new Float64Array(this.rowPtr[n]);
    this.l = new Float64Array(this.rowPtr[n]);
    this.g = new Float64Array(n);
    this.damping = new Float64Array(n);
    this.invDiag = new Float64Array(n);
    this.nzIndex = new Int32Array(maxCols);
    this.nzValue = new Float64Array(maxCols);
    this.runIndex = new Int32Array(maxCols);
    this.runValue = new Float64Array(maxCols * MAX_RUN);
  }

  /** Whether a problem of this shape has the same system (so a solver can keep it, envelope and all). */
  sameStructure(
    blockSize: ArrayLike<number>,
    constant: ArrayLike<number> | null,
    residualBlocks: readonly (readonly number[])[],
  ): boolean {
    const nb = blockSize.length;
    if (nb !== this.blockSize.length) return false;
    for (let b = 0; b < nb; b++) {
      if (blockSize[b] !== this.blockSize[b]) return false;
      if ((constant !== null && constant[b] ? 1 : 0) !== this.constantKey[b]) return false;
    }
    const first = new Int32Array(nb);
    for (let b = 0; b < nb; b++) first[b] = b;
    let maxCols = 0;
    for (const blocks of residualBlocks) {
      let f = -1;
      let cols = 0;
      for (const b of blocks) {
        if (this.constantKey[b]) continue;
        if (f < 0) f = b;
        cols += blockSize[b];
      }
      if (f < 0) continue;
      if (cols > maxCols) maxCols = cols;
      for (const b of blocks) if (!this.constantKey[b] && f < first[b]) first[b] = f;
    }
    if (maxCols > this.maxCols) return false;
    for (let b = 0; b < nb; b++) if (first[b] !== this.firstCoupled[b]) return false;
    return true;
  }

  /** Zeroes H and g before a new linearisation. */
  reset(): void {
    this.h.fill(0);
    this.g.fill(0);
    this.overflowed = false;
  }

  /**
   * Narrows the envelope to the current H's first nonzero column per row (made nondecreasing, which
   * accumulate's overflow test relies on), once; H is moved to the new layout.
   */
  learnEnvelope(): void {
    if (!this.narrowable) return;
    this.narrowable = false;
    const n = this.n;
    const start = new Int32Array(n);
    let next = n;
    for (let i = n - 1; i >= 0; i--) {
      let j = this.rowStart[i];
      const p = this.rowPtr[i] - j;
      while (j < i && this.h[p + j] === 0) j++;
      next = Math.min(next, j);
      start[i] = next;
    }
    this.setEnvelope(start);
  }

  /** Back to the block envelope for good (H is kept). */
  widen(): void {
    this.narrowable = false;
    this.setEnvelope(this.blockRowStart);
  }

  private setEnvelope(start: Int32Array): void {
    const ptr = envelopePointers(start);
    const h = new Float64Array(ptr[this.n]);
    for (let i = 0; i < this.n; i++) {
      const s = Math.max(start[i], this.rowStart[i]);
      const src = this.rowPtr[i] - this.rowStart[i];
      h.set(this.h.subarray(src + s, src + i + 1), ptr[i] - start[i] + s);
    }
    this.rowStart = start.slice();
    this.rowPtr = ptr;
    this.h = h;
    this.l = new Float64Array(ptr[this.n]);
  }

  /**
   * Adds a residual block's rows: H += J^T J, g += J^T r. `jacobians[k]` (rows x blockSize[blocks[k]],
   * row-major) belongs to parameter block blocks[k]; constant blocks' are ignored. Per row, the nonzero
   * columns are gathered once and the update runs over those only (Jacobian rows of body terms touch ~20
   * of ~60 columns). Consecutive rows within the nonzero columns of a run's first row (u and v of a
   * pixel, a keypoint in every view, the rows of a triangular factor) join the run, whose Gram matrix
   * V^T V is added in one pass, dividing the scattered writes into H by the run length.
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
        // Row r joins when its columns are among the run's and at least half as many (a triangular
        // block, e.g. a prior's Cholesky factor, forms runs too): the run's column k of row r, zero-filled.
        if (len === MAX_RUN || next > cnt || 2 * next < cnt) break;
        let p = 0;
        for (let a = 0, e = len; a < cnt; a++, e += MAX_RUN) {
          if (p < next && idx[p] === runIdx[a]) runVal[e] = val[p++];
          else runVal[e] = 0;
        }
        if (p !== next) break;
        runRes[len++] = residuals[r];
      }
      // Columns ascend and rowStart does not decrease, so the run fits when its first column is in
      // the envelope of its last row.
      if (cnt > 0 && runIdx[0] < this.rowStart[runIdx[cnt - 1]]) this.overflowed = true;
      else this.addRun(cnt, len);
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
   * Marquardt's scaling), in the envelope (envelope-cholesky.ts). Returns false when a pivot is not positive (H + D not numerically positive definite).
   */
  factor(mu: number): boolean {
    this.setDamping(mu);
    const l = this.l;
    l.set(this.h);
    for (let i = 0; i < this.n; i++) l[this.rowPtr[i + 1] - 1] += this.damping[i];
    return factorEnvelope(l, this.rowStart, this.rowPtr, this.invDiag);
  }

  /** Solves L L^T x = rhs with the last factor (x may alias rhs). */
  solve(rhs: Float64Array, x: Float64Array): void {
    if (x !== rhs) x.set(rhs);
    solveEnvelope(this.l, this.rowStart, this.rowPtr, this.invDiag, x);
  }
}
