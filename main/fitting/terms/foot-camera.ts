import { ensureBodyState, rigidDirectionJacobian, rigidPointJacobian, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';
import { gemanMcClure } from '../solver/loss';
import { poseCentre } from '../../geometry/camera';

/** A foot camera's mount on its joint: camera -> joint rotation and the camera centre in the joint frame. */
export interface FootMount {
  joint: number;
  /** Row-major 3x3, camera axes expressed in the joint frame. */
  R: ArrayLike<number>;
  offset: ArrayLike<number>;
}

const scratch = new Float64Array(3 * 512);
const centre = new Float64Array(3);
const axesR = new Float64Array(9);

/**
 * The foot camera as forward kinematics places it: centre c = G_foot . offset + transl and camera ->
 * world rotation rot(G_foot) R_m (its columns are the camera axes in the world). Out-parameters.
 */
export function mountedCamera(
  state: BodyState,
  mount: FootMount,
  transl: ArrayLike<number>,
  outCentre: Float64Array,
  outR: Float64Array,
): void {
  const G = state.ws.G;
  const g = mount.joint * 12;
  const o = mount.offset;
  const Rm = mount.R;
  for (let row = 0; row < 3; row++) {
    const a0 = G[g + row * 4];
    const a1 = G[g + row * 4 + 1];
    const a2 = G[g + row * 4 + 2];
    outCentre[row] = a0 * o[0] + a1 * o[1] + a2 * o[2] + G[g + row * 4 + 3] + transl[row];
    for (let col = 0; col < 3; col++)
      outR[row * 3 + col] = a0 * Rm[col] + a1 * Rm[3 + col] + a2 * Rm[6 + col];
  }
}

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
  // The PnP camera centre; its axis i in the world is row i of R_p.
  const C = poseCentre(pose);
  return {
    blocks: [block],
    numResiduals: 9,
    // A wrong PnP pose (a flipped planar solution, a bad interpolation) must not drag the leg through
    // the floor: Geman-McClure over the whole block, scale ~robustM of camera-centre disagreement.
    loss: gemanMcClure(sp * robustM),
    lossGroup: 9,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      mountedCamera(state, mount, params[0], centre, axesR);
      for (let i = 0; i < 3; i++) r[i] = sp * (centre[i] - C[i]);
      if (jac) {
        rigidPointJacobian(state, mount.joint, centre[0], centre[1], centre[2], scratch);
        for (let e = 0; e < 3 * n; e++) jac[0][e] = sp * scratch[e];
      }
      for (let a = 0; a < 2; a++) {
        const axis = a === 0 ? 0 : 2; // the camera's x and z axes
        const dx = axesR[axis];
        const dy = axesR[3 + axis];
        const dz = axesR[6 + axis];
        r[3 + 3 * a] = sr * (dx - pose[axis * 3]);
        r[4 + 3 * a] = sr * (dy - pose[axis * 3 + 1]);
        r[5 + 3 * a] = sr * (dz - pose[axis * 3 + 2]);
        if (jac) {
          rigidDirectionJacobian(state, mount.joint, dx, dy, dz, scratch);
          const base = (3 + 3 * a) * n;
          for (let e = 0; e < 3 * n; e++) jac[0][base + e] = sr * scratch[e];
        }
      }
      return true;
    },
  };
}
