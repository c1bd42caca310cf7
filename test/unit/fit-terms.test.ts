import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CameraCalibration } from '../../preload/api';
import { landmarkVertices } from '../../main/body/landmarks';
import { loadBodyModel } from '../../main/body/load-model';
import {
  createBodyLayout,
  createBodyState,
  evaluateBodyState,
  poseSubsetVertex,
  setRootRef,
} from '../../main/fitting/body-state';
import { footCameraBlock } from '../../main/fitting/terms/foot-camera';
import { groundBlock } from '../../main/fitting/terms/ground';
import { keypoints3dBlock } from '../../main/fitting/terms/keypoints3d';
import { reprojectionBlock } from '../../main/fitting/terms/reprojection';
import { temporalBlock } from '../../main/fitting/terms/temporal';
import { checkJacobian } from '../../main/fitting/solver/check-jacobian';
import { gemanMcClure } from '../../main/fitting/solver/loss';
import { projectPoint } from '../../main/geometry/camera';
import { rodrigues } from '../../main/geometry/rotation';
import { REPO_ROOT } from './fixtures';

const model = loadBodyModel(join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'));
const FREE = [
  'LeftUpLeg',
  'LeftLeg',
  'LeftFoot',
  'LeftToeBase',
  'RightUpLeg',
  'RightLeg',
  'Spine',
  'Neck',
  'LeftArm',
  'RightForeArm',
];
const layout = createBodyLayout(model, FREE, 'BODY_25', landmarkVertices(model, 'left_sole').slice(0, 40));
const { n } = layout;

function frameX(seed: number, z = 0.9): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin(seed * 7.3 + i * 1.7);
  x[0] = 1;
  x[1] = 2;
  x[2] = z;
  return x;
}

/** A camera 4 m in front of the body looking back at it, with real-lens distortion. */
const cal: CameraCalibration = (() => {
  const C = [1.5, -2.5, 1.8];
  const z = [-0.5, 4.5, -0.8].map((v) => v / Math.hypot(-0.5, 4.5, -0.8));
  const xr = [z[1], -z[0], 0].map((v) => v / Math.hypot(z[0], z[1])); // z x up
  const y = [z[1] * xr[2] - z[2] * xr[1], z[2] * xr[0] - z[0] * xr[2], z[0] * xr[1] - z[1] * xr[0]];
  const R = [...xr, ...y, ...z];
  const t = [0, 1, 2].map((i) => -(R[i * 3] * C[0] + R[i * 3 + 1] * C[1] + R[i * 3 + 2] * C[2]));
  return {
    width: 1280,
    height: 720,
    K: [900, 0.5, 640, 0, 905, 360, 0, 0, 1],
    dist: [-0.2, 0.05, 0.001, -0.002, 0.01],
    R: Array.from(R),
    t,
  };
})();

function newState() {
  const state = createBodyState(layout, [0.2, 0.4, -0.3, 0, 0, 0.1]);
  setRootRef(
    state,
    (() => {
      const R = new Float64Array(9);
      rodrigues(R, 0, [0.1, 0.2, 3.0], 0);
      return R;
    })(),
  );
  return state;
}

describe('fit terms: analytic Jacobians match finite differences', () => {
  it('reprojection with distortion, weighted', () => {
    const state = newState();
    const x = frameX(1);
    evaluateBodyState(state, x, false);
    const pix = projectPoint(cal, state.keypoints.subarray(4 * 3, 4 * 3 + 3), new Float64Array(2));
    expect(Number.isFinite(pix[0])).toBe(true);
    // The keypoint in two views (the second a copy of the first, moved 0.4 m along x).
    const cal2 = { ...cal, t: cal.t.map((v, i) => v + 0.4 * cal.R[i * 3]) };
    const pix2 = projectPoint(cal2, state.keypoints.subarray(4 * 3, 4 * 3 + 3), new Float64Array(2));
    const pixels = Float64Array.of(pix[0] + 7, pix[1] - 3, pix2[0] - 2, pix2[1] + 40);
    const weights = Float64Array.of(0.7, 0.3);
    const block = reprojectionBlock(state, 0, [cal, cal2], 4, pixels, weights, gemanMcClure(20));
    expect(block.numResiduals).toBe(4);
    expect(Array.from(block.lossScale!)).toEqual([0.7, 0.3]);
    const check = checkJacobian(block, [x]);
    expect(check.maxRelError).toBeLessThan(1e-5);
    const r = new Float64Array(4);
    block.evaluate([x], r, null);
    expect(r[0]).toBeCloseTo(-7, 6);
    expect(r[3]).toBeCloseTo(-40, 6);
  });

  it('3D keypoints, ground hinge, temporal and foot camera', () => {
    const state = newState();
    const x = frameX(2, -0.5); // low enough that some sole vertices go below the floor
    evaluateBodyState(state, x, false);
    const targets = state.keypoints.map((v, i) => v + 0.01 * Math.cos(i));
    const weights = Array.from({ length: 25 }, (_, k) => (k % 5 === 0 ? 0 : 1 + k / 25));
    expect(checkJacobian(keypoints3dBlock(state, 0, targets, weights)!, [x]).maxRelError).toBeLessThan(1e-5);

    const ground = groundBlock(state, 0, 1e4);
    const r = new Float64Array(ground.numResiduals);
    ground.evaluate([x], r, null);
    expect(r.some((v) => v > 0)).toBe(true);
    expect(checkJacobian(ground, [x], 1e-7).maxRelError).toBeLessThan(1e-4);

    // The contact cache skins only vertices near the floor: the same rows as every vertex's hinge, along
    // a path that lowers the body through the floor in small steps and then jumps.
    evaluateBodyState(state, x, false);
    let lowest = Infinity;
    for (let v = layout.extraStart; v < layout.vertexIds.length; v++)
      lowest = Math.min(lowest, poseSubsetVertex(state, v));
    const path = [0.2, 0.1, 0.05, 0.02, 0.0, -0.004, -0.01, -0.02, -0.03, -0.08, -0.5, 0.4, -0.02];
    let touched = 0;
    for (const dz of path) {
      const xp = Float64Array.from(x);
      xp[2] = x[2] - lowest + dz;
      xp[9] += 0.1 * dz;
      ground.evaluate([xp], r, null);
      const rows = Array.from(r.subarray(0, ground.activeRows!())).sort((a, b) => a - b);
      const all: number[] = [];
      for (let v = layout.extraStart; v < layout.vertexIds.length; v++) {
        const z = poseSubsetVertex(state, v);
        if (z < 0) all.push(-100 * z);
      }
      expect(rows).toEqual(all.sort((a, b) => a - b));
      touched += all.length > 0 ? 1 : 0;
    }
    expect(touched).toBeGreaterThan(5);

    const temporal = temporalBlock(0, n, 100, 10);
    expect(checkJacobian(temporal, [x, frameX(3)]).maxRelError).toBeLessThan(1e-6);

    const pose = new Float64Array(12);
    rodrigues(pose, 0, [2.0, 0.3, -0.4], 0);
    pose.set([0.1, -0.3, 1.5], 9);
    const mount = {
      joint: model.jointNames.indexOf('LeftFoot'),
      R: [0, 0, 1, -1, 0, 0, 0, -1, 0],
      offset: [0.05, -0.07, 0.02],
    };
    const foot = footCameraBlock(state, 0, mount, pose, 0.8, 1e4, 1e2, 0.02);
    expect(checkJacobian(foot, [x]).maxRelError).toBeLessThan(1e-5);
  });
});
