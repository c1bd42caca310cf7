import type { ResidualBlock } from './problem';

export interface JacobianCheck {
  /** Largest |analytic - numeric| over all entries. */
  maxAbsError: number;
  /** Largest |analytic - numeric| / max(1, |numeric|). */
  maxRelError: number;
  /** Where the largest relative error is: parameter block k, row, column. */
  worst: { block: number; row: number; col: number; analytic: number; numeric: number };
}

/**
 * Compares a residual block's analytic Jacobian with central finite differences at `params` (as
 * Ceres' GradientChecker does). For unit tests of every term.
 */
export function checkJacobian(block: ResidualBlock, params: Float64Array[], step = 1e-6): JacobianCheck {
  const m = block.numResiduals;
  const r = new Float64Array(m);
  const rp = new Float64Array(m);
  const rm = new Float64Array(m);
  const jac = params.map((p) => new Float64Array(m * p.length));
  if (!block.evaluate(params, r, jac)) throw new Error('checkJacobian: block cannot be evaluated here');
  const out: JacobianCheck = {
    maxAbsError: 0,
    maxRelError: 0,
    worst: { block: -1, row: -1, col: -1, analytic: 0, numeric: 0 },
  };
  params.forEach((p, k) => {
    const n = p.length;
    for (let c = 0; c < n; c++) {
      const x0 = p[c];
      p[c] = x0 + step;
      const okP = block.evaluate(params, rp, null);
      p[c] = x0 - step;
      const okM = block.evaluate(params, rm, null);
      p[c] = x0;
      if (!okP || !okM) throw new Error(`checkJacobian: block cannot be evaluated near column ${c}`);
      for (let row = 0; row < m; row++) {
        const numeric = (rp[row] - rm[row]) / (2 * step);
        const analytic = jac[k][row * n + c];
        const abs = Math.abs(analytic - numeric);
        const rel = abs / Math.max(1, Math.abs(numeric));
        out.maxAbsError = Math.max(out.maxAbsError, abs);
        if (rel > out.maxRelError) {
          out.maxRelError = rel;
          out.worst = { block: k, row, col: c, analytic, numeric };
        }
      }
    }
  });
  block.evaluate(params, r, null);
  return out;
}
