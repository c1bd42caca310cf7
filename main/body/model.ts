import { type NdArray, ndSize, toFloat32 } from './ndarray';
import { SMPL_FAMILY_JOINT_NAMES } from './smpl-names';

/**
 * A body model in the SMPL layout (Loper et al. 2015): M(beta, theta) = W(T(beta, theta), J(beta), theta, W)
 * with T = v_template + B_S(beta) + B_P(theta). Generic over joint count and kinematic tree.
 */
export interface BodyModel {
  name: string;
  file: string;
  numVertices: number;
  numJoints: number;
  numBetas: number;
  /** Pose-corrective blend shape count, 9 (J - 1) when posedirs exist, else 0. */
  numPoseBlend: number;
  jointNames: string[];
  betaNames: string[];
  /** parents[j] < j, -1 for the root (kintree_table[0]). */
  parents: Int32Array;
  /** V x 3 */
  vTemplate: Float32Array;
  /** V x 3 x B (smplx `shapedirs`, flattened in that order). */
  shapedirs: Float32Array;
  /** V x 3 x P or null. */
  posedirs: Float32Array | null;
  /** J_regressor as compressed rows: joint j = sum_k data[k] v[indices[k]] for k in indptr[j]..indptr[j+1]. */
  jRegressor: SparseRows;
  /** V x J skinning weights. */
  weights: Float32Array;
  /** F x 3 triangle indices. */
  faces: Uint32Array;
  /** Which world axis the model's rest pose stands along: SMPL files are y-up, our models z-up. */
  upAxis: 'y' | 'z';
  /** Extra model facts stored beside the SMPL arrays (`studio_meta` in our .npz files). */
  meta: Record<string, unknown>;
}

export interface SparseRows {
  indptr: Int32Array;
  indices: Int32Array;
  data: Float32Array;
}

const REQUIRED = ['v_template', 'shapedirs', 'J_regressor', 'weights', 'kintree_table', 'f'] as const;

/** Checks shapes and builds the model; every inconsistency names the file and the arrays involved. */
export function bodyModelFromArrays(arrays: Record<string, NdArray>, file: string): BodyModel {
  for (const key of REQUIRED) if (!arrays[key]) throw new Error(`${file}: missing array "${key}"`);
  const vt = arrays.v_template;
  const V = vt.shape[0];
  expectShape(file, 'v_template', vt, [V, 3]);
  const kin = arrays.kintree_table;
  if (kin.shape.length !== 2 || kin.shape[0] !== 2)
    throw new Error(`${file}: kintree_table must be 2 x J, got ${kin.shape}`);
  const J = kin.shape[1];
  const parents = new Int32Array(J);
  for (let j = 0; j < J; j++) {
    const p = Number(kin.data[j]);
    parents[j] = j === 0 || p === 0xffffffff || p < 0 ? -1 : p;
    if (j > 0 && !(parents[j] >= 0 && parents[j] < j))
      throw new Error(
        `${file}: kintree_table parent of joint ${j} is ${p}; parents must come before children`,
      );
  }
  const sd = arrays.shapedirs;
  if (sd.shape.length !== 3 || sd.shape[0] !== V || sd.shape[1] !== 3)
    throw new Error(`${file}: shapedirs must be ${V} x 3 x B, got ${sd.shape}`);
  expectShape(file, 'weights', arrays.weights, [V, J]);
  const jr = arrays.J_regressor;
  expectShape(file, 'J_regressor', jr, [J, V]);
  const f = arrays.f;
  if (f.shape.length !== 2 || f.shape[1] !== 3) throw new Error(`${file}: f must be F x 3, got ${f.shape}`);
  const faces = Uint32Array.from(f.data as ArrayLike<number>);
  for (const i of faces) if (i >= V) throw new Error(`${file}: face index ${i} out of range (V = ${V})`);
  let posedirs: Float32Array | null = null;
  let P = 0;
  const pd = arrays.posedirs;
  if (pd && ndSize(pd.shape) > 0) {
    P = pd.shape[2];
    expectShape(file, 'posedirs', pd, [V, 3, 9 * (J - 1)]);
    posedirs = toFloat32(pd);
  }
  const meta = readMeta(arrays.studio_meta, file);
  const model: BodyModel = {
    name: typeof meta.name === 'string' ? meta.name : defaultName(J),
    file,
    numVertices: V,
    numJoints: J,
    numBetas: sd.shape[2],
    numPoseBlend: P,
    jointNames:
      stringList(meta.jointNames) ?? SMPL_FAMILY_JOINT_NAMES[J] ?? range(J).map((j) => `joint_${j}`),
    betaNames: stringList(meta.betaNames) ?? range(sd.shape[2]).map((b) => `beta_${b}`),
    parents,
    vTemplate: toFloat32(vt),
    shapedirs: toFloat32(sd),
    posedirs,
    jRegressor: sparseRows(toFloat32(jr), J, V),
    weights: toFloat32(arrays.weights),
    faces,
    upAxis: meta.upAxis === 'z' ? 'z' : 'y',
    meta,
  };
  for (const [key, arr] of Object.entries({
    v_template: model.vTemplate,
    shapedirs: model.shapedirs,
    weights: model.weights,
  }))
    for (const x of arr)
      if (!Number.isFinite(x)) throw new Error(`${file}: ${key} contains NaN or infinite values`);
  return model;
}

function expectShape(file: string, key: string, a: NdArray, shape: number[]): void {
  if (a.shape.length !== shape.length || a.shape.some((s, i) => s !== shape[i]))
    throw new Error(`${file}: ${key} has shape (${a.shape.join(', ')}), expected (${shape.join(', ')})`);
}

function sparseRows(dense: Float32Array, rows: number, cols: number): SparseRows {
  const indptr = new Int32Array(rows + 1);
  const indices: number[] = [];
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const w = dense[r * cols + c];
      if (w !== 0) {
        indices.push(c);
        data.push(w);
      }
    }
    indptr[r + 1] = indices.length;
  }
  return { indptr, indices: Int32Array.from(indices), data: Float32Array.from(data) };
}

function readMeta(a: NdArray | undefined, file: string): Record<string, unknown> {
  if (!a) return {};
  try {
    return JSON.parse(new TextDecoder().decode(a.data as Uint8Array)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: studio_meta is not JSON (${(err as Error).message})`, { cause: err });
  }
}

function stringList(x: unknown): string[] | null {
  return Array.isArray(x) && x.every((s) => typeof s === 'string') ? (x as string[]) : null;
}

function defaultName(J: number): string {
  return J === 24 ? 'SMPL' : J === 52 ? 'SMPL-H' : J === 55 ? 'SMPL-X' : `body model (${J} joints)`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
