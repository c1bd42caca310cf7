import { compileKeypointMap, type KeypointMap } from '../body/landmarks';
import {
  createWorkspace,
  forwardKinematics,
  jointShapeBasis,
  type JointShapeBasis,
  type LbsWorkspace,
} from '../body/lbs';
import type { BodyModel } from '../body/model';
import { leftJacobianSO3, mat3Mul, rodrigues } from '../geometry/rotation';

/**
 * The body as a function of one frame's parameter vector
 *   x = [transl (3), delta_root (3), theta_f (3 per free joint)],   R_root = exp(delta_root) R_ref,
 * with the posed points the terms read (keypoints, a vertex subset, joints) and their Jacobians d/dx.
 * The root is a small rotation about a per-window reference so axis-angle never wraps at pi and
 * frame differences of delta are meaningful. Joints that are not free keep theta = 0.
 *
 * Jacobians follow from LBS (SMPL eq. 2) without pose blend shapes (the open model has none): with
 * Omega_k = R_parent(k) J_l(theta_k) the world angular velocity of joint k's parameters, every point
 * skinned to joints in the subtree of k moves as d p / d theta_k,i = omega_k,i x (p_subtree - W_k o_k)
 * where p_subtree = sum_{j in subtree(k)} w_j A_j v and W_k the sum of those weights.
 */
export interface BodyLayout {
  model: BodyModel;
  basis: JointShapeBasis;
  /** Free joints as model joint indices, in x order (root excluded). */
  freeJoints: Int32Array;
  /** Per model joint: offset of its 3 rotation parameters in x, or -1; the root's is 3. */
  offset: Int32Array;
  /** Parameters per frame. */
  n: number;
  /** Rotations of the joints that are not free (J x 9, identity unless given), e.g. a rig's constant offsets. */
  fixedR: Float64Array;
  keypointMap: KeypointMap | null;
  /** Posed vertex subset: the keypoint map's vertices, then the extra vertices from `extraStart`. */
  vertexIds: Int32Array;
  extraStart: number;
  /** Skinning influences per subset vertex (CSR over inflStart). */
  inflStart: Int32Array;
  inflJoint: Int32Array;
  inflWeight: Float64Array;
}

export function createBodyLayout(
  model: BodyModel,
  freeJointNames: readonly string[],
  /** A detector layout's name (its default map), an already compiled (e.g. calibrated) map, or none. */
  keypointLayout: string | KeypointMap | null,
  extraVertices: readonly number[] = [],
  fixedTheta: Record<string, ArrayLike<number>> = {},
): BodyLayout {
  const J = model.numJoints;
  const fixedR = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) rodrigues(fixedR, j * 9, fixedTheta[model.jointNames[j]] ?? [0, 0, 0], 0);
  const offset = new Int32Array(J).fill(-1);
  offset[0] = 3;
  const free = freeJointNames.map((name, i) => {
    const j = model.jointNames.indexOf(name);
    if (j < 0) throw new Error(`${model.file}: free joint "${name}" is not a joint of the model`);
    if (j === 0) throw new Error(`${model.file}: the root "${name}" cannot be a free joint`);
    offset[j] = 6 + 3 * i;
    return j;
  });
  const keypointMap =
    typeof keypointLayout === 'string' ? compileKeypointMap(model, keypointLayout) : keypointLayout;
  const ids = [...(keypointMap?.vertexIds ?? []), ...extraVertices];
  const start = [0];
  const joint: number[] = [];
  const weight: number[] = [];
  for (const v of ids) {
    for (let j = 0; j < J; j++) {
      const w = model.weights[v * J + j];
      if (w !== 0) {
        joint.push(j);
        weight.push(w);
      }
    }
    start.push(joint.length);
  }
  return {
    model,
    basis: jointShapeBasis(model),
    freeJoints: Int32Array.from(free),
    offset,
    n: 6 + 3 * free.length,
    fixedR,
    keypointMap,
    vertexIds: Int32Array.from(ids),
    extraStart: keypointMap?.vertexIds.length ?? 0,
    inflStart: Int32Array.from(start),
    inflJoint: Int32Array.from(joint),
    inflWeight: Float64Array.from(weight),
  };
}

