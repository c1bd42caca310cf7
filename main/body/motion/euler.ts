import { mat3Mul, setIdentity3, type Vec } from '../../geometry/rotation';

/**
 * Euler angles <-> row-major 3x3 rotation matrices for any axis order. Rotations are active
 * (column vectors: v' = R v), R_x(a) = [[1,0,0],[0,c,-s],[0,s,c]] and cyclically for y and z.
 *
 * Two reading conventions occur in motion files, and they differ only in the order of the product:
 * - intrinsic (BVH CHANNELS, "Zrotation Xrotation Yrotation"): R = R_z R_x R_y, the first listed is outermost;
 * - extrinsic (ASF `axis ... XYZ`, AMC `dof rx ry rz`): the first listed is applied first, R = R_z R_y R_x.
 */

export type Axis = 0 | 1 | 2;

/** 'XYZ' / 'zxy' / 'rx ry' letters -> axis indices; null if a character is not x, y or z. */
export function parseAxisOrder(order: string): Axis[] | null {
  const axes: Axis[] = [];
  for (const ch of order.toLowerCase()) {
    if (ch === 'x') axes.push(0);
    else if (ch === 'y') axes.push(1);
    else if (ch === 'z') axes.push(2);
    else return null;
  }
  return axes;
}

/** out[o..o+8] = R_axis(angle), the elementary rotation about a coordinate axis. */
export function axisRotation(out: Vec, o: number, axis: Axis, angle: number): void {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  setIdentity3(out, o);
  // The two axes other than `axis`, in cyclic order (y,z for x; z,x for y; x,y for z).
  const i = (axis + 1) % 3;
  const j = (axis + 2) % 3;
  out[o + 4 * i] = c;
  out[o + 3 * i + j] = -s;
  out[o + 3 * j + i] = s;
  out[o + 4 * j] = c;
}

const elementary = new Float64Array(9);
const product = new Float64Array(9);

/**
 * Intrinsic product R = R_axes[0](s a_0) R_axes[1](s a_1) ... of any number of axes, angles read from
 * angles[ai + k] times `scale` (e.g. pi/180 for degrees).
 */
export function eulerIntrinsic(
  out: Vec,
  o: number,
  axes: readonly Axis[],
  angles: ArrayLike<number>,
  ai: number,
  scale = 1,
): void {
  setIdentity3(out, o);
  for (let k = 0; k < axes.length; k++) {
    axisRotation(elementary, 0, axes[k], angles[ai + k] * scale);
    mat3Mul(product, 0, out, o, elementary, 0);
    for (let m = 0; m < 9; m++) out[o + m] = product[m];
  }
}

/** Extrinsic product R = ... R_axes[1](s a_1) R_axes[0](s a_0): the first listed rotation is applied first. */
export function eulerExtrinsic(
  out: Vec,
  o: number,
  axes: readonly Axis[],
  angles: ArrayLike<number>,
  ai: number,
  scale = 1,
): void {
  setIdentity3(out, o);
  for (let k = 0; k < axes.length; k++) {
    axisRotation(elementary, 0, axes[k], angles[ai + k] * scale);
    mat3Mul(product, 0, elementary, 0, out, o);
    for (let m = 0; m < 9; m++) out[o + m] = product[m];
  }
}

/**
 * Inverse of `eulerIntrinsic` for three distinct axes (i, j, k): angles (a, b, c) in radians with
 * R = R_i(a) R_j(b) R_k(c), b in [-pi/2, pi/2]. With e = +1 for cyclic orders (XYZ, YZX, ZXY) and -1
 * otherwise: sin b = e R[i][k], a = atan2(-e R[j][k], R[k][k]), c = atan2(-e R[i][j], R[i][i]).
 * At gimbal lock (cos b = 0) c is set to 0 and a = atan2(e R[k][j], R[j][j]).
 */
export function matrixToEulerIntrinsic(
  out: Vec,
  o: number,
  R: ArrayLike<number>,
  ri: number,
  axes: readonly Axis[],
): void {
  const [i, j, k] = axes;
  if (axes.length !== 3 || i === j || j === k || i === k)
    throw new Error(`Euler order needs three distinct axes, got ${axes}`);
  const e = (j - i + 3) % 3 === 1 ? 1 : -1;
  const at = (r: number, c: number): number => R[ri + 3 * r + c];
  const sinB = Math.max(-1, Math.min(1, e * at(i, k)));
  out[o + 1] = Math.asin(sinB);
  const cosB = Math.hypot(at(j, k), at(k, k));
  if (cosB > 1e-12) {
    out[o] = Math.atan2(-e * at(j, k), at(k, k));
    out[o + 2] = Math.atan2(-e * at(i, j), at(i, i));
  } else {
    out[o] = Math.atan2(e * at(k, j), at(j, j));
    out[o + 2] = 0;
  }
}
