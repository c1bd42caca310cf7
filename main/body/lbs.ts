import { rodrigues } from '../geometry/rotation';
import type { BodyModel } from './model';

/**
 * Linear blend skinning as in SMPL (Loper et al. 2015, eqs. 1-4) and smplx's `lbs.py`:
 *   v_shaped = v_template + shapedirs . beta                       (B_S, eq. 8)
 *   J        = J_regressor . v_shaped                              (eq. 10)
 *   v_posed  = v_shaped + posedirs . (R(theta)_{1..} - I)           (B_P, eq. 9)
 *   G_j      = G_parent(j) . [R_j | J_j - J_parent(j)]              (forward kinematics, eq. 4)
 *   A_j      = G_j . [I | -J_j]                                     (relative to the rest pose)
 *   v        = sum_j w_vj A_j [v_posed; 1] + transl                 (eq. 2)
 * theta is axis-angle per joint (J x 3), root first. All buffers live in a workspace made once per
 * model, so evaluating a frame allocates nothing.
 */

export interface LbsWorkspace {
  /** Local rotations R_j, J x 9. */
  R: Float64Array;
  /** Global rigid transforms G_j as 3x4 row-major, J x 12. */
  G: Float64Array;
  /** Skinning transforms A_j, J x 12. */
  A: Float64Array;
  /** Rest joints of the shaped body, J x 3. */
  jRest: Float64Array;
  /** Posed joints (G_j translation + transl), J x 3. */
  joints: Float64Array;
  vShaped: Float32Array;
  vPosed: Float32Array;
  poseFeature: Float64Array;
}

export function createWorkspace(model: BodyModel): LbsWorkspace {
  const J = model.numJoints;
  const V = model.numVertices;
  return {
    R: new Float64Array(J * 9),
    G: new Float64Array(J * 12),
    A: new Float64Array(J * 12),
    jRest: new Float64Array(J * 3),
    joints: new Float64Array(J * 3),
    vShaped: new Float32Array(V * 3),
    vPosed: new Float32Array(V * 3),
    poseFeature: new Float64Array(model.numPoseBlend),
  };
}

/** B_S: out = v_template + shapedirs . beta (betas beyond the model's count are ignored). */
export function shapeBlend(model: BodyModel, betas: ArrayLike<number>, out: Float32Array): Float32Array {
  const { vTemplate, shapedirs, numBetas: B } = model;
  const nb = Math.min(B, betas.length);
  for (let i = 0; i < vTemplate.length; i++) {
    let s = vTemplate[i];
    const base = i * B;
    for (let b = 0; b < nb; b++) s += shapedirs[base + b] * betas[b];
    out[i] = s;
  }
  return out;
}

/** J = J_regressor . v (sparse rows). */
export function regressJoints(model: BodyModel, v: ArrayLike<number>, out: Float64Array): Float64Array {
  const { indptr, indices, data } = model.jRegressor;
  for (let j = 0; j < model.numJoints; j++) {
    let x = 0;
    let y = 0;
    let z = 0;
    for (let k = indptr[j]; k < indptr[j + 1]; k++) {
      const w = data[k];
      const vi = indices[k] * 3;
      x += w * v[vi];
      y += w * v[vi + 1];
      z += w * v[vi + 2];
    }
    out[j * 3] = x;
    out[j * 3 + 1] = y;
    out[j * 3 + 2] = z;
  }
  return out;
}

/** Rodrigues for every joint: theta (J x 3 axis-angle) -> R (J x 9). */
export function poseRotations(theta: ArrayLike<number>, J: number, outR: Float64Array): Float64Array {
  for (let j = 0; j < J; j++) rodrigues(outR, j * 9, theta, j * 3);
  return outR;
}

/** B_P: v_posed = v_shaped + posedirs . (R_j - I) for j >= 1 (SMPL eq. 9). */
export function poseBlend(
  model: BodyModel,
  R: Float64Array,
  vShaped: Float32Array,
  out: Float32Array,
  feature: Float64Array,
): Float32Array {
  const { posedirs, numPoseBlend: P } = model;
  if (!posedirs || P === 0) {
    out.set(vShaped);
    return out;
  }
  for (let p = 0; p < P; p++) feature[p] = R[9 + p] - (p % 9 === 0 || p % 9 === 4 || p % 9 === 8 ? 1 : 0);
  for (let i = 0; i < vShaped.length; i++) {
    let s = vShaped[i];
    const base = i * P;
    for (let p = 0; p < P; p++) s += posedirs[base + p] * feature[p];
    out[i] = s;
  }
  return out;
}

