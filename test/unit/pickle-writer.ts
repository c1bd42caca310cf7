/**
 * A small pickle emitter for tests of the `.pkl` body-model reader: it writes the byte streams that
 * Python 2's cPickle (protocol 2) and Python 3's C pickler (protocols 2 and 4) write for the objects
 * in SMPL-family model files: dicts of str -> numpy ndarray | chumpy Ch | scipy csc_matrix | str.
 *
 * It mirrors the picklers' choices so the reader meets realistic opcodes: memo indices from 1 in
 * cPickle and from 0 in Python 3; cPickle skips the memo for 1-char strings and for temporaries (the
 * tuples and strings a __reduce__ builds); Python 3 protocol 2 writes `bytes` as
 * `_codecs.encode(latin1_str, 'latin1')`; protocol 4 uses SHORT_BINUNICODE/STACK_GLOBAL/MEMOIZE and
 * 64 KiB FRAMEs, with payloads of 64 KiB or more written outside frames.
 * Objects are memoized by JS identity (like `id()`), plain JS strings by value (interned str).
 */

/** Python values: null None, boolean bool, integer number int, other number float, string interned str. */
export type PyValue =
  | null
  | boolean
  | number
  | string
  | PyLong
  | PyStr
  | PyBytes
  | PyTuple
  | PyList
  | PySet
  | PyDict
  | PyGlobal
  | PyInstance
  | PyReduce
  | NumpyArray
  | NumpyDtype;

/** Python 2 `long` (LONG1 even when small). */
export class PyLong {
  constructor(readonly value: bigint) {}
}
/** A str built at run time (not interned): memoized by identity. */
export class PyStr {
  constructor(readonly value: string) {}
}
export class PyBytes {
  constructor(readonly data: Uint8Array) {}
}
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
export class PyList {
  constructor(readonly items: PyValue[]) {}
}
export class PySet {
  constructor(readonly items: PyValue[]) {}
}
export class PyDict {
  constructor(readonly entries: [PyValue, PyValue][]) {}
}
/** A module-level class or function, pickled by name. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
/**
 * An instance of a new-style class: `cls.__new__(cls)` then BUILD with its `__dict__`. Protocol 2+
 * picklers write NEWOBJ; protocols 0/1 write `copy_reg._reconstructor(cls, object, None)`.
 */
export class PyInstance {
  constructor(
    readonly cls: PyGlobal,
    readonly state: PyValue,
    readonly via: 'newobj' | 'reconstructor' = 'newobj',
  ) {}
}
/** numpy ndarray: `descr` like '<f8' / '>f4' / '|u1', `raw` the data bytes in memory order. */
export class NumpyArray {
  constructor(
    readonly descr: string,
    readonly shape: number[],
    readonly raw: Uint8Array,
    readonly fortran: boolean,
    /** Shape as Python 2 `long`s (LONG1), as numpy on Windows / old numpy wrote it. */
    readonly longShape = false,
  ) {}
}

/** `func(*args)`: e.g. numpy.core.multiarray.scalar(dtype, raw) for a numpy integer. */
export class PyReduce {
  constructor(
    readonly func: PyGlobal,
    readonly args: PyTuple,
  ) {}
}
/** numpy.dtype of `descr` ('<f8'). */
export class NumpyDtype {
  constructor(readonly descr: string) {}
}

type Setter = (view: DataView, offset: number, v: number | bigint, little: boolean) => void;
const SETTERS: Record<string, Setter> = {
  f4: (d, o, v, le) => d.setFloat32(o, Number(v), le),
  f8: (d, o, v, le) => d.setFloat64(o, Number(v), le),
  i1: (d, o, v) => d.setInt8(o, Number(v)),
  u1: (d, o, v) => d.setUint8(o, Number(v)),
  b1: (d, o, v) => d.setUint8(o, Number(v)),
  i2: (d, o, v, le) => d.setInt16(o, Number(v), le),
  u2: (d, o, v, le) => d.setUint16(o, Number(v), le),
  i4: (d, o, v, le) => d.setInt32(o, Number(v), le),
  u4: (d, o, v, le) => d.setUint32(o, Number(v), le),
  i8: (d, o, v, le) => d.setBigInt64(o, BigInt(v), le),
  u8: (d, o, v, le) => d.setBigUint64(o, BigInt(v), le),
};

/**
 * An ndarray of `values` (C order, numbers or bigints for 8-byte integers) as numpy would hold it:
 * dtype like 'f8'/'i8'/'u4'/'b1', byte order '<' or '>', memory order C or F (is_fortran).
 */
