import { ensureBodyState, vertexJacobian, type BodyState } from '../body-state';
import type { ResidualBlock } from '../solver/problem';

/**
 * The AMD ground-intersection term E_f = sum_v max(-v_z, 0), as a squared hinge inside LM:
 * r_v = sqrt(w) max(-v_z, 0) over the state's extra (lower-body) vertices. Vertices above the floor
 * contribute nothing and cost nothing.
 */
export function groundBlock(state: BodyState, block: number, weight: number): ResidualBlock {
  const { extraStart, vertexIds, n } = state.layout;
  const count = vertexIds.length - extraStart;
  const s = Math.sqrt(weight);
  const scratch = new Float64Array(3 * n);
  return {
    blocks: [block],
    numResiduals: count,
    evaluate(params, r, jac) {
      ensureBodyState(state, params[0], jac !== null);
      for (let i = 0; i < count; i++) {
        const z = state.vertices[(extraStart + i) * 3 + 2];
        r[i] = z < 0 ? -s * z : 0;
        if (jac && z < 0) {
          vertexJacobian(state, extraStart + i, scratch);
          const J = jac[0];
          for (let c = 0; c < n; c++) J[i * n + c] = -s * scratch[2 * n + c];
        }
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
