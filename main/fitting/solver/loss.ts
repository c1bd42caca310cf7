/**
 * Robust losses rho(s) of a residual group's squared norm s, and the corrector that turns a robustified
 * group into an ordinary least-squares one (Triggs et al. 2000, "Bundle Adjustment — A Modern Synthesis",
 * sec. 6.8; the same as Ceres' internal/ceres/corrector.cc).
 */
import type { LossFunction } from './problem';

/** rho(s) = s: plain least squares. */
export const trivialLoss: LossFunction = {
  evaluate(s: number, out: Float64Array): void {
    out[0] = s;
    out[1] = 1;
    out[2] = 0;
  },
};

/**
 * Geman-McClure: rho(s) = sigma^2 s / (sigma^2 + s), rho' = sigma^4 / (sigma^2 + s)^2,
 * rho'' = -2 sigma^4 / (sigma^2 + s)^3. rho -> sigma^2 for gross outliers; rho ~ s near zero.
 */
export function gemanMcClure(sigma: number): LossFunction {
  if (!(sigma > 0) || !Number.isFinite(sigma))
    throw new Error(`loss.ts: Geman-McClure sigma must be > 0, got ${sigma}`);
  const b = sigma * sigma;
  const b2 = b * b;
  return {
    evaluate(s: number, out: Float64Array): void {
      const d = b + s;
      const inv = 1 / d;
      out[0] = b * s * inv;
      out[1] = b2 * inv * inv;
      out[2] = -2 * b2 * inv * inv * inv;
    },
  };
}

/**
 * Huber (Ceres' HuberLoss(delta)): rho = s for s <= delta^2, else 2 delta sqrt(s) - delta^2;
 * outside, rho' = delta / sqrt(s) and rho'' = -rho' / (2 s).
 */
export function huber(delta: number): LossFunction {
  if (!(delta > 0) || !Number.isFinite(delta))
    throw new Error(`loss.ts: Huber delta must be > 0, got ${delta}`);
  const b = delta * delta;
  return {
    evaluate(s: number, out: Float64Array): void {
      if (s > b) {
        const r = Math.sqrt(s);
        out[0] = 2 * delta * r - b;
        out[1] = delta / r;
        out[2] = -out[1] / (2 * s);
      } else {
        out[0] = s;
        out[1] = 1;
        out[2] = 0;
      }
    },
  };
}

const rhoScratch = new Float64Array(3);

/**
 * Robustifies rows [row0, row0 + rows) of a residual block in place and returns rho(s), s = ||r||^2 of
 * those rows (NaN, touching nothing, when s is not finite). Triggs' corrector (Triggs et al. 2000, eq. 11):
 * alpha is the smaller root of 1/2 alpha^2 - alpha - rho''/rho' s = 0, i.e.
 * alpha = 1 - sqrt(1 + 2 s rho''/rho'), and
 *
 *   r~ = sqrt(rho') / (1 - alpha) r,     J~ = sqrt(rho') (I - alpha r r^T / s) J,
 *
 * so that J~^T r~ = rho' J^T r (the exact gradient of 1/2 rho) and
 * J~^T J~ = rho' J^T J + 2 rho'' J^T r r^T J (its Gauss-Newton Hessian). Where rho'' <= 0 (outlier side) or
 * s = 0 only the sqrt(rho') scaling is applied, as Ceres does: the full correction makes the model rank
 * deficient there.
 *
 * `jacobians[k]` is row-major with `cols[k]` columns and is corrected with the uncorrected residuals; pass
 * null when only the residuals are wanted. Entries that are zero in every row of the group stay zero.
 * `scale` a >= 0 makes the loss a rho (Ceres' ScaledLoss): rho' and rho'' scale by a, alpha does not.
 */
export function correctGroup(
  loss: LossFunction,
  residuals: Float64Array,
  row0: number,
  rows: number,
  jacobians: readonly Float64Array[] | null,
  cols: ArrayLike<number> | null,
  scale = 1,
): number {
  const row1 = row0 + rows;
  let s = 0;
  for (let r = row0; r < row1; r++) s += residuals[r] * residuals[r];
  if (!Number.isFinite(s)) return NaN; // the caller rejects the point
  const rho = rhoScratch;
  loss.evaluate(s, rho);
  if (!(rho[1] >= 0)) throw new Error(`loss.ts: loss derivative rho'(${s}) = ${rho[1]} must be >= 0`);
  const sqrtRho1 = Math.sqrt(scale * rho[1]);
  let residualScaling = sqrtRho1;
  let alphaSqNorm = 0;
  if (s > 0 && rho[2] > 0 && rho[1] > 0) {
    const alpha = 1 - Math.sqrt(1 + (2 * s * rho[2]) / rho[1]);
    residualScaling = sqrtRho1 / (1 - alpha);
    alphaSqNorm = alpha / s;
  }
  if (jacobians !== null && cols !== null) {
    for (let k = 0; k < jacobians.length; k++) {
      const jac = jacobians[k];
      const n = cols[k];
      if (alphaSqNorm === 0) {
        for (let i = row0 * n, end = row1 * n; i < end; i++) jac[i] *= sqrtRho1;
        continue;
      }
      // Column-wise: J[:, c] <- sqrt(rho') (J[:, c] - alpha/s r (r^T J[:, c])).
      for (let c = 0; c < n; c++) {
        let rtj = 0;
        for (let r = row0; r < row1; r++) rtj += jac[r * n + c] * residuals[r];
        if (rtj === 0) {
          for (let r = row0; r < row1; r++) jac[r * n + c] *= sqrtRho1;
          continue;
        }
        const f = alphaSqNorm * rtj;
        for (let r = row0; r < row1; r++) jac[r * n + c] = sqrtRho1 * (jac[r * n + c] - f * residuals[r]);
      }
    }
  }
  for (let r = row0; r < row1; r++) residuals[r] *= residualScaling;
  return scale * rho[0];
}