/**
 * Forward kinematics over the kinematic tree (smplx `batch_rigid_transform`): G (global 3x4),
 * A = G . [I | -J_rest] (skinning transforms) and the posed joints, each shifted by transl.
 */
export function forwardKinematics(
  parents: Int32Array,
  R: Float64Array,
  jRest: Float64Array,
  transl: ArrayLike<number> | null,
  G: Float64Array,
  A: Float64Array,
  joints: Float64Array,
): void {
  const J = parents.length;
  const tx = transl ? transl[0] : 0;
  const ty = transl ? transl[1] : 0;
  const tz = transl ? transl[2] : 0;
  for (let j = 0; j < J; j++) {
    const p = parents[j];
    const g = j * 12;
    const jx = jRest[j * 3];
    const jy = jRest[j * 3 + 1];
    const jz = jRest[j * 3 + 2];
    if (p < 0) {
      for (let r = 0; r < 3; r++) {
        G[g + r * 4] = R[j * 9 + r * 3];
        G[g + r * 4 + 1] = R[j * 9 + r * 3 + 1];
        G[g + r * 4 + 2] = R[j * 9 + r * 3 + 2];
      }
      G[g + 3] = jx;
      G[g + 7] = jy;
      G[g + 11] = jz;
    } else {
      const q = p * 12;
      // Bone offset from the parent in the rest pose, rotated by the parent's global rotation.
      const ox = jx - jRest[p * 3];
      const oy = jy - jRest[p * 3 + 1];
      const oz = jz - jRest[p * 3 + 2];
      for (let r = 0; r < 3; r++) {
        const a0 = G[q + r * 4];
        const a1 = G[q + r * 4 + 1];
        const a2 = G[q + r * 4 + 2];
        const rj = j * 9;
        G[g + r * 4] = a0 * R[rj] + a1 * R[rj + 3] + a2 * R[rj + 6];
        G[g + r * 4 + 1] = a0 * R[rj + 1] + a1 * R[rj + 4] + a2 * R[rj + 7];
        G[g + r * 4 + 2] = a0 * R[rj + 2] + a1 * R[rj + 5] + a2 * R[rj + 8];
        G[g + r * 4 + 3] = a0 * ox + a1 * oy + a2 * oz + G[q + r * 4 + 3];
      }
    }
    for (let r = 0; r < 3; r++) {
      const t = r === 0 ? tx : r === 1 ? ty : tz;
      const gr = g + r * 4;
      A[gr] = G[gr];
      A[gr + 1] = G[gr + 1];
      A[gr + 2] = G[gr + 2];
      A[gr + 3] = G[gr + 3] - (G[gr] * jx + G[gr + 1] * jy + G[gr + 2] * jz) + t;
      joints[j * 3 + r] = G[gr + 3] + t;
    }
  }
}

/**
 * v_i = (sum_j w_ij A_j) [v_posed_i; 1] for the vertices in `ids` (all when null). With ids, vPosed
 * and out hold just those vertices, in ids order.
 */
export function skinVertices(
  model: BodyModel,
  A: Float64Array,
  vPosed: ArrayLike<number>,
  ids: ArrayLike<number> | null,
  out: Float32Array | Float64Array,
): void {
  const { weights, numJoints: J } = model;
  const n = ids ? ids.length : model.numVertices;
  for (let k = 0; k < n; k++) {
    const v = ids ? ids[k] : k;
    const px = vPosed[ids ? k * 3 : v * 3];
    const py = vPosed[(ids ? k * 3 : v * 3) + 1];
    const pz = vPosed[(ids ? k * 3 : v * 3) + 2];
    let x = 0;
    let y = 0;
    let z = 0;
    const wb = v * J;
    for (let j = 0; j < J; j++) {
      const w = weights[wb + j];
      if (w === 0) continue;
      const a = j * 12;
      x += w * (A[a] * px + A[a + 1] * py + A[a + 2] * pz + A[a + 3]);
      y += w * (A[a + 4] * px + A[a + 5] * py + A[a + 6] * pz + A[a + 7]);
      z += w * (A[a + 8] * px + A[a + 9] * py + A[a + 10] * pz + A[a + 11]);
    }
    out[k * 3] = x;
    out[k * 3 + 1] = y;
    out[k * 3 + 2] = z;
  }
}

export interface BodyParams {
  betas: ArrayLike<number>;
  /** Axis-angle per joint, J x 3. */
  theta: ArrayLike<number>;
  transl?: ArrayLike<number> | null;
}

/**
 * The whole model: writes posed vertices into `outVertices` (V x 3) when given, and leaves posed
 * joints in ws.joints.
 */
