import {
  axisAngleFromMatrix,
  mat3Mul,
  mat3MulABt,
  mat3MulAtB,
  rotationBetween,
  setIdentity3,
} from '../geometry/rotation';
import { createWorkspace, evaluateSubset, jointShapeBasis, regressJoints, shapeBlend } from './lbs';
import { landmarkVertices } from './landmarks';
import type { BodyModel } from './model';
import { type MotionClip, restPositions } from './motion/skeleton';

/**
 * Retargeting a mocap clip onto a body model by global bone rotations. Both rest poses are expressed
 * in our world (z up); for each model joint j driven by source bone b, A_j is the smallest rotation
 * taking the model's rest bone direction to the source's, so the posed global rotation
 *   Q_j = G_b(t) A_j          (G_b: source global rotation relative to its rest pose)
 * points the model bone where the source bone points. Local pose: R_j = Q_parent^T Q_j, theta = log(R_j).
 * Leaf joints reuse their parent's A (their own direction is unknown). The root translation is scaled
 * by the ratio of leg lengths so strides fit the model's legs, then the clip is put on the floor.
 */

/** A body-model pose sequence: what fitting produces and what the sample is generated from. */
export interface PoseSequence {
  fps: number;
  frames: number;
  numJoints: number;
  betas: Float32Array;
  /** frames x J x 3 axis-angle, local (SMPL convention). */
  theta: Float32Array;
  /** frames x 3 */
  transl: Float32Array;
}

/** y-up file axes -> our z-up world: (x, y, z) -> (x, -z, y), a +90 degree turn about x. */
const Y_UP_TO_Z_UP = [1, 0, 0, 0, 0, -1, 0, 1, 0];

export interface RetargetOptions {
  betas?: ArrayLike<number>;
  /** model joint name -> source joint name; default: the model's `asfNames` (open model) */
  jointMap?: Record<string, string>;
  /** scale of the source root translation; default: model leg length / source leg length */
  translationScale?: number;
  /** shift the clip vertically so stance soles touch z = 0 (default true when the model has soles) */
  ground?: boolean;
}

export function retargetClip(
  clip: MotionClip,
  model: BodyModel,
  options: RetargetOptions = {},
): PoseSequence {
  const J = model.numJoints;
  const betas = Float32Array.from({ length: model.numBetas }, (_, b) => options.betas?.[b] ?? 0);
  const jRest = regressJoints(
    model,
    shapeBlend(model, betas, new Float32Array(model.numVertices * 3)),
    new Float64Array(J * 3),
  );
  const source = sourceIndexPerJoint(clip, model, options.jointMap);
  const S = clip.skeleton.names.length;
  const C = clip.upAxis === 'y' ? Y_UP_TO_Z_UP : [1, 0, 0, 0, 1, 0, 0, 0, 1];

  // Source rest directions in world axes.
  const srcRest = restPositions(clip.skeleton);
  const srcDir = new Float64Array(S * 3);
  for (let b = 0; b < S; b++) {
    const d = clip.skeleton.restDirections?.subarray(b * 3, b * 3 + 3);
    const dir =
      d && Math.hypot(d[0], d[1], d[2]) > 0 ? d : meanChildOffset(clip.skeleton.parents, srcRest, b);
    // No direction (a root or leaf without one) stays zero: such joints take their parent's A.
    if (dir) applyMat(srcDir, b * 3, C, dir);
  }
  // A_j for every model joint.
  const A = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) {
    const b = source[j];
    const md = meanChildOffset(model.parents, jRest, j);
    const sd = b >= 0 ? srcDir.subarray(b * 3, b * 3 + 3) : null;
    if (md && sd && Math.hypot(sd[0], sd[1], sd[2]) > 0) rotationBetween(A, j * 9, md, sd);
    else if (model.parents[j] >= 0) A.copyWithin(j * 9, model.parents[j] * 9, model.parents[j] * 9 + 9);
    else setIdentity3(A, j * 9);
  }

  const scale =
    options.translationScale ??
    legLength(model.parents, jRest, model.jointNames) / sourceLegLength(clip, srcRest);
  const theta = new Float32Array(clip.frames * J * 3);
  const transl = new Float32Array(clip.frames * 3);
  const Q = new Float64Array(J * 9);
  const Gw = new Float64Array(9);
  const tmp = new Float64Array(9);
  const R = new Float64Array(9);
  const rootSrc = new Float64Array(3);
  const rootJoint = source[0];
  for (let f = 0; f < clip.frames; f++) {
    for (let j = 0; j < J; j++) {
      const b = source[j];
      if (b < 0) {
        // Undriven joint: no rotation relative to its parent.
        if (model.parents[j] >= 0) Q.copyWithin(j * 9, model.parents[j] * 9, model.parents[j] * 9 + 9);
        else setIdentity3(Q, j * 9);
        continue;
      }
      // G in world axes: C G C^T, then Q_j = (C G C^T) A_j.
      mat3Mul(tmp, 0, C, 0, clip.rotations, (f * S + b) * 9);
      mat3MulABt(Gw, 0, tmp, 0, C, 0);
      mat3Mul(Q, j * 9, Gw, 0, A, j * 9);
    }
    for (let j = 0; j < J; j++) {
      const p = model.parents[j];
      if (p < 0) R.set(Q.subarray(j * 9, j * 9 + 9));
      else mat3MulAtB(R, 0, Q, p * 9, Q, j * 9);
      axisAngleFromMatrix(theta, (f * J + j) * 3, R, 0);
    }
    const r = rootJoint >= 0 ? rootJoint : 0;
    applyMat(rootSrc, 0, C, clip.positions.subarray((f * S + r) * 3, (f * S + r) * 3 + 3));
    // The model's root joint rotates about its rest position, so transl moves it onto the source root.
    for (let c = 0; c < 3; c++) transl[f * 3 + c] = scale * rootSrc[c] - jRest[c];
  }
  const seq: PoseSequence = { fps: clip.fps, frames: clip.frames, numJoints: J, betas, theta, transl };
  if (options.ground ?? true) groundSequence(model, seq);
  return seq;
}

