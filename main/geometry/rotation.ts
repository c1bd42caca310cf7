/**
 * Rotations as row-major 3x3 matrices in flat arrays (gl-matrix style: out-parameter first, offsets
 * so that per-joint blocks of a big array can be used without copies).
 */

export type Vec = Float32Array | Float64Array | number[];

/**
 * Rodrigues' formula: R = I + sin(a) K + (1 - cos(a)) K^2 with K = [k]_x, k = theta / |theta|
 * (smplx `batch_rodrigues`). Writes 9 values at out[o..o+8] from theta[ti..ti+2].
 */
export function rodrigues(out: Vec, o: number, theta: ArrayLike<number>, ti: number): void {
  const x = theta[ti];
  const y = theta[ti + 1];
  const z = theta[ti + 2];
  const angle = Math.sqrt(x * x + y * y + z * z);
  if (angle < 1e-12) {
    // First-order expansion keeps the map smooth at zero: R = I + [theta]_x.
    out[o] = 1;
    out[o + 1] = -z;
    out[o + 2] = y;
    out[o + 3] = z;
    out[o + 4] = 1;
    out[o + 5] = -x;
    out[o + 6] = -y;
    out[o + 7] = x;
    out[o + 8] = 1;
    return;
  }
  const kx = x / angle;
  const ky = y / angle;
  const kz = z / angle;
  const s = Math.sin(angle);
  const c = 1 - Math.cos(angle);
  out[o] = 1 - c * (ky * ky + kz * kz);
  out[o + 1] = -s * kz + c * kx * ky;
  out[o + 2] = s * ky + c * kx * kz;
  out[o + 3] = s * kz + c * kx * ky;
  out[o + 4] = 1 - c * (kx * kx + kz * kz);
  out[o + 5] = -s * kx + c * ky * kz;
  out[o + 6] = -s * ky + c * kx * kz;
  out[o + 7] = s * kx + c * ky * kz;
  out[o + 8] = 1 - c * (kx * kx + ky * ky);
}

/**
 * Inverse of Rodrigues: the axis-angle vector of a rotation matrix. Uses the symmetric part near
 * angle pi where the skew part vanishes.
 */
export function axisAngleFromMatrix(out: Vec, o: number, R: ArrayLike<number>, ri: number): void {
  const r00 = R[ri];
  const r11 = R[ri + 4];
  const r22 = R[ri + 8];
  const cos = Math.min(1, Math.max(-1, (r00 + r11 + r22 - 1) / 2));
  const angle = Math.acos(cos);
  const sx = R[ri + 7] - R[ri + 5];
  const sy = R[ri + 2] - R[ri + 6];
  const sz = R[ri + 3] - R[ri + 1];
  if (angle < 1e-6) {
    out[o] = sx / 2;
    out[o + 1] = sy / 2;
    out[o + 2] = sz / 2;
    return;
  }
  if (Math.PI - angle > 1e-4) {
    const f = angle / (2 * Math.sin(angle));
    out[o] = sx * f;
    out[o + 1] = sy * f;
    out[o + 2] = sz * f;
    return;
  }
  // Near pi: R = 2 k k^T - I, take the largest diagonal for a stable axis, sign from the skew part.
  let kx = Math.sqrt(Math.max(0, (r00 + 1) / 2));
  let ky = Math.sqrt(Math.max(0, (r11 + 1) / 2));
  let kz = Math.sqrt(Math.max(0, (r22 + 1) / 2));
  if (kx >= ky && kx >= kz) {
    ky = (R[ri + 1] + R[ri + 3]) / (4 * kx);
    kz = (R[ri + 2] + R[ri + 6]) / (4 * kx);
  } else if (ky >= kz) {
    kx = (R[ri + 1] + R[ri + 3]) / (4 * ky);
    kz = (R[ri + 5] + R[ri + 7]) / (4 * ky);
  } else {
    kx = (R[ri + 2] + R[ri + 6]) / (4 * kz);
    ky = (R[ri + 5] + R[ri + 7]) / (4 * kz);
  }
  const sign = kx * sx + ky * sy + kz * sz < 0 ? -1 : 1;
  const n = Math.hypot(kx, ky, kz);
  out[o] = (sign * angle * kx) / n;
  out[o + 1] = (sign * angle * ky) / n;
  out[o + 2] = (sign * angle * kz) / n;
}

/** out = A B for 3x3 blocks; out may alias neither input. */
export function mat3Mul(
  out: Vec,
  o: number,
  A: ArrayLike<number>,
  a: number,
  B: ArrayLike<number>,
  b: number,
): void {
  for (let i = 0; i < 3; i++) {
    const a0 = A[a + 3 * i];
    const a1 = A[a + 3 * i + 1];
    const a2 = A[a + 3 * i + 2];
    out[o + 3 * i] = a0 * B[b] + a1 * B[b + 3] + a2 * B[b + 6];
    out[o + 3 * i + 1] = a0 * B[b + 1] + a1 * B[b + 4] + a2 * B[b + 7];
    out[o + 3 * i + 2] = a0 * B[b + 2] + a1 * B[b + 5] + a2 * B[b + 8];
  }
}

