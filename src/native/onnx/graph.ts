// A small typed builder for ONNX graphs.
//
// Design note (read before adding ops or autodiff):
// - A `Graph` owns `Value`s and `Node`s. Every value knows its dtype, its
//   (possibly symbolic) shape and the node that produced it (`producer`;
//   null for graph inputs, initializers and constants). Nodes are appended
//   in creation order, which is always a topological order because a node
//   can only consume values that already exist. So `graph.nodes` can be
//   replayed front to back (forward) or back to front (reverse-mode autodiff).
// - Nodes are never created ad hoc: every op goes through one entry of the
//   op table in `ops.ts` (`Ops.add`, `Ops.matMul`, ...), which knows the op's
//   domain, encodes its attributes with the right ONNX types and infers the
//   output dtype and shape. The training issue adds `gradients.ts`: ONE table
//   keyed by `node.op` (`Record<string, GradientRule>`), where a rule gets the
//   forward node and the gradients of its outputs and emits the gradients of
//   its inputs through the same `Ops`. Walking `graph.nodes` in reverse and
//   looking each op up in that table is the whole of autodiff; an op without
//   a rule fails loudly ("no gradient rule for <op>").
// - Weights are initializers that point into an external-data file (see
//   weights-file.ts); small constants (shapes, axes, scalars) are inline.
// - Shapes: numbers are static, strings are named symbolic dims (`'batch'`),
//   and `'?'` is a dim nobody could infer. Inference is best effort and only
//   used for checks and for gradient rules (which need to know broadcasts);
//   ONNX Runtime does its own inference at session creation.

import { DeepenError } from '../../shared/errors';

export type DType = 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
export type Dim = number | string;
export type Shape = readonly Dim[];
export const UNKNOWN_DIM = '?';

export const dtypeBytes: Record<DType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export const isFloat = (dtype: DType): boolean => dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';

/** An attribute with its ONNX type made explicit (a JS number could be an int or a float). */
export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'strings'; value: readonly string[] };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ kind: 'floats', value }),
  strings: (value: readonly string[]): Attr => ({ kind: 'strings', value }),
};

export type ValueKind = 'input' | 'initializer' | 'constant' | 'node';

export class Value {
  constructor(
    readonly id: number,
    /** Unique in its graph; only Graph.output may rename (to give outputs their public names). */
    public name: string,
    readonly dtype: DType,
    readonly shape: Shape | null,
    readonly kind: ValueKind,
    /** The node that computes this value; null for inputs, initializers and constants. */
    readonly producer: Node | null,
    /** Which output of `producer` this is. */
    readonly outputIndex: number,
  ) {}

  get rank(): number | null {
    return this.shape ? this.shape.length : null;
  }
}

export interface Node {
  readonly id: number;
  readonly name: string;
  readonly op: string;
  readonly domain: string; // '' is the default ONNX domain
  /** null marks an omitted optional input (serialized as ''). */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

/** Where an initializer's bytes live. */
export type TensorData =
  | { kind: 'external'; location: string; offset: number; length: number }
  | { kind: 'inline'; bytes: Uint8Array };

export interface Initializer {
  readonly value: Value;
  readonly data: TensorData;
}

export interface OutputSpec {
  dtype: DType;
  shape: Shape | null;
  name?: string;
}

export const MS_DOMAIN = 'com.microsoft';

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly initializers: Initializer[] = [];
  /** Opset per domain; the serializer writes one opset import per entry. */
  readonly opsets = new Map<string, number>([['', 17]]);
  private nextId = 0;
  private readonly names = new Set<string>();
  private prefix = '';

  constructor(readonly name = 'deepen') {}

  /** Names created inside `fn` get `scope/` in front, so a graph dump reads like the module tree. */
  scope<T>(scope: string, fn: () => T): T {
    const saved = this.prefix;
    this.prefix = `${saved}${scope}/`;
    try {
      return fn();
    } finally {
      this.prefix = saved;
    }
  }

  input(name: string, dtype: DType, shape: Shape): Value {
    const v = this.newValue(name, dtype, shape, 'input', null, 0, false);
    this.inputs.push(v);
    return v;
  }

