// writeFully keeps calling write() until every byte is down, as a file system
// that returns short writes (Linux past 2 GiB in one call) requires.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { handleWriter, writeFully, type PositionalWriter } from '../../src/native/fs-write';

test('short writes are continued where they stopped', async () => {
  const file = Buffer.alloc(20, 0xff);
  const calls: number[] = [];
  const stingy: PositionalWriter = {
    write: async (buf, offset, length, position) => {
      const n = Math.min(3, length);
      Buffer.from(buf.buffer, buf.byteOffset + offset, n).copy(file, position);
      calls.push(n);
      return n;
    },
  };
  await writeFully(stingy, Buffer.from('hello, world'), 4);
  expect(file.subarray(4, 16).toString()).toBe('hello, world');
  expect(file[3]).toBe(0xff);
  expect(file[16]).toBe(0xff);
  expect(calls).toEqual([3, 3, 3, 3]);
});

test('a write that makes no progress is an error, not a loop', async () => {
  await expect(writeFully({ write: async () => 0 }, Buffer.from('x'), 7)).rejects.toThrow('a write at byte 7 made no progress');
});

test('through a real file handle', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-fsw-'));
  try {
    const fh = await fs.promises.open(path.join(dir, 'f'), 'w');
    await writeFully(handleWriter(fh), new Uint8Array([1, 2, 3]), 2);
    await fh.close();
    expect([...fs.readFileSync(path.join(dir, 'f'))]).toEqual([0, 0, 1, 2, 3]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
