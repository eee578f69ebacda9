// Finds a checkpoint's tensors in a folder: one `model.safetensors`, or shards
// listed by `model.safetensors.index.json` ({metadata: {total_size}, weight_map:
// {tensor name → shard file}}), as written by Hugging Face `save_pretrained`.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { readSafetensorsFile, type SafetensorsFile, type TensorInfo } from './safetensors-reader';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface TensorSet {
  /** every tensor by exact name */
  tensors: Map<string, TensorInfo>;
  /** the safetensors files read, in name order */
  files: SafetensorsFile[];
  /** the `__metadata__` of the first file (HF writes the same in every shard) */
  metadata: Record<string, string>;
  /** the index file, when the checkpoint is sharded */
  indexFile: string | null;
  /** things that are odd but not fatal, e.g. tensors present in a shard but not in the index */
  warnings: string[];
}

const exists = (p: string) =>
  fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

export async function readTensorSet(dir: string): Promise<TensorSet> {
  const indexPath = path.join(dir, INDEX_FILE);
  if (await exists(indexPath)) return readSharded(dir, indexPath);
  const single = path.join(dir, SINGLE_FILE);
  if (await exists(single)) return fromFiles([await readSafetensorsFile(single)], null, []);

  // Some exporters write shards without an index; take every .safetensors file.
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.safetensors')).sort();
  if (!names.length) {
    throw new DeepenError(
      'not_found',
      `${dir} has no ${SINGLE_FILE} or ${INDEX_FILE}. Deepen reads Hugging Face safetensors checkpoints; convert .bin/.pth weights with transformers' save_pretrained(safe_serialization=True).`,
      { dir },
    );
  }
  const files: SafetensorsFile[] = [];
  for (const n of names) files.push(await readSafetensorsFile(path.join(dir, n)));
  return fromFiles(files, null, [`${dir} has no ${INDEX_FILE}; read all ${names.length} .safetensors files.`]);
}

function fromFiles(files: SafetensorsFile[], indexFile: string | null, warnings: string[]): TensorSet {
  const tensors = new Map<string, TensorInfo>();
  for (const f of files) {
    for (const t of f.tensors) {
      const prev = tensors.get(t.name);
      if (prev) {
        throw new DeepenError('bad_file', `Tensor "${t.name}" appears in both ${path.basename(prev.file)} and ${path.basename(f.file)}. Remove the stray file or re-export the checkpoint.`, {
          tensor: t.name,
          files: [prev.file, f.file],
        });
      }
      tensors.set(t.name, t);
    }
  }
  return { tensors, files, metadata: files[0]?.metadata ?? {}, indexFile, warnings };
}

async function readSharded(dir: string, indexPath: string): Promise<TensorSet> {
  const bad = (what: string, details: Record<string, unknown> = {}) =>
    new DeepenError('bad_file', `${INDEX_FILE} in ${dir} ${what}. Re-download the checkpoint or fix the index.`, { file: indexPath, ...details });
  let index: unknown;
  try {
    index = JSON.parse(await fs.readFile(indexPath, 'utf8'));
  } catch (err) {
    throw bad(`is not valid JSON (${(err as Error).message})`);
  }
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) throw bad('has no "weight_map" object');

  // shard file → tensors the index says it holds
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || !shard) throw bad(`maps tensor "${name}" to ${JSON.stringify(shard)}, not a file name`, { tensor: name });
    // A shard must live in the checkpoint folder: never follow "../" out of it.
    const resolved = path.resolve(dir, shard);
    if (path.dirname(resolved) !== path.resolve(dir)) throw bad(`maps tensor "${name}" to "${shard}", outside the checkpoint folder`, { tensor: name });
    const list = byShard.get(shard) ?? [];
    list.push(name);
    byShard.set(shard, list);
  }
  if (!byShard.size) throw bad('lists no tensors');

  const files: SafetensorsFile[] = [];
  const tensors = new Map<string, TensorInfo>();
  const warnings: string[] = [];
  for (const shard of [...byShard.keys()].sort()) {
    const names = byShard.get(shard)!;
    const shardPath = path.join(dir, shard);
    if (!(await exists(shardPath))) {
      throw new DeepenError(
        'bad_file',
        `Shard ${shard} is missing from ${dir}: ${INDEX_FILE} says it holds ${names.length} tensor(s), e.g. "${names[0]}". Download the missing shard.`,
        { file: shardPath, index: indexPath, tensor: names[0] },
      );
    }
    const file = await readSafetensorsFile(shardPath);
    files.push(file);
    const inFile = new Map(file.tensors.map((t) => [t.name, t]));
    for (const name of names) {
      const t = inFile.get(name);
      if (!t) {
        throw new DeepenError('bad_file', `${INDEX_FILE} says tensor "${name}" is in ${shard}, but ${shard} has no such tensor. The index and shards do not match: re-download the checkpoint.`, {
          file: shardPath,
          index: indexPath,
          tensor: name,
        });
      }
      tensors.set(name, t);
      inFile.delete(name);
    }
    // Loaders follow the index and ignore these, so do we, but say so.
    for (const extra of inFile.keys()) warnings.push(`Tensor "${extra}" is in ${shard} but not in ${INDEX_FILE}; it is ignored.`);
  }
  return { tensors, files, metadata: files[0]?.metadata ?? {}, indexFile: indexPath, warnings };
}
