// Positional writes that finish. One write() call may write less than asked
// (Linux writes at most 2,147,479,552 bytes per call, so a tensor over 2 GiB
// always comes back short); every writer of large files goes through here.
import type { FileHandle } from 'node:fs/promises';

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