export interface BodyState {
  layout: BodyLayout;
  /** Rest joints J(beta), J x 3. */
  jRest: Float64Array;
  /** Shaped rest positions of the vertex subset, S x 3. */
  vShaped: Float64Array;
  /** The root's reference rotation (row-major 3x3). */
  rootRef: Float64Array;
  ws: LbsWorkspace;
  /** World angular Jacobian per joint, J x 3x3 (column i: d rotation / d theta_i). */
  omega: Float64Array;
  /**
   * Posed subset vertices, S x 3: the keypoint map's after every evaluation; the extra vertices only
   * where posed on demand (poseSubsetVertex), as the ground term does for those near the floor.
   */
  vertices: Float64Array;
  /**
   * Per joint, the farthest extra vertex it influences, |v - J_j| in the shaped rest pose (0: none), and
   * the largest sum_j |w_j| of an extra vertex: A_j moves v rigidly about joint j, which bounds how far
   * extra vertices move when the joints do (the ground term's contact cache).
   */
  extraReach: Float64Array;
  extraWeightSum: number;
  /** Posed keypoints K x 3 (NaN where the model has none) and d/dx, K x 3 x n. */
  keypoints: Float64Array;
  keypointJac: Float64Array;
  /** The x the state was last evaluated at (NaN: stale) and whether omega/keypointJac are current. */
  lastX: Float64Array;
  hasJacobian: boolean;
  // Scratch for the subtree sums of one point.
  subtreeP: Float64Array;
  subtreeW: Float64Array;
  touched: Int32Array;
  jl: Float64Array;
  rowScratch: Float64Array;
}

export function createBodyState(layout: BodyLayout, betas: ArrayLike<number>): BodyState {
  const { model, n } = layout;
  const J = model.numJoints;
  const S = layout.vertexIds.length;
  const K = layout.keypointMap?.names.length ?? 0;
  const state: BodyState = {
    layout,
    jRest: new Float64Array(J * 3),
    vShaped: new Float64Array(S * 3),
    rootRef: Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1),
    ws: createWorkspace({ ...model, numVertices: 0, numPoseBlend: 0 }),
    omega: new Float64Array(J * 9),
    vertices: new Float64Array(S * 3),
    extraReach: new Float64Array(J),
    extraWeightSum: 0,
    keypoints: new Float64Array(K * 3),
    keypointJac: new Float64Array(K * 3 * n),
    subtreeP: new Float64Array(J * 3),
    subtreeW: new Float64Array(J),
    touched: new Int32Array(J),
    jl: new Float64Array(9),
    rowScratch: new Float64Array(3 * n),
    lastX: new Float64Array(n).fill(NaN),
    hasJacobian: false,
  };
  setBetas(state, betas);
  return state;
}

