import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSmplPickle } from '../../main/body/pkl';
import { loadBodyModel } from '../../main/body/load-model';
import { encodeNpz } from '../../main/body/npz';
import type { NdArray } from '../../main/body/ndarray';
import { cleanupTempDirs, tempDir } from './fixtures';
import {
  chumpyCh,
  cscMatrix,
  ndarray,
  NumpyDtype,
  pickleDump,
  PyBytes,
  PyDict,
  PyGlobal,
  PyInstance,
  PyReduce,
  PyTuple,
  type Flavour,
  type NumpyArray,
  type PyValue,
} from './pickle-writer';
import { Rng } from '../../main/capture/sample/rng';

afterAll(cleanupTempDirs);

/** Seeded uniform [0, 1) (the sample's Rng), so the model is the same every run. */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

const V = 40;
const J = 4;
const B = 3;
const P = (J - 1) * 9;
const F = 20;

const f8 = (shape: number[], data: ArrayLike<number>): NdArray => ({
  dtype: 'f8',
  shape,
  data: Float64Array.from(data),
});

/** A small SMPL-layout model: the arrays loadSmplPickle must return. */
function syntheticModel(seed = 7): Record<string, NdArray> {
  const r = rng(seed);
  const rand = (n: number, scale: number) => Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const rowNormalised = (rows: number, cols: number, keep: number) => {
    const m = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        if (j % keep === i % keep) sum += m[i * cols + j] = 0.1 + r();
      }
      for (let j = 0; j < cols; j++) m[i * cols + j] /= sum;
    }
    return m;
  };
  return {
    v_template: f8([V, 3], rand(V * 3, 1)),
    shapedirs: f8([V, 3, B], rand(V * 3 * B, 0.01)),
    posedirs: f8([V, 3, P], rand(V * 3 * P, 0.001)),
    J_regressor: f8([J, V], rowNormalised(J, V, 7)), // about 1 vertex in 7 per joint: sparse
    weights: f8([V, J], rowNormalised(V, J, 2)),
    kintree_table: { dtype: 'i4', shape: [2, J], data: Int32Array.from([-1, 0, 1, 1, 0, 1, 2, 3]) },
    f: { dtype: 'u4', shape: [F, 3], data: Uint32Array.from({ length: F * 3 }, () => Math.floor(r() * V)) },
    J: f8([J, 3], rand(J * 3, 0.5)),
  };
}

const nd = (a: NdArray, dtype = a.dtype, opts?: Parameters<typeof ndarray>[3]) =>
  ndarray(a.data, dtype, a.shape, opts);
const kintreeUint32 = (m: Record<string, NdArray>) =>
  Array.from(m.kintree_table.data, (p) => (p === -1 ? 4294967295 : p));

function expectModel(actual: Record<string, NdArray>, expected: Record<string, NdArray>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, e] of Object.entries(expected)) {
    expect({ key, dtype: actual[key].dtype, shape: actual[key].shape }).toEqual({
      key,
      dtype: e.dtype,
      shape: e.shape,
    });
    // Same typed-array class and values; a loop, as deep equality is slow on millions of elements.
    const a = actual[key].data;
    expect([key, a.constructor.name, a.length]).toEqual([key, e.data.constructor.name, e.data.length]);
    const i = a.findIndex((v, k) => v !== e.data[k]);
    expect(i === -1 ? null : { key, i, actual: a[i], expected: e.data[i] }).toBeNull();
  }
}

/** A numpy int64 scalar: numpy.core.multiarray.scalar(dtype('i8'), raw). */
const npInt64 = (v: number) =>
  new PyReduce(
    new PyGlobal('numpy.core.multiarray', 'scalar'),
    new PyTuple([new NumpyDtype('<i8'), new PyBytes(ndarray([v], 'i8', [1]).raw)]),
  );

/** A csc_matrix whose `_shape` holds numpy integers rather than Python ints. */
function withScalarShape(m: PyInstance): PyInstance {
  const entries = (m.state as PyDict).entries.map(([k, v]): [PyValue, PyValue] =>
    k === '_shape' ? [k, new PyTuple((v as PyTuple).items.map((d) => npInt64(d as number)))] : [k, v],
  );
  return new PyInstance(m.cls, new PyDict(entries));
}

