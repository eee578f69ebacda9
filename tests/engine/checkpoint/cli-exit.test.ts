// Through the real CLI entry (runCli): broken input exits non-zero with the
// error's message on stderr, and --json prints exactly one JSON object.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src/native/cli/main';
import { commands } from '../../../src/native/cli/commands/index';
import { inspectCommand } from '../../../src/native/cli/commands/inspect';
import { expandCommand } from '../../../src/native/cli/commands/expand';
import { cleanup, fixturesDir, listDir, tempDir, writeSyntheticCheckpoint } from './helpers';

const work = tempDir('cli-exit');
const out: string[] = [];
const err: string[] = [];
beforeAll(() => {
  // `deepen --help` lists what commands/index.ts registers
  for (const c of [inspectCommand, expandCommand]) expect(commands).toContain(c);
  process.env.DEEPEN_HOME = path.join(work, 'home');
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
});
afterEach(() => {
  out.length = 0;
  err.length = 0;
});
afterAll(() => {
  vi.restoreAllMocks();
  cleanup(work);
});

describe('deepen inspect / expand exit codes', () => {
  it('inspect --json: one JSON object, exit 0', async () => {
    expect(await runCli(['inspect', path.join(fixturesDir, 'llama-tiny'), '--json'])).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0])).toMatchObject({ model_type: 'llama', num_hidden_layers: 8, hidden_size: 64, params_total: 4465728 });
  });

  it('a truncated checkpoint: exit 1, message names file and tensor', async () => {
    const dir = path.join(work, 'broken');
    await writeSyntheticCheckpoint(dir);
    const file = path.join(dir, 'model.safetensors');
    fs.truncateSync(file, fs.statSync(file).size - 5);
    expect(await runCli(['inspect', dir])).toBe(1);
    expect(err.join('')).toMatch(/deepen inspect: model\.safetensors is not a valid safetensors file: tensor "model\.layers\.3\.[^"]+"/);
    expect(await runCli(['expand', dir, '--out', path.join(work, 'x', 'pro'), '--add', '2'])).toBe(1);
    expect(listDir(work)).not.toContain('x');
  });

  it('a usage mistake exits 2', async () => {
    expect(await runCli(['expand', path.join(fixturesDir, 'llama-tiny'), '--add', 'two', '--out', path.join(work, 'y')])).toBe(2);
    expect(err.join('')).toContain('--add must be a whole number');
  });
});
