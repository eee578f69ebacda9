// What an import would do, before it runs: the format, the fields, the
// guessed kind and mapping, the first records as they would be stored and
// the problems found in the first lines.
import type { DatasetKind, FieldMapping, ImportPreview, PreviewParams, RecordContent, SkippedLine } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import { DEFAULT_MAX_RECORD_BYTES } from './line-reader';
import { applyMapping, describeMapping, detectMapping, MappingError } from './mapping';
import { openSource } from './sources';
import { StopReading } from './source-types';

const SHORT = 400;

/** Rows as JSON-safe values with long strings cut (bigint and binary from parquet included). */
export function shorten(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return v.length > SHORT ? `${v.slice(0, SHORT)}…` : v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `(${v.length} bytes)`;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return depth > 4 ? '[…]' : v.slice(0, 20).map((x) => shorten(x, depth + 1));
  if (v && typeof v === 'object') {
    if (depth > 4) return '{…}';
    return Object.fromEntries(Object.entries(v).slice(0, 50).map(([k, x]) => [k, shorten(x, depth + 1)]));
  }
  return v;
}

export async function previewImport(p: PreviewParams): Promise<ImportPreview> {
  if (typeof p.path !== 'string' || !p.path.trim()) throw new DeepenError('bad_request', 'Give the path of a file or folder to import.');
  const limit = Math.max(1, Math.min(200, p.limit ?? 20));
  const source = await openSource({ ...p, maxRecordBytes: DEFAULT_MAX_RECORD_BYTES });
  const rows: Record<string, unknown>[] = [];
  const lines: number[] = [];
  const docs: string[] = [];
  const problems: SkippedLine[] = [];
  const sink = {
    row: (value: Record<string, unknown>, line: number) => {
      rows.push(value);
      lines.push(line);
      if (rows.length >= limit) throw new StopReading();
    },
    doc: (text: string) => {
      docs.push(text);
      if (docs.length >= limit) throw new StopReading();
    },
    problem: (line: number, reason: string, file: string) => {
      if (problems.length < 50) problems.push({ file, line, reason });
    },
    // a preview looks at the start of a file only
    tick: (bytes: number) => {
      if (bytes > 64 << 20) throw new StopReading();
    },
  };
  try {
    await source.read(sink, null, limit);
  } catch (err) {
    if (!(err instanceof StopReading)) throw err;
  }

  if (source.documents) {
    return {
      path: source.path,
      format: source.format,
      bytes: source.bytes,
      files: source.files?.length ?? null,
      fields: [],
      kind: 'text',
      mapping: null,
      raw: docs.map((d) => shorten(d)),
      records: docs.map((text) => ({ kind: 'text', text: shorten(text) as string })),
      problems,
      note: source.format === 'folder' ? `${source.files!.length} files, one record each.` : null,
    };
  }

  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  let chosen: { kind: DatasetKind; mapping: FieldMapping } | null = p.mapping ? { kind: p.mapping.kind, mapping: p.mapping } : detectMapping(rows, p.kind);
  let note: string | null = null;
  if (!rows.length) note = problems.length ? 'No readable rows in the first lines: see the problems below.' : 'The file holds no rows.';
  else if (!chosen) {
    note = `No ${p.kind ? `${p.kind} ` : ''}fields were recognized among: ${fields.join(', ')}. Map the fields by hand.`;
    chosen = null;
  }
  const records: (RecordContent | null)[] = rows.map((r, i) => {
    if (!chosen) return null;
    try {
      const c = applyMapping(r, chosen.mapping);
      return c.kind === 'text' ? { ...c, text: shorten(c.text) as string } : c;
    } catch (err) {
      if (err instanceof MappingError && problems.length < 50) problems.push({ file: p.path, line: lines[i], reason: err.message });
      return null;
    }
  });
  if (chosen && !note) note = `Mapping: ${describeMapping(chosen.mapping)}.`;
  return {
    path: source.path,
    format: source.format,
    bytes: source.bytes,
    files: null,
    fields,
    kind: chosen?.kind ?? null,
    mapping: chosen?.mapping ?? null,
    raw: rows.map((r) => shorten(r)),
    records,
    problems,
    note,
  };
}
