// A streaming safetensors writer. The header (names, dtypes, shapes, offsets)
// comes first in each file, so the caller declares every tensor up front;
// bytes then arrive in chunks of any size and go straight to their place on
// disk. Past a size limit the output is sharded the way Hugging Face does it
// (`model-00001-of-00003.safetensors` + `model.safetensors.index.json`).
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { dtypeBytes, elementCount, type Dtype } from './dtypes';
import { writeFully } from '../fs-write';
import { nodeFs, type FsLayer, type WritableFile } from './fs-layer';
import { INDEX_FILE, SINGLE_FILE } from './safetensors-index';

/** HF's default `max_shard_size` ("5GB" = 5·10⁹ bytes). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: number[];
}

export interface WriterOptions {
  /** a shard's data section is kept under this, unless one tensor alone is larger */
  maxShardBytes?: number;
  /** written as `__metadata__` in every file (string → string) */
  metadata?: Record<string, string>;
  fs?: FsLayer;
  /** fsync each file before closing it (slower; the expansion renames its folder only after success anyway) */
  sync?: boolean;
  /** the name of shard `index` of `count` (default shardFileName); lets a caller number these shards after its own */
  fileName?: (index: number, count: number) => string;
  /** write model.safetensors.index.json when sharded (default true; off when the caller writes one index for more files) */
  writeIndex?: boolean;
}

interface PlannedTensor {
  spec: TensorSpec;
  shard: number;
  /** offsets inside the shard's data section */
  begin: number;
  end: number;
}

export interface ShardLayout {
  file: string;
  /** header JSON padded with spaces to a multiple of 8 bytes, as HF does */
  header: Buffer;
  dataBytes: number;
  tensors: PlannedTensor[];
}

export function specBytes(spec: TensorSpec): number {
  const n = elementCount(spec.shape);
  if (n === null || !Number.isSafeInteger(n * dtypeBytes[spec.dtype])) {
    throw new DeepenError('bad_request', `Tensor "${spec.name}" with shape [${spec.shape.join(', ')}] is too large to write.`, { tensor: spec.name });
  }
  return n * dtypeBytes[spec.dtype];
}

export function shardFileName(index: number, count: number): string {
  if (count === 1) return SINGLE_FILE;
  const pad = (n: number) => String(n).padStart(5, '0');
  return `model-${pad(index + 1)}-of-${pad(count)}.safetensors`;
}

/** The start of a safetensors file: the header's length (u64, little-endian), then the header. */
export function fileHead(header: Buffer): Buffer {
  const head = Buffer.alloc(8 + header.length);
  head.writeBigUInt64LE(BigInt(header.length));
  header.copy(head, 8);
  return head;
}

/** `model.safetensors.index.json` as Hugging Face writes it: names in order, total data bytes. */
export function indexJson(weightMap: Map<string, string>, totalSize: number): string {
  const sorted: Record<string, string> = Object.create(null);
  for (const name of [...weightMap.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) sorted[name] = weightMap.get(name)!;
  return JSON.stringify({ metadata: { total_size: totalSize }, weight_map: sorted }, null, 2) + '\n';
}

/** Assigns tensors (in the given order) to shards and builds each shard's header. */
export function planShards(specs: TensorSpec[], opts: Pick<WriterOptions, 'maxShardBytes' | 'metadata' | 'fileName'> = {}): ShardLayout[] {
  const limit = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(limit > 0)) throw new DeepenError('bad_request', `maxShardBytes must be positive, got ${limit}.`);
  const seen = new Set<string>();
  const groups: PlannedTensor[][] = [[]];
  let used = 0;
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new DeepenError('bad_request', `Tensor "${spec.name}" is listed twice for writing.`, { tensor: spec.name });
    if (spec.name === '__metadata__' || !spec.name) throw new DeepenError('bad_request', `"${spec.name}" is not a valid tensor name.`);
    seen.add(spec.name);
    const bytes = specBytes(spec);
    let group = groups[groups.length - 1];
    if (group.length && used + bytes > limit) {
      group = [];
      groups.push(group);
      used = 0;
    }
    group.push({ spec, shard: groups.length - 1, begin: used, end: used + bytes });
    used += bytes;
  }
  return groups.map((tensors, i) => {
    // No prototype: a tensor named "__proto__" must become a key, not a prototype.
    const header: Record<string, unknown> = Object.create(null);
    if (opts.metadata && Object.keys(opts.metadata).length) header.__metadata__ = opts.metadata;
    for (const t of tensors) header[t.spec.name] = { dtype: t.spec.dtype, shape: t.spec.shape, data_offsets: [t.begin, t.end] };
    let json = JSON.stringify(header);
    const bytes = Buffer.byteLength(json);
    json += ' '.repeat((8 - (bytes % 8)) % 8);
    return { file: (opts.fileName ?? shardFileName)(i, groups.length), header: Buffer.from(json), dataBytes: tensors.length ? tensors[tensors.length - 1].end : 0, tensors };
  });
}

