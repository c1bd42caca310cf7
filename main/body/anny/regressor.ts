/**
 * A sparse joint regressor over body vertices. MakeHuman places each joint at the mean of a small
 * helper cube that deforms with every shape target; the cubes are not part of the body mesh, so (like
 * SMPL's J_regressor) we learn, per joint, affine weights over body vertices around it that
 * reproduce the cube centre for the template AND for every shape direction:
 *   min_w  sum_s || V_s w - p_s ||^2 + lambda || w - 1/K ||^2   s.t.  1^T w = 1
 * with V_s the positions of the joint's neighbours (s = template) or offsets (s = shape direction b).
 */

export interface RegressorFit {
  /** K indices and weights per joint. */
  indices: Int32Array[];
  weights: Float64Array[];
  /** Largest joint error on the template, metres. */
  templateResidual: number;
  /** Largest joint error along a unit shape direction (beta = 1, a slider at its end), metres. */
  shapeResidual: number;
}

export function fitJointRegressor(
  template: Float64Array,
  shapeDirs: Float64Array[],
  bodyVertexCount: number,
  targets: { template: Float64Array; dirs: Float64Array[] },
  perOctant = 4,
  lambda = 1e-4,
): RegressorFit {
  const J = targets.template.length / 3;
  const indices: Int32Array[] = [];
  const weights: Float64Array[] = [];
  let templateResidual = 0;
  let shapeResidual = 0;
  for (let j = 0; j < J; j++) {
    const p = targets.template.subarray(j * 3, j * 3 + 3);
    const nn = surrounding(template, bodyVertexCount, p, perOctant);
    const K = nn.length;
    // Rows: 3 for the template, 3 per shape direction (scaled up: offsets are small).
    const rows: number[][] = [];
    const rhs: number[] = [];
    for (let c = 0; c < 3; c++) {
      rows.push(Array.from(nn, (v) => template[v * 3 + c]));
      rhs.push(p[c]);
    }
    // Shape rows weigh less than the template: MakeHuman's targets move the joint cubes only
    // roughly with the skin (the height target moves the knee cube 5 cm less than the skin around it
    // at full scale; weight and muscle targets do not move cubes at all), so the rest pose stays exact.
    const DIR_WEIGHT = 0.3;
    shapeDirs.forEach((d, b) => {
      for (let c = 0; c < 3; c++) {
        rows.push(Array.from(nn, (v) => DIR_WEIGHT * d[v * 3 + c]));
        rhs.push(DIR_WEIGHT * targets.dirs[b][j * 3 + c]);
      }
    });
    const w = constrainedLeastSquares(rows, rhs, K, lambda);
    rows.forEach((r, i) => {
      const e = Math.abs(r.reduce((s, x, k) => s + x * w[k], 0) - rhs[i]) / (i < 3 ? 1 : DIR_WEIGHT);
      if (i < 3) templateResidual = Math.max(templateResidual, e);
      else shapeResidual = Math.max(shapeResidual, e);
    });
    indices.push(nn);
    weights.push(w);
  }
  return { indices, weights, templateResidual, shapeResidual };
}

/**
 * The nearest vertices per octant around p: a joint lies inside the body, and only a neighbourhood
 * that surrounds it can follow targets that swell the surface while the joint stays put.
 */
function surrounding(
  positions: Float64Array,
  count: number,
  p: ArrayLike<number>,
  perOctant: number,
): Int32Array {
  const buckets: Array<Array<[number, number]>> = Array.from({ length: 8 }, () => []);
  for (let i = 0; i < count; i++) {
    const dx = positions[i * 3] - p[0];
    const dy = positions[i * 3 + 1] - p[1];
    const dz = positions[i * 3 + 2] - p[2];
    const o = (dx > 0 ? 1 : 0) | (dy > 0 ? 2 : 0) | (dz > 0 ? 4 : 0);
    buckets[o].push([dx * dx + dy * dy + dz * dz, i]);
  }
  const out: number[] = [];
  for (const b of buckets) {
    b.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    for (let k = 0; k < Math.min(perOctant, b.length); k++) out.push(b[k][1]);
  }
  return Int32Array.from(out);
}

/** KKT system [2(M^T M + lambda I)  1; 1^T  0] [w; mu] = [2(M^T b + lambda/K); 1], solved densely. */
function constrainedLeastSquares(M: number[][], b: number[], K: number, lambda: number): Float64Array {
  const n = K + 1;
  const A = Array.from({ length: n }, () => new Float64Array(n + 1));
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      let s = 0;
      for (let r = 0; r < M.length; r++) s += M[r][i] * M[r][j];
      A[i][j] = 2 * (s + (i === j ? lambda : 0));
    }
    let s = 0;
    for (let r = 0; r < M.length; r++) s += M[r][i] * b[r];
    A[i][K] = 1;
    A[i][n] = 2 * (s + lambda / K);
    A[K][i] = 1;
  }
  A[K][n] = 1;
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(A[r][c]) > Math.abs(A[piv][c])) piv = r;
    [A[c], A[piv]] = [A[piv], A[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = A[r][c] / A[c][c];
      if (f === 0) continue;
      for (let k = c; k <= n; k++) A[r][k] -= f * A[c][k];
    }
  }
  const w = new Float64Array(K);
  for (let i = 0; i < K; i++) w[i] = A[i][n] / A[i][i];
  return w;
}