  /** A named tensor whose bytes live in (external or inline) data; weights use this. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: TensorData): Value {
    const expected = shape.reduce((a, b) => a * b, 1) * dtypeBytes[dtype];
    const length = data.kind === 'external' ? data.length : data.bytes.byteLength;
    if (length !== expected) {
      throw new DeepenError('internal', `Initializer ${name}: ${length} bytes for shape [${shape.join(', ')}] ${dtype}, expected ${expected}.`);
    }
    const v = this.newValue(name, dtype, shape, 'initializer', null, 0, false);
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A small inline constant (shapes, axes, scalars). Graph-unique name is generated. */
  constant(dtype: DType, shape: readonly number[], values: ArrayLike<number> | ArrayLike<bigint>): Value {
    const bytes = encodeValues(dtype, values);
    const v = this.newValue(`const_${this.nextId}`, dtype, shape, 'constant', null, 0, true);
    this.initializers.push({ value: v, data: { kind: 'inline', bytes } });
    return v;
  }

  output(value: Value, name?: string): Value {
    let out = value;
    if (name && name !== value.name) {
      if (this.names.has(name)) throw new DeepenError('internal', `Graph ${this.name}: the name ${name} is used twice.`);
      if (value.kind === 'node' && !this.outputs.includes(value)) {
        // ONNX names a graph output by its value's name: rename the node output in place
        // (an Identity would copy, e.g. the whole KV cache, on every run).
        this.names.delete(value.name);
        value.name = name;
        this.names.add(name);
      } else {
        out = this.addNode('Identity', '', [value], {}, [{ dtype: value.dtype, shape: value.shape, name }])[0];
      }
    }
    this.outputs.push(out);
    return out;
  }

  useOpset(domain: string, version: number): void {
    const current = this.opsets.get(domain);
    if (current === undefined || current < version) this.opsets.set(domain, version);
  }

  /** Low level: only the op table (ops.ts) should call this. */
  addNode(op: string, domain: string, inputs: readonly (Value | null)[], attrs: Record<string, Attr>, outputs: readonly OutputSpec[]): Value[] {
    if (domain !== '' && !this.opsets.has(domain)) this.opsets.set(domain, 1);
    const id = this.nextId++;
    const node: Node = { id, name: this.uniqueName(`${op}_${id}`), op, domain, inputs, outputs: [], attrs };
    const outs = outputs.map((spec, i) => this.newValue(spec.name ?? `${op}_${id}_out${i}`, spec.dtype, spec.shape, 'node', node, i, !spec.name));
    (node as { outputs: readonly Value[] }).outputs = outs;
    this.nodes.push(node);
    return outs;
  }

  /** The nodes reading each value (each node once, in graph order); gradient accumulation needs this. */
  consumers(): Map<Value, Node[]> {
    const map = new Map<Value, Node[]>();
    for (const node of this.nodes) {
      for (const input of node.inputs) {
        if (!input) continue;
        const list = map.get(input) ?? [];
        if (list[list.length - 1] !== node) list.push(node);
        map.set(input, list);
      }
    }
    return map;
  }

  private newValue(name: string, dtype: DType, shape: Shape | null, kind: ValueKind, producer: Node | null, index: number, scoped: boolean): Value {
    const full = scoped ? this.uniqueName(name) : name;
    if (!scoped && this.names.has(full)) throw new DeepenError('internal', `Graph ${this.name}: the name ${full} is used twice.`);
    this.names.add(full);
    return new Value(this.nextId++, full, dtype, shape, kind, producer, index);
  }

  private uniqueName(base: string): string {
    let name = this.prefix + base;
    for (let i = 1; this.names.has(name); i++) name = `${this.prefix}${base}_${i}`;
    return name;
  }
}

/** Little-endian bytes of `values` in `dtype` (only the dtypes inline constants use). */
export function encodeValues(dtype: DType, values: ArrayLike<number> | ArrayLike<bigint>): Uint8Array {
  const n = values.length;
  const buf = new ArrayBuffer(n * dtypeBytes[dtype]);
  const view = new DataView(buf);
  for (let i = 0; i < n; i++) {
    const x = values[i];
    switch (dtype) {
      case 'float32':
        view.setFloat32(i * 4, Number(x), true);
        break;
      case 'int64':
        view.setBigInt64(i * 8, typeof x === 'bigint' ? x : BigInt(x), true);
        break;
      case 'int32':
        view.setInt32(i * 4, Number(x), true);
        break;
      case 'bool':
      case 'uint8':
        view.setUint8(i, Number(x));
        break;
      case 'int8':
        view.setInt8(i, Number(x));
        break;
      case 'float16':
        view.setUint16(i * 2, f32ToF16Bits(Number(x)), true);
        break;
      default:
        throw new DeepenError('unsupported', `Inline constants of type ${dtype} are not supported.`);
    }
  }
  return new Uint8Array(buf);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half from a float, round to nearest even (used for fp16 constants and weights). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}
