// Writing large outputs. Positional writes that finish: one write() call may
// write less than asked (Linux writes at most 2,147,479,552 bytes per call, so
// a tensor over 2 GiB always comes back short). And where an output is built
// before it is renamed into place: a hidden sibling that names its target.
import { randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface PositionalWriter {
  /** bytes written, which may be fewer than `length` */
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<number>;
}

export function handleWriter(fh: FileHandle): PositionalWriter {
  return { write: async (buffer, offset, length, position) => (await fh.write(buffer, offset, length, position)).bytesWritten };
}

/** Writes all of `bytes` at `position`, in as many calls as the OS needs. */
export async function writeFully(file: PositionalWriter, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const n = await file.write(bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw new Error(`a write at byte ${position + done} made no progress`);
    done += n;
  }
}

const partialPrefix = (target: string) => `.${path.basename(target)}.deepen-partial-`;

/** Where `target` (a file or folder) is built before it is renamed into place: a hidden sibling. */
export function partialPath(target: string): string {
  const abs = path.resolve(target);
  return path.join(path.dirname(abs), `${partialPrefix(abs)}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Removes what writers of `target` left half-built. A writer removes its own on
 * failure or cancel; this is for one stopped from outside (an OS copy of a
 * large shard can outlast the cancel grace period) or one that crashed.
 * Returns what it removed.
 */
export async function removePartialOutputs(target: string): Promise<string[]> {
  const abs = path.resolve(target);
  const parent = path.dirname(abs);
  const names = (await fs.readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(partialPrefix(abs)));
  const removed: string[] = [];
  for (const n of names) {
    const p = path.join(parent, n);
    if (await fs.rm(p, { recursive: true, force: true }).then(() => true, () => false)) removed.push(p);
  }
  return removed;
}
