/**
 * A dense n-dimensional array as numpy stores it (C order), the common currency of the `.npz` and
 * `.pkl` body-model readers. Integer types wider than 32 bits are narrowed on read (indices and
 * parent tables fit), so every array here is one of these typed arrays.
 */
export type NdData =
  Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;

export interface NdArray {
  /** numpy dtype without byte order: 'f4', 'f8', 'i4', 'u4', 'u1', 'i1', 'i2', 'u2' ('i8'/'u8' narrow to 'i4'/'u4'). */
  dtype: string;
  shape: number[];
  data: NdData;
}

export function ndSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Copies `a` into a Float32Array (models are evaluated in float32 like smplx). */
export function toFloat32(a: NdArray): Float32Array {
  return a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>);
}

/** Concatenates flat float32 arrays (e.g. per-window or per-frame rows) into one. */
export function concatFloat32(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
