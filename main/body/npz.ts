import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { type NdArray, type NdData, ndSize } from './ndarray';

/**
 * numpy's `.npy` / `.npz` formats (NEP 1): a magic string, a version, a Python-literal header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (6890, 3), }`, then raw C- or Fortran-order data.
 * `.npz` is a zip of `<key>.npy` entries (stored or deflated).
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Ctor = { new (buf: ArrayBuffer): NdData; BYTES_PER_ELEMENT: number };
const TYPES: Record<string, { ctor: Ctor; size: number }> = {
  f4: { ctor: Float32Array, size: 4 },
  f8: { ctor: Float64Array, size: 8 },
  i4: { ctor: Int32Array, size: 4 },
  u4: { ctor: Uint32Array, size: 4 },
  i2: { ctor: Int16Array, size: 2 },
  u2: { ctor: Uint16Array, size: 2 },
  i1: { ctor: Int8Array, size: 1 },
  u1: { ctor: Uint8Array, size: 1 },
  b1: { ctor: Uint8Array, size: 1 },
};

export function parseNpy(bytes: Uint8Array, name: string): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${name}: not a .npy array`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeMatch = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch) throw new Error(`${name}: unreadable .npy header ${header.trim()}`);
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const [, order, kind, width] = descr;
  const count = ndSize(shape);
  const data = decodeData(
    bytes.subarray(headerStart + headerLen),
    `${kind}${width}`,
    order === '>',
    count,
    name,
  );
  return { dtype: data.dtype, shape, data: fortran[1] === 'True' ? fortranToC(data.data, shape) : data.data };
}

function decodeData(
  raw: Uint8Array,
  dtype: string,
  bigEndian: boolean,
  count: number,
  name: string,
): { dtype: string; data: NdData } {
  const wide = dtype === 'i8' || dtype === 'u8';
  const size = wide ? 8 : TYPES[dtype]?.size;
  if (!size) throw new Error(`${name}: unsupported dtype ${dtype}`);
  if (raw.length < count * size)
    throw new Error(`${name}: truncated data (${raw.length} of ${count * size} bytes)`);
  // A copy with its own buffer (Buffer#slice would share Node's pool).
  const copy = new Uint8Array(raw.subarray(0, count * size));
  if (bigEndian && size > 1) swapBytes(copy, size);
  if (wide) {
    // Indices and parent tables fit in 32 bits; -1 (or 2^32-1 as uint) marks the root.
    const v = new DataView(copy.buffer);
    const out = dtype === 'i8' ? new Int32Array(count) : new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const x = dtype === 'i8' ? v.getBigInt64(i * 8, true) : v.getBigUint64(i * 8, true);
      if (x > 0xffffffffn || x < -0x80000000n)
        throw new Error(`${name}: 64-bit value ${x} does not fit 32 bits`);
      out[i] = Number(x);
    }
    return { dtype: dtype === 'i8' ? 'i4' : 'u4', data: out };
  }
  return { dtype, data: new TYPES[dtype].ctor(copy.buffer) };
}

function swapBytes(buf: Uint8Array, size: number): void {
  for (let i = 0; i < buf.length; i += size) buf.subarray(i, i + size).reverse();
}

/** Column-major -> row-major copy. */
export function fortranToC(data: NdData, shape: readonly number[]): NdData {
  const n = shape.length;
  if (n < 2) return data;
  const out = new (data.constructor as Ctor)(new ArrayBuffer(data.byteLength));
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    // c walks the C-order index; compute its Fortran-order offset.
    let f = 0;
    let stride = 1;
    for (let d = 0; d < n; d++) {
      f += idx[d] * stride;
      stride *= shape[d];
    }
    out[c] = data[f];
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const DESCR: Record<string, string> = {
  Float32Array: '<f4',
  Float64Array: '<f8',
  Int32Array: '<i4',
  Uint32Array: '<u4',
  Int16Array: '<i2',
  Uint16Array: '<u2',
  Int8Array: '|i1',
  Uint8Array: '|u1',
};

export function encodeNpy(array: NdArray): Uint8Array {
  const descr = DESCR[array.data.constructor.name];
  if (ndSize(array.shape) !== array.data.length) throw new Error(`shape ${array.shape} does not match data`);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad so that the data starts on a 64-byte boundary, as numpy does.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + array.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(
    new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength),
    10 + header.length,
  );
  return out;
}

export function parseNpz(bytes: Uint8Array, file: string): Record<string, NdArray> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw new Error(`${file}: not a readable .npz archive (${(err as Error).message})`, { cause: err });
  }
  const out: Record<string, NdArray> = {};
  for (const [entry, data] of Object.entries(entries)) {
    if (!entry.endsWith('.npy')) continue;
    out[entry.slice(0, -4)] = parseNpy(data, `${file}:${entry}`);
  }
  return out;
}

/** A model file's bytes, or an Error naming the file and the system's reason (ENOENT, EACCES, ...). */
export function readModelBytes(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(`${file}: cannot read (${why})`, { cause: err });
  }
}

export function readNpz(file: string): Record<string, NdArray> {
  return parseNpz(readModelBytes(file), file);
}

/** Deflated `.npz` (like `numpy.savez_compressed`); fixed timestamps keep the bytes reproducible. */
export function encodeNpz(arrays: Record<string, NdArray>): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 9; mtime: Date }]> = {};
  const mtime = new Date('2020-01-01T00:00:00Z');
  for (const [key, arr] of Object.entries(arrays))
    files[`${key}.npy`] = [encodeNpy(arr), { level: 9, mtime }];
  return zipSync(files);
}
