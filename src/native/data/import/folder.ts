// A folder of source files as a code corpus: every file with a chosen
// extension is one text record, its path relative to the folder kept as the
// record's origin. Hidden folders, dependency and build folders are skipped;
// binary and non-UTF-8 files are reported, not imported.
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeUtf8, invalidUtf8Reason, mb, type RowSink, type SourceOptions } from './source-types';

export const DEFAULT_CODE_EXTENSIONS = [
  '.py', '.js', '.mjs', '.cjs', '.ts', '.tsx', '.jsx', '.vue', '.java', '.kt', '.scala', '.go', '.rs', '.c', '.h', '.cc', '.cpp', '.hpp',
  '.cs', '.swift', '.rb', '.php', '.lua', '.r', '.jl', '.sh', '.sql', '.html', '.css', '.md', '.txt', '.tex', '.json', '.yaml', '.yml', '.toml',
];
const SKIPPED_DIRS = new Set(['node_modules', '__pycache__', 'target', 'dist', 'build', 'out', 'venv', '.venv']);

export function normalizeExtensions(exts: string[] | undefined): string[] {
  const list = exts?.length ? exts : DEFAULT_CODE_EXTENSIONS;
  return [...new Set(list.map((e) => e.trim().toLowerCase()).filter(Boolean).map((e) => (e.startsWith('.') ? e : `.${e}`)))];
}

export interface FolderFile {
  rel: string;
  abs: string;
  size: number;
}

/** The files an import would take, sorted by path (so re-imports see the same order). */
export async function listFolderFiles(root: string, extensions: string[]): Promise<FolderFile[]> {
  const exts = new Set(normalizeExtensions(extensions));
  const out: FolderFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name)) await walk(abs);
      } else if (e.isFile() && exts.has(path.extname(e.name).toLowerCase())) {
        out.push({ rel: path.relative(root, abs).split(path.sep).join('/'), abs, size: (await fs.stat(abs)).size });
      }
    }
  };
  await walk(root);
  return out;
}

export async function readFolder(files: FolderFile[], opts: SourceOptions, sink: RowSink): Promise<void> {
  let done = 0;
  for (const f of files) {
    done += f.size;
    if (f.size > opts.maxRecordBytes) {
      sink.problem(1, `the file is ${mb(f.size)}, longer than the ${mb(opts.maxRecordBytes)} limit for one record: it was not read`, f.rel);
    } else if (f.size > 0) {
      const bytes = await fs.readFile(f.abs);
      if (bytes.includes(0)) sink.problem(1, 'the file contains NUL bytes: it looks binary, not source text', f.rel);
      else {
        const text = decodeUtf8(bytes);
        if (text === null) sink.problem(1, invalidUtf8Reason(bytes).replace('of the line', 'of the file'), f.rel);
        else if (text.trim()) sink.doc(text.replace(/^\uFEFF/, ''), 1, f.rel);
      }
    }
    await sink.tick(done);
  }
}
