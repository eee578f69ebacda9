// A tiny parquet writer for tests: one row group, REQUIRED flat columns,
// PLAIN encoding, one data page (v1) per column. Enough to produce real files
// for the importer, including ones with types and codecs it must refuse.
// Layout: "PAR1" | column chunks | FileMetaData (thrift compact) | length | "PAR1".

type ThriftValue =
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number }
  | { t: 'bin'; v: Buffer | string }
  | { t: 'struct'; v: [number, ThriftValue][] }
  | { t: 'list'; elem: 'i32' | 'bin' | 'struct'; v: ThriftValue[] };

const TYPE_CODE = { i32: 5, i64: 6, bin: 8, list: 9, struct: 12 } as const;

function varint(n: bigint, out: number[]): void {
  let x = n;
  while (x >= 0x80n) {
    out.push(Number((x & 0x7fn) | 0x80n));
    x >>= 7n;
  }
  out.push(Number(x));
}
const zigzag = (n: number) => (BigInt(n) << 1n) ^ (BigInt(n) >> 63n);

function writeValue(v: ThriftValue, out: number[]): void {
  switch (v.t) {
    case 'i32':
    case 'i64':
      varint(zigzag(v.v), out);
      break;
    case 'bin': {
      const b = typeof v.v === 'string' ? Buffer.from(v.v) : v.v;
      varint(BigInt(b.length), out);
      out.push(...b);
      break;
    }
    case 'list':
      if (v.v.length < 15) out.push((v.v.length << 4) | TYPE_CODE[v.elem]);
      else {
        out.push(0xf0 | TYPE_CODE[v.elem]);
        varint(BigInt(v.v.length), out);
      }
      for (const e of v.v) writeValue(e, out);
      break;
    case 'struct': {
      let last = 0;
      for (const [id, fv] of v.v) {
        const delta = id - last;
        if (delta > 0 && delta <= 15) out.push((delta << 4) | TYPE_CODE[fv.t]);
        else {
          out.push(TYPE_CODE[fv.t]);
          varint(zigzag(id), out);
        }
        writeValue(fv, out);
        last = id;
      }
      out.push(0);
      break;
    }
  }
}

const i32 = (v: number): ThriftValue => ({ t: 'i32', v });
const i64 = (v: number): ThriftValue => ({ t: 'i64', v });
const bin = (v: Buffer | string): ThriftValue => ({ t: 'bin', v });
const struct = (...v: [number, ThriftValue][]): ThriftValue => ({ t: 'struct', v });

export type TestColumn =
  | { name: string; type: 'string'; values: string[] }
  | { name: string; type: 'int32'; values: number[] }
  | { name: string; type: 'interval'; values: Buffer[] };

const PHYSICAL = { string: 6, int32: 1, interval: 7 } as const;
const CONVERTED: Record<string, number | undefined> = { string: 0, interval: 21 };

function plain(col: TestColumn): Buffer {
  if (col.type === 'string') return Buffer.concat(col.values.map((s) => {
    const b = Buffer.from(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([len, b]);
  }));
  if (col.type === 'int32') return Buffer.concat(col.values.map((n) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return b;
  }));
  return Buffer.concat(col.values);
}

/** codec: 0 uncompressed (default); 6 (ZSTD) writes the bytes uncompressed but labelled ZSTD, to test refusal. */
export function writeParquet(columns: TestColumn[], opts: { codec?: number } = {}): Buffer {
  const rows = columns[0].values.length;
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const chunks: ThriftValue[] = [];
  for (const col of columns) {
    const data = plain(col);
    const header: number[] = [];
    writeValue(struct([1, i32(0)], [2, i32(data.length)], [3, i32(data.length)], [5, struct([1, i32(rows)], [2, i32(0)], [3, i32(3)], [4, i32(3)])]), header);
    const page = Buffer.concat([Buffer.from(header), data]);
    chunks.push(
      struct(
        [2, i64(offset)],
        [
          3,
          struct(
            [1, i32(PHYSICAL[col.type])],
            [2, { t: 'list', elem: 'i32', v: [i32(0)] }],
            [3, { t: 'list', elem: 'bin', v: [bin(col.name)] }],
            [4, i32(opts.codec ?? 0)],
            [5, i64(rows)],
            [6, i64(page.length)],
            [7, i64(page.length)],
            [9, i64(offset)],
          ),
        ],
      ),
    );
    parts.push(page);
    offset += page.length;
  }
  const schema: ThriftValue[] = [struct([4, bin('schema')], [5, i32(columns.length)])];
  for (const col of columns) {
    const fields: [number, ThriftValue][] = [[1, i32(PHYSICAL[col.type])]];
    if (col.type === 'interval') fields.push([2, i32(12)]);
    fields.push([3, i32(0)], [4, bin(col.name)]);
    if (CONVERTED[col.type] !== undefined) fields.push([6, i32(CONVERTED[col.type]!)]);
    schema.push(struct(...fields));
  }
  const meta: number[] = [];
  writeValue(
    struct(
      [1, i32(1)],
      [2, { t: 'list', elem: 'struct', v: schema }],
      [3, i64(rows)],
      [4, { t: 'list', elem: 'struct', v: [struct([1, { t: 'list', elem: 'struct', v: chunks }], [2, i64(offset - 4)], [3, i64(rows)])] }],
    ),
    meta,
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(meta.length);
  parts.push(Buffer.from(meta), len, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}
