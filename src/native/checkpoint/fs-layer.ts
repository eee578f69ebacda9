// The file operations the writers use, behind an interface so that tests can
// inject failures (a disk that fills up halfway, a rename that fails) without
// needing a real full disk.
import fs from 'node:fs/promises';
import { handleWriter, type PositionalWriter } from '../fs-write';

export interface WritableFile extends PositionalWriter {
  /** sets the file's length: cut it, or extend it with zeros (a hole, where the file system has them) */
  truncate(length: number): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsLayer {
  /** creates `file`, which must not exist */
  open(file: string): Promise<WritableFile>;
  /** opens a file we just copied for rewriting in place (made writable first: a copy keeps a read-only mode) */
  reopen(file: string): Promise<WritableFile>;
  writeFile(file: string, data: string | Buffer): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(target: string): Promise<void>;
  /** bytes free for an unprivileged user on the file system holding `dir` */
  freeBytes(dir: string): Promise<number>;
}

export const nodeFs: FsLayer = {
  // 'wx': never overwrite; we only ever write into our own fresh temp folder
  open: async (file) => writable(await fs.open(file, 'wx')),
  async reopen(file) {
    const { mode } = await fs.stat(file);
    await fs.chmod(file, (mode & 0o777) | 0o600);
    return writable(await fs.open(file, 'r+'));
  },
  writeFile: (file, data) => fs.writeFile(file, data, { flag: 'wx' }),
  // FICLONE: a reflink (no bytes copied) where the file system can; otherwise the OS's own copy
  copyFile: (from, to) => fs.copyFile(from, to, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE),
  mkdir: async (dir) => {
    await fs.mkdir(dir, { recursive: true });
  },
  rename: (from, to) => fs.rename(from, to),
  rm: (target) => fs.rm(target, { recursive: true, force: true }),
  freeBytes: async (dir) => {
    const s = await fs.statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  },
};

function writable(fh: fs.FileHandle): WritableFile {
  return {
    ...handleWriter(fh),
    truncate: (length) => fh.truncate(length),
    sync: () => fh.datasync(),
    close: () => fh.close(),
  };
}

/**
 * A layer that fails writes with ENOSPC once `limitBytes` have been written
 * in total: how tests simulate a disk filling up mid-expansion.
 */
export function diskFullAfter(limitBytes: number, base: FsLayer = nodeFs): FsLayer {
  let written = 0;
  const enospc = (file: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  const counted = (file: string, inner: WritableFile): WritableFile => ({
    ...inner,
    async write(buffer, offset, length, position) {
      if (written + length > limitBytes) throw enospc(file);
      written += length;
      return inner.write(buffer, offset, length, position);
    },
  });
  return {
    ...base,
    open: async (file) => counted(file, await base.open(file)),
    reopen: async (file) => counted(file, await base.reopen(file)),
    async copyFile(from, to) {
      const { size } = await fs.stat(from);
      if (written + size > limitBytes) throw enospc(to);
      written += size;
      return base.copyFile(from, to);
    },
    async writeFile(file, data) {
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (written + length > limitBytes) throw enospc(file);
      written += length;
      return base.writeFile(file, data);
    },
  };
}
