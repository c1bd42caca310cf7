import { rodrigues } from '../geometry/rotation';
import { eulerZYXDegrees, pointToYUp, rotationToYUp } from './y-up';

/**
 * BVH (Biovision hierarchy) of a fitted sequence, as three's BVHLoader reads it:
 *  - HIERARCHY: the model's kinematic tree, depth first; each joint's OFFSET is its rest position minus
 *    its parent's, for the fit's betas (J(beta), lbs.ts); the root's OFFSET is 0 and its position
 *    channels carry the posed root joint J_0 + transl. Leaves get an "End Site" at offset 0.
 *  - MOTION: per frame the root position, then per joint "Zrotation Yrotation Xrotation" degrees of the
 *    local rotation R_j = Rodrigues(theta_j): BVHLoader composes qz * qy * qx, and a bone's world
 *    transform parent * [R_j | offset_j] is the forward kinematics of lbs.ts, so the loaded skeleton's
 *    joints are the fit's posed joints.
 * Units and axes: centimetres, Y up (the studio's Z-up world through y-up.ts). BVH has no comment
 * syntax, so the export's manifest states them (BVH_UNITS).
 */

export const BVH_UNITS = { length: 'cm', up: 'y', rotations: 'ZYX intrinsic degrees' } as const;

const CM = 100;

export interface BvhInput {
  jointNames: readonly string[];
  /** parents[j] < j, -1 for the root. */
  parents: Int32Array;
  /** Rest joints of the shaped body, J x 3, Z-up metres. */
  jRest: ArrayLike<number>;
  /** frames x J x 3 axis-angle. */
  theta: Float32Array;
  /** frames x 3, Z-up metres. */
  transl: Float32Array;
  fps: number;
}

/** Fixed decimals, without "-0.000000" (so a sign of zero never changes the bytes). */
function fmt(x: number, digits: number): string {
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** Joints in depth-first order (children in index order), the order of BVH's hierarchy and channels. */
export function depthFirstOrder(parents: Int32Array): number[] {
  const children: number[][] = Array.from(parents, () => []);
  const roots: number[] = [];
  parents.forEach((p, j) => (p < 0 ? roots.push(j) : children[p].push(j)));
  if (roots.length !== 1) throw new Error(`BVH needs one root joint, the model has ${roots.length}`);
  const order: number[] = [];
  const visit = (j: number) => {
    order.push(j);
    for (const c of children[j]) visit(c);
  };
  visit(roots[0]);
  return order;
}

function bvhName(name: string): string {
  return name.replace(/\s+/g, '_') || 'joint';
}

function hierarchy(input: BvhInput, lines: string[]): void {
  const { parents, jRest, jointNames } = input;
  const J = parents.length;
  const children: number[][] = Array.from(parents, () => []);
  parents.forEach((p, j) => p >= 0 && children[p].push(j));
  const offset = new Float64Array(3);
  const rel = new Float64Array(3);
  const write = (j: number, depth: number) => {
    const pad = '  '.repeat(depth);
    const p = parents[j];
    lines.push(`${pad}${p < 0 ? 'ROOT' : 'JOINT'} ${bvhName(jointNames[j])}`, `${pad}{`);
    if (p < 0) offset.fill(0);
    else {
      for (let c = 0; c < 3; c++) rel[c] = (jRest[j * 3 + c] - jRest[p * 3 + c]) * CM;
      pointToYUp(rel, 0, offset);
    }
    lines.push(`${pad}  OFFSET ${fmt(offset[0], 6)} ${fmt(offset[1], 6)} ${fmt(offset[2], 6)}`);
    lines.push(
      p < 0
        ? `${pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation`
        : `${pad}  CHANNELS 3 Zrotation Yrotation Xrotation`,
    );
    for (const c of children[j]) write(c, depth + 1);
    if (children[j].length === 0)
      lines.push(`${pad}  End Site`, `${pad}  {`, `${pad}    OFFSET 0.000000 0.000000 0.000000`, `${pad}  }`);
    lines.push(`${pad}}`);
  };
  if (J === 0) throw new Error('BVH needs at least one joint');
  write(depthFirstOrder(parents)[0], 0);
}

/** The whole .bvh text, "\n" line ends. */
export function encodeBvh(input: BvhInput): string {
  const { parents, jRest, theta, transl, fps } = input;
  const J = parents.length;
  const frames = transl.length / 3;
  if (theta.length !== frames * J * 3)
    throw new Error(`BVH: theta has ${theta.length} values, expected ${frames} frames x ${J} joints x 3`);
  if (!(fps > 0)) throw new Error(`BVH: frame rate ${fps} is not > 0`);
  const lines: string[] = ['HIERARCHY'];
  hierarchy(input, lines);
  lines.push('MOTION', `Frames: ${frames}`, `Frame Time: ${fmt(1 / fps, 8)}`);
  const order = depthFirstOrder(parents);
  const root = order[0];
  const R = new Float64Array(9);
  const Ry = new Float64Array(9);
  const euler = new Float64Array(3);
  const pos = new Float64Array(3);
  const rootWorld = new Float64Array(3);
  const values: string[] = [];
  for (let f = 0; f < frames; f++) {
    values.length = 0;
    for (let c = 0; c < 3; c++) rootWorld[c] = (jRest[root * 3 + c] + transl[f * 3 + c]) * CM;
    pointToYUp(rootWorld, 0, pos);
    values.push(fmt(pos[0], 6), fmt(pos[1], 6), fmt(pos[2], 6));
    for (const j of order) {
      rodrigues(R, 0, theta, (f * J + j) * 3);
      eulerZYXDegrees(rotationToYUp(R, 0, Ry), euler);
      values.push(fmt(euler[0], 6), fmt(euler[1], 6), fmt(euler[2], 6));
    }
    lines.push(values.join(' '));
  }
  return lines.join('\n') + '\n';
}
