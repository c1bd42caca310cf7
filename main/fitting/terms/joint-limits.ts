import { POSE_OFFSET, type PosePrior } from '../prior/pose-prior';
import type { ResidualBlock } from '../solver/problem';

/**
 * Per-dof joint limits as a squared hinge: r_i = sqrt(weight) (max(0, x_i - max_i) - max(0, min_i - x_i)),
 * zero inside [min_i, max_i], so 1/2 r_i^2 penalises only the excursion. Reads params[0] =
 * [transl, root, prior joints...]; the limits are the prior file's.
 */
export function jointLimitsBlock(prior: PosePrior, block: number, weight: number): ResidualBlock {
  const D = prior.dims;
  const n = POSE_OFFSET + D;
  const sw = Math.sqrt(weight);
  return {
    blocks: [block],
    numResiduals: D,
    evaluate(params, residuals, jacobians) {
      const x = params[0];
      if (x.length !== n)
        throw new Error(`${prior.file}: joint limits expect a ${n}-value frame block, got ${x.length}`);
      const J = jacobians ? jacobians[0] : null;
      for (let i = 0; i < D; i++) {
        const v = x[POSE_OFFSET + i];
        const over = v - prior.limitsMax[i];
        const under = prior.limitsMin[i] - v;
        residuals[i] = sw * (over > 0 ? over : under > 0 ? -under : 0);
        // Both branches have slope +sqrt(weight) in x; inside the limits the residual is flat.
        if (J && (over > 0 || under > 0)) J[i * n + POSE_OFFSET + i] = sw;
      }
      return true;
    },
  };
}