/**
 * Writes tensors in the declared order: beginTensor(name), write(chunk)…,
 * endTensor(), or writeTensor(name, bytes). finish() checks that everything
 * declared was written and writes the index when sharded. On failure the
 * caller calls abort() and removes the folder.
 */
export class SafetensorsWriter {
  readonly shards: ShardLayout[];
  private readonly fs: FsLayer;
  private readonly order: PlannedTensor[];
  private next = 0; // index in `order` of the next tensor to begin
  private current: { t: PlannedTensor; done: number } | null = null;
  private open: { shard: number; file: WritableFile } | null = null;
  bytesWritten = 0;

  private constructor(
    readonly dir: string,
    specs: TensorSpec[],
    private readonly opts: WriterOptions,
  ) {
    this.fs = opts.fs ?? nodeFs;
    this.shards = planShards(specs, opts);
    this.order = this.shards.flatMap((s) => s.tensors);
  }

  /** `dir` must exist (the caller owns it, usually a fresh temp folder). */
  static create(dir: string, specs: TensorSpec[], opts: WriterOptions = {}): SafetensorsWriter {
    return new SafetensorsWriter(dir, specs, opts);
  }

  get totalDataBytes(): number {
    return this.shards.reduce((s, sh) => s + sh.dataBytes, 0);
  }

  /** bytes the files will take: headers + data (+ the index, roughly) */
  get totalFileBytes(): number {
    return this.shards.reduce((s, sh) => s + 8 + sh.header.length + sh.dataBytes, 0);
  }

  async beginTensor(name: string): Promise<void> {
    if (this.current) throw new DeepenError('internal', `beginTensor("${name}") while "${this.current.t.spec.name}" is unfinished.`);
    const t = this.order[this.next];
    if (!t || t.spec.name !== name) {
      throw new DeepenError('internal', `Tensors must be written in the declared order: expected "${t?.spec.name ?? '(none left)'}", got "${name}".`, { tensor: name });
    }
    if (this.open?.shard !== t.shard) {
      await this.closeShard();
      await this.openShard(t.shard);
    }
    this.current = { t, done: 0 };
    this.next++;
  }

  async write(chunk: Buffer, offset = 0, length = chunk.length - offset): Promise<void> {
    const cur = this.current;
    if (!cur || !this.open) throw new DeepenError('internal', 'write() outside beginTensor()/endTensor().');
    const size = cur.t.end - cur.t.begin;
    if (cur.done + length > size) {
      throw new DeepenError('internal', `Too many bytes for tensor "${cur.t.spec.name}": ${cur.done + length} > ${size}.`, { tensor: cur.t.spec.name });
    }
    const shard = this.shards[cur.t.shard];
    const position = 8 + shard.header.length + cur.t.begin + cur.done;
    await this.writeAll(this.open.file, chunk, offset, length, position, cur.t.spec.name);
    cur.done += length;
    this.bytesWritten += length;
  }

