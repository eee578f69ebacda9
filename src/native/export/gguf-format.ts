// GGUF v3 encoding (the llama.cpp model file): a header of typed key/values
// and tensor descriptions, then the tensor data, each aligned to 32 bytes.
// Only what the exporter needs: scalar, string and array values; F32, F16
// and Q8_0 tensors.

import { f32ToF16Bits } from '../onnx/graph';

export const GGUF_ALIGNMENT = 32;

export type GgmlType = 'f32' | 'f16' | 'q8_0';
const ggmlTypeCode: Record<GgmlType, number> = { f32: 0, f16: 1, q8_0: 8 };

/** Q8_0: blocks of 32 values, each an fp16 scale followed by 32 int8. */
export const Q8_0_BLOCK = 32;
const Q8_0_BYTES = 2 + Q8_0_BLOCK;

export function tensorBytes(type: GgmlType, count: number): number {
  if (type === 'f32') return count * 4;
  if (type === 'f16') return count * 2;
  return (count / Q8_0_BLOCK) * Q8_0_BYTES;
}

export type KvValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'strings'; value: readonly string[] }
  | { type: 'f32s'; value: ArrayLike<number> }
  | { type: 'i32s'; value: ArrayLike<number> };

export const kv = {
  u32: (value: number): KvValue => ({ type: 'u32', value }),
  i32: (value: number): KvValue => ({ type: 'i32', value }),
  f32: (value: number): KvValue => ({ type: 'f32', value }),
  bool: (value: boolean): KvValue => ({ type: 'bool', value }),
  string: (value: string): KvValue => ({ type: 'string', value }),
  strings: (value: readonly string[]): KvValue => ({ type: 'strings', value }),
  f32s: (value: ArrayLike<number>): KvValue => ({ type: 'f32s', value }),
  i32s: (value: ArrayLike<number>): KvValue => ({ type: 'i32s', value }),
};

// GGUF value type codes
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

export interface GgufTensorInfo {
  name: string;
  /** row-major shape as in PyTorch; written reversed (ne[0] is the innermost dim) */
  shape: number[];
  type: GgmlType;
}

/** A growable little-endian byte sink for the header. */
class Sink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number) {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number) {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number) {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number) {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u8(v: number) {
    this.room(1);
    this.buf[this.length++] = v;
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(alignment: number) {
    while (this.length % alignment) this.u8(0);
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(s: Sink, v: KvValue): void {
  switch (v.type) {
    case 'u32':
      s.u32(T.u32);
      return s.u32(v.value);
    case 'i32':
      s.u32(T.i32);
      return s.i32(v.value);
    case 'f32':
      s.u32(T.f32);
      return s.f32(v.value);
    case 'bool':
      s.u32(T.bool);
      return s.u8(v.value ? 1 : 0);
    case 'string':
      s.u32(T.string);
      return s.str(v.value);
    case 'strings':
      s.u32(T.array);
      s.u32(T.string);
      s.u64(v.value.length);
      for (const x of v.value) s.str(x);
      return;
    case 'f32s':
    case 'i32s':
      s.u32(T.array);
      s.u32(v.type === 'f32s' ? T.f32 : T.i32);
      s.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) (v.type === 'f32s' ? s.f32(v.value[i]) : s.i32(v.value[i]));
      return;
  }
}

/** The header (padded to the alignment) and where each tensor's data starts, relative to the data section. */
export function encodeHeader(metadata: Record<string, KvValue>, tensors: GgufTensorInfo[]): { header: Buffer; offsets: number[]; dataBytes: number } {
  const s = new Sink();
  s.u32(0x46554747); // "GGUF"
  s.u32(3);
  s.u64(tensors.length);
  s.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    s.str(key);
    writeValue(s, value);
  }
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    s.str(t.name);
    s.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) s.u64(d);
    s.u32(ggmlTypeCode[t.type]);
    s.u64(offset);
    offsets.push(offset);
    const bytes = tensorBytes(t.type, t.shape.reduce((a, b) => a * b, 1));
    offset += Math.ceil(bytes / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  s.pad(GGUF_ALIGNMENT);
  return { header: s.bytes(), offsets, dataBytes: offset };
}

/** Float32 values encoded as `type` (Q8_0 needs a multiple of 32 values per row, checked by the caller). */
export function encodeTensor(values: Float32Array, type: GgmlType): Buffer {
  if (type === 'f32') return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (type === 'f16') {
    const out = Buffer.alloc(values.length * 2);
    for (let i = 0; i < values.length; i++) out.writeUInt16LE(f32ToF16Bits(values[i]), i * 2);
    return out;
  }
  const blocks = values.length / Q8_0_BLOCK;
  const out = Buffer.alloc(blocks * Q8_0_BYTES);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(values[b * Q8_0_BLOCK + i]));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    out.writeUInt16LE(f32ToF16Bits(d), b * Q8_0_BYTES);
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      const x = Math.fround(values[b * Q8_0_BLOCK + i] * id);
      // roundf: halves away from zero, as llama.cpp's reference quantizer
      out.writeInt8(Math.sign(x) * Math.round(Math.abs(x)), b * Q8_0_BYTES + 2 + i);
    }
  }
  return out;
}
