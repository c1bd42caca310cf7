/**
 * Reads SMPL-family body models (SMPL, SMPL-H, SMPL-X, MANO) from their original `.pkl` files: Python
 * pickles (protocol 2, mostly written by Python 2's cPickle) of a dict of numpy arrays, chumpy `Ch`
 * objects and scipy sparse matrices. `pickleparser` runs the pickle machine; this file registers
 * stand-ins for the few Python callables those pickles name and turns what they build into `NdArray`s.
 *
 * One wrapper around pickleparser is needed: it decodes Python 2 `str` (SHORT_BINSTRING/BINSTRING,
 * how Python 2 stores array bytes) with `TextDecoder('ascii')`, which the WHATWG spec maps to
 * windows-1252 and so corrupts bytes 0x80-0x9f. `Latin1Reader` decodes them as latin-1, one char
 * per byte, so the char codes are the original bytes.
 */
import { Buffer } from 'node:buffer';
import { BufferReader, NameRegistry, Parser } from 'pickleparser';
import { ndSize, type NdArray, type NdData } from './ndarray';
import { normaliseFaces, normaliseKintree, validate } from './pkl-checks';

const REQUIRED = ['v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'kintree_table', 'f'];

/** An instance (REDUCE/NEWOBJ) of a class we only inspect (chumpy, scipy): its class name and BUILD state. */
class PyObject {
  state: unknown = null;
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  __setstate__(state: unknown): void {
    this.state = state;
  }
}

/** numpy.dtype(spec, align, copy) + BUILD state (version, byteorder, subarray, names, ...). */
class PyDtype {
  byteorder = '|';
  structured = false;
  constructor(readonly spec: string) {}
  __setstate__(state: unknown): void {
    if (!Array.isArray(state) || typeof state[1] !== 'string') throw new Error('bad numpy dtype state');
    this.byteorder = state[1];
    this.structured = state[2] != null || state[3] != null;
  }
}

/** numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD state (1, shape, dtype, is_fortran, raw). */
class PyNdArray {
  shape: unknown = null;
  dtype: unknown = null;
  fortran: unknown = false;
  raw: unknown = null;
  __setstate__(state: unknown): void {
    const s = state as unknown[];
    if (!Array.isArray(s) || (s.length !== 5 && s.length !== 4)) throw new Error('bad numpy ndarray state');
    [this.shape, this.dtype, this.fortran, this.raw] = s.length === 5 ? s.slice(1) : s;
  }
}

/** Python 2 `str` bytes as a latin-1 JS string (see the file comment). */
class Latin1Reader extends BufferReader {
  override string(size: number, encoding: Parameters<BufferReader['string']>[1]): string {
    if (encoding !== 'ascii') return super.string(size, encoding);
    const b = this.bytes(size);
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
}

/** Bytes of a latin-1 string: Python 2 `str` data, or Python 3's `_codecs.encode(s, 'latin1')` of `bytes`. */
function latin1Bytes(s: string): Uint8Array {
  if (/[\u0100-\uffff]/.test(s)) throw new Error('byte string has characters above U+00FF');
  return Buffer.from(s, 'latin1'); // a Uint8Array view; decodeArray copies it into aligned storage
}

class SmplNames extends NameRegistry {
  constructor() {
    super();
    for (const core of ['numpy.core', 'numpy._core']) {
      this.register(`${core}.multiarray`, '_reconstruct', () => new PyNdArray());
      // numpy scalars (an np.int64 in a shape tuple): the one element of a 0-d array.
      this.register(`${core}.multiarray`, 'scalar', (dtype: unknown, raw: unknown) => {
        return decodeArray(Object.assign(new PyNdArray(), { shape: [], dtype, raw }), 'numpy scalar')
          ?.data[0];
      });
      // Protocol-5 arrays: _frombuffer(buffer, dtype, shape, order).
      this.register(
        `${core}.numeric`,
        '_frombuffer',
        (raw: unknown, dtype: unknown, shape: unknown, order: unknown) =>
          Object.assign(new PyNdArray(), { raw, dtype, shape, fortran: order === 'F' }),
      );
    }
    this.register('numpy', 'dtype', (spec: unknown) => new PyDtype(String(spec)));
    this.register('_codecs', 'encode', (s: unknown) => latin1Bytes(String(s)));
    for (const builtins of ['__builtin__', 'builtins']) {
      this.register(builtins, 'bytes', (items: unknown) => Uint8Array.from((items ?? []) as number[]));
    }
    // Protocol 0/1 new-style objects: copy_reg._reconstructor(cls, object, None) then BUILD.
    const reconstructor = (cls: unknown) => {
      if (typeof cls !== 'function') throw new Error('copy_reg._reconstructor of a non-class');
      return (cls as () => unknown)();
    };
    this.register('copy_reg', '_reconstructor', reconstructor);
    this.register('copyreg', '_reconstructor', reconstructor);
  }

  /** Any other class or function: calling it (REDUCE) or constructing it (NEWOBJ) gives a PyObject. */
  override onMissingName(module: string, name: string): () => PyObject {
    return function () {
      return new PyObject(module, name);
    };
  }
}

const PARSER = new Parser({ nameResolver: new SmplNames(), unpicklingTypeOfDictionary: 'Map' });

/**
 * Decodes an ndarray into C-order little-endian typed data; null for non-numeric dtypes (strings,
 * objects, structured) which callers skip. i8/u8 narrow to i4/u4 (overflow is an error, except u8's
 * all-ones "-1" sentinel, which becomes u4's).
 */
function decodeArray(a: PyNdArray, where: string): NdArray | null {
  const dt = a.dtype;
  if (!(dt instanceof PyDtype)) throw new Error(`${where}: ndarray without a numpy dtype`);
  const kind = dt.spec[0];
  const size = Number(dt.spec.slice(1));
  if (dt.structured || !'fiub'.includes(kind)) return null;
  const shape = a.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: bad ndarray shape ${String(shape)}`);
  }
  const raw = a.raw instanceof Uint8Array ? a.raw : typeof a.raw === 'string' ? latin1Bytes(a.raw) : null;
  if (!raw) throw new Error(`${where}: ${dt.spec} ndarray data is not a byte string`);
  const n = ndSize(shape);
  if (raw.length !== n * size) {
    throw new Error(
      `${where}: ${dt.spec} array of shape (${shape.join(', ')}) has ${raw.length} data bytes, expected ${n * size}`,
    );
  }
  const le = new Uint8Array(n * size); // copied: aligned, and pickleparser's views share the file buffer
  le.set(raw);
  if (dt.byteorder === '>' && size > 1) {
    for (let i = 0; i < le.length; i += size) le.subarray(i, i + size).reverse();
  }
  const typed = typedArray(kind + size, le, where);
  const data = a.fortran === true && shape.length > 1 ? fortranToC(typed.data, shape) : typed.data;
  return { dtype: typed.dtype, shape: [...shape], data };
}

const TYPED: Record<string, new (b: ArrayBuffer) => NdData> = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  u1: Uint8Array,
  b1: Uint8Array, // numpy bool: one byte, 0 or 1
  u2: Uint16Array,
  u4: Uint32Array,
};

function typedArray(dtype: string, le: Uint8Array, where: string): { dtype: string; data: NdData } {
  const buf = le.buffer as ArrayBuffer;
  if (dtype === 'i8' || dtype === 'u8') return narrow64(new Int32Array(buf), dtype === 'i8', where);
  if (!TYPED[dtype]) throw new Error(`${where}: unsupported numpy dtype '${dtype}'`);
  return { dtype: dtype === 'b1' ? 'u1' : dtype, data: new TYPED[dtype](buf) };
}

/** int64/uint64 (as little-endian lo/hi int32 pairs) to Int32/Uint32, refusing values that do not fit. */
function narrow64(words: Int32Array, signed: boolean, where: string): { dtype: string; data: NdData } {
  const n = words.length / 2;
  const out = signed ? new Int32Array(n) : new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    const fits = signed ? hi === lo >> 31 : hi === 0 || (hi === -1 && lo === -1);
    if (!fits) {
      const v = BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo >>> 0));
      const shown = signed ? BigInt.asIntN(64, v) : v;
      throw new Error(
        `${where}: ${signed ? 'int64' : 'uint64'} value ${shown} at index ${i} does not fit in 32 bits`,
      );
    }
    out[i] = lo;
  }
  return { dtype: signed ? 'i4' : 'u4', data: out };
}

/** Column-major (numpy is_fortran) data to row-major: walks the source in F order, tracking the C offset. */
function fortranToC(src: NdData, shape: number[]): NdData {
  const out = new (src.constructor as new (n: number) => NdData)(src.length);
  const nd = shape.length;
  const cStride = shape.map((_, k) => ndSize(shape.slice(k + 1)));
  const idx = new Array<number>(nd).fill(0);
  let c = 0;
  for (let f = 0; f < src.length; f++) {
    out[c] = src[f];
    for (let k = 0; k < nd; k++) {
      idx[k]++;
      c += cStride[k];
      if (idx[k] < shape[k]) break;
      c -= shape[k] * cStride[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Attribute `key` of a BUILD state: a dict, or (dict, slots dict) for classes with __slots__. */
function field(state: unknown, key: string): unknown {
  if (state instanceof Map) return state.get(key);
  if (Array.isArray(state) && state.length === 2) return field(state[0], key) ?? field(state[1], key);
  return undefined;
}

/** The numeric array a pickled value stands for; null for values that are not arrays (strings, dicts...). */
function toNdArray(value: unknown, where: string): NdArray | null {
  if (value instanceof PyNdArray) return decodeArray(value, where);
  if (!(value instanceof PyObject)) return null;
  if (value.module === 'chumpy' || value.module.startsWith('chumpy.')) return chumpyValue(value, where);
  if (value.module.startsWith('scipy.sparse') && /^cs[cr]_(matrix|array)$/.test(value.name)) {
    return sparseToDense(value, where);
  }
  return null;
}

function requireArray(value: unknown, where: string, what: string): NdArray {
  const a = toNdArray(value, where);
  if (!a) throw new Error(`${where}: ${what} is not a numeric array`);
  return a;
}

/** chumpy objects hold their value in attributes: Ch in `x`; Select/Reshape re-index their term `a`. */
function chumpyValue(obj: PyObject, where: string): NdArray {
  const s = obj.state;
  if (obj.name === 'Ch') return requireArray(field(s, 'x'), where, 'chumpy Ch.x');
  if (obj.name !== 'Select' && obj.name !== 'Reshape') {
    throw new Error(
      `${where}: unsupported chumpy object ${obj.module}.${obj.name} (only Ch, Select and Reshape are read); ` +
        're-save the model with plain numpy arrays',
    );
  }
  const a = requireArray(field(s, 'a'), where, `chumpy ${obj.name}.a`);
  let data = a.data;
  let shape = field(s, 'newshape');
  if (obj.name === 'Select') {
    // compute_r: a.r.ravel()[idxs].reshape(preferred_shape)
    const idxs = requireArray(field(s, 'idxs'), where, 'chumpy Select.idxs').data;
    data = new (a.data.constructor as new (n: number) => NdData)(idxs.length);
    for (let i = 0; i < idxs.length; i++) {
      if (!(idxs[i] >= 0 && idxs[i] < a.data.length))
        throw new Error(`${where}: chumpy Select index ${idxs[i]} out of range`);
      data[i] = a.data[idxs[i]];
    }
    shape = field(s, 'preferred_shape') ?? [data.length];
  }
  const dims = typeof shape === 'number' ? [shape] : shape;
  const known = Array.isArray(dims) ? dims.reduce((p: number, d: number) => (d === -1 ? p : p * d), 1) : 0;
  const out = Array.isArray(dims) ? dims.map((d: number) => (d === -1 ? data.length / known : d)) : [];
  if (!Array.isArray(dims) || ndSize(out) !== data.length || !out.every(Number.isSafeInteger)) {
    throw new Error(`${where}: chumpy ${obj.name} shape ${String(shape)} does not fit ${data.length} values`);
  }
  return { dtype: a.dtype, shape: out, data };
}

/** scipy csc/csr (data, indices, indptr, _shape) to a dense C-order matrix; duplicates add like todense(). */
function sparseToDense(obj: PyObject, where: string): NdArray {
  const s = obj.state;
  const what = `${obj.module}.${obj.name}`;
  const fail = (problem: string): never => {
    throw new Error(`${where}: ${what} ${problem}`);
  };
  const shape = field(s, '_shape') ?? field(s, 'shape');
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail('has no valid _shape');
  }
  const [rows, cols] = shape as number[];
  if (rows * cols > 2 ** 27) fail(`of shape (${rows}, ${cols}) is too large to densify`);
  const values = requireArray(field(s, 'data'), where, `${what}.data`);
  const data = values.data;
  const indices = requireArray(field(s, 'indices'), where, `${what}.indices`).data;
  const indptr = requireArray(field(s, 'indptr'), where, `${what}.indptr`).data;
  const csc = obj.name.startsWith('csc');
  const [major, minor] = csc ? [cols, rows] : [rows, cols];
  const nnz = indptr[major];
  if (
    indptr.length !== major + 1 ||
    indptr[0] !== 0 ||
    nnz > indices.length ||
    indices.length !== data.length
  ) {
    fail(`of shape (${rows}, ${cols}) has inconsistent indptr/indices/data lengths`);
  }
  const dense = new (data.constructor as new (n: number) => NdData)(rows * cols);
  for (let m = 0; m < major; m++) {
    if (indptr[m + 1] < indptr[m]) fail(`indptr decreases at ${m}`);
    for (let k = indptr[m]; k < indptr[m + 1]; k++) {
      const i = indices[k];
      if (!(i >= 0 && i < minor)) fail(`index ${i} out of range 0..${minor - 1}`);
      dense[csc ? i * cols + m : m * cols + i] += data[k];
    }
  }
  return { dtype: values.dtype, shape: [rows, cols], data: dense };
}

/** Rejects files that are not pickles pickleparser can read, before parsing (it would fail obscurely). */
function checkHeader(bytes: Uint8Array, file: string): void {
  if (bytes.length < 2) throw new Error(`${file}: not a pickle (${bytes.length} bytes)`);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    throw new Error(`${file}: not a pickle but a zip archive (an .npz?); load it with the .npz reader`);
  }
  if (bytes[0] === 0x80 && (bytes[1] < 2 || bytes[1] > 5)) {
    throw new Error(`${file}: unsupported pickle protocol ${bytes[1]}`);
  }
  if (bytes[0] === 0x28) {
    throw new Error(`${file}: text pickle (protocol 0) is not supported; re-save it with pickle protocol 2`);
  }
  // PROTO (protocol 2+) or EMPTY_DICT (a protocol-1 dict).
  if (bytes[0] !== 0x80 && bytes[0] !== 0x7d) {
    throw new Error(
      `${file}: not a Python pickle (starts with byte 0x${bytes[0].toString(16).padStart(2, '0')})`,
    );
  }
}

function parse(bytes: Uint8Array, file: string): Map<unknown, unknown> {
  checkHeader(bytes, file);
  let root: unknown;
  try {
    root = PARSER.read(new Latin1Reader(bytes));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const truncated = /end of (file|line)/i.test(msg);
    throw new Error(`${file}: ${truncated ? 'truncated' : 'corrupt'} pickle (${msg})`, { cause: e });
  }
  if (!(root instanceof Map)) {
    const what =
      root instanceof PyObject
        ? `${root.module}.${root.name}`
        : Array.isArray(root)
          ? 'tuple/list'
          : typeof root;
    throw new Error(`${file}: the pickle holds a ${what}, not a dict of model arrays`);
  }
  return root;
}

/**
 * The model arrays of an SMPL-family `.pkl` by key, as `.npz` gives them: `J_regressor` dense (J,V),
 * `kintree_table` Int32 with -1 for the root, `f` Uint32, floats as pickled (f4/f8); other numeric
 * arrays pass through, strings and other non-array values are dropped. Errors name `file`.
 */
export function loadSmplPickle(bytes: Uint8Array, file: string): Record<string, NdArray> {
  const entries: [string, NdArray][] = [];
  for (const [key, value] of parse(bytes, file)) {
    if (typeof key !== 'string') continue;
    const a = toNdArray(value, `${file}: '${key}'`);
    if (a) entries.push([key, a]);
    else if (REQUIRED.includes(key)) throw new Error(`${file}: '${key}' is not a numeric array`);
  }
  const m = Object.fromEntries(entries);
  const missing = REQUIRED.filter((key) => !Object.hasOwn(m, key));
  if (missing.length) throw new Error(`${file}: missing required model arrays: ${missing.join(', ')}`);
  m.kintree_table = normaliseKintree(m.kintree_table, file);
  m.f = normaliseFaces(m.f, file);
  validate(m, file);
  return m;
}