  /**
   * Leaves the next `length` bytes of the current tensor as zeros without
   * writing them: the file is extended over them when its shard closes, so the
   * file system keeps a hole (the new blocks' zeroed projections cost no I/O).
   */
  skip(length: number): void {
    const cur = this.current;
    if (!cur) throw new DeepenError('internal', 'skip() outside beginTensor()/endTensor().');
    if (cur.done + length > cur.t.end - cur.t.begin) throw new DeepenError('internal', `Too many bytes for tensor "${cur.t.spec.name}".`, { tensor: cur.t.spec.name });
    cur.done += length;
    this.bytesWritten += length;
  }

  async endTensor(): Promise<void> {
    const cur = this.current;
    if (!cur) throw new DeepenError('internal', 'endTensor() without beginTensor().');
    const size = cur.t.end - cur.t.begin;
    if (cur.done !== size) {
      throw new DeepenError('internal', `Tensor "${cur.t.spec.name}" got ${cur.done} of its ${size} bytes.`, { tensor: cur.t.spec.name });
    }
    this.current = null;
  }

  async writeTensor(name: string, data: Buffer): Promise<void> {
    await this.beginTensor(name);
    await this.write(data);
    await this.endTensor();
  }

  /** Closes the last shard and writes the index if there is more than one. Returns the files written. */
  async finish(): Promise<string[]> {
    if (this.current || this.next < this.order.length) {
      const missing = this.current?.t.spec.name ?? this.order[this.next].spec.name;
      throw new DeepenError('internal', `finish() before every tensor was written (next: "${missing}").`, { tensor: missing });
    }
    await this.closeShard();
    // A shard with no tensors is never opened by the loop above: write it now.
    if (this.order.length === 0) {
      await this.openShard(0);
      await this.closeShard();
    }
    const files = this.shards.map((s) => s.file);
    if (this.shards.length > 1 && this.opts.writeIndex !== false) {
      const text = indexJson(this.weightMap(), this.totalDataBytes);
      await this.wrapIo(INDEX_FILE, undefined, () => this.fs.writeFile(path.join(this.dir, INDEX_FILE), text));
      files.push(INDEX_FILE);
    }
    return files;
  }

  /** tensor name → the file that holds it */
  weightMap(): Map<string, string> {
    return new Map(this.order.map((t) => [t.spec.name, this.shards[t.shard].file]));
  }

  /** Closes any open file; the caller removes the folder. Never throws. */
  async abort(): Promise<void> {
    const open = this.open;
    this.open = null;
    this.current = null;
    await open?.file.close().catch(() => undefined);
  }

  private async openShard(index: number): Promise<void> {
    const shard = this.shards[index];
    const file = await this.wrapIo(shard.file, undefined, () => this.fs.open(path.join(this.dir, shard.file)));
    this.open = { shard: index, file };
    const head = fileHead(shard.header);
    await this.writeAll(file, head, 0, head.length, 0, undefined);
  }

  private async closeShard(): Promise<void> {
    const open = this.open;
    if (!open) return;
    const shard = this.shards[open.shard];
    // the exact length: skipped zeros at the end of the data are a hole until here
    await this.wrapIo(shard.file, undefined, () => open.file.truncate(8 + shard.header.length + shard.dataBytes));
    if (this.opts.sync) await this.wrapIo(shard.file, undefined, () => open.file.sync());
    this.open = null;
    await this.wrapIo(shard.file, undefined, () => open.file.close());
  }

  private async writeAll(file: WritableFile, buf: Buffer, offset: number, length: number, position: number, tensor: string | undefined): Promise<void> {
    const name = this.shards[this.open?.shard ?? 0].file;
    await this.wrapIo(name, tensor, () => writeFully(file, buf.subarray(offset, offset + length), position));
  }

  /** Turns OS errors into DeepenErrors that name the file and tensor. */
  private async wrapIo<T>(file: string, tensor: string | undefined, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (err instanceof DeepenError) throw err;
      const full = path.join(this.dir, file);
      const at = tensor ? ` while writing tensor "${tensor}"` : '';
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new DeepenError('out_of_disk', `The disk filled up writing ${file}${at}. Free some space (or choose an output folder on another disk) and try again.`, {
          file: full,
          tensor,
        });
      }
      throw new DeepenError('internal', `Could not write ${full}${at}: ${(err as Error).message}.`, { file: full, tensor });
    }
  }
}
