// Graph → ONNX ModelProto bytes, through the protobufjs classes of the
// `onnx-proto` package (no hand-written protobuf). Weights stay in their
// external-data file: initializers only carry location/offset/length.

import * as onnxProtoModule from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';
import { UNKNOWN_DIM, type Attr, type Graph, type Shape, type Value } from './graph';
import { onnxTypeCode } from './ops';

// onnx-proto is CommonJS; Node's ESM loader only exposes it as `default`,
// while bundlers may expose the named export. Accept both.
const onnx: typeof OnnxNs =
  (onnxProtoModule as unknown as { onnx?: typeof OnnxNs }).onnx ?? (onnxProtoModule as unknown as { default: { onnx: typeof OnnxNs } }).default.onnx;

/** IR version 8 is what onnx-proto's schema (ONNX 1.10) describes; ORT 1.30 reads it with opset 17. */
export const IR_VERSION = 8;

export interface SerializeOptions {
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

function valueInfo(v: Value): OnnxNs.IValueInfoProto {
  return { name: v.name, type: { tensorType: { elemType: onnxTypeCode(v.dtype), shape: shapeProto(v.shape) } } };
}

function shapeProto(shape: Shape | null): OnnxNs.ITensorShapeProto | undefined {
  if (!shape) return undefined;
  return { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : d === UNKNOWN_DIM ? {} : { dimParam: d })) };
}

const AT = () => onnx.AttributeProto.AttributeType;

function attributeProto(name: string, a: Attr): OnnxNs.IAttributeProto {
  switch (a.kind) {
    case 'int':
      return { name, type: AT().INT, i: a.value };
    case 'float':
      return { name, type: AT().FLOAT, f: a.value };
    case 'string':
      return { name, type: AT().STRING, s: new TextEncoder().encode(a.value) };
    case 'ints':
      return { name, type: AT().INTS, ints: [...a.value] };
    case 'floats':
      return { name, type: AT().FLOATS, floats: [...a.value] };
    case 'strings':
      return { name, type: AT().STRINGS, strings: a.value.map((s) => new TextEncoder().encode(s)) };
  }
}

export function toModelProto(graph: Graph, opts: SerializeOptions = {}): OnnxNs.IModelProto {
  const initializer: OnnxNs.ITensorProto[] = graph.initializers.map(({ value, data }) => {
    const base: OnnxNs.ITensorProto = { name: value.name, dataType: onnxTypeCode(value.dtype), dims: [...(value.shape as number[])] };
    if (data.kind === 'inline') return { ...base, rawData: data.bytes };
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: data.location },
        { key: 'offset', value: String(data.offset) },
        { key: 'length', value: String(data.length) },
      ],
    };
  });
  const node: OnnxNs.INodeProto[] = graph.nodes.map((n) => ({
    name: n.name,
    opType: n.op,
    domain: n.domain,
    input: n.inputs.map((v) => (v ? v.name : '')),
    output: n.outputs.map((v) => v.name),
    attribute: Object.entries(n.attrs).map(([k, a]) => attributeProto(k, a)),
  }));
  return {
    irVersion: IR_VERSION,
    producerName: 'deepen',
    producerVersion: opts.producerVersion ?? '0',
    docString: opts.docString,
    opsetImport: [...graph.opsets].map(([domain, version]) => ({ domain, version })),
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name,
      node,
      initializer,
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  };
}

/** Serialized ModelProto bytes, ready to write next to the weights file. */
export function serializeModel(graph: Graph, opts: SerializeOptions = {}): Uint8Array {
  const proto = toModelProto(graph, opts);
  const err = onnx.ModelProto.verify(proto);
  if (err) throw new Error(`ModelProto is invalid: ${err}`);
  return onnx.ModelProto.encode(onnx.ModelProto.create(proto)).finish();
}

/** Decode bytes back into a plain object (tests and debugging). */
export function decodeModel(bytes: Uint8Array): OnnxNs.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