/** out = A^T B for 3x3 blocks (relative rotation of B in A's frame). */
export function mat3MulAtB(
  out: Vec,
  o: number,
  A: ArrayLike<number>,
  a: number,
  B: ArrayLike<number>,
  b: number,
): void {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[o + 3 * i + j] = A[a + i] * B[b + j] + A[a + 3 + i] * B[b + 3 + j] + A[a + 6 + i] * B[b + 6 + j];
    }
  }
}

/** out = A B^T for 3x3 blocks. */
export function mat3MulABt(
  out: Vec,
  o: number,
  A: ArrayLike<number>,
  a: number,
  B: ArrayLike<number>,
  b: number,
): void {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[o + 3 * i + j] =
        A[a + 3 * i] * B[b + 3 * j] +
        A[a + 3 * i + 1] * B[b + 3 * j + 1] +
        A[a + 3 * i + 2] * B[b + 3 * j + 2];
    }
  }
}

/** out = R v for a 3x3 block and a 3-vector. */
export function mat3MulVec(
  out: Vec,
  o: number,
  R: ArrayLike<number>,
  r: number,
  v: ArrayLike<number>,
  vi: number,
): void {
  const x = v[vi];
  const y = v[vi + 1];
  const z = v[vi + 2];
  out[o] = R[r] * x + R[r + 1] * y + R[r + 2] * z;
  out[o + 1] = R[r + 3] * x + R[r + 4] * y + R[r + 5] * z;
  out[o + 2] = R[r + 6] * x + R[r + 7] * y + R[r + 8] * z;
}

export function setIdentity3(out: Vec, o: number): void {
  for (let i = 0; i < 9; i++) out[o + i] = i % 4 === 0 ? 1 : 0;
}

/**
 * The smallest rotation taking unit direction a to unit direction b (axis a x b). For opposite
 * vectors any perpendicular axis works; we pick one deterministically.
 */
export function rotationBetween(out: Vec, o: number, a: ArrayLike<number>, b: ArrayLike<number>): void {
  const na = Math.hypot(a[0], a[1], a[2]);
  const nb = Math.hypot(b[0], b[1], b[2]);
  const ax = a[0] / na;
  const ay = a[1] / na;
  const az = a[2] / na;
  const bx = b[0] / nb;
  const by = b[1] / nb;
  const bz = b[2] / nb;
  let cx = ay * bz - az * by;
  let cy = az * bx - ax * bz;
  let cz = ax * by - ay * bx;
  const s = Math.hypot(cx, cy, cz);
  const c = ax * bx + ay * by + az * bz;
  const angle = Math.atan2(s, c);
  if (s < 1e-9) {
    if (c > 0) return setIdentity3(out, o);
    // Opposite: rotate by pi about any axis perpendicular to a.
    const px = Math.abs(ax) < 0.9 ? 1 : 0;
    const py = px ? 0 : 1;
    cx = ay * 0 - az * py;
    cy = az * px - ax * 0;
    cz = ax * py - ay * px;
    const n = Math.hypot(cx, cy, cz);
    return rodrigues(out, o, [(cx / n) * Math.PI, (cy / n) * Math.PI, (cz / n) * Math.PI], 0);
  }
  rodrigues(out, o, [(cx / s) * angle, (cy / s) * angle, (cz / s) * angle], 0);
}

/**
 * Left Jacobian of SO(3) at phi (Barfoot, State Estimation for Robotics, eq. 7.77a):
 *   J_l = I + (1 - cos a)/a^2 [phi]_x + (a - sin a)/a^3 [phi]_x^2,  a = |phi|,
 * so that d exp(phi)/d phi_i = [J_l e_i]_x exp(phi): column i is the angular velocity of a unit step
 * in phi_i, in the frame exp(phi) is applied in. Series expansion below 1e-4 rad.
 */
export function leftJacobianSO3(out: Vec, o: number, phi: ArrayLike<number>, pi: number): void {
  const x = phi[pi];
  const y = phi[pi + 1];
  const z = phi[pi + 2];
  const a2 = x * x + y * y + z * z;
  let b: number;
  let c: number;
  if (a2 < 1e-8) {
    b = 0.5 - a2 / 24;
    c = 1 / 6 - a2 / 120;
  } else {
    const a = Math.sqrt(a2);
    b = (1 - Math.cos(a)) / a2;
    c = (a - Math.sin(a)) / (a2 * a);
  }
  // [phi]_x^2 = phi phi^T - a^2 I
  out[o] = 1 + c * (x * x - a2);
  out[o + 1] = -b * z + c * x * y;
  out[o + 2] = b * y + c * x * z;
  out[o + 3] = b * z + c * x * y;
  out[o + 4] = 1 + c * (y * y - a2);
  out[o + 5] = -b * x + c * y * z;
  out[o + 6] = -b * y + c * x * z;
  out[o + 7] = b * x + c * y * z;
  out[o + 8] = 1 + c * (z * z - a2);
}