/** SMPL as distributed: Python 2 cPickle, chumpy Ch arrays, csc J_regressor, int64 kintree, extras. */
function smplPython2(m: Record<string, NdArray>, via: PyInstance['via'] = 'newobj'): PyDict {
  const sym = Array.from({ length: V }, (_, i) => V - 1 - i);
  return new PyDict([
    ['J_regressor_prior', withScalarShape(cscMatrix(m.J_regressor.data, J, V))],
    ['f', nd(m.f)],
    ['J_regressor', cscMatrix(m.J_regressor.data, J, V)],
    ['kintree_table', nd(m.kintree_table, 'i8', { longShape: true })],
    ['J', chumpyCh(nd(m.J), via)],
    ['weights_prior', nd(m.weights)],
    ['weights', chumpyCh(nd(m.weights), via)],
    ['vert_sym_idxs', ndarray(sym, 'i8', [V])],
    ['posedirs', nd(m.posedirs)],
    [
      'pose_training_info',
      new PyDict([
        ['subjects', 1786],
        ['notes', 'lbs pose fit'],
      ]),
    ],
    ['bs_style', 'lbs'],
    ['v_template', chumpyCh(nd(m.v_template), via)],
    ['shapedirs', chumpyCh(nd(m.shapedirs), via)],
    ['bs_type', 'lrotmin'],
  ]);
}

function withExtras(m: Record<string, NdArray>): Record<string, NdArray> {
  const sym = Int32Array.from({ length: V }, (_, i) => V - 1 - i);
  return {
    ...m,
    J_regressor_prior: m.J_regressor,
    weights_prior: m.weights,
    vert_sym_idxs: { dtype: 'i4', shape: [V], data: sym },
  };
}

const dump = (d: PyValue, flavour: Flavour = 'py2') => pickleDump(d, { flavour });

