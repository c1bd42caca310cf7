/**
 * Weighted rigid alignment (Procrustes / Kabsch) by Horn's closed form (Horn 1987, "Closed-form
 * solution of absolute orientation using unit quaternions"): the rotation is the eigenvector of the
 * largest eigenvalue of a 4x4 symmetric matrix built from the cross-covariance, found here by Jacobi
 * sweeps. dst ~= R src + t. Points are n x 3 rows; weights 0 skip a pair.
 */
export function rigidAlign(
  src: ArrayLike<number>,
  dst: ArrayLike<number>,
  weights: ArrayLike<number>,
  outR: Float64Array,
  outT: Float64Array,
): boolean {
  const n = weights.length;
  let wsum = 0;
  const cs = [0, 0, 0];
  const cd = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (!(w > 0)) continue;
    wsum += w;
    for (let c = 0; c < 3; c++) {
      cs[c] += w * src[i * 3 + c];
      cd[c] += w * dst[i * 3 + c];
    }
  }
  if (!(wsum > 0)) return false;
  for (let c = 0; c < 3; c++) {
    cs[c] /= wsum;
    cd[c] /= wsum;
  }
  // Cross-covariance S_ab = sum w (s_a - cs_a)(d_b - cd_b)
  const S = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (!(w > 0)) continue;
    for (let a = 0; a < 3; a++)
      for (let b = 0; b < 3; b++) S[a * 3 + b] += w * (src[i * 3 + a] - cs[a]) * (dst[i * 3 + b] - cd[b]);
  }
  const [xx, xy, xz, yx, yy, yz, zx, zy, zz] = S;
  const N = [
    [xx + yy + zz, yz - zy, zx - xz, xy - yx],
    [yz - zy, xx - yy - zz, xy + yx, zx + xz],
    [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
    [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
  ];
  const q = largestEigenvector4(N);
  const [w, x, y, z] = q;
  outR.set([
    w * w + x * x - y * y - z * z,
    2 * (x * y - w * z),
    2 * (x * z + w * y),
    2 * (x * y + w * z),
    w * w - x * x + y * y - z * z,
    2 * (y * z - w * x),
    2 * (x * z - w * y),
    2 * (y * z + w * x),
    w * w - x * x - y * y + z * z,
  ]);
  for (let r = 0; r < 3; r++)
    outT[r] = cd[r] - (outR[r * 3] * cs[0] + outR[r * 3 + 1] * cs[1] + outR[r * 3 + 2] * cs[2]);
  return true;
}

/** Cyclic Jacobi eigen-decomposition of a symmetric 4x4; returns the unit eigenvector of the largest eigenvalue. */
function largestEigenvector4(A: number[][]): number[] {
  const a = A.map((r) => r.slice());
  const v: number[][] = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p][q] * a[p][q];
    if (off < 1e-24) break;
    for (let p = 0; p < 4; p++)
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i][i] > a[best][best]) best = i;
  const e = [v[0][best], v[1][best], v[2][best], v[3][best]];
  const norm = Math.hypot(...e);
  return e.map((x) => x / norm);
}
