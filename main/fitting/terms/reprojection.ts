import type { CameraCalibration } from '../../../preload/api';
import { projectPointJacobian } from '../../geometry/camera';
import { ensureBodyState, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';
import { gemanMcClure } from '../solver/loss';

const pixel = new Float64Array(2);
const dPixel = new Float64Array(6);

/**
 * One 2D keypoint in one view (SMPLify-X's data term): r = sqrt(a) (Pi_c(X_k(x)) - u_k), projected with
 * the view's distortion, a = weight x confidence. The Geman-McClure loss of scale sqrt(a) sigma makes
 * the cost a rho_sigma(|e|^2), so outliers beyond ~sigma pixels stop pulling.
 */
export function reprojectionBlock(
  state: BodyState,
  block: number,
  cal: CameraCalibration,
  keypoint: number,
  u: number,
  v: number,
  a: number,
  sigmaPx: number,
): ResidualBlock {
  const sa = Math.sqrt(a);
  const { n } = state.layout;
  const k3 = keypoint * 3;
  const row = k3 * n;
  return {
    blocks: [block],
    numResiduals: 2,
    loss: gemanMcClure(sa * sigmaPx),
    lossGroup: 2,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      if (!projectPointJacobian(cal, state.keypoints.subarray(k3, k3 + 3), pixel, dPixel)) return false;
      r[0] = sa * (pixel[0] - u);
      r[1] = sa * (pixel[1] - v);
      if (jac) {
        const J = jac[0];
        const KJ = state.keypointJac;
        for (let c = 0; c < n; c++) {
          const jx = KJ[row + c];
          const jy = KJ[row + n + c];
          const jz = KJ[row + 2 * n + c];
          if (jx === 0 && jy === 0 && jz === 0) continue;
          J[c] = sa * (dPixel[0] * jx + dPixel[1] * jy + dPixel[2] * jz);
          J[n + c] = sa * (dPixel[3] * jx + dPixel[4] * jy + dPixel[5] * jz);
        }
      }
      return true;
    },
  };
}