/** J(beta) and the shaped subset (SMPL eqs. 8, 10), once per shape. */
export function setBetas(state: BodyState, betas: ArrayLike<number>): void {
  const { model, basis, vertexIds } = state.layout;
  const B = model.numBetas;
  const nb = Math.min(B, betas.length);
  for (let i = 0; i < state.jRest.length; i++) {
    let s = basis.jTemplate[i];
    for (let b = 0; b < nb; b++) s += basis.jShapedirs[i * B + b] * betas[b];
    state.jRest[i] = s;
  }
  for (let k = 0; k < vertexIds.length; k++)
    for (let c = 0; c < 3; c++) {
      const i = vertexIds[k] * 3 + c;
      let s = model.vTemplate[i];
      for (let b = 0; b < nb; b++) s += model.shapedirs[i * B + b] * betas[b];
      state.vShaped[k * 3 + c] = s;
    }
  const { inflStart, inflJoint, inflWeight, extraStart } = state.layout;
  state.extraReach.fill(0);
  state.extraWeightSum = 0;
  for (let k = extraStart; k < vertexIds.length; k++) {
    let sum = 0;
    for (let q = inflStart[k]; q < inflStart[k + 1]; q++) {
      const j = inflJoint[q];
      const d = Math.hypot(
        state.vShaped[k * 3] - state.jRest[j * 3],
        state.vShaped[k * 3 + 1] - state.jRest[j * 3 + 1],
        state.vShaped[k * 3 + 2] - state.jRest[j * 3 + 2],
      );
      state.extraReach[j] = Math.max(state.extraReach[j], d);
      sum += Math.abs(inflWeight[q]);
    }
    state.extraWeightSum = Math.max(state.extraWeightSum, sum);
  }
  state.lastX[0] = NaN;
}

/** Sets the root's reference rotation (R_root = exp(delta) R_ref). */
export function setRootRef(state: BodyState, R: ArrayLike<number>): void {
  for (let i = 0; i < 9; i++) state.rootRef[i] = R[i];
  state.lastX[0] = NaN;
}

/**
 * Evaluates the state at x unless it already is (with the Jacobian when asked): every residual block of
 * a frame calls this, so the first one pays for forward kinematics and the rest reuse it.
 */
export function ensureBodyState(state: BodyState, x: ArrayLike<number>, withJacobian: boolean): void {
  const last = state.lastX;
  let same = !withJacobian || state.hasJacobian;
  for (let i = 0; same && i < last.length; i++) same = last[i] === x[i];
  if (same) return;
  evaluateBodyState(state, x, withJacobian);
}

/** Local rotations, forward kinematics, posed subset and keypoints (with d/dx when asked) at x. */
export function evaluateBodyState(state: BodyState, x: ArrayLike<number>, withJacobian: boolean): void {
  const { model, offset } = state.layout;
  const { ws, omega, jl } = state;
  const J = model.numJoints;
  for (let j = 0; j < J; j++) {
    const o = offset[j];
    if (j === 0) {
      rodrigues(jl, 0, x, 3);
      mat3Mul(ws.R, 0, jl, 0, state.rootRef, 0);
    } else if (o >= 0) rodrigues(ws.R, j * 9, x, o);
    else for (let i = 0; i < 9; i++) ws.R[j * 9 + i] = state.layout.fixedR[j * 9 + i];
  }
  forwardKinematics(model.parents, ws.R, state.jRest, x, ws.G, ws.A, ws.joints);
  for (let s = 0; s < state.layout.extraStart; s++) poseSubsetVertex(state, s);
  if (withJacobian) {
    for (let j = 0; j < J; j++) {
      const o = offset[j];
      if (o < 0) continue;
      leftJacobianSO3(jl, 0, x, o);
      const p = model.parents[j];
      if (p < 0) omega.set(jl, j * 9);
      else {
        // Omega_j = rot(G_parent) J_l(theta_j)
        const g = p * 12;
        for (let r = 0; r < 3; r++)
          for (let c = 0; c < 3; c++)
            omega[j * 9 + r * 3 + c] =
              ws.G[g + r * 4] * jl[c] + ws.G[g + r * 4 + 1] * jl[3 + c] + ws.G[g + r * 4 + 2] * jl[6 + c];
      }
    }
  }
  computeKeypoints(state, withJacobian);
  for (let i = 0; i < state.lastX.length; i++) state.lastX[i] = x[i];
  state.hasJacobian = withJacobian;
}

/**
 * Poses subset vertex s into state.vertices (LBS over its influences only, SMPL eq. 2 without pose blend
 * shapes) at the last evaluation; returns its height z.
 */
