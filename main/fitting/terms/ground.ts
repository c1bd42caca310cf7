import { ensureBodyState, subsetHeights, vertexJacobian, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';

/** Vertices this close to the floor (metres) stay candidates until the joints move as far. */
const CONTACT_MARGIN = 0.03;
/** Heights scratch shared by every ground block (filled and read within one evaluation). */
let heights = new Float64Array(0);

/**
 * The AMD ground-intersection term E_f = sum_v max(-v_z, 0), as a squared hinge inside LM:
 * r_v = sqrt(w) max(-v_z, 0) over the state's extra (lower-body) vertices. Only penetrating vertices have
 * a nonzero row, so they are the block's active rows (written first, in vertex order).
 *
 * Only candidates are skinned: the vertices lower than CONTACT_MARGIN at a reference pose. Vertex v moves
 * with its joints as z_v = sum_j w_j (R_j[2,:] (v - J_j) + z(o_j)), so from the reference
 * |dz_v| <= W max_j (|dR_j[2,:]| reach_j + |dz(o_j)|) (W the largest sum |w_j|, reach_j the farthest
 * vertex of joint j); while that stays under the margin no other vertex can reach the floor, else the
 * candidates are re-picked at the current pose.
 */
export function groundBlock(state: BodyState, block: number, weight: number): ResidualBlock {
  const { extraStart, vertexIds, n, model } = state.layout;
  const count = vertexIds.length - extraStart;
  const s = Math.sqrt(weight);
  const scratch = new Float64Array(3 * n);
  const joints: number[] = [];
  for (let j = 0; j < model.numJoints; j++) if (state.extraReach[j] > 0) joints.push(j);
  if (heights.length < count) heights = new Float64Array(count);
  const candidates = new Int32Array(count);
  let candidateCount = -1;
  /** Per joint at the reference pose: R_j[2,:] and z(o_j). */
  const refRow = new Float64Array(model.numJoints * 3);
  const refZ = new Float64Array(model.numJoints);
  let active = 0;

  const moved = (): number => {
    const { G, joints: o } = state.ws;
    let worst = 0;
    for (const j of joints) {
      const dr = Math.hypot(
        G[j * 12 + 8] - refRow[j * 3],
        G[j * 12 + 9] - refRow[j * 3 + 1],
        G[j * 12 + 10] - refRow[j * 3 + 2],
      );
      worst = Math.max(worst, dr * state.extraReach[j] + Math.abs(o[j * 3 + 2] - refZ[j]));
    }
    return state.extraWeightSum * worst;
  };
  const pickCandidates = (): void => {
    const { G, joints: o } = state.ws;
    for (const j of joints) {
      refRow.set(G.subarray(j * 12 + 8, j * 12 + 11), j * 3);
      refZ[j] = o[j * 3 + 2];
    }
    subsetHeights(state, null, count, heights);
    candidateCount = 0;
    for (let i = 0; i < count; i++)
      if (!(heights[i] >= CONTACT_MARGIN)) candidates[candidateCount++] = extraStart + i;
  };

  return {
    blocks: [block],
    numResiduals: count,
    activeRows: () => active,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      if (candidateCount < 0 || !(moved() < CONTACT_MARGIN)) pickCandidates();
      subsetHeights(state, candidates, candidateCount, heights);
      active = 0;
      for (let i = 0; i < candidateCount; i++) {
        const z = heights[i];
        if (!(z < 0)) continue;
        const v = candidates[i];
        r[active] = -s * z;
        if (jac) {
          vertexJacobian(state, v, scratch);
          const J = jac[0];
          for (let c = 0, e = active * n; c < n; c++, e++) J[e] = -s * scratch[2 * n + c];
        }
        active++;
      }
      return true;
    },
  };
}

/** Deepest penetration below the floor over vertices (x, y, z rows), metres; 0 when none. */
export function maxPenetration(vertices: ArrayLike<number>, count = vertices.length / 3): number {
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, -vertices[i * 3 + 2]);
  return worst;
}

/**
 * The lower-body vertices the ground term watches: rest-pose vertices below `maxHeight`, thinned to the
 * lowest vertex per `cell` cube so the term stays cheap (feet are densely meshed) while every patch of
 * sole and lower leg keeps a representative.
 */
export function groundVertices(
  vTemplate: ArrayLike<number>,
  upAxis: 'y' | 'z',
  maxHeight = 0.6,
  cell = 0.004,
): number[] {
  const up = upAxis === 'z' ? 2 : 1;
  let floor = Infinity;
  for (let i = up; i < vTemplate.length; i += 3) floor = Math.min(floor, vTemplate[i]);
  const best = new Map<string, number>();
  for (let v = 0; v < vTemplate.length / 3; v++) {
    const h = vTemplate[v * 3 + up] - floor;
    if (h > maxHeight) continue;
    const key = [0, 1, 2].map((c) => Math.floor(vTemplate[v * 3 + c] / cell)).join(',');
    const cur = best.get(key);
    if (cur === undefined || vTemplate[v * 3 + up] < vTemplate[cur * 3 + up]) best.set(key, v);
  }
  return [...best.values()].sort((a, b) => a - b);
}