describe('loadSmplPickle', () => {
  const model = syntheticModel();

  it('reads a Python 2 chumpy pickle (Ch arrays, csc J_regressor, int64 kintree, long shapes)', () => {
    const bytes = dump(smplPython2(model));
    expect(bytes[0]).toBe(0x80);
    expect(bytes.includes(0x54)).toBe(true); // BINSTRING data
    expectModel(loadSmplPickle(bytes, 'SMPL_NEUTRAL.pkl'), withExtras(model));
  });

  it('reads chumpy objects rebuilt by copy_reg._reconstructor (protocol 0/1 style)', () => {
    const bytes = dump(smplPython2(model, 'reconstructor'));
    expect(Buffer.from(bytes).includes('copy_reg\n_reconstructor\n')).toBe(true);
    expectModel(loadSmplPickle(bytes, 'old.pkl'), withExtras(model));
    // Without the PROTO opcode the stream reads as protocol 1, which starts with EMPTY_DICT.
    expectModel(loadSmplPickle(bytes.subarray(2), 'proto1.pkl'), withExtras(model));
  });

  it('reads a Python 3 protocol-2 pickle of plain ndarrays, keeping float32 and a dense J_regressor', () => {
    const f4 = (a: NdArray): NdArray => ({ dtype: 'f4', shape: a.shape, data: Float32Array.from(a.data) });
    const expected = { ...model, shapedirs: f4(model.shapedirs), weights: f4(model.weights) };
    const d = new PyDict([
      ['v_template', nd(model.v_template)],
      ['shapedirs', nd(model.shapedirs, 'f4')],
      ['posedirs', nd(model.posedirs)],
      ['J_regressor', nd(model.J_regressor)],
      ['weights', nd(model.weights, 'f4')],
      ['kintree_table', ndarray(kintreeUint32(model), 'u4', [2, J])],
      ['f', nd(model.f, 'i8')],
      ['J', nd(model.J)],
      ['bs_type', 'lrotmin'],
    ]);
    const bytes = dump(d, 'py3');
    expect(Buffer.from(bytes).includes('_codecs\nencode\n')).toBe(true);
    expectModel(loadSmplPickle(bytes, 'smplh.pkl'), expected);
  });

  it('transposes Fortran-ordered arrays and byte-swaps big-endian ones (protocol 4)', () => {
    const f4 = (a: NdArray): NdArray => ({ dtype: 'f4', shape: a.shape, data: Float32Array.from(a.data) });
    const d = new PyDict([
      ['v_template', nd(model.v_template, 'f8', { byteorder: '>' })],
      ['shapedirs', nd(model.shapedirs, 'f8', { order: 'F' })],
      ['posedirs', nd(model.posedirs, 'f8', { order: 'F', byteorder: '>' })],
      ['J_regressor', cscMatrix(model.J_regressor.data, J, V, 'scipy.sparse._csc')],
      ['weights', nd(model.weights, 'f4', { order: 'F', byteorder: '>' })],
      ['kintree_table', nd(model.kintree_table, 'i8', { order: 'F', byteorder: '>' })],
      ['f', nd(model.f, 'u4', { order: 'F' })],
      ['J', nd(model.J, 'f8', { order: 'F' })],
    ]);
    const bytes = pickleDump(d, { flavour: 'py3-proto4', numpyCore: 'numpy._core.multiarray' });
    expect([bytes[2], bytes[bytes.length - 1]]).toEqual([0x95, 0x2e]); // FRAME ... STOP
    expectModel(loadSmplPickle(bytes, 'fortran.pkl'), { ...model, weights: f4(model.weights) });
  });

  it('evaluates chumpy Select and Reshape terms', () => {
    const order = [2, 0, 3, 1]; // J rows stored permuted, Select puts them back
    const flat = order.flatMap((j) => Array.from(model.J.data.subarray(3 * j, 3 * j + 3)));
    const idxs = Array.from({ length: J * 3 }, (_, i) => 3 * order.indexOf(Math.floor(i / 3)) + (i % 3));
    const select = new PyInstance(
      new PyGlobal('chumpy.reordering', 'Select'),
      new PyDict([
        ['a', chumpyCh(ndarray(flat, 'f8', [J * 3]))],
        ['idxs', ndarray(idxs, 'i8', [J * 3])],
        ['preferred_shape', new PyTuple([J, 3])],
      ]),
    );
    const reshape = new PyInstance(
      new PyGlobal('chumpy.reordering', 'Reshape'),
      new PyDict([
        ['a', chumpyCh(ndarray(model.shapedirs.data, 'f8', [V * 3 * B]))],
        ['newshape', new PyTuple([V, 3, -1])],
      ]),
    );
    const d = smplPython2(model);
    const entries = d.entries.map(([k, v]): [PyValue, PyValue] => [
      k,
      k === 'J' ? select : k === 'shapedirs' ? reshape : v,
    ]);
    expectModel(loadSmplPickle(dump(new PyDict(entries)), 'select.pkl'), withExtras(model));
  });

  it('narrows uint64 (all-ones root) and int64, refusing values beyond 32 bits', () => {
    const root = 2n ** 64n - 1n;
    const parents = Array.from(model.kintree_table.data, (p) => (p === -1 ? root : BigInt(p)));
    const d = (extra: NumpyArray) =>
      new PyDict([
        ...smplPython2(model).entries.filter(([k]) => k !== 'kintree_table'),
        ['kintree_table', ndarray(parents, 'u8', [2, J])],
        ['big_index', extra],
      ]);
    const ok = loadSmplPickle(dump(d(ndarray([-5, 7], 'i8', [2]))), 'u8.pkl');
    expect(ok.kintree_table.data).toEqual(model.kintree_table.data);
    expect(ok.big_index).toEqual({ dtype: 'i4', shape: [2], data: Int32Array.from([-5, 7]) });
    expect(() => loadSmplPickle(dump(d(ndarray([1, 2 ** 33], 'i8', [2]))), 'wide.pkl')).toThrow(
      /wide\.pkl: 'big_index': int64 value 8589934592 at index 1 does not fit in 32 bits/,
    );
  });

  it('loads an SMPL-sized Python 2 pickle quickly', () => {
    const r = rng(3);
    const big = { V: 6890, J: 24, F: 13776 };
    const Pb = (big.J - 1) * 9;
    const rows = (n: number, cols: number) => Float64Array.from({ length: n * cols }, () => r());
    const parents = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21];
    const ids = Array.from({ length: big.J }, (_, j) => j);
    const m: Record<string, NdArray> = {
      v_template: f8([big.V, 3], rows(big.V, 3)),
      shapedirs: f8([big.V, 3, 10], rows(big.V, 30)),
      posedirs: f8([big.V, 3, Pb], rows(big.V, 3 * Pb)),
      J_regressor: f8(
        [big.J, big.V],
        Float64Array.from({ length: big.J * big.V }, (_, i) => (i % 97 === 0 ? 0.5 : 0)),
      ),
      weights: f8([big.V, big.J], rows(big.V, big.J)),
      kintree_table: { dtype: 'i4', shape: [2, big.J], data: Int32Array.from([...parents, ...ids]) },
      f: {
        dtype: 'u4',
        shape: [big.F, 3],
        data: Uint32Array.from({ length: big.F * 3 }, (_, i) => i % big.V),
      },
    };
    const d = new PyDict([
      ['v_template', chumpyCh(nd(m.v_template))],
      ['shapedirs', chumpyCh(nd(m.shapedirs))],
      ['posedirs', nd(m.posedirs)],
      ['J_regressor', cscMatrix(m.J_regressor.data, big.J, big.V)],
      ['weights', nd(m.weights)],
      ['kintree_table', nd(m.kintree_table, 'i8')],
      ['f', nd(m.f)],
    ]);
    const bytes = dump(d);
    const t0 = performance.now();
    const out = loadSmplPickle(bytes, 'SMPL_big.pkl');
    const ms = performance.now() - t0;
    console.log(
      `loadSmplPickle: ${(bytes.length / 2 ** 20).toFixed(1)} MiB SMPL-sized pickle in ${ms.toFixed(0)} ms`,
    );
    expectModel(out, m);
    expect(ms).toBeLessThan(5000);
  });
});

