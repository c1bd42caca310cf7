import type { ResidualBlock } from '../solver/problem';

/**
 * Temporal smoothness between consecutive frames: r = sqrt(w) (x_{t+1} - x_t), with w_transl for the
 * translation and w_theta for every rotation parameter (the root's delta shares the window's reference,
 * so its difference is the frame-to-frame rotation).
 */
export function temporalBlock(block: number, n: number, wTransl: number, wTheta: number): ResidualBlock {
  const st = Math.sqrt(wTransl);
  const sr = Math.sqrt(wTheta);
  return {
    blocks: [block, block + 1],
    numResiduals: n,
    evaluate(params, r, jac) {
      const a = params[0];
      const b = params[1];
      for (let i = 0; i < n; i++) {
        const s = i < 3 ? st : sr;
        r[i] = s * (b[i] - a[i]);
        if (jac) {
          jac[0][i * n + i] = -s;
          jac[1][i * n + i] = s;
        }
      }
      return true;
    },
  };
}