/**
 * Per frame: the foot joint's x, y and the lowest sole point's z, from the model's sole landmarks
 * (frames x 3). Stance is where the foot joint barely moves horizontally.
 */
export function soleTrack(model: BodyModel, seq: PoseSequence, side: 'left' | 'right'): Float64Array {
  const ids = landmarkVertices(model, `${side}_sole`);
  if (ids.length === 0) throw new Error(`${model.file}: the model has no ${side}_sole landmark`);
  const foot = model.jointNames.findIndex(
    (n) => n === (side === 'left' ? 'LeftFoot' : 'RightFoot') || n === `${side}_ankle`,
  );
  const basis = jointShapeBasis(model);
  const ws = createWorkspace(model);
  const out = new Float64Array(ids.length * 3);
  const track = new Float64Array(seq.frames * 3);
  const J = model.numJoints;
  for (let f = 0; f < seq.frames; f++) {
    const theta = seq.theta.subarray(f * J * 3, (f + 1) * J * 3);
    evaluateSubset(
      model,
      basis,
      ws,
      { betas: seq.betas, theta, transl: seq.transl.subarray(f * 3, f * 3 + 3) },
      ids,
      out,
    );
    let m = Infinity;
    for (let k = 0; k < ids.length; k++) m = Math.min(m, out[k * 3 + 2]);
    track[f * 3] = foot >= 0 ? ws.joints[foot * 3] : out[0];
    track[f * 3 + 1] = foot >= 0 ? ws.joints[foot * 3 + 1] : out[1];
    track[f * 3 + 2] = m;
  }
  return track;
}

/** Frames where the foot is planted: horizontal speed under `maxSpeed` m/s (central differences). */
export function stanceFrames(track: Float64Array, fps: number, maxSpeed = 0.25): boolean[] {
  const n = track.length / 3;
  return Array.from({ length: n }, (_, f) => {
    const a = Math.max(0, f - 1);
    const b = Math.min(n - 1, f + 1);
    if (a === b) return true;
    const v = (Math.hypot(track[b * 3] - track[a * 3], track[b * 3 + 1] - track[a * 3 + 1]) * fps) / (b - a);
    return v < maxSpeed;
  });
}

/**
 * Puts the clip on the floor: fits a plane z = a + b x + c y to the sole heights of planted feet and
 * subtracts it from the root height. Mocap floors are rarely level (CMU 02_01's toes rise 4.5 cm over
 * a 3.4 m walk), and a flat offset alone would leave stance feet floating at one end.
 */