describe('loadSmplPickle errors', () => {
  const model = syntheticModel();
  const good = dump(smplPython2(model));
  const replace = (key: string, value: PyValue | undefined) =>
    dump(
      new PyDict(
        smplPython2(model)
          .entries.filter(([k]) => value !== undefined || k !== key)
          .map(([k, v]): [PyValue, PyValue] => [k, k === key && value !== undefined ? value : v]),
      ),
    );

  it('rejects truncated files, naming the file', () => {
    expect(() => loadSmplPickle(good.subarray(0, 1), '/models/SMPL.pkl')).toThrow(
      /\/models\/SMPL\.pkl: not a pickle \(1 bytes\)/,
    );
    for (const cut of [2, 40, good.length >> 1, good.length - 1]) {
      expect(() => loadSmplPickle(good.subarray(0, cut), '/models/SMPL.pkl')).toThrow(
        /\/models\/SMPL\.pkl: truncated pickle/,
      );
    }
  });

  it('rejects files that are not pickles', () => {
    expect(() => loadSmplPickle(new TextEncoder().encode('hello world'), 'a.pkl')).toThrow(
      /a\.pkl: not a Python pickle/,
    );
    expect(() => loadSmplPickle(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), 'b.pkl')).toThrow(
      /b\.pkl: .*zip archive/,
    );
    expect(() => loadSmplPickle(dump(new PyTuple([1, 2]), 'py3'), 'c.pkl')).toThrow(/c\.pkl: .*not a dict/);
  });

  it('rejects a missing required array or one that is not numeric', () => {
    expect(() => loadSmplPickle(replace('weights', undefined), 'm.pkl')).toThrow(
      /m\.pkl: missing required model arrays: weights/,
    );
    expect(() => loadSmplPickle(replace('f', 'faces'), 'm.pkl')).toThrow(
      /m\.pkl: 'f' is not a numeric array/,
    );
  });

  it('rejects NaN and Inf, naming the key', () => {
    const bad = (i: number, v: number) => {
      const a = Float64Array.from(model.shapedirs.data);
      a[i] = v;
      return chumpyCh(ndarray(a, 'f8', model.shapedirs.shape));
    };
    expect(() => loadSmplPickle(replace('shapedirs', bad(17, NaN)), 'nan.pkl')).toThrow(
      /nan\.pkl: 'shapedirs' has NaN at flat index 17/,
    );
    expect(() => loadSmplPickle(replace('shapedirs', bad(3, -Infinity)), 'inf.pkl')).toThrow(
      /inf\.pkl: 'shapedirs' has -Infinity/,
    );
  });

  it('rejects an unknown chumpy class, naming the key and the class', () => {
    const add = new PyInstance(
      new PyGlobal('chumpy.ch_ops', 'add'),
      new PyDict([['a', chumpyCh(nd(model.posedirs))]]),
    );
    expect(() => loadSmplPickle(replace('posedirs', add), 'ops.pkl')).toThrow(
      /ops\.pkl: 'posedirs': unsupported chumpy object chumpy\.ch_ops\.add/,
    );
  });

  it('rejects shapes that disagree between keys', () => {
    const wide = ndarray(new Float64Array(V * (J + 1)), 'f8', [V, J + 1]);
    expect(() => loadSmplPickle(replace('weights', wide), 'w.pkl')).toThrow(
      /w\.pkl: 'weights' has shape \(40, 5\), expected \(40, 4\)/,
    );
    const reg = cscMatrix(new Float64Array(J * (V - 1)), J, V - 1);
    expect(() => loadSmplPickle(replace('J_regressor', reg), 'r.pkl')).toThrow(
      /r\.pkl: 'J_regressor' has shape \(4, 39\), expected \(4, 40\)/,
    );
    const kin = ndarray([-1, 0, 1, 0, 1, 2], 'i8', [2, 3]);
    expect(() => loadSmplPickle(replace('kintree_table', kin), 'k.pkl')).toThrow(
      /k\.pkl: 'weights' has shape \(40, 4\), expected \(40, 3\)/,
    );
    const faces = ndarray(
      Array.from(model.f.data, (v) => v + V),
      'u4',
      [F, 3],
    );
    expect(() => loadSmplPickle(replace('f', faces), 'f.pkl')).toThrow(
      /f\.pkl: face 0 uses vertex \d+, but V=40/,
    );
  });
});

