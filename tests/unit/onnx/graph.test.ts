// The graph builder and serializer: shapes, names, producers, attributes with
// their ONNX types, opset imports, external-data initializers, and that ONNX
// Runtime runs what we write.
import { describe, expect, test } from 'vitest';
import { attr, f32ToF16Bits, Graph, MS_DOMAIN } from '../../../src/native/onnx/graph';
import { broadcastShapes, Ops } from '../../../src/native/onnx/ops';
import { decodeModel, serializeModel } from '../../../src/native/onnx/serialize';
import { hostTensor, Session } from '../../../src/native/onnx/runtime';

describe('shape inference', () => {
  test('broadcasting keeps symbolic dims and rejects mismatches', () => {
    expect(broadcastShapes(['batch', 'seq', 64], [64])).toEqual(['batch', 'seq', 64]);
    expect(broadcastShapes(['seq', 1], [1, 'total'])).toEqual(['seq', 'total']);
    expect(() => broadcastShapes([3, 4], [5, 4])).toThrow(/do not broadcast/);
  });

  test('ops infer dtype and shape, and values know their producer', () => {
    const g = new Graph();
    const ops = new Ops(g);
    const x = g.input('x', 'float32', ['batch', 'seq', 64]);
    const w = g.input('w', 'float32', [64, 96]);
    const y = ops.matMul(x, w);
    expect(y.shape).toEqual(['batch', 'seq', 96]);
    const [a, b, c] = ops.split(y, [32, 32, 32], -1);
    expect(c.shape).toEqual(['batch', 'seq', 32]);
    expect(a.producer).toBe(b.producer);
    expect(a.producer!.op).toBe('Split');
    expect(ops.reshape(a, [0, 0, 2, 16]).shape).toEqual(['batch', 'seq', 2, 16]);
    expect(ops.transpose(ops.reshape(a, [0, 0, 2, 16]), [0, 2, 1, 3]).shape).toEqual(['batch', 2, 'seq', 16]);
    expect(ops.gather(w, g.input('ids', 'int64', ['n']), 0).shape).toEqual(['n', 96]);
    expect(ops.greater(a, b).dtype).toBe('bool');
    expect(x.producer).toBeNull();
  });

  test('nodes are in creation order, a replayable topological order', () => {
    const g = new Graph();
    const ops = new Ops(g);
    const x = g.input('x', 'float32', [2]);
    const y = ops.sigmoid(ops.add(x, x));
    ops.mul(y, x);
    expect(g.nodes.map((n) => n.op)).toEqual(['Add', 'Sigmoid', 'Mul']);
    const consumers = g.consumers();
    expect(consumers.get(x)!.map((n) => n.op)).toEqual(['Add', 'Mul']);
  });

  test('names are unique, scoped, and outputs are renamed without copies', () => {
    const g = new Graph();
    const ops = new Ops(g);
    const x = g.input('x', 'float32', [2]);
    const y = g.scope('L0', () => ops.neg(x));
    expect(y.name.startsWith('L0/')).toBe(true);
    g.output(y, 'out');
    expect(y.name).toBe('out');
    expect(g.nodes.length).toBe(1); // no Identity
    expect(() => g.input('x', 'float32', [2])).toThrow(/used twice/);
  });
});

describe('serialization', () => {
  test('writes opsets, typed attributes and external-data references', () => {
    const g = new Graph('t');
    const ops = new Ops(g);
    const x = g.input('x', 'float32', ['batch', 4]);
    const w = g.initializer('w', 'float32', [4, 4], { kind: 'external', location: 'weights.bin', offset: 65536, length: 64 });
    const y = ops.simplifiedLayerNorm(ops.matMul(x, w), g.initializer('s', 'float32', [4], { kind: 'external', location: 'weights.bin', offset: 0, length: 16 }), 1e-5);
    const [n] = ops.skipSimplifiedLayerNorm(y, x, g.constant('float32', [4], [1, 1, 1, 1]), 1e-6);
    g.output(n, 'y');
    const model = decodeModel(serializeModel(g));
    const opsets = Object.fromEntries(model.opsetImport.map((o) => [o.domain, Number(o.version)]));
    expect(opsets).toEqual({ '': 17, [MS_DOMAIN]: 1 });
    const init = model.graph!.initializer!.find((t) => t.name === 'w')!;
    expect(init.dataLocation).toBe(1);
    expect(Object.fromEntries(init.externalData!.map((e) => [e.key, e.value]))).toEqual({ location: 'weights.bin', offset: '65536', length: '64' });
    expect(init.rawData?.length ?? 0).toBe(0);
    const norm = model.graph!.node!.find((nd) => nd.opType === 'SimplifiedLayerNormalization')!;
    const eps = norm.attribute!.find((a) => a.name === 'epsilon')!;
    expect(eps.type).toBe(1); // FLOAT
    expect(eps.f).toBeCloseTo(1e-5);
    expect(norm.attribute!.find((a) => a.name === 'axis')!.type).toBe(2); // INT
    const input = model.graph!.input![0];
    expect(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 4]);
  });

  test('ONNX Runtime runs a serialized graph of shape ops with the expected numbers', async () => {
    const g = new Graph();
    const ops = new Ops(g);
    const x = g.input('x', 'float32', [2, 3]);
    const t = ops.transpose(x, [1, 0]); // (3, 2)
    const r = ops.reshape(t, [-1]); // (6)
    const [a, b] = ops.split(r, [2, 4], 0);
    g.output(ops.concat([b, a], 0), 'y');
    g.output(ops.softmax(ops.mul(x, ops.scalar(0)), -1), 'uniform');
    const s = await Session.create(serializeModel(g), { provider: 'cpu' });
    const out = await s.run({ x: hostTensor('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])) });
    await s.dispose();
    expect(Array.from(out.y.location === 'cpu' ? (out.y.data as Float32Array) : [])).toEqual([2, 5, 3, 6, 1, 4]);
    expect(Array.from(out.uniform.location === 'cpu' ? (out.uniform.data as Float32Array) : [])).toEqual(new Array(6).fill(1 / 3).map(Math.fround));
  });
});

test('attribute helpers keep ints and floats apart', () => {
  expect(attr.int(1)).toEqual({ kind: 'int', value: 1 });
  expect(attr.float(1)).toEqual({ kind: 'float', value: 1 });
});

test('float16 conversion rounds to nearest even and handles the edges', () => {
  expect(f32ToF16Bits(1)).toBe(0x3c00);
  expect(f32ToF16Bits(-2)).toBe(0xc000);
  expect(f32ToF16Bits(65504)).toBe(0x7bff);
  expect(f32ToF16Bits(1e6)).toBe(0x7c00);
  expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
  expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
  expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
});
