import { applyKeypointMap } from '../body/landmarks';
import { createBodyState, evaluateBodyState, setRootRef, type BodyLayout } from './body-state';
import type { Observations } from './observations';
import { solveLM } from './solver/lm';
import type { ResidualBlock } from './solver/problem';

/** Keypoint pairs whose distance is a bone length, by OpenPose names (used where the layout has both). */
const BONES: [string, string][] = [
  ['RShoulder', 'RElbow'],
  ['RElbow', 'RWrist'],
  ['LShoulder', 'LElbow'],
  ['LElbow', 'LWrist'],
  ['RHip', 'RKnee'],
  ['RKnee', 'RAnkle'],
  ['LHip', 'LKnee'],
  ['LKnee', 'LAnkle'],
  ['RShoulder', 'LShoulder'],
  ['RHip', 'LHip'],
  ['Neck', 'MidHip'],
  ['RAnkle', 'RHeel'],
  ['LAnkle', 'LHeel'],
];

export interface ShapeEstimate {
  betas: Float64Array;
  /** Bones used and their median measured lengths, metres. */
  bones: { from: string; to: string; length: number; frames: number }[];
}

/**
 * Estimates beta once from the first good frames (the shape is then fixed for the whole fit): median
 * triangulated bone lengths against the rest-pose keypoint distances of the model, which are linear
 * in beta (J(beta) = J_regressor (T + S beta)), with the shape prior |beta|^2:
 *   r_b = (||K_a(beta) - K_b(beta)|| - L_b) / 1 cm,  r_prior = sqrt(w) beta.
 */
const BONE_SCALE = 100;

export function estimateBetas(
  layout: BodyLayout,
  obs: Observations,
  shapeWeight: number,
  maxFrames = 300,
): ShapeEstimate {
  const map = layout.keypointMap!;
  const B = layout.model.numBetas;
  const K = obs.keypoints;
  const idx = (name: string) => map.names.indexOf(name);
  const bones: ShapeEstimate['bones'] = [];
  const pairs: [number, number, number][] = [];
  for (const [a, b] of BONES) {
    const ia = idx(a);
    const ib = idx(b);
    if (ia < 0 || ib < 0 || !map.available[ia] || !map.available[ib]) continue;
    const lengths: number[] = [];
    for (let f = 0; f < obs.frames && f < maxFrames; f++) {
      const pa = (f * K + ia) * 3;
      const pb = (f * K + ib) * 3;
      if (!(obs.pointViews[f * K + ia] >= 2 && obs.pointViews[f * K + ib] >= 2)) continue;
      const P = obs.points3d;
      lengths.push(Math.hypot(P[pa] - P[pb], P[pa + 1] - P[pb + 1], P[pa + 2] - P[pb + 2]));
    }
    if (lengths.length < 5) continue;
    lengths.sort((x, y) => x - y);
    const length = lengths[lengths.length >> 1];
    bones.push({ from: a, to: b, length, frames: lengths.length });
    pairs.push([ia, ib, length]);
  }
  const betas = new Float64Array(B);
  if (pairs.length < 3) return { betas, bones };
  // Rest keypoints are affine in beta: K(beta) = K0 + D beta, D column b from a unit beta.
  const rest = (beta: ArrayLike<number>): Float64Array => {
    const state = createBodyState(layout, beta);
    setRootRef(state, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    evaluateBodyState(state, new Float64Array(layout.n), false);
    return applyKeypointMap(map, state.ws.joints, state.vertices, new Float64Array(K * 3));
  };
  const K0 = rest(betas);
  const D = Array.from({ length: B }, (_, b) => {
    const unit = new Float64Array(B);
    unit[b] = 1;
    return rest(unit).map((v, i) => v - K0[i]);
  });
  const sw = Math.sqrt(shapeWeight);
  const block: ResidualBlock = {
    blocks: [0],
    numResiduals: pairs.length + B,
    evaluate(params, r, jac) {
      const beta = params[0];
      pairs.forEach(([ia, ib, length], p) => {
        const d = [0, 1, 2].map((c) => {
          let v = K0[ia * 3 + c] - K0[ib * 3 + c];
          for (let b = 0; b < B; b++) v += (D[b][ia * 3 + c] - D[b][ib * 3 + c]) * beta[b];
          return v;
        });
        const norm = Math.hypot(d[0], d[1], d[2]);
        r[p] = BONE_SCALE * (norm - length);
        if (jac)
          for (let b = 0; b < B; b++) {
            let s = 0;
            for (let c = 0; c < 3; c++) s += (d[c] / norm) * (D[b][ia * 3 + c] - D[b][ib * 3 + c]);
            jac[0][p * B + b] = BONE_SCALE * s;
          }
      });
      for (let b = 0; b < B; b++) {
        r[pairs.length + b] = sw * beta[b];
        if (jac) jac[0][(pairs.length + b) * B + b] = sw;
      }
      return true;
    },
  };
  solveLM(
    { params: [betas], residualBlocks: [block] },
    {
      maxIterations: 50,
      functionTolerance: 1e-9,
      gradientTolerance: 1e-12,
      parameterTolerance: 1e-10,
      initialLambda: 1e-3,
    },
  );
  return { betas, bones };
}
