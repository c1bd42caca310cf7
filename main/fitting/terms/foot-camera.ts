import { ensureBodyState, rigidDirectionJacobian, rigidPointJacobian, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';
import { gemanMcClure } from '../solver/loss';

/** A foot camera's mount on its joint: camera -> joint rotation and the camera centre in the joint frame. */
export interface FootMount {
  joint: number;
  /** Row-major 3x3, camera axes expressed in the joint frame. */
  R: ArrayLike<number>;
  offset: ArrayLike<number>;
}

const scratch = new Float64Array(3 * 512);

/**
 * The foot-camera constraint: the camera pose forward kinematics predicts (G_foot . mount) against the
 * PnP pose (world -> camera R_p, t_p). Residuals: sqrt(q w_p) (c(x) - C_p) for the centre (metres) and
 * sqrt(q w_r) (a_i(x) - R_p^T e_i) for the camera's x and z axes in the world (chordal rotation error),
 * q the PnP quality weight of the frame.
 */
export function footCameraBlock(
  state: BodyState,
  block: number,
  mount: FootMount,
  pose: ArrayLike<number>,
  quality: number,
  wPosition: number,
  wRotation: number,
  robustM: number,
): ResidualBlock {
  const { n } = state.layout;
  if (3 * n > scratch.length) throw new Error('footCameraBlock: too many parameters per frame');
  const sp = Math.sqrt(quality * wPosition);
  const sr = Math.sqrt(quality * wRotation);
  // Camera centre and axes from the PnP pose: C = -R^T t, axis i = row i of R.
  const C = [0, 1, 2].map((i) => -(pose[i] * pose[9] + pose[3 + i] * pose[10] + pose[6 + i] * pose[11]));
  const axes = [0, 2];
  const g = mount.joint * 12;
  return {
    blocks: [block],
    numResiduals: 9,
    // A wrong PnP pose (a flipped planar solution, a bad interpolation) must not drag the leg through
    // the floor: Geman-McClure over the whole block, scale ~robustM of camera-centre disagreement.
    loss: gemanMcClure(sp * robustM),
    lossGroup: 9,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      const G = state.ws.G;
      const t = params[0];
      const c = [0, 1, 2].map(
        (row) =>
          G[g + row * 4] * mount.offset[0] +
          G[g + row * 4 + 1] * mount.offset[1] +
          G[g + row * 4 + 2] * mount.offset[2] +
          G[g + row * 4 + 3] +
          t[row],
      );
      for (let i = 0; i < 3; i++) r[i] = sp * (c[i] - C[i]);
      if (jac) {
        rigidPointJacobian(state, mount.joint, c[0], c[1], c[2], scratch);
        for (let e = 0; e < 3 * n; e++) jac[0][e] = sp * scratch[e];
      }
      axes.forEach((axis, a) => {
        // World direction of camera axis `axis`: rot(G_foot) R_m e_axis.
        const d = [0, 1, 2].map(
          (row) =>
            G[g + row * 4] * mount.R[axis] +
            G[g + row * 4 + 1] * mount.R[3 + axis] +
            G[g + row * 4 + 2] * mount.R[6 + axis],
        );
        for (let i = 0; i < 3; i++) r[3 + 3 * a + i] = sr * (d[i] - pose[axis * 3 + i]);
        if (jac) {
          rigidDirectionJacobian(state, mount.joint, d[0], d[1], d[2], scratch);
          const base = (3 + 3 * a) * n;
          for (let e = 0; e < 3 * n; e++) jac[0][base + e] = sr * scratch[e];
        }
      });
      return true;
    },
  };
}
