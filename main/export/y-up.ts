/**
 * The studio's world is Z-up (metres, floor z = 0); BVH and glTF (and three.js) are Y-up. The change of
 * basis C maps (x, y, z) -> (x, z, -y), a rotation of -90 degrees about x: the model's forward (-y)
 * becomes glTF's +z front. Points map as C p, rotations by conjugation C R C^T, so forward kinematics
 * in Y-up reproduces C times the Z-up joints exactly.
 */

/** out[o..o+3] = C p. */
export function pointToYUp(p: ArrayLike<number>, i: number, out: Float64Array, o = 0): Float64Array {
  const x = p[i];
  const y = p[i + 1];
  const z = p[i + 2];
  out[o] = x;
  out[o + 1] = z;
  out[o + 2] = -y;
  return out;
}

/** C^T p: a Y-up point back into the studio's Z-up world. */
export function pointFromYUp(p: ArrayLike<number>, i: number, out: Float64Array, o = 0): Float64Array {
  const x = p[i];
  const y = p[i + 1];
  const z = p[i + 2];
  out[o] = x;
  out[o + 1] = -z;
  out[o + 2] = y;
  return out;
}

/** out = C R C^T, both 3x3 row-major (R read at offset r). */
export function rotationToYUp(R: ArrayLike<number>, r: number, out: Float64Array): Float64Array {
  out[0] = R[r];
  out[1] = R[r + 2];
  out[2] = -R[r + 1];
  out[3] = R[r + 6];
  out[4] = R[r + 8];
  out[5] = -R[r + 7];
  out[6] = -R[r + 3];
  out[7] = -R[r + 5];
  out[8] = R[r + 4];
  return out;
}

const DEG = 180 / Math.PI;

/**
 * Intrinsic Z-Y-X Euler angles in degrees of R = Rz(a) Ry(b) Rx(c) (BVH channels "Zrotation Yrotation
 * Xrotation", which three's BVHLoader composes as qz * qy * qx): b = asin(-R20), a = atan2(R10, R00),
 * c = atan2(R21, R22). At gimbal lock (cos b = 0) only a + c or a - c is defined; c is set to 0 and
 * a = atan2(-R01, R11), exact for both b = +90 and b = -90 degrees.
 */
export function eulerZYXDegrees(R: ArrayLike<number>, out: Float64Array, o = 0): Float64Array {
  const s = -R[6];
  const b = Math.asin(Math.max(-1, Math.min(1, s)));
  if (Math.abs(s) < 1 - 1e-12) {
    out[o] = Math.atan2(R[3], R[0]) * DEG;
    out[o + 2] = Math.atan2(R[7], R[8]) * DEG;
  } else {
    out[o] = Math.atan2(-R[1], R[4]) * DEG;
    out[o + 2] = 0;
  }
  out[o + 1] = b * DEG;
  return out;
}
