// The file operations the writers use, behind an interface so that tests can
// inject failures (a disk that fills up halfway, a rename that fails) without
// needing a real full disk.
import fs from 'node:fs/promises';

export interface WritableFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface FsLayer {
  open(file: string): Promise<WritableFile>;
  writeFile(file: string, data: string | Buffer): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(target: string): Promise<void>;
  /** bytes free for an unprivileged user on the file system holding `dir` */
  freeBytes(dir: string): Promise<number>;
}

export const nodeFs: FsLayer = {
  async open(file) {
    // 'wx': never overwrite; we only ever write into our own fresh temp folder
    const fh = await fs.open(file, 'wx');
    return {
      write: async (buffer, offset, length, position) => (await fh.write(buffer, offset, length, position)).bytesWritten,
      sync: () => fh.datasync(),
      close: () => fh.close(),
    };
  },
  writeFile: (file, data) => fs.writeFile(file, data, { flag: 'wx' }),
  copyFile: (from, to) => fs.copyFile(from, to, fs.constants.COPYFILE_EXCL),
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

/**
 * A layer that fails writes with ENOSPC once `limitBytes` have been written
 * in total: how tests simulate a disk filling up mid-expansion.
 */
export function diskFullAfter(limitBytes: number, base: FsLayer = nodeFs): FsLayer {
  let written = 0;
  const enospc = (file: string) => Object.assign(new Error(`ENOSPC: no space left on device, write '${file}'`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  return {
    ...base,
    async open(file) {
      const inner = await base.open(file);
      return {
        ...inner,
        async write(buffer, offset, length, position) {
          if (written + length > limitBytes) throw enospc(file);
          written += length;
          return inner.write(buffer, offset, length, position);
        },
      };
    },
    async writeFile(file, data) {
      const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (written + length > limitBytes) throw enospc(file);
      written += length;
      return base.writeFile(file, data);
    },
  };
}