export function ndarray(
  values: ArrayLike<number> | readonly bigint[],
  dtype: string,
  shape: number[],
  opts: { order?: 'C' | 'F'; byteorder?: '<' | '>'; longShape?: boolean } = {},
): NumpyArray {
  if (!SETTERS[dtype]) throw new Error(`ndarray: dtype ${dtype}`);
  const size = Number(dtype.slice(1));
  const n = shape.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`ndarray: ${values.length} values for shape ${shape}`);
  const fortran = opts.order === 'F' && shape.length > 1;
  const little = (opts.byteorder ?? '<') === '<';
  const raw = new Uint8Array(n * size);
  const view = new DataView(raw.buffer);
  const cStride = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  for (let c = 0; c < n; c++) {
    // Position of C-order element c in memory: in F order the first axis varies fastest.
    let at = c;
    if (fortran) {
      at = 0;
      let fStride = 1;
      for (let k = 0; k < shape.length; k++) {
        at += (Math.floor(c / cStride[k]) % shape[k]) * fStride;
        fStride *= shape[k];
      }
    }
    SETTERS[dtype](view, at * size, values[c], little);
  }
  const order = size === 1 ? '|' : little ? '<' : '>';
  return new NumpyArray(order + dtype, shape, raw, fortran, opts.longShape);
}

/** chumpy.ch.Ch holding `x`, with the instance __dict__ chumpy pickles (its __getstate__ drops _parents/_cache). */
export function chumpyCh(x: NumpyArray, via: PyInstance['via'] = 'newobj'): PyInstance {
  return new PyInstance(
    new PyGlobal('chumpy.ch', 'Ch'),
    new PyDict([
      ['_dirty_vars', new PySet([])],
      ['_itr', null],
      ['_make_dense', false],
      ['_make_sparse', false],
      ['_depends_on_deps', new PyDict([])],
      ['x', x],
    ]),
    via,
  );
}

/** scipy csc_matrix of a dense row-major (rows, cols) matrix: f8 data, i4 indices/indptr, scipy's __dict__ order. */
export function cscMatrix(
  dense: ArrayLike<number>,
  rows: number,
  cols: number,
  module = 'scipy.sparse.csc',
): PyInstance {
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = [0];
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      if (dense[r * cols + c] !== 0) {
        data.push(dense[r * cols + c]);
        indices.push(r);
      }
    }
    indptr.push(data.length);
  }
  return new PyInstance(
    new PyGlobal(module, 'csc_matrix'),
    new PyDict([
      ['_shape', new PyTuple([rows, cols])],
      ['maxprint', 50],
      ['indices', ndarray(indices, 'i4', [indices.length])],
      ['indptr', ndarray(indptr, 'i4', [indptr.length])],
      ['data', ndarray(data, 'f8', [data.length])],
    ]),
  );
}

export type Flavour = 'py2' | 'py3' | 'py3-proto4';

export interface PickleOptions {
  flavour: Flavour;
  /** Module of `_reconstruct`: 'numpy.core.multiarray' (numpy 1, Python 2) or 'numpy._core.multiarray' (numpy 2). */
  numpyCore?: string;
}

/** `pickle.dumps(value, protocol)` as the flavour's pickler writes it. */
export function pickleDump(value: PyValue, opts: PickleOptions): Uint8Array {
  return new Emitter(opts).dump(value);
}

const FRAME_TARGET = 64 * 1024;
const FRAME_HEADER = 9;

/** Growable byte buffer with CPython's protocol-4 framing (a 9-byte FRAME header reserved per frame). */
class Sink {
  bytes = new Uint8Array(1024);
  length = 0;
  framing = false;
  frameStart = -1;