const hasPython = spawnSync('python3', ['-c', 'import numpy, scipy'], { encoding: 'utf8' }).status === 0;

/**
 * Python writes the same model with pickle.dump(protocol=2/4/5) from the same array bytes, with a
 * stand-in chumpy.ch.Ch (chumpy itself does not install on modern Python). Protocols 2 and 4 must be
 * byte-identical to the emitter; all three must load to the model.
 */
describe.skipIf(!hasPython)('against real Python pickles', () => {
  it('emitter matches pickle.dump byte for byte, and the loader reads protocols 2, 4 and 5', () => {
    const model = syntheticModel(11);
    const dir = tempDir('pkl-python-');
    mkdirSync(join(dir, 'chumpy'));
    writeFileSync(join(dir, 'chumpy', '__init__.py'), '');
    writeFileSync(
      join(dir, 'chumpy', 'ch.py'),
      [
        'class Ch(object):',
        '    def __init__(self, x):',
        "        self.__dict__.update([('_dirty_vars', set()), ('_itr', None), ('_make_dense', False),",
        "                              ('_make_sparse', False), ('_depends_on_deps', {}), ('x', x)])",
      ].join('\n'),
    );
    const big = Float64Array.from({ length: 9000 }, (_, i) => Math.sin(i)); // over 64 KiB: frame splitting
    const arrays: Record<string, NumpyArray> = {
      v_template: nd(model.v_template),
      shapedirs: nd(model.shapedirs, 'f4', { order: 'F' }),
      posedirs: nd(model.posedirs, 'f8', { byteorder: '>' }),
      weights: nd(model.weights, 'f8', { order: 'F' }),
      kintree_table: ndarray(kintreeUint32(model), 'u4', [2, J]),
      f: nd(model.f, 'i8'),
      J: nd(model.J),
      big: ndarray(big, 'f8', [9000]),
    };
    const csc = cscMatrix(model.J_regressor.data, J, V, 'scipy.sparse._csc');
    const cscState = (csc.state as PyDict).entries;
    const cscArray = (k: string) => cscState.find(([key]) => key === k)![1] as NumpyArray;
    const spec = (a: NumpyArray) => ({
      descr: a.descr,
      shape: a.shape,
      fortran: a.fortran,
      hex: Buffer.from(a.raw).toString('hex'),
    });
    writeFileSync(
      join(dir, 'spec.json'),
      JSON.stringify({
        arrays: Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, spec(a)])),
        csc: {
          shape: [J, V],
          data: spec(cscArray('data')),
          indices: spec(cscArray('indices')),
          indptr: spec(cscArray('indptr')),
        },
      }),
    );
    writeFileSync(
      join(dir, 'write.py'),
      `
import json, pickle, sys, numpy as np, scipy.sparse as sp
sys.path.insert(0, sys.argv[1])
from chumpy.ch import Ch
spec = json.load(open(sys.argv[1] + '/spec.json'))
def arr(s):
    a = np.frombuffer(bytes.fromhex(s['hex']), dtype=np.dtype(s['descr']))
    return a.reshape(s['shape'], order='F' if s['fortran'] else 'C')
A = {k: arr(s) for k, s in spec['arrays'].items()}
c = spec['csc']
reg = sp.csc_matrix((arr(c['data']), arr(c['indices']), arr(c['indptr'])), shape=tuple(c['shape']))
d = {'v_template': Ch(A['v_template']), 'shapedirs': Ch(A['shapedirs']), 'posedirs': A['posedirs'],
     'J_regressor': reg, 'weights': A['weights'], 'kintree_table': A['kintree_table'], 'f': A['f'],
     'J': A['J'], 'big': A['big'], 'bs_type': 'lrotmin', 'bs_style': 'lbs'}
protocols = [p for p in (2, 4, 5) if p <= pickle.HIGHEST_PROTOCOL]
for p in protocols:
    with open('%s/p%d.pkl' % (sys.argv[1], p), 'wb') as fh:
        pickle.dump(d, fh, protocol=p)
print(json.dumps({'protocols': protocols, 'core': np.ndarray.__reduce__(A['J'])[0].__module__, 'csc': type(reg).__module__,
                  'csc_keys': list(reg.__dict__)}))
`,
    );
    const run = spawnSync('python3', [join(dir, 'write.py'), dir], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const env = JSON.parse(run.stdout) as {
      protocols: number[];
      core: string;
      csc: string;
      csc_keys: string[];
    };

    const reg = new PyInstance(
      new PyGlobal(env.csc, 'csc_matrix'),
      new PyDict(env.csc_keys.map((k) => cscState.find(([key]) => key === k)!)),
    );
    const d = new PyDict([
      ['v_template', chumpyCh(arrays.v_template)],
      ['shapedirs', chumpyCh(arrays.shapedirs)],
      ['posedirs', arrays.posedirs],
      ['J_regressor', reg],
      ['weights', arrays.weights],
      ['kintree_table', arrays.kintree_table],
      ['f', arrays.f],
      ['J', arrays.J],
      ['big', arrays.big],
      ['bs_type', 'lrotmin'],
      ['bs_style', 'lbs'],
    ]);
    const expected = {
      ...model,
      shapedirs: { dtype: 'f4', shape: model.shapedirs.shape, data: Float32Array.from(model.shapedirs.data) },
      big: f8([9000], big),
    };
    for (const [p, flavour] of [
      [2, 'py3'],
      [4, 'py3-proto4'],
    ] as const) {
      const real = readFileSync(join(dir, `p${p}.pkl`));
      const mine = pickleDump(d, { flavour, numpyCore: env.core });
      expect(Buffer.from(mine).equals(real), `protocol ${p} bytes`).toBe(true);
    }
    expect(env.protocols).toContain(4);
    for (const p of env.protocols) {
      expectModel(loadSmplPickle(readFileSync(join(dir, `p${p}.pkl`)), `p${p}.pkl`), expected);
    }
  });
});

