import { rigidAlign } from '../geometry/procrustes';
import { mat3Mul, mat3MulVec, rodrigues } from '../geometry/rotation';
import { evaluateBodyState, setRootRef, type BodyState } from './body-state';
import { solveLM } from './solver/lm';
import type { ResidualBlock } from './solver/problem';
import { jointLimitsBlock } from './terms/joint-limits';
import { keypoints3dBlock } from './terms/keypoints3d';
import { posePriorBlock } from './terms/pose-prior';
import type { Sequence, WindowContext } from './windows';

/** Torso keypoints for the rigid alignment, by name in any OpenPose-style layout. */
const TORSO = ['Neck', 'MidHip', 'RHip', 'LHip', 'RShoulder', 'LShoulder'];

/** Whether frame f has enough triangulated torso keypoints to initialise from. */
export function hasTorso(ctx: WindowContext, f: number): boolean {
  return torsoWeights(ctx, f).filter((w) => w > 0).length >= 3;
}

function torsoWeights(ctx: WindowContext, f: number): number[] {
  const map = ctx.layout.keypointMap!;
  const { keypoints: K, points3d } = ctx.obs;
  return map.names.map((name, k) =>
    TORSO.includes(name) && Number.isFinite(points3d[(f * K + k) * 3]) ? 1 : 0,
  );
}

const R = new Float64Array(9);
const t = new Float64Array(3);
const Rj = new Float64Array(3);
const dR = new Float64Array(9);

/**
 * Initialises frame f: global orientation and translation by Procrustes of the rest-pose torso
 * keypoints onto the triangulated ones, then the pose by inverse kinematics on every triangulated
 * keypoint with the pose prior and joint limits. Returns false without torso keypoints.
 */
export function initFrame(ctx: WindowContext, seq: Sequence, state: BodyState, f: number): boolean {
  const { n } = seq;
  const K = ctx.obs.keypoints;
  const weights = torsoWeights(ctx, f);
  if (weights.filter((w) => w > 0).length < 3) return false;
  const x = new Float64Array(n);
  setRootRef(state, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  evaluateBodyState(state, x, false);
  const target = ctx.obs.points3d.subarray(f * K * 3, (f + 1) * K * 3);
  if (!rigidAlign(state.keypoints, target, weights, R, t)) return false;
  // p = R (p_rest - j0) + j0 + transl  =>  transl = t + R j0 - j0
  mat3MulVec(Rj, 0, R, 0, state.jRest, 0);
  for (let i = 0; i < 3; i++) x[i] = t[i] + Rj[i] - state.jRest[i];
  setRootRef(state, R);
  const ikWeights = Array.from({ length: K }, (_, k) => (ctx.obs.pointViews[f * K + k] >= 2 ? 1e4 : 0));
  const blocks: ResidualBlock[] = [
    posePriorBlock(ctx.prior, 0, ctx.config.weights.posePrior),
    jointLimitsBlock(ctx.prior, 0, ctx.config.weights.jointLimits),
  ];
  const data = keypoints3dBlock(state, 0, target, ikWeights);
  if (data) blocks.push(data);
  solveLM(
    { params: [x], residualBlocks: blocks },
    {
      maxIterations: 40,
      functionTolerance: 1e-7,
      gradientTolerance: 1e-10,
      parameterTolerance: 1e-8,
      initialLambda: 1e-3,
    },
  );
  rodrigues(dR, 0, x, 3);
  mat3Mul(seq.rootR, f * 9, dR, 0, R, 0);
  x[3] = x[4] = x[5] = 0;
  seq.x.set(x, f * n);
  return true;
}
