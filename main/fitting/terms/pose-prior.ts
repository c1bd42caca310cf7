import { mahalanobis } from '../prior/gmm';
import { bestComponent, POSE_OFFSET, type PosePrior } from '../prior/pose-prior';
import type { ResidualBlock } from '../solver/problem';

/**
 * GMM pose prior in SMPLify's max-mixture form (Bogo et al. 2016, eq. 4): the component
 * k* = argmax_k w_k N(x; mu_k, Sigma_k) is re-picked at every evaluation, and
 *   r = sqrt(weight) L_k*^T (x - mu_k*),   r_D = sqrt(2 weight (c_k* - c_min)),
 * so 1/2 ||r||^2 = weight (-log w_k* N(x; mu_k*, Sigma_k*) - c_min): the negative log-likelihood up
 * to a constant. The cost is a min over smooth functions, hence continuous where k* switches; the
 * Jacobian is constant per component. Reads params[0] = [transl, root, prior joints...].
 */
export function posePriorBlock(prior: PosePrior, block: number, weight: number): ResidualBlock {
  const D = prior.dims;
  const n = POSE_OFFSET + D;
  const sw = Math.sqrt(weight);
  const r = new Float64Array(D);
  return {
    blocks: [block],
    numResiduals: D + 1,
    evaluate(params, residuals, jacobians) {
      const x = params[0];
      if (x.length !== n)
        throw new Error(`${prior.file}: pose prior expects a ${n}-value frame block, got ${x.length}`);
      const k = bestComponent(prior, x, POSE_OFFSET);
      mahalanobis(prior, k, x, POSE_OFFSET, r);
      for (let i = 0; i < D; i++) residuals[i] = sw * r[i];
      residuals[D] = Math.sqrt(2 * weight * (prior.c[k] - prior.cMin));
      if (jacobians) {
        // d r_i / d x_j = sqrt(weight) (L^T)_ij for the pose columns; the constant row stays zero.
        const J = jacobians[0];
        const LT = prior.LT;
        for (let i = 0; i < D; i++) {
          const jo = i * n + POSE_OFFSET;
          const lo = (k * D + i) * D;
          for (let j = i; j < D; j++) J[jo + j] = sw * LT[lo + j];
        }
      }
      return true;
    },
  };
}