function groundSequence(model: BodyModel, seq: PoseSequence): void {
  if (landmarkVertices(model, 'left_sole').length === 0) return;
  const rows: number[][] = [];
  for (const side of ['left', 'right'] as const) {
    const track = soleTrack(model, seq, side);
    stanceFrames(track, seq.fps).forEach((planted, f) => {
      if (planted) rows.push([track[f * 3], track[f * 3 + 1], track[f * 3 + 2]]);
    });
  }
  const [a, b, c] = rows.length >= 3 ? fitPlane(rows) : [0, 0, 0];
  const [rx, ry] = [seq.transl[0], seq.transl[1]];
  for (let f = 0; f < seq.frames; f++) {
    // Tilt measured relative to where the clip starts keeps the root's x, y untouched.
    const dx = seq.transl[f * 3] - rx;
    const dy = seq.transl[f * 3 + 1] - ry;
    seq.transl[f * 3 + 2] -= a + b * (rx + dx) + c * (ry + dy);
  }
}

/** Least squares z = a + b x + c y (normal equations, 3 x 3). */
function fitPlane(rows: number[][]): [number, number, number] {
  const M = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  for (const [x, y, z] of rows) {
    const v = [1, x, y];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) M[i][j] += v[i] * v[j];
      M[i][3] += v[i] * z;
    }
  }
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(M[r][col]) > Math.abs(M[piv][col])) piv = r;
    [M[col], M[piv]] = [M[piv], M[col]];
    if (Math.abs(M[col][col]) < 1e-12) return [rows.reduce((s, r) => s + r[2], 0) / rows.length, 0, 0];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const k = M[r][col] / M[col][col];
      for (let j = col; j < 4; j++) M[r][j] -= k * M[col][j];
    }
  }
  return [M[0][3] / M[0][0], M[1][3] / M[1][1], M[2][3] / M[2][2]];
}

function sourceIndexPerJoint(clip: MotionClip, model: BodyModel, map?: Record<string, string>): Int32Array {
  const names = clip.skeleton.names;
  const asf = model.meta.asfNames as string[] | undefined;
  const out = new Int32Array(model.numJoints).fill(-1);
  model.jointNames.forEach((name, j) => {
    const src = map ? map[name] : asf?.[j];
    if (src === undefined) return;
    const b = names.indexOf(src);
    if (b < 0 && map)
      throw new Error(`${clip.source}: joint map names "${src}" for ${name}, which the clip does not have`);
    out[j] = b;
  });
  if (out.every((b) => b < 0))
    throw new Error(`${clip.source}: no joint of ${model.name} maps onto the clip's skeleton`);
  return out;
}

/** Mean offset from joint j to its children with a non-zero offset, or null for a leaf. */
function meanChildOffset(parents: Int32Array, rest: Float64Array, j: number): Float64Array | null {
  const out = new Float64Array(3);
  let n = 0;
  for (let c = 0; c < parents.length; c++) {
    if (parents[c] !== j) continue;
    const dx = rest[c * 3] - rest[j * 3];
    const dy = rest[c * 3 + 1] - rest[j * 3 + 1];
    const dz = rest[c * 3 + 2] - rest[j * 3 + 2];
    if (Math.hypot(dx, dy, dz) < 1e-6) continue;
    out[0] += dx;
    out[1] += dy;
    out[2] += dz;
    n++;
  }
  return n > 0 ? out : null;
}

function legLength(parents: Int32Array, rest: Float64Array, names: string[]): number {
  // Hip to ankle: the chain above the first joint whose name says ankle / foot.
  const ankle = names.findIndex((n) => /^(LeftFoot|left_ankle)$/.test(n));
  if (ankle < 0) return 1;
  return chainLength(parents, rest, ankle, 2);
}

function sourceLegLength(clip: MotionClip, rest: Float64Array): number {
  const names = clip.skeleton.names;
  const ankle = ['lfoot', 'LeftFoot', 'LeftAnkle', 'left_ankle']
    .map((n) => names.indexOf(n))
    .find((i) => i >= 0);
  if (ankle === undefined) return 1;
  return chainLength(clip.skeleton.parents, rest, ankle, 2);
}

function chainLength(parents: Int32Array, rest: Float64Array, from: number, links: number): number {
  let len = 0;
  let j = from;
  for (let k = 0; k < links && parents[j] >= 0; k++) {
    const p = parents[j];
    len += Math.hypot(
      rest[j * 3] - rest[p * 3],
      rest[j * 3 + 1] - rest[p * 3 + 1],
      rest[j * 3 + 2] - rest[p * 3 + 2],
    );
    j = p;
  }
  return len;
}

function applyMat(out: Float64Array, o: number, M: ArrayLike<number>, v: ArrayLike<number>): void {
  const x = v[0];
  const y = v[1];
  const z = v[2];
  out[o] = M[0] * x + M[1] * y + M[2] * z;
  out[o + 1] = M[3] * x + M[4] * y + M[5] * z;
  out[o + 2] = M[6] * x + M[7] * y + M[8] * z;
}
