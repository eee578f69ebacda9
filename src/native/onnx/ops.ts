// The op table: one method per ONNX op the engine emits. Each method encodes
// the op's attributes with their ONNX types, adds the opset/domain it needs
// and infers output dtype and shape (best effort, see graph.ts). Gradient
// rules (training) key on the same op names, so add new ops here first.

import { DeepenError } from '../../shared/errors';
import { attr, type Attr, type DType, type Dim, type Graph, type Shape, MS_DOMAIN, UNKNOWN_DIM, Value } from './graph';

/** Numpy-style broadcast of two shapes; unknown where it cannot tell. */
export function broadcastShapes(a: Shape | null, b: Shape | null): Shape | null {
  if (!a || !b) return null;
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') {
      throw new DeepenError('internal', `Shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast.`);
    } else out.push(typeof x === 'number' ? x : typeof y === 'number' ? y : UNKNOWN_DIM);
  }
  return out;
}

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function sumDims(dims: Dim[]): Dim {
  return dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a + b, 0) : UNKNOWN_DIM;
}

export class Ops {
  constructor(readonly g: Graph) {}

  private one(op: string, inputs: (Value | null)[], attrs: Record<string, Attr>, dtype: DType, shape: Shape | null, domain = ''): Value {
    return this.g.addNode(op, domain, inputs, attrs, [{ dtype, shape }])[0];
  }

  private int64s(values: readonly number[]): Value {
    return this.g.constant('int64', [values.length], values);
  }

  /** A scalar constant of `dtype` (for Add/Mul with broadcasting). */
  scalar(value: number, dtype: DType = 'float32'): Value {
    return this.g.constant(dtype, [], [value]);
  }

  // --- elementwise -------------------------------------------------------
  private binary(op: string, a: Value, b: Value, outType?: DType): Value {
    if (a.dtype !== b.dtype) throw new DeepenError('internal', `${op}: ${a.name} is ${a.dtype} but ${b.name} is ${b.dtype}.`);
    return this.one(op, [a, b], {}, outType ?? a.dtype, broadcastShapes(a.shape, b.shape));
  }
  add = (a: Value, b: Value): Value => this.binary('Add', a, b);
  sub = (a: Value, b: Value): Value => this.binary('Sub', a, b);
  mul = (a: Value, b: Value): Value => this.binary('Mul', a, b);
  div = (a: Value, b: Value): Value => this.binary('Div', a, b);
  pow = (a: Value, b: Value): Value => this.binary('Pow', a, b);
  max = (a: Value, b: Value): Value => this.binary('Max', a, b);
  greater = (a: Value, b: Value): Value => this.binary('Greater', a, b, 'bool');
  less = (a: Value, b: Value): Value => this.binary('Less', a, b, 'bool');
  equal = (a: Value, b: Value): Value => this.binary('Equal', a, b, 'bool');

  where(cond: Value, a: Value, b: Value): Value {
    return this.one('Where', [cond, a, b], {}, a.dtype, broadcastShapes(cond.shape, broadcastShapes(a.shape, b.shape)));
  }

  private unary(op: string, x: Value): Value {
    return this.one(op, [x], {}, x.dtype, x.shape);
  }
  neg = (x: Value): Value => this.unary('Neg', x);
  sqrt = (x: Value): Value => this.unary('Sqrt', x);
  reciprocal = (x: Value): Value => this.unary('Reciprocal', x);
  sigmoid = (x: Value): Value => this.unary('Sigmoid', x);
  exp = (x: Value): Value => this.unary('Exp', x);
  log = (x: Value): Value => this.unary('Log', x);
  tanh = (x: Value): Value => this.unary('Tanh', x);
  identity = (x: Value): Value => this.unary('Identity', x);

  cast(x: Value, to: DType): Value {
    if (x.dtype === to) return x;
    return this.one('Cast', [x], { to: attr.int(onnxTypeCode(to)) }, to, x.shape);
  }

