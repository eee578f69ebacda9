// .parquet files through hyparquet, one row group at a time (memory bounded
// by the largest row group, not the file). Only the columns a mapping needs
// are decoded. Columns a mapping names must hold text (or, for chat, a list
// of turns); anything else is refused up front with the column's type.
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type Compressors, type FileMetaData, type SchemaElement } from 'hyparquet';
import { DeepenError } from '../../../shared/errors';
import type { RowSink, SourceOptions } from './source-types';

export interface ParquetColumn {
  name: string;
  /** physical type of a leaf column, or 'group' for structs and lists */
  type: string;
  annotation: string | null;
}

// Node has gzip and brotli built in; snappy is hyparquet's own. ZSTD and LZ4 need native codecs we do not ship.
const compressors: Compressors = {
  GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(zlib.brotliDecompressSync(input)),
};

export async function openParquet(file: string): Promise<{ buffer: AsyncBuffer; metadata: FileMetaData }> {
  const buffer = await asyncBufferFromFile(file);
  try {
    return { buffer, metadata: await parquetMetadataAsync(buffer) };
  } catch (err) {
    throw new DeepenError('bad_file', `${file} is not a readable parquet file (${(err as Error).message}). Check that the download finished, or export the data as JSON Lines.`, { file });
  }
}

/** The top-level columns with their types (the schema list is depth-first; children follow their group). */
export function topLevelColumns(metadata: FileMetaData): ParquetColumn[] {
  const schema = metadata.schema;
  const out: ParquetColumn[] = [];
  let i = 1;
  const skip = (idx: number): number => {
    let next = idx + 1;
    for (let k = 0; k < (schema[idx].num_children ?? 0); k++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    const el: SchemaElement = schema[i];
    out.push({ name: el.name, type: el.num_children ? 'group' : (el.type ?? 'unknown'), annotation: el.logical_type?.type ?? el.converted_type ?? null });
    i = skip(i);
  }
  return out;
}

/** Refuses mapped columns that cannot hold text before any row is read. */
export function checkParquetColumns(file: string, columns: ParquetColumn[], text: string[], lists: string[]): void {
  for (const name of [...text, ...lists]) {
    const col = columns.find((c) => c.name === name);
    if (!col) {
      throw new DeepenError('bad_request', `${file} has no column "${name}". Its columns are: ${columns.map((c) => c.name).join(', ')}. Map the fields by hand.`, { file });
    }
    const isList = lists.includes(name);
    const ok = isList ? col.type === 'group' : col.type === 'BYTE_ARRAY' && !['BSON', 'DECIMAL', 'UUID', 'GEOMETRY', 'GEOGRAPHY', 'VARIANT'].includes(col.annotation ?? '');
    if (!ok) {
      const what = `${col.type}${col.annotation ? ` (${col.annotation})` : ''}`;
      throw new DeepenError(
        'unsupported',
        `${file}: column "${name}" has the parquet type ${what}, which Deepen cannot import as ${isList ? 'a list of chat turns' : 'text'}. ` +
          `Map a ${isList ? 'list-of-struct' : 'string (BYTE_ARRAY/UTF8)'} column instead, or convert the file to JSON Lines.`,
        { file, column: name, type: what },
      );
    }
  }
}

function explain(file: string, err: unknown): DeepenError {
  if (err instanceof DeepenError) return err;
  const message = (err as Error).message ?? String(err);
  if (/unsupported|not supported|unhandled/i.test(message)) {
    return new DeepenError(
      'unsupported',
      `${file} uses a parquet feature Deepen cannot read (${message}). Re-save it with snappy compression and plain string columns (pandas: df.to_parquet(path, compression="snappy")), or export it as JSON Lines.`,
      { file },
    );
  }
  return new DeepenError('bad_file', `${file} could not be read as parquet (${message}). The file may be damaged or cut short.`, { file });
}

/** Reads rows; `columns` limits decoding to what the mapping uses (all when undefined). */
export async function readParquetFile(
  file: string,
  label: string,
  opts: SourceOptions & { columns?: string[]; maxRows?: number },
  sink: RowSink,
): Promise<void> {
  const { buffer, metadata } = await openParquet(file);
  const totalRows = Number(metadata.num_rows);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const n = Number(group.num_rows);
    const rowEnd = Math.min(rowStart + n, opts.maxRows !== undefined ? opts.maxRows : Infinity);
    if (rowEnd <= rowStart) break;
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, columns: opts.columns, compressors });
    } catch (err) {
      throw explain(file, err);
    }
    for (let i = 0; i < rows.length; i++) sink.row(rows[i], rowStart + i + 1, label);
    rowStart += n;
    await sink.tick(totalRows ? Math.round((buffer.byteLength * Math.min(rowStart, totalRows)) / totalRows) : buffer.byteLength);
  }
}