  write(data: ArrayLike<number>): void {
    if (this.framing && this.frameStart === -1) {
      this.frameStart = this.length;
      this.reserve(FRAME_HEADER);
      this.length += FRAME_HEADER;
    }
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  /** A length-prefixed payload: 64 KiB or more goes outside frames (CPython's _Pickler_write_bytes). */
  writePayload(header: ArrayLike<number>, data: Uint8Array): void {
    const bypass = data.length >= FRAME_TARGET && this.framing;
    if (bypass) {
      this.commitFrame();
      this.framing = false;
    }
    this.write(header);
    this.write(data);
    if (bypass) this.framing = true;
  }

  /** After each object: close the frame once it reaches the target size. */
  opcodeBoundary(): void {
    if (
      this.framing &&
      this.frameStart !== -1 &&
      this.length - this.frameStart - FRAME_HEADER >= FRAME_TARGET
    ) {
      this.commitFrame();
    }
  }

  commitFrame(): void {
    if (this.frameStart === -1) return;
    const len = this.length - this.frameStart - FRAME_HEADER;
    if (len >= 4) {
      this.bytes[this.frameStart] = 0x95; // FRAME
      new DataView(this.bytes.buffer).setBigUint64(this.frameStart + 1, BigInt(len), true);
    } else {
      this.bytes.copyWithin(this.frameStart, this.frameStart + FRAME_HEADER, this.length);
      this.length -= FRAME_HEADER;
    }
    this.frameStart = -1;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const ascii = (s: string) => Array.from(s, (ch) => ch.charCodeAt(0));
const utf8 = (s: string) => new TextEncoder().encode(s);

/** Python's encode_long: minimal little-endian two's complement (0 is empty). */
function longBytes(v: bigint): number[] {
  const out: number[] = [];
  if (v === 0n) return out;
  let x = v;
  for (;;) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
    const sign = out[out.length - 1] & 0x80;
    if ((x === 0n && !sign) || (x === -1n && sign)) return out;
  }
}

/**
 * Values held by one reference only (containers inside a dict or tuple, run-time strings), which
 * cPickle does not memoize; interned strings, class instances and reduce results it does.
 */
const isFresh = (v: PyValue) =>
  v instanceof PyTuple ||
  v instanceof PyList ||
  v instanceof PyDict ||
  v instanceof PyStr ||
  v instanceof PyBytes;

/** Pickle opcodes (CPython Lib/pickle.py). */
// prettier-ignore
const OP = {
  MARK: 0x28, STOP: 0x2e, NONE: 0x4e, BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d,
  LONG1: 0x8a, BINFLOAT: 0x47, SHORT_BINSTRING: 0x55, BINSTRING: 0x54, BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c, SHORT_BINBYTES: 0x43, BINBYTES: 0x42, EMPTY_TUPLE: 0x29,
  TUPLE: 0x74, TUPLE1: 0x85, EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d,
  SETITEM: 0x73, SETITEMS: 0x75, EMPTY_SET: 0x8f, ADDITEMS: 0x90, GLOBAL: 0x63,
  STACK_GLOBAL: 0x93, REDUCE: 0x52, NEWOBJ: 0x81, BUILD: 0x62, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BINPUT: 0x71, LONG_BINPUT: 0x72, MEMOIZE: 0x94, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

class Emitter {
  private readonly sink = new Sink();
  private readonly memo = new Map<unknown, number>();
  private readonly py2: boolean;
  private readonly proto: number;
  private readonly core: string;
  /** numpy's dummy typecode b'b' (a cached 1-byte object in Python 3). */
  private readonly typecode: PyValue;
  /** numpy shares one dtype object per native-order dtype; byte-swapped ones are made afresh. */
  private readonly dtypes = new Map<string, NumpyDtype>();

  constructor(opts: PickleOptions) {
    this.py2 = opts.flavour === 'py2';
    this.proto = opts.flavour === 'py3-proto4' ? 4 : 2;
    this.core = opts.numpyCore ?? 'numpy.core.multiarray';
    this.typecode = this.py2 ? 'b' : new PyBytes(new Uint8Array([0x62]));
    if (this.py2) this.memo.set('memo-base', 0); // cPickle numbers its memo from 1
  }

  dump(value: PyValue): Uint8Array {
    this.sink.write([0x80, this.proto]); // PROTO
    if (this.proto >= 4) this.sink.framing = true;
    this.save(value);
    this.op(OP.STOP);
    this.sink.commitFrame();
    return this.sink.bytes.slice(0, this.sink.length);
  }

  /** `temp`: an object only the pickler holds (refcount 1), which cPickle does not memoize. */
  private save(v: PyValue, temp = false): void {
    this.saveObject(v, temp);
    this.sink.opcodeBoundary();
  }

  private saveObject(v: PyValue, temp: boolean): void {
    if (v === null) return this.op(OP.NONE);
    if (v === true || v === false) return this.op(v ? OP.NEWTRUE : OP.NEWFALSE);
    if (typeof v === 'number') return Number.isInteger(v) ? this.saveInt(BigInt(v)) : this.saveFloat(v);
    if (v instanceof PyLong) return this.py2 ? this.saveLong1(v.value) : this.saveInt(v.value);
    const key = this.memoKey(v);
    if (this.memo.has(key)) return this.get(this.memo.get(key)!);
    if (typeof v === 'string') return this.saveStr(v, key, temp);
    if (v instanceof PyStr) return this.saveStr(v.value, key, temp);
    if (v instanceof PyBytes) return this.saveBytes(v.data, key, temp);
    if (v instanceof PyTuple) return this.saveTuple(v, key, temp);
    if (v instanceof PyList) {
      this.op(OP.EMPTY_LIST);
      this.put(key, temp);
      return this.batch(
        v.items.map((item) => [item]),
        OP.APPENDS,
        OP.APPEND,
      );
    }
    if (v instanceof PyDict) {
      this.op(OP.EMPTY_DICT);
      this.put(key, temp);
      return this.batch(v.entries, OP.SETITEMS, OP.SETITEM);
    }
    if (v instanceof PySet) return this.saveSet(v, key);
    if (v instanceof PyGlobal) return this.saveGlobal(v, key);
    if (v instanceof PyInstance) return this.saveInstance(v, key);
    if (v instanceof NumpyDtype) return this.saveDtype(v, key);
    if (v instanceof PyReduce) {
      this.saveReduce(v.func, v.args);
      return this.put(key, false);
    }
    return this.saveNdarray(v, key);
  }

  private memoKey(v: PyValue): unknown {
    if (typeof v === 'string') return `str:${v}`;
    if (v instanceof PyGlobal) return `global:${v.module}.${v.name}`;
    return v;
  }

  private op(...bytes: number[]): void {
    this.sink.write(bytes);
  }

  private put(key: unknown, temp: boolean): void {
    if (this.py2 && temp) return;
    const index = this.memo.size;
    this.memo.set(key, index);
    if (this.proto >= 4) this.op(OP.MEMOIZE);
    else if (index < 256) this.op(OP.BINPUT, index);
    else this.op(OP.LONG_BINPUT, ...u32(index));
  }

  private get(index: number): void {
    if (index < 256) this.op(OP.BINGET, index);
    else this.op(OP.LONG_BINGET, ...u32(index));
  }

  private saveInt(v: bigint): void {
    const n = Number(v);
    if (v >= 0n && v <= 0xffn) return this.op(OP.BININT1, n);
    if (v >= 0n && v <= 0xffffn) return this.op(OP.BININT2, n & 0xff, n >> 8);
    if (v >= -0x80000000n && v <= 0x7fffffffn) return this.op(OP.BININT, ...u32(n));
    if (this.py2) throw new Error('pickle-writer: Python 2 int beyond 32 bits; use PyLong');
    this.saveLong1(v);
  }

  private saveLong1(v: bigint): void {
    const b = longBytes(v);
    this.op(OP.LONG1, b.length, ...b);
  }

  private saveFloat(v: number): void {
    const b = new Uint8Array(9);
    b[0] = OP.BINFLOAT;
    new DataView(b.buffer).setFloat64(1, v, false); // big-endian
    this.sink.write(b);
  }

  /** Python 2 str (bytes; a JS string gives them as latin-1 char codes). cPickle skips 1-char ones in the memo. */
  private saveStr2(b: ArrayLike<number>, key: unknown, temp: boolean): void {
    if (b.length < 256) this.op(OP.SHORT_BINSTRING, b.length);
    else this.op(OP.BINSTRING, ...u32(b.length));
    this.sink.write(b);
    if (b.length >= 2) this.put(key, temp);
  }

  private saveStr(s: string, key: unknown, temp: boolean): void {
    if (this.py2) return this.saveStr2(ascii(s), key, temp);
    const b = utf8(s);
    if (this.proto >= 4 && b.length < 256) this.sink.write([OP.SHORT_BINUNICODE, b.length, ...b]);
    else this.sink.writePayload([OP.BINUNICODE, ...u32(b.length)], b);
    this.put(key, temp);
  }

  private saveBytes(b: Uint8Array, key: unknown, temp: boolean): void {
    if (this.py2) return this.saveStr2(b, key, temp);
    if (this.proto < 4) {
      // Protocol 2 has no bytes opcode: Python 3 reduces to _codecs.encode(str(b, 'latin1'), 'latin1').
      if (b.length === 0) this.saveReduce(new PyGlobal('__builtin__', 'bytes'), new PyTuple([]));
      else {
        const text = new PyStr(Buffer.from(b).toString('latin1'));
        this.saveReduce(new PyGlobal('_codecs', 'encode'), new PyTuple([text, 'latin1']));
      }
      return this.put(key, temp);
    }
    if (b.length < 256) this.sink.write([OP.SHORT_BINBYTES, b.length, ...b]);
    else this.sink.writePayload([OP.BINBYTES, ...u32(b.length)], b);
    this.put(key, temp);
  }

  private saveTuple(t: PyTuple, key: unknown, temp: boolean): void {
    const n = t.items.length;
    if (n === 0) return this.op(OP.EMPTY_TUPLE); // never memoized
    if (n > 3) this.op(OP.MARK);
    for (const item of t.items) this.save(item, isFresh(item));
    this.op(n > 3 ? OP.TUPLE : OP.TUPLE1 + n - 1); // TUPLE1/2/3 are consecutive
    this.put(key, temp);
  }

  /** Items in batches of 1000; a batch of one uses the single-item opcode. */
  private batch(rows: PyValue[][], many: number, one: number): void {
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      if (chunk.length > 1) this.op(OP.MARK);
      for (const row of chunk) for (const item of row) this.save(item, isFresh(item));
      this.op(chunk.length > 1 ? many : one);
    }
  }

  private saveSet(v: PySet, key: unknown): void {
    if (this.proto < 4) {
      this.saveReduce(new PyGlobal('__builtin__', 'set'), new PyTuple([new PyList(v.items)]));
      return this.put(key, false);
    }
    this.op(OP.EMPTY_SET);
    this.put(key, false);
    for (let i = 0; i < v.items.length; i += 1000) {
      this.op(OP.MARK);
      for (const item of v.items.slice(i, i + 1000)) this.save(item);
      this.op(OP.ADDITEMS);
    }
  }

  private saveGlobal(g: PyGlobal, key: unknown): void {
    if (this.proto >= 4) {
      this.save(g.module);
      this.save(g.name);
      this.op(OP.STACK_GLOBAL);
    } else {
      this.sink.write([OP.GLOBAL, ...ascii(`${g.module}\n${g.name}\n`)]);
    }
    this.put(key, false);
  }

  /** func, args, REDUCE: the args tuple is the reducer's temporary. */
  private saveReduce(func: PyGlobal, args: PyTuple): void {
    this.save(func);
    this.save(args, true);
    this.op(OP.REDUCE);
  }

  private saveInstance(v: PyInstance, key: unknown): void {
    if (v.via === 'newobj') {
      this.save(v.cls);
      this.op(OP.EMPTY_TUPLE, OP.NEWOBJ);
    } else {
      const object = new PyGlobal('__builtin__', 'object');
      this.saveReduce(new PyGlobal('copy_reg', '_reconstructor'), new PyTuple([v.cls, object, null]));
    }
    this.put(key, false);
    this.save(v.state);
    this.op(OP.BUILD);
  }

  /** numpy: _reconstruct(ndarray, (0,), b'b') then BUILD (1, shape, dtype, is_fortran, data). */
  private saveNdarray(a: NumpyArray, key: unknown): void {
    const ndarrayClass = new PyGlobal('numpy', 'ndarray');
    const reconstruct = new PyGlobal(this.core, '_reconstruct');
    this.saveReduce(reconstruct, new PyTuple([ndarrayClass, new PyTuple([0]), this.typecode]));
    this.put(key, false);
    const shape = new PyTuple(a.shape.map((d) => (a.longShape ? new PyLong(BigInt(d)) : d)));
    this.save(new PyTuple([1, shape, this.dtype(a.descr), a.fortran, new PyBytes(a.raw)]), true);
    this.op(OP.BUILD);
  }

  /** numpy.dtype('f8', 0, 1) then BUILD (3, '<', None, None, None, -1, -1, 0). */
  private saveDtype(d: NumpyDtype, key: unknown): void {
    const [align, copy] = this.py2 ? [0, 1] : [false, true];
    this.saveReduce(new PyGlobal('numpy', 'dtype'), new PyTuple([new PyStr(d.descr.slice(1)), align, copy]));
    this.put(key, false);
    this.save(new PyTuple([3, d.descr[0], null, null, null, -1, -1, 0]), true);
    this.op(OP.BUILD);
  }

  private dtype(descr: string): NumpyDtype {
    const known = this.dtypes.get(descr);
    if (known) return known;
    const d = new NumpyDtype(descr);
    if (descr[0] !== '>') this.dtypes.set(descr, d);
    return d;
  }
}