  // --- linear algebra ----------------------------------------------------
  matMul(a: Value, b: Value): Value {
    let shape: Shape | null = null;
    if (a.shape && b.shape && a.shape.length >= 2 && b.shape.length >= 2) {
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      shape = batch ? [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]] : null;
    }
    if (a.dtype !== b.dtype) throw new DeepenError('internal', `MatMul: ${a.name} is ${a.dtype} but ${b.name} is ${b.dtype}.`);
    return this.one('MatMul', [a, b], {}, a.dtype, shape);
  }

  /** Y = alpha * A' * B' + beta * C on 2-D A and B. */
  gemm(a: Value, b: Value, c: Value | null, opts: { transA?: boolean; transB?: boolean } = {}): Value {
    const m = a.shape ? a.shape[opts.transA ? 1 : 0] : UNKNOWN_DIM;
    const n = b.shape ? b.shape[opts.transB ? 0 : 1] : UNKNOWN_DIM;
    const attrs: Record<string, Attr> = {};
    if (opts.transA) attrs.transA = attr.int(1);
    if (opts.transB) attrs.transB = attr.int(1);
    return this.one('Gemm', c ? [a, b, c] : [a, b], attrs, a.dtype, [m, n]);
  }

  // --- shape ops ---------------------------------------------------------
  gather(data: Value, indices: Value, axis = 0): Value {
    let shape: Shape | null = null;
    if (data.shape && indices.shape) {
      const ax = normAxis(axis, data.shape.length);
      shape = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    }
    return this.one('Gather', [data, indices], { axis: attr.int(axis) }, data.dtype, shape);
  }

  /** Reshape to a constant target (0 copies the input dim, -1 is inferred). */
  reshape(x: Value, target: readonly number[]): Value {
    let shape: Dim[] | null = null;
    if (x.shape) {
      shape = target.map((d, i) => (d === 0 ? x.shape![i] : d === -1 ? UNKNOWN_DIM : d));
      const known = x.shape.every((d) => typeof d === 'number');
      if (known && shape.includes(UNKNOWN_DIM)) {
        const total = (x.shape as number[]).reduce((a, b) => a * b, 1);
        const rest = shape.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
        shape[shape.indexOf(UNKNOWN_DIM)] = total / rest;
      }
    }
    return this.one('Reshape', [x, this.int64s(target)], {}, x.dtype, shape);
  }

  transpose(x: Value, perm: readonly number[]): Value {
    const shape = x.shape ? perm.map((p) => x.shape![p]) : null;
    return this.one('Transpose', [x], { perm: attr.ints(perm) }, x.dtype, shape);
  }

  concat(xs: readonly Value[], axis: number): Value {
    let shape: Dim[] | null = null;
    if (xs.every((x) => x.shape)) {
      const rank = xs[0].shape!.length;
      const ax = normAxis(axis, rank);
      shape = xs[0].shape!.map((d, i) => (i === ax ? sumDims(xs.map((x) => x.shape![i])) : d));
    }
    return this.one('Concat', [...xs], { axis: attr.int(axis) }, xs[0].dtype, shape);
  }

  split(x: Value, sizes: readonly number[], axis: number): Value[] {
    const outs = sizes.map((size) => {
      let shape: Dim[] | null = null;
      if (x.shape) {
        const ax = normAxis(axis, x.shape.length);
        shape = x.shape.map((d, i) => (i === ax ? size : d));
      }
      return { dtype: x.dtype, shape };
    });
    return this.g.addNode('Split', '', [x, this.int64s(sizes)], { axis: attr.int(axis) }, outs);
  }

  unsqueeze(x: Value, axes: readonly number[]): Value {
    let shape: Dim[] | null = null;
    if (x.shape) {
      const rank = x.shape.length + axes.length;
      const norm = axes.map((a) => normAxis(a, rank));
      shape = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]);
    }
    return this.one('Unsqueeze', [x, this.int64s(axes)], {}, x.dtype, shape);
  }

  squeeze(x: Value, axes: readonly number[]): Value {
    const shape = x.shape ? x.shape.filter((_, i) => !axes.map((a) => normAxis(a, x.shape!.length)).includes(i)) : null;
    return this.one('Squeeze', [x, this.int64s(axes)], {}, x.dtype, shape);
  }

  // --- reductions and normalisation ---------------------------------------
  /** ReduceMean with axes as an attribute (opset 17). */
  reduceMean(x: Value, axes: readonly number[], keepdims = true): Value {
    let shape: Dim[] | null = null;
    if (x.shape) {
      const norm = axes.map((a) => normAxis(a, x.shape!.length));
      shape = keepdims ? x.shape.map((d, i) => (norm.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !norm.includes(i));
    }
    return this.one('ReduceMean', [x], { axes: attr.ints(axes), keepdims: attr.int(keepdims ? 1 : 0) }, x.dtype, shape);
  }

  softmax(x: Value, axis = -1): Value {
    return this.one('Softmax', [x], { axis: attr.int(axis) }, x.dtype, x.shape);
  }

  // --- com.microsoft / ORT-internal fused ops ------------------------------
  /** RMSNorm over the last axis; ORT registers it in the default domain. Computes in fp32 (stash_type 1). */
  simplifiedLayerNorm(x: Value, scale: Value, epsilon: number): Value {
    return this.one('SimplifiedLayerNormalization', [x, scale], { axis: attr.int(-1), epsilon: attr.float(epsilon), stash_type: attr.int(1) }, x.dtype, x.shape);
  }

  /** Returns [RMSNorm(x + skip [+ bias]), x + skip [+ bias]]: the next residual comes for free. */
  skipSimplifiedLayerNorm(x: Value, skip: Value, gamma: Value, epsilon: number): [Value, Value] {
    const outs = this.g.addNode('SkipSimplifiedLayerNormalization', MS_DOMAIN, [x, skip, gamma], { epsilon: attr.float(epsilon) }, [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'float32', shape: null },
      { dtype: 'float32', shape: null },
      { dtype: x.dtype, shape: x.shape },
    ]);
    return [outs[0], outs[3]];
  }

  /** Rotary embedding on (B, S, nh*hs) or (B, nh, S, hs), half-split (non-interleaved) layout. */
  rotaryEmbedding(x: Value, positionIds: Value, cosCache: Value, sinCache: Value, opts: { numHeads: number; rotaryDim?: number }): Value {
    const attrs: Record<string, Attr> = { interleaved: attr.int(0), num_heads: attr.int(opts.numHeads) };
    if (opts.rotaryDim) attrs.rotary_embedding_dim = attr.int(opts.rotaryDim);
    return this.one('RotaryEmbedding', [x, positionIds, cosCache, sinCache], attrs, x.dtype, x.shape, MS_DOMAIN);
  }

  /**
   * Causal grouped-query attention with KV cache (BNSH). query is (B, S, nh*hs), or
   * packed q|k|v when key/value are null. Returns [output (B, S, nh*hs), presentKey, presentValue].
   */
  groupQueryAttention(
    inputs: { query: Value; key: Value | null; value: Value | null; pastKey: Value; pastValue: Value; seqlensK: Value; totalSequenceLength: Value; cosCache?: Value; sinCache?: Value },
    opts: { numHeads: number; kvNumHeads: number; headSize: number; doRotary: boolean; scale?: number },
  ): [Value, Value, Value] {
    const { query, key, value, pastKey, pastValue, seqlensK, totalSequenceLength, cosCache, sinCache } = inputs;
    const attrs: Record<string, Attr> = { num_heads: attr.int(opts.numHeads), kv_num_heads: attr.int(opts.kvNumHeads) };
    if (opts.doRotary) attrs.do_rotary = attr.int(1);
    if (opts.scale !== undefined) attrs.scale = attr.float(opts.scale);
    const list: (Value | null)[] = [query, key, value, pastKey, pastValue, seqlensK, totalSequenceLength];
    if (opts.doRotary) list.push(cosCache ?? null, sinCache ?? null);
    const b = query.shape?.[0] ?? UNKNOWN_DIM;
    const s = query.shape?.[1] ?? UNKNOWN_DIM;
    const kvShape = [b, opts.kvNumHeads, UNKNOWN_DIM, opts.headSize];
    const outs = this.g.addNode('GroupQueryAttention', MS_DOMAIN, list, attrs, [
      { dtype: query.dtype, shape: [b, s, opts.numHeads * opts.headSize] },
      { dtype: pastKey.dtype, shape: kvShape },
      { dtype: pastValue.dtype, shape: kvShape },
    ]);
    return [outs[0], outs[1], outs[2]];
  }
}

/** ONNX TensorProto.DataType codes. */
export function onnxTypeCode(dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return 1;
    case 'uint8':
      return 2;
    case 'int8':
      return 3;
    case 'int32':
      return 6;
    case 'int64':
      return 7;
    case 'bool':
      return 9;
    case 'float16':
      return 10;
    case 'bfloat16':
      return 16;
  }
}
