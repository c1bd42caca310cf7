import type { NdArray } from './ndarray';

/**
 * The checks after unpickling an SMPL-family model: integer tables normalised to the `.npz` reader's
 * dtypes (kintree_table Int32 with -1 for the root, f Uint32), then the array shapes, joint and vertex
 * indices and finiteness validated against each other. Errors name the file and the offending array.
 */

const shapeText = (s: readonly number[]) => `(${s.join(', ')})`;
const isFloat = (a: NdArray) => a.data instanceof Float32Array || a.data instanceof Float64Array;

/** Parent table (2, J): Int32 with -1 for the root, stored as uint32 4294967295 or int64 -1. */
export function normaliseKintree(a: NdArray, file: string): NdArray {
  if (isFloat(a)) throw new Error(`${file}: 'kintree_table' has float dtype ${a.dtype}, expected integers`);
  const data = new Int32Array(a.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = a.data[i];
    if (a.dtype === 'u4' && v === 0xffffffff) data[i] = -1;
    else if (v > 0x7fffffff) throw new Error(`${file}: 'kintree_table' value ${v} is not a joint index`);
    else data[i] = v;
  }
  return { dtype: 'i4', shape: a.shape, data };
}

/** Faces (F, 3) as Uint32 vertex indices whatever integer type they were pickled as. */
export function normaliseFaces(a: NdArray, file: string): NdArray {
  if (isFloat(a)) throw new Error(`${file}: 'f' has float dtype ${a.dtype}, expected vertex indices`);
  if (a.data instanceof Uint32Array) return a;
  const data = new Uint32Array(a.data.length);
  for (let i = 0; i < data.length; i++) {
    if (a.data[i] < 0) throw new Error(`${file}: 'f' has negative vertex index ${a.data[i]}`);
    data[i] = a.data[i];
  }
  return { dtype: 'u4', shape: a.shape, data };
}

/** Checks the SMPL layout: v_template (V,3), weights (V,J), kintree_table (2,J), J_regressor (J,V), ... */
export function validate(m: Record<string, NdArray>, file: string): void {
  const v = m.v_template.shape;
  const k = m.kintree_table.shape;
  if (v.length !== 2 || v[1] !== 3)
    throw new Error(`${file}: 'v_template' has shape ${shapeText(v)}, expected (V, 3)`);
  if (k.length !== 2 || k[0] !== 2 || k[1] < 1) {
    throw new Error(`${file}: 'kintree_table' has shape ${shapeText(k)}, expected (2, J)`);
  }
  const [V, J] = [v[0], k[1]];
  const why = `V=${V} from 'v_template', J=${J} from 'kintree_table'`;
  const expect = (key: string, dims: (number | null)[]) => {
    const s = m[key].shape;
    if (s.length !== dims.length || dims.some((d, i) => d !== null && d !== s[i])) {
      const want = dims.map((d) => (d === null ? 'n' : d)).join(', ');
      throw new Error(`${file}: '${key}' has shape ${shapeText(s)}, expected (${want}) (${why})`);
    }
  };
  expect('weights', [V, J]);
  expect('J_regressor', [J, V]);
  expect('shapedirs', [V, 3, null]);
  expect('posedirs', [V, 3, 9 * (J - 1)]); // one 3x3 rotation matrix per non-root joint
  expect('f', [null, 3]);
  if (m.J) expect('J', [J, 3]);
  const parents = m.kintree_table.data;
  for (let j = 0; j < J; j++) {
    if (parents[j] < -1 || parents[j] >= J || parents[J + j] < 0 || parents[J + j] >= J) {
      throw new Error(
        `${file}: 'kintree_table' column ${j} (${parents[j]}, ${parents[J + j]}) is not a joint pair`,
      );
    }
  }
  const f = m.f.data;
  for (let i = 0; i < f.length; i++) {
    if (f[i] >= V) throw new Error(`${file}: face ${Math.floor(i / 3)} uses vertex ${f[i]}, but V=${V}`);
  }
  for (const [key, a] of Object.entries(m)) {
    const i = isFloat(a) ? a.data.findIndex((x) => !Number.isFinite(x)) : -1;
    if (i >= 0) throw new Error(`${file}: '${key}' has ${a.data[i]} at flat index ${i}`);
  }
}
