// The fast layout of an expanded checkpoint: every base shard is copied whole
// by the operating system (fs.copyFile: a reflink where the file system has
// one, copy_file_range on Linux, copyfile/clonefile on macOS, CopyFileW on
// Windows), then its header is rewritten in place with the renumbered names.
// safetensors lets tensors sit anywhere in the data section, so the bytes stay
// where they were and only the names in the header change; the new blocks go to
// shards of their own.
//
// The new header must fit in the old header's bytes (padded with spaces, which
// the format allows), because the data section cannot move. Renumbering can
// lengthen names (block 9 → 11), so when it does not fit, our own metadata is
// left out of that shard first, then the last tensors of the data section are
// cut off (the copy is truncated) and written with the new blocks instead.
import type { SafetensorsFile } from './safetensors-reader';
import type { Checkpoint } from './checkpoint';

/** Below this many bytes of weights a single packed file is nicer than speed. */
export const VERBATIM_MIN_BYTES = 256 * 2 ** 20;

export interface VerbatimTensor {
  /** output name */
  name: string;
  /** base tensor name */
  source: string;
  length: number;
}

export interface VerbatimShard {
  source: SafetensorsFile;
  /** the new header JSON, padded with spaces to exactly `source.headerLength` bytes */
  header: Buffer;
  /** bytes of the data section kept; the copy is truncated at 8 + headerLength + dataBytes */
  dataBytes: number;
  /** in data order */
  tensors: VerbatimTensor[];
}

export interface VerbatimMetadata {
  /** the base's `__metadata__` (kept whenever present: transformers checks its "format") */
  base: Record<string, string>;
  /** ours, added when it fits */
  extra: Record<string, string>;
}

/**
 * Plans a verbatim shard for every base file that can keep at least half of its
 * data in place. `rename` maps each base tensor to its output name (undefined:
 * not kept). Shards whose data exceed `maxShardBytes` are not copied whole.
 */
export function planVerbatimShards(ckpt: Pick<Checkpoint, 'files' | 'tensors'>, rename: (source: string) => string | undefined, metadata: VerbatimMetadata, maxShardBytes: number): VerbatimShard[] {
  const shards: VerbatimShard[] = [];
  for (const file of ckpt.files) {
    const dataBytes = file.fileSize - file.dataStart;
    if (dataBytes > maxShardBytes || dataBytes <= 0) continue;
    // The run of tensors, in data order, that starts at byte 0, is contiguous,
    // and is exactly what the checkpoint uses (a tensor the index places in
    // another file, or bytes no tensor covers, end the run).
    const run: { name: string; source: string; entry: string; length: number }[] = [];
    let end = 0;
    for (const t of file.tensors) { // in data order (the reader sorts them)
      const begin = t.offset - file.dataStart;
      const used = ckpt.tensors.get(t.name);
      const name = rename(t.name);
      if (begin !== end || !used || used.file !== t.file || used.offset !== t.offset || name === undefined) break;
      const entry = `${JSON.stringify(name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [begin, begin + t.length] })}`;
      run.push({ name, source: t.name, entry, length: t.length });
      end = begin + t.length;
    }
    const fit = longestFit(run, metadata, file.headerLength);
    if (!fit) continue;
    const kept = run.slice(0, fit.count);
    const bytes = kept.reduce((s, t) => s + t.length, 0);
    if (bytes * 2 < dataBytes) continue; // copying the rest only to cut it off would waste more than it saves
    const json = `{${[...(fit.meta ? [fit.meta] : []), ...kept.map((t) => t.entry)].join(',')}}`;
    shards.push({
      source: file,
      header: Buffer.from(json + ' '.repeat(file.headerLength - Buffer.byteLength(json))),
      dataBytes: bytes,
      tensors: kept.map(({ name, source, length }) => ({ name, source, length })),
    });
  }
  return shards;
}

/** The most tensors (a prefix of `run`) whose header fits in `limit` bytes, preferring our metadata included. */
function longestFit(run: { entry: string }[], metadata: VerbatimMetadata, limit: number): { count: number; meta: string | null } | null {
  const metaEntry = (m: Record<string, string>) => (Object.keys(m).length ? `"__metadata__":${JSON.stringify(m)}` : null);
  const candidates = [metaEntry({ ...metadata.base, ...metadata.extra }), metaEntry(metadata.base)];
  let best: { count: number; meta: string | null } | null = null;
  for (const meta of candidates) {
    // bytes of "{" + meta + "," + e1 + "," + … + "}"
    let bytes = 2 + (meta ? Buffer.byteLength(meta) : 0);
    let count = 0;
    for (const t of run) {
      const add = Buffer.byteLength(t.entry) + (count > 0 || meta ? 1 : 0);
      if (bytes + add > limit) break;
      bytes += add;
      count++;
    }
    if (count > 0 && (!best || count > best.count)) best = { count, meta };
  }
  return best;
}
