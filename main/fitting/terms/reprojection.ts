import type { CameraCalibration } from '../../../preload/api';
import { projectPointJacobian } from '../../geometry/camera';
import { ensureBodyState, type BodyState } from '../body-state';
import type { LossFunction, ResidualBlock } from '../solver/problem';

const point = new Float64Array(3);
const pixel = new Float64Array(2);
const dPixel = new Float64Array(6);
/** Columns where the keypoint's Jacobian is nonzero (its kinematic chain), per evaluation. */
let chain = new Int32Array(64);

/**
 * One 2D keypoint in every view that sees it (SMPLify-X's data term): rows 2i, 2i + 1 are
 * e_i = Pi_c(X_k(x)) - u_k in view c = views[i], projected with the view's distortion, and the view's
 * cost is a_i rho_sigma(|e_i|^2) with a_i = weight x confidence (lossScale) and `loss` the per-pixel
 * Geman-McClure of scale sigma (lossGroup 2), so outliers beyond ~sigma pixels stop pulling. All views
 * share the keypoint's 3 x n Jacobian, so their rows share a sparsity pattern and enter H as one run.
 *
 * @param pixels observed (u, v) per view, 2 x views.length
 * @param weights a_i per view (> 0)
 */
export function reprojectionBlock(
  state: BodyState,
  block: number,
  cals: readonly CameraCalibration[],
  keypoint: number,
  pixels: Float64Array,
  weights: Float64Array,
  loss: LossFunction,
): ResidualBlock {
  const V = cals.length;
  if (pixels.length !== 2 * V || weights.length !== V)
    throw new Error(`reprojectionBlock: ${V} views need ${2 * V} pixel values and ${V} weights`);
  const { n } = state.layout;
  const k3 = keypoint * 3;
  const row = k3 * n;
  return {
    blocks: [block],
    numResiduals: 2 * V,
    loss,
    lossGroup: 2,
    lossScale: weights,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      const K = state.keypoints;
      point[0] = K[k3];
      point[1] = K[k3 + 1];
      point[2] = K[k3 + 2];
      let cnt = 0;
      const KJ = state.keypointJac;
      if (jac) {
        if (chain.length < n) chain = new Int32Array(n);
        for (let c = 0; c < n; c++)
          if (KJ[row + c] !== 0 || KJ[row + n + c] !== 0 || KJ[row + 2 * n + c] !== 0) chain[cnt++] = c;
      }
      for (let i = 0; i < V; i++) {
        if (!projectPointJacobian(cals[i], point, pixel, dPixel)) return false;
        r[2 * i] = pixel[0] - pixels[2 * i];
        r[2 * i + 1] = pixel[1] - pixels[2 * i + 1];
        if (!jac) continue;
        const J = jac[0];
        const u = 2 * i * n;
        for (let q = 0; q < cnt; q++) {
          const c = chain[q];
          const jx = KJ[row + c];
          const jy = KJ[row + n + c];
          const jz = KJ[row + 2 * n + c];
          J[u + c] = dPixel[0] * jx + dPixel[1] * jy + dPixel[2] * jz;
          J[u + n + c] = dPixel[3] * jx + dPixel[4] * jy + dPixel[5] * jz;
        }
      }
      return true;
    },
  };
}