describe('the same SMPL-layout model as .npz and as .pkl', () => {
  it('loads to identical body-model arrays', () => {
    const m = syntheticModel(11);
    const dir = tempDir('studio-smpl-');
    // .npz as smplx distributes it (dense J_regressor), .pkl as SMPL does (Python 2, chumpy, csc).
    writeFileSync(join(dir, 'model.npz'), encodeNpz(m));
    writeFileSync(join(dir, 'model.pkl'), dump(smplPython2(m)));
    const a = loadBodyModel(join(dir, 'model.npz'));
    const b = loadBodyModel(join(dir, 'model.pkl'));
    expect(a.numJoints).toBe(J);
    expect(a.numBetas).toBe(B);
    expect(a.numPoseBlend).toBe(P);
    for (const key of ['vTemplate', 'shapedirs', 'posedirs', 'weights', 'parents', 'faces'] as const) {
      expect(Array.from(b[key]!), key).toEqual(Array.from(a[key]!));
    }
    expect(Array.from(b.jRegressor.indptr)).toEqual(Array.from(a.jRegressor.indptr));
    expect(Array.from(b.jRegressor.indices)).toEqual(Array.from(a.jRegressor.indices));
    expect(Array.from(b.jRegressor.data)).toEqual(Array.from(a.jRegressor.data));
    expect(Array.from(a.parents)).toEqual([-1, 0, 1, 1]);
    expect(a.jRegressor.data.length).toBeLessThan(J * V);
  });
});
