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
