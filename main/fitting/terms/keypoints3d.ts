import { ensureBodyState, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';

/**
 * Inverse kinematics on triangulated keypoints (the initialisation): r = sqrt(w_k) (X_k(x) - T_k) for
 * every keypoint with a target; `targets` is K x 3 (NaN: none), `weights` K.
 */
export function keypoints3dBlock(
  state: BodyState,
  block: number,
  targets: ArrayLike<number>,
  weights: ArrayLike<number>,
): ResidualBlock | null {
  const { n } = state.layout;
  const ids: number[] = [];
  for (let k = 0; k < weights.length; k++)
    if (weights[k] > 0 && Number.isFinite(targets[k * 3]) && state.layout.keypointMap?.available[k])
      ids.push(k);
  if (ids.length === 0) return null;
  const scale = ids.map((k) => Math.sqrt(weights[k]));
  return {
    blocks: [block],
    numResiduals: 3 * ids.length,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      ids.forEach((k, i) => {
        const s = scale[i];
        for (let c = 0; c < 3; c++) r[i * 3 + c] = s * (state.keypoints[k * 3 + c] - targets[k * 3 + c]);
        if (jac) {
          const src = k * 3 * n;
          const dst = i * 3 * n;
          for (let e = 0; e < 3 * n; e++) jac[0][dst + e] = s * state.keypointJac[src + e];
        }
      });
      return true;
    },
  };
}
