/**
 * A small typed ONNX graph builder over `onnx-proto` (the protobufjs-generated ONNX schema).
 *
 * Opset: default domain '' version 17 (ONNX 1.12), IR version 8. ONNX Runtime 1.30's CPU provider implements
 * every op used here at this opset. Chosen because LayerNormalization exists from 17 on, while ReduceMax/Mean
 * still take `axes` as an attribute (they become inputs at 18). Gelu (opset 20) is not used: layers.ts builds it
 * from Erf, the same formula tf.layers' 'gelu' activation uses.
 *
 * Values are named by strings (`Value`); every helper appends one node and returns its output name. Weights are
 * initializers holding float32 little-endian raw data; small int64 and float constants are deduplicated.
 */
import { onnx } from 'onnx-proto';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

/** A value in the graph: a graph input, an initializer or a node output, by name. */
export type Value = string;
/** A tensor dimension: a fixed size, or a symbolic name such as 'batch', 'frames', 'segments'. */
export type Dim = number | string;
export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';
/** An attribute: integer -> INT, other number -> FLOAT, string, number[] -> INTS, or an explicit `{ float }`/`{ floats }`. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

export const ELEM_TYPE_CODE: Record<ElemType, number> = {
  float32: DataType.FLOAT,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

function valueInfo(name: string, dims: readonly Dim[] | null, type: ElemType): onnx.IValueInfoProto {
  const shape = dims
    ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) }
    : null;
  return { name, type: { tensorType: { elemType: ELEM_TYPE_CODE[type], shape } } };
}

/** Attribute encoding; `{ float }` is needed for float attributes whose value happens to be integral. */
function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttrType.INT, i: value }
      : { name, type: AttrType.FLOAT, f: value };
  }
  if (Array.isArray(value)) return { name, type: AttrType.INTS, ints: value };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  return { name, type: AttrType.FLOATS, floats: value.floats };
}

export class OnnxGraph {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly known = new Set<string>();
  private readonly constants = new Map<string, Value>();
  private readonly metadata: Record<string, string> = {};
  private counter = 0;
  private readonly scopes: string[] = [];

  constructor(readonly name: string) {}

