// Picks the reader for a path (by extension, or a folder) and runs it.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FieldMapping, ImportFormat, TextSplitMode } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import { readCsvFile } from './csv';
import { listFolderFiles, readFolder, type FolderFile } from './folder';
import { readJsonFile } from './json-stream';
import { mappingFields } from './mapping';
import { checkParquetColumns, openParquet, readParquetFile, topLevelColumns } from './parquet';
import type { RowSink } from './source-types';
import { readJsonLines, readTextFile } from './text-readers';

export const FORMATS: ImportFormat[] = ['text', 'jsonl', 'json', 'csv', 'tsv', 'parquet', 'folder'];

const BY_EXTENSION: Record<string, ImportFormat> = {
  '.txt': 'text',
  '.md': 'text',
  '.markdown': 'text',
  '.text': 'text',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.parquet': 'parquet',
};

export interface SourceSpec {
  path: string;
  format?: ImportFormat;
  textSplit?: TextSplitMode;
  delimiter?: string;
  extensions?: string[];
  maxRecordBytes: number;
}

export interface OpenedSource {
  path: string;
  format: ImportFormat;
  /** bytes the reader will go through (progress) */
  bytes: number;
  files: FolderFile[] | null;
  /** true when records are plain documents (no mapping) */
  documents: boolean;
  /** runs the reader; `mapping` lets parquet decode only the columns it needs */
  read(sink: RowSink, mapping?: FieldMapping | null, maxRows?: number): Promise<void>;
}

export async function openSource(spec: SourceSpec): Promise<OpenedSource> {
  const file = path.resolve(spec.path);
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new DeepenError('not_found', `${spec.path} does not exist. Check the path.`, { file });
  }
  let format = spec.format;
  if (format && !FORMATS.includes(format)) throw new DeepenError('bad_request', `Unknown format "${format}". Use one of ${FORMATS.join(', ')}.`);
  if (stat.isDirectory()) {
    if (format && format !== 'folder') throw new DeepenError('bad_request', `${spec.path} is a folder; import it with the folder format (a code corpus), or pick a file in it.`);
    const files = await listFolderFiles(file, spec.extensions ?? []);
    if (!files.length) {
      throw new DeepenError('bad_file', `${spec.path} has no files with the extensions ${(spec.extensions ?? []).join(' ') || '(the default code extensions)'}. Pick other extensions.`, { file });
    }
    const bytes = files.reduce((s, f) => s + f.size, 0);
    return { path: file, format: 'folder', bytes, files, documents: true, read: (sink) => readFolder(files, { maxRecordBytes: spec.maxRecordBytes }, sink) };
  }
  if (!stat.isFile()) throw new DeepenError('bad_request', `${spec.path} is not a regular file.`, { file });
  format ??= BY_EXTENSION[path.extname(file).toLowerCase()];
  if (!format) {
    throw new DeepenError(
      'unsupported',
      `Deepen does not know the format of ${path.basename(file)} from its extension. Pick a format: ${FORMATS.filter((f) => f !== 'folder').join(', ')}.`,
      { file },
    );
  }
  if (format === 'folder') throw new DeepenError('bad_request', `${spec.path} is a file, not a folder.`);
  if (stat.size === 0) throw new DeepenError('bad_file', `${spec.path} is empty: there is nothing to import. Check that it was saved or downloaded completely.`, { file });
  const label = spec.path;
  const opts = { maxRecordBytes: spec.maxRecordBytes };
  const fmt = format;
  const read = async (sink: RowSink, mapping?: FieldMapping | null, maxRows?: number) => {
    switch (fmt) {
      case 'text':
        return readTextFile(file, label, spec.textSplit ?? 'paragraph', opts, sink);
      case 'jsonl':
        return readJsonLines(file, label, opts, sink);
      case 'json':
        return readJsonFile(file, label, opts, sink);
      case 'csv':
      case 'tsv':
        return readCsvFile(file, label, { ...opts, delimiter: spec.delimiter ?? (fmt === 'tsv' ? '\t' : ',') }, sink);
      case 'parquet': {
        let columns: string[] | undefined;
        if (mapping) {
          const { metadata } = await openParquet(file);
          const need = mappingFields(mapping);
          checkParquetColumns(label, topLevelColumns(metadata), need.text, need.lists);
          columns = [...need.text, ...need.lists];
        }
        return readParquetFile(file, label, { ...opts, columns, maxRows }, sink);
      }
    }
  };
  return { path: file, format, bytes: stat.size, files: null, documents: format === 'text', read };
}