export function poseSubsetVertex(state: BodyState, s: number): number {
  const { inflStart, inflJoint, inflWeight } = state.layout;
  const A = state.ws.A;
  const v = state.vShaped;
  const px = v[s * 3];
  const py = v[s * 3 + 1];
  const pz = v[s * 3 + 2];
  let x = 0;
  let y = 0;
  let z = 0;
  for (let q = inflStart[s]; q < inflStart[s + 1]; q++) {
    const w = inflWeight[q];
    const a = inflJoint[q] * 12;
    x += w * (A[a] * px + A[a + 1] * py + A[a + 2] * pz + A[a + 3]);
    y += w * (A[a + 4] * px + A[a + 5] * py + A[a + 6] * pz + A[a + 7]);
    z += w * (A[a + 8] * px + A[a + 9] * py + A[a + 10] * pz + A[a + 11]);
  }
  const out = state.vertices;
  out[s * 3] = x;
  out[s * 3 + 1] = y;
  out[s * 3 + 2] = z;
  return z;
}

/**
 * Heights z of subset vertices ids[0..count) (null: the extra vertices from extraStart) at the last
 * evaluation into out: the z row of LBS over their influences, as poseSubsetVertex, without writing
 * state.vertices.
 */
export function subsetHeights(
  state: BodyState,
  ids: Int32Array | null,
  count: number,
  out: Float64Array,
): void {
  const { inflStart, inflJoint, inflWeight, extraStart } = state.layout;
  const A = state.ws.A;
  const v = state.vShaped;
  for (let i = 0; i < count; i++) {
    const s = ids ? ids[i] : extraStart + i;
    const px = v[s * 3];
    const py = v[s * 3 + 1];
    const pz = v[s * 3 + 2];
    let z = 0;
    for (let q = inflStart[s]; q < inflStart[s + 1]; q++) {
      const a = inflJoint[q] * 12 + 8;
      z += inflWeight[q] * (A[a] * px + A[a + 1] * py + A[a + 2] * pz + A[a + 3]);
    }
    out[i] = z;
  }
}

function computeKeypoints(state: BodyState, withJacobian: boolean): void {
  const map = state.layout.keypointMap;
  if (!map) return;
  const { n } = state.layout;
  const { keypoints, keypointJac, rowScratch } = state;
  for (let k = 0; k < map.names.length; k++) {
    let x = 0;
    let y = 0;
    let z = 0;
    if (!map.available[k]) x = y = z = NaN;
    const jac = keypointJac.subarray(k * 3 * n, (k + 1) * 3 * n);
    if (withJacobian) jac.fill(0);
    for (let t = map.termStart[k]; t < map.termStart[k + 1]; t++) {
      const w = map.termWeight[t];
      const i = map.termIndex[t];
      const joint = map.termKind[t] === 0;
      const src = joint ? state.ws.joints : state.vertices;
      x += w * src[i * 3];
      y += w * src[i * 3 + 1];
      z += w * src[i * 3 + 2];
      if (!withJacobian) continue;
      if (joint) jointJacobian(state, i, rowScratch);
      else vertexJacobian(state, i, rowScratch);
      for (let r = 0; r < 3 * n; r++) jac[r] += w * rowScratch[r];
    }
    keypoints[k * 3] = x;
    keypoints[k * 3 + 1] = y;
    keypoints[k * 3 + 2] = z;
  }
}

/** Writes column block k of a 3 x n Jacobian: omega_k,i x d for i = 0..2. */
function crossColumns(
  state: BodyState,
  k: number,
  dx: number,
  dy: number,
  dz: number,
  out: Float64Array,
): void {
  const { omega } = state;
  const { n } = state.layout;
  const o = state.layout.offset[k];
  for (let i = 0; i < 3; i++) {
    const wx = omega[k * 9 + i];
    const wy = omega[k * 9 + 3 + i];
    const wz = omega[k * 9 + 6 + i];
    out[o + i] = wy * dz - wz * dy;
    out[n + o + i] = wz * dx - wx * dz;
    out[2 * n + o + i] = wx * dy - wy * dx;
  }
}

