import { poseCentre } from '../geometry/camera';
import { axisAngleFromMatrix, mat3Mul, mat3MulAtB, rodrigues } from '../geometry/rotation';
import { evaluateBodyState, setRootRef, type BodyState } from './body-state';
import type { FootMount } from './terms/foot-camera';
import type { FitFootCamera, MountEstimate } from './types';
import type { Sequence, WindowContext } from './windows';

/** The joint a foot camera is strapped to, by role, under the names of the supported models. */
const FOOT_JOINTS: Record<FitFootCamera['role'], string[]> = {
  'foot-left': ['LeftFoot', 'left_ankle', 'L_Ankle'],
  'foot-right': ['RightFoot', 'right_ankle', 'R_Ankle'],
};
const SIDE_KEYPOINTS: Record<FitFootCamera['role'], string[]> = {
  'foot-left': ['LAnkle', 'LHeel', 'LBigToe'],
  'foot-right': ['RAnkle', 'RHeel', 'RBigToe'],
};

export function footJoint(jointNames: readonly string[], role: FitFootCamera['role']): number {
  for (const name of FOOT_JOINTS[role]) {
    const j = jointNames.indexOf(name);
    if (j >= 0) return j;
  }
  throw new Error(`fit: the body model has no ${role.replace('foot-', '')} foot joint for the foot camera`);
}

const Rm = new Float64Array(9);
const Rcw = new Float64Array(9);
const Rmean = new Float64Array(9);
const dR = new Float64Array(9);
const w = new Float64Array(3);
const centre = new Float64Array(3);

/**
 * Estimates a foot camera's mount (foot joint -> camera) from frames where PnP is good (weight >= 0.5)
 * and the visual fit of that foot is good (its keypoints triangulated and within 3 cm of the fit):
 * per frame M_t = G_foot(t)^-1 T_cam(t); the rotation is the Karcher mean of the R_m (median of the
 * log residuals, robust to a few bad frames), the offset the per-axis median. Null without 5 frames.
 */
export function estimateMount(
  ctx: WindowContext,
  seq: Sequence,
  state: BodyState,
  cam: FitFootCamera,
): { mount: FootMount; estimate: MountEstimate } | null {
  const { model, keypointMap } = ctx.layout;
  const joint = footJoint(model.jointNames, cam.role);
  const K = ctx.obs.keypoints;
  const side = SIDE_KEYPOINTS[cam.role].map((n) => keypointMap!.names.indexOf(n)).filter((k) => k >= 0);
  const rotations: number[] = [];
  const offsets: number[][] = [[], [], []];
  const { n } = seq;
  for (let f = 0; f < ctx.obs.frames; f++) {
    if (!(cam.weights[f] >= 0.5)) continue;
    setRootRef(state, seq.rootR.subarray(f * 9, f * 9 + 9));
    evaluateBodyState(state, seq.x.subarray(f * n, f * n + n), false);
    const good = side.every((k) => {
      if (!(ctx.obs.pointViews[f * K + k] >= 2)) return false;
      const P = ctx.obs.points3d;
      const i = (f * K + k) * 3;
      const e = Math.hypot(
        state.keypoints[k * 3] - P[i],
        state.keypoints[k * 3 + 1] - P[i + 1],
        state.keypoints[k * 3 + 2] - P[i + 2],
      );
      return e < 0.03;
    });
    if (!good) continue;
    const pose = cam.poses.subarray(f * 12, f * 12 + 12);
    // Camera -> world rotation R_p^T and centre C = -R_p^T t.
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) Rcw[r * 3 + c] = pose[c * 3 + r];
    const g = joint * 12;
    const G = state.ws.G;
    const Grot = [0, 1, 2, 4, 5, 6, 8, 9, 10].map((i) => G[g + i]);
    mat3MulAtB(Rm, 0, Grot, 0, Rcw, 0);
    rotations.push(...Rm);
    const C = poseCentre(pose, centre);
    const o = [0, 1, 2].map((i) => C[i] - state.ws.joints[joint * 3 + i]);
    for (let c = 0; c < 3; c++) offsets[c].push(Grot[c] * o[0] + Grot[3 + c] * o[1] + Grot[6 + c] * o[2]);
  }
  const frames = rotations.length / 9;
  if (frames < 5) return null;
  Rmean.set(rotations.slice(0, 9));
  for (let iter = 0; iter < 10; iter++) {
    const logs: number[][] = [[], [], []];
    for (let i = 0; i < frames; i++) {
      mat3MulAtB(dR, 0, Rmean, 0, rotations, i * 9);
      axisAngleFromMatrix(w, 0, dR, 0);
      for (let c = 0; c < 3; c++) logs[c].push(w[c]);
    }
    const step = logs.map(median);
    rodrigues(dR, 0, step, 0);
    mat3Mul(Rm, 0, Rmean, 0, dR, 0);
    Rmean.set(Rm);
    if (Math.hypot(...step) < 1e-9) break;
  }
  const R = Array.from(Rmean);
  const offset = offsets.map(median);
  return {
    mount: { joint, R, offset },
    estimate: { camera: cam.name, joint: model.jointNames[joint], R, offset, frames },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