export function evaluateBody(
  model: BodyModel,
  ws: LbsWorkspace,
  params: BodyParams,
  outVertices: Float32Array | null,
): void {
  shapeWorkspace(model, ws, params.betas);
  poseShaped(model, ws, params.theta, params.transl ?? null, outVertices);
}

/** The shape half of evaluateBody: ws.vShaped and ws.jRest for `betas` (once per sequence of one body). */
export function shapeWorkspace(model: BodyModel, ws: LbsWorkspace, betas: ArrayLike<number>): void {
  shapeBlend(model, betas, ws.vShaped);
  regressJoints(model, ws.vShaped, ws.jRest);
}

/**
 * The pose half of evaluateBody on a workspace already shaped by shapeWorkspace: posed joints in
 * ws.joints and, when asked, the posed mesh. A sequence with fixed betas shapes once and poses per frame.
 */
export function poseShaped(
  model: BodyModel,
  ws: LbsWorkspace,
  theta: ArrayLike<number>,
  transl: ArrayLike<number> | null,
  outVertices: Float32Array | null,
): void {
  poseRotations(theta, model.numJoints, ws.R);
  forwardKinematics(model.parents, ws.R, ws.jRest, transl, ws.G, ws.A, ws.joints);
  if (!outVertices) return;
  poseBlend(model, ws.R, ws.vShaped, ws.vPosed, ws.poseFeature);
  skinVertices(model, ws.A, ws.vPosed, null, outVertices);
}

/**
 * Joints from betas without shaping the mesh: J(beta) = J_regressor v_template + (J_regressor shapedirs) beta.
 * `basis` comes from jointShapeBasis and is computed once per model.
 */
export interface JointShapeBasis {
  jTemplate: Float64Array;
  /** J x 3 x B */
  jShapedirs: Float64Array;
}

export function jointShapeBasis(model: BodyModel): JointShapeBasis {
  const { numJoints: J, numBetas: B, numVertices: V } = model;
  const jTemplate = regressJoints(model, model.vTemplate, new Float64Array(J * 3));
  const jShapedirs = new Float64Array(J * 3 * B);
  const column = new Float32Array(V * 3);
  const jb = new Float64Array(J * 3);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < V * 3; i++) column[i] = model.shapedirs[i * B + b];
    regressJoints(model, column, jb);
    for (let i = 0; i < J * 3; i++) jShapedirs[i * B + b] = jb[i];
  }
  return { jTemplate, jShapedirs };
}

/**
 * Fast path for fitting: posed joints plus a chosen vertex subset (e.g. keypoint vertices, foot
 * soles), skipping the full-mesh blend and skin. outVertices holds ids.length x 3.
 */
export function evaluateSubset(
  model: BodyModel,
  basis: JointShapeBasis,
  ws: LbsWorkspace,
  params: BodyParams,
  ids: ArrayLike<number>,
  outVertices: Float32Array | Float64Array,
): void {
  const { numJoints: J, numBetas: B, vTemplate, shapedirs, posedirs, numPoseBlend: P } = model;
  const nb = Math.min(B, params.betas.length);
  for (let i = 0; i < J * 3; i++) {
    let s = basis.jTemplate[i];
    for (let b = 0; b < nb; b++) s += basis.jShapedirs[i * B + b] * params.betas[b];
    ws.jRest[i] = s;
  }
  poseRotations(params.theta, J, ws.R);
  forwardKinematics(model.parents, ws.R, ws.jRest, params.transl ?? null, ws.G, ws.A, ws.joints);
  if (posedirs && P > 0)
    for (let p = 0; p < P; p++)
      ws.poseFeature[p] = ws.R[9 + p] - (p % 9 === 0 || p % 9 === 4 || p % 9 === 8 ? 1 : 0);
  // Shape + pose blend of just the chosen vertices, into the head of vPosed.
  for (let k = 0; k < ids.length; k++) {
    for (let c = 0; c < 3; c++) {
      const i = ids[k] * 3 + c;
      let s = vTemplate[i];
      for (let b = 0; b < nb; b++) s += shapedirs[i * B + b] * params.betas[b];
      if (posedirs) for (let p = 0; p < P; p++) s += posedirs[i * P + p] * ws.poseFeature[p];
      ws.vPosed[k * 3 + c] = s;
    }
  }
  skinVertices(model, ws.A, ws.vPosed, ids, outVertices);
}

/** Global rotation of joint j (3x3 block of G) copied out, e.g. to mount a camera on a foot. */
export function jointGlobalRotation(ws: LbsWorkspace, j: number, out: Float64Array): Float64Array {
  const g = j * 12;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 3 + c] = ws.G[g + r * 4 + c];
  return out;
}