function translationColumns(out: Float64Array, n: number, scale: number): void {
  out[0] = scale;
  out[n + 1] = scale;
  out[2 * n + 2] = scale;
}

/** d v_s / dx (3 x n, row-major) for subset vertex s, from its skinning influences' subtrees. */
export function vertexJacobian(state: BodyState, s: number, out: Float64Array): Float64Array {
  const { model, inflStart, inflJoint, inflWeight, offset, n } = state.layout;
  const { subtreeP: P, subtreeW: W, touched, ws } = state;
  const parents = model.parents;
  out.fill(0, 0, 3 * n);
  const vx = state.vShaped[s * 3];
  const vy = state.vShaped[s * 3 + 1];
  const vz = state.vShaped[s * 3 + 2];
  let nt = 0;
  let wsum = 0;
  for (let q = inflStart[s]; q < inflStart[s + 1]; q++) {
    const j = inflJoint[q];
    const w = inflWeight[q];
    wsum += w;
    const a = j * 12;
    const px = ws.A[a] * vx + ws.A[a + 1] * vy + ws.A[a + 2] * vz + ws.A[a + 3];
    const py = ws.A[a + 4] * vx + ws.A[a + 5] * vy + ws.A[a + 6] * vz + ws.A[a + 7];
    const pz = ws.A[a + 8] * vx + ws.A[a + 9] * vy + ws.A[a + 10] * vz + ws.A[a + 11];
    for (let k = j; k >= 0; k = parents[k]) {
      if (W[k] === 0) touched[nt++] = k;
      P[k * 3] += w * px;
      P[k * 3 + 1] += w * py;
      P[k * 3 + 2] += w * pz;
      W[k] += w;
    }
  }
  for (let t = 0; t < nt; t++) {
    const k = touched[t];
    if (offset[k] >= 0) {
      const o = ws.joints;
      crossColumns(
        state,
        k,
        P[k * 3] - W[k] * o[k * 3],
        P[k * 3 + 1] - W[k] * o[k * 3 + 1],
        P[k * 3 + 2] - W[k] * o[k * 3 + 2],
        out,
      );
    }
    P[k * 3] = P[k * 3 + 1] = P[k * 3 + 2] = 0;
    W[k] = 0;
  }
  translationColumns(out, n, wsum);
  return out;
}

/** d o_j / dx for the posed joint j: it moves with its strict ancestors. */
export function jointJacobian(state: BodyState, j: number, out: Float64Array): Float64Array {
  const o = state.ws.joints;
  return rigidPointJacobian(state, state.layout.model.parents[j], o[j * 3], o[j * 3 + 1], o[j * 3 + 2], out);
}

/** d p / dx for a world point p rigidly attached to joint j (j's frame and its ancestors move it). */
export function rigidPointJacobian(
  state: BodyState,
  j: number,
  px: number,
  py: number,
  pz: number,
  out: Float64Array,
): Float64Array {
  const { model, offset, n } = state.layout;
  const o = state.ws.joints;
  out.fill(0, 0, 3 * n);
  for (let k = j; k >= 0; k = model.parents[k])
    if (offset[k] >= 0) crossColumns(state, k, px - o[k * 3], py - o[k * 3 + 1], pz - o[k * 3 + 2], out);
  translationColumns(out, n, 1);
  return out;
}

/** d d / dx for a world direction d rigidly attached to joint j (no translation part). */
export function rigidDirectionJacobian(
  state: BodyState,
  j: number,
  dx: number,
  dy: number,
  dz: number,
  out: Float64Array,
): Float64Array {
  const { model, offset, n } = state.layout;
  out.fill(0, 0, 3 * n);
  for (let k = j; k >= 0; k = model.parents[k]) if (offset[k] >= 0) crossColumns(state, k, dx, dy, dz, out);
  return out;
}