  /** Runs `build` with `prefix` prepended to generated node and value names (for readable graphs). */
  scoped<T>(prefix: string, build: () => T): T {
    this.scopes.push(prefix);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** A fresh, unique value name under the current scope. */
  fresh(hint: string): Value {
    const scope = this.scopes.length ? `${this.scopes.join('/')}/` : '';
    return `${scope}${hint}_${this.counter++}`;
  }

  private claim(name: string, what: string): void {
    if (this.known.has(name))
      throw new Error(`ONNX graph "${this.name}": ${what} "${name}" is already defined`);
    this.known.add(name);
  }

  input(name: string, dims: readonly Dim[], type: ElemType = 'float32'): Value {
    this.claim(name, 'input');
    this.inputs.push(valueInfo(name, dims, type));
    return name;
  }

  /** Declares `value` a graph output named `name` (an Identity node renames it when the names differ). */
  output(
    value: Value,
    name: string = value,
    dims: readonly Dim[] | null = null,
    type: ElemType = 'float32',
  ): Value {
    const out = name === value ? value : this.op('Identity', [value], {}, name);
    this.outputs.push(valueInfo(out, dims, type));
    return out;
  }

  /** A float32 initializer (a weight); `data.length` must equal the product of `dims`. */
  weight(name: string, data: Float32Array, dims: readonly number[]): Value {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(
        `ONNX graph "${this.name}": weight "${name}" has ${data.length} values, shape [${dims.join(', ')}] needs ${size}`,
      );
    }
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new Error(`ONNX graph "${this.name}": weight "${name}" has a non-finite value at index ${i}`);
      }
    }
    this.claim(name, 'weight');
    // ONNX raw_data is little-endian; copy so later edits of `data` cannot change the model.
    const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    this.initializers.push({ name, dims: [...dims], dataType: DataType.FLOAT, rawData: raw });
    return name;
  }

  /** An int64 constant (shapes, axes, indices), shared between uses of the same values. */
  int64s(values: readonly number[], dims: readonly number[] = [values.length]): Value {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const found = this.constants.get(key);
    if (found) return found;
    const name = this.fresh('const_i64');
    this.claim(name, 'constant');
    this.initializers.push({ name, dims: [...dims], dataType: DataType.INT64, int64Data: [...values] });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant (shape []), shared between uses of the same value. */
  scalar(value: number): Value {
    const key = `f32:${Math.fround(value)}`;
    const found = this.constants.get(key);
    if (found) return found;
    const name = this.fresh('const_f32');
    this.claim(name, 'constant');
    this.initializers.push({ name, dims: [], dataType: DataType.FLOAT, floatData: [value] });
    this.constants.set(key, name);
    return name;
  }

  /** Appends a node with one output; returns the output's name. */
  op(
    opType: string,
    inputs: readonly Value[],
    attrs: Record<string, AttrValue> = {},
    outName?: string,
  ): Value {
    return this.opN(opType, inputs, 1, attrs, outName ? [outName] : undefined)[0];
  }

  /** Appends a node with `outputs` outputs; an input name '' marks an omitted optional input. */
  opN(
    opType: string,
    inputs: readonly Value[],
    outputs: number,
    attrs: Record<string, AttrValue> = {},
    outNames?: readonly string[],
  ): Value[] {
    for (const i of inputs) {
      if (i !== '' && !this.known.has(i)) {
        throw new Error(`ONNX graph "${this.name}": ${opType} reads "${i}", which is not defined yet`);
      }
    }
    const names = outNames ? [...outNames] : Array.from({ length: outputs }, () => this.fresh(opType));
    for (const n of names) this.claim(n, `${opType} output`);
    const attribute_ = Object.entries(attrs).map(([k, v]) => attribute(k, v));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: names,
      name: this.fresh(`${opType}_node`),
      attribute: attribute_,
    });
    return names;
  }

  /** Key/value pairs stored in the model's metadata_props (e.g. the model config as JSON). */
  setMetadata(key: string, value: string): void {
    this.metadata[key] = value;
  }

  // --- element-wise and linear algebra (numpy broadcasting) ---
  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b]);
  }
  matMul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b]);
  }
  /** Y = alpha * A' B' + beta * C on 2-D A, B (A' = A^T when transA ...). */
  gemm(a: Value, b: Value, c?: Value, opts: { transA?: boolean; transB?: boolean } = {}): Value {
    return this.op('Gemm', c ? [a, b, c] : [a, b], {
      transA: opts.transA ? 1 : 0,
      transB: opts.transB ? 1 : 0,
    });
  }
  erf(x: Value): Value {
    return this.op('Erf', [x]);
  }
  sqrt(x: Value): Value {
    return this.op('Sqrt', [x]);
  }
  relu(x: Value): Value {
    return this.op('Relu', [x]);
  }
  tanh(x: Value): Value {
    return this.op('Tanh', [x]);
  }
  sigmoid(x: Value): Value {
    return this.op('Sigmoid', [x]);
  }
  neg(x: Value): Value {
    return this.op('Neg', [x]);
  }

  // --- normalisation and reductions ---
  /** LayerNormalization-17 over the axes from `axis` to the last; scale/bias have the normalised shape. */
  layerNormalization(x: Value, scale: Value, bias: Value, epsilon: number, axis = -1): Value {
    return this.op('LayerNormalization', [x, scale, bias], { axis, epsilon: { float: epsilon } });
  }
  softmax(x: Value, axis = -1): Value {
    return this.op('Softmax', [x], { axis });
  }
  reduceMax(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceMax', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceMean', [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }
  /** ReduceSum takes `axes` as an input from opset 13. */
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceSum', [x, this.int64s(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  // --- shapes ---
  /** Reshape-14; a 0 in `shape` copies that input dimension, -1 infers one dimension. */
  reshape(x: Value, shape: readonly number[]): Value {
    return this.op('Reshape', [x, this.int64s(shape)]);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    return this.op('Transpose', [x], { perm: [...perm] });
  }
  unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op('Unsqueeze', [x, this.int64s(axes)]);
  }
  squeeze(x: Value, axes: readonly number[]): Value {
    return this.op('Squeeze', [x, this.int64s(axes)]);
  }
  concat(xs: readonly Value[], axis: number): Value {
    return this.op('Concat', xs, { axis });
  }
  gather(x: Value, indices: Value, axis = 0): Value {
    return this.op('Gather', [x, indices], { axis });
  }
  /** Slice-13 with constant starts/ends/axes/steps (use a large end, e.g. 2^62, for "to the end"). */
  slice(
    x: Value,
    starts: readonly number[],
    ends: readonly number[],
    axes: readonly number[],
    steps?: readonly number[],
  ): Value {
    const inputs = [x, this.int64s(starts), this.int64s(ends), this.int64s(axes)];
    if (steps) inputs.push(this.int64s(steps));
    return this.op('Slice', inputs);
  }
  /** The int64 shape of `x` (Shape-15 with optional start/end). */
  shape(x: Value, start?: number, end?: number): Value {
    const attrs: Record<string, AttrValue> = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.op('Shape', [x], attrs);
  }
  expand(x: Value, shape: Value): Value {
    return this.op('Expand', [x, shape]);
  }
  /** Range-11 over int64 or float scalars. */
  range(start: Value, limit: Value, delta: Value): Value {
    return this.op('Range', [start, limit, delta]);
  }
  identity(x: Value): Value {
    return this.op('Identity', [x]);
  }

  // --- comparisons and selection ---
  equal(a: Value, b: Value): Value {
    return this.op('Equal', [a, b]);
  }
  greater(a: Value, b: Value): Value {
    return this.op('Greater', [a, b]);
  }
  less(a: Value, b: Value): Value {
    return this.op('Less', [a, b]);
  }
  and(a: Value, b: Value): Value {
    return this.op('And', [a, b]);
  }
  not(x: Value): Value {
    return this.op('Not', [x]);
  }
  /** Where-16: cond ? a : b with broadcasting. */
  where(cond: Value, a: Value, b: Value): Value {
    return this.op('Where', [cond, a, b]);
  }
  cast(x: Value, to: ElemType): Value {
    return this.op('Cast', [x], { to: ELEM_TYPE_CODE[to] });
  }

  /** The model proto; throws when no output was declared. */
  toModel(): onnx.ModelProto {
    if (this.outputs.length === 0) throw new Error(`ONNX graph "${this.name}": no output declared`);
    const metadataProps = Object.entries(this.metadata).map(([key, value]) => ({ key, value }));
    return onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'motion-studio',
      producerVersion: '1',
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
      metadataProps,
    });
  }

  /** The serialised model (ModelProto wire format), ready for onnxruntime or a .onnx file. */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(this.toModel()).finish();
  }

  /** Counts per op type, for reports and tests. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
    return counts;
  }
}
