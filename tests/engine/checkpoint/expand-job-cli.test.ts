// The expand job (progress, logs, cancellation) and the `inspect` / `expand`
// CLI commands, driven with a fake CommandContext.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DeepenError } from '../../../src/shared/errors';
import { runExpandJob } from '../../../src/native/checkpoint/expand-job';
import type { JobContext } from '../../../src/native/host/jobs/job-types';
import { inspectCommand } from '../../../src/native/cli/commands/inspect';
import { expandCommand, parsePositions, parseSize } from '../../../src/native/cli/commands/expand';
import type { CommandContext, OptionValues } from '../../../src/native/cli/command';
import { EngineHost } from '../../../src/native/host/host';
import { cleanup, fixturesDir, listDir, tempDir } from './helpers';

const work = tempDir('job-cli');
// `deepen expand` runs as a job in the engine host (a worker thread), as the real CLI does.
let host: EngineHost | null = null;
afterAll(async () => {
  await host?.close();
  cleanup(work);
});

function jobContext(cancelAfter = Infinity) {
  const progress: [number, string | undefined][] = [];
  const logs: [string, string | undefined][] = [];
  let checks = 0;
  const ctx: JobContext = {
    jobId: 'test',
    dataDir: work,
    progress: (f, m) => progress.push([f, m]),
    log: (t, l) => logs.push([t, l]),
    metric() {},
    isCancelled: () => ++checks > cancelAfter,
    throwIfCancelled() {
      if (ctx.isCancelled()) throw new DeepenError('cancelled', 'cancelled');
    },
  };
  return { ctx, progress, logs };
}

describe('runExpandJob', () => {
  it('expands, checks, reports progress in order and returns the summary of the new model', async () => {
    const { ctx, progress, logs } = jobContext();
    const out = path.join(work, 'job-out');
    const r = await runExpandJob({ baseDir: path.join(fixturesDir, 'llama-sharded-fp32'), outDir: out, strategy: 'interleaved', add: 2 }, ctx);
    expect(r.newBlockIndices).toEqual([2, 5]);
    expect(r.verify?.ok).toBe(true);
    expect(r.summary.layers).toBe(6);
    expect(r.summary.paramsTotal).toBe(229952 + 2 * 41088);
    const fractions = progress.map((p) => p[0]);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect(progress.some(([, m]) => m?.startsWith('writing model.'))).toBe(true);
    expect(progress.some(([, m]) => m?.startsWith('checking model.'))).toBe(true);
    expect(logs.map((l) => l[0]).join('\n')).toContain('Check passed');
  });

  it('cancellation fails the job with cancelled and leaves no output', async () => {
    const { ctx } = jobContext(3);
    const parent = path.join(work, 'cancel');
    fs.mkdirSync(parent);
    await expect(runExpandJob({ baseDir: path.join(fixturesDir, 'llama-tiny'), outDir: path.join(parent, 'x'), add: 2 }, ctx)).rejects.toMatchObject({ code: 'cancelled' });
    expect(listDir(parent)).toEqual([]);
  });

  it('a bad request names what is missing', async () => {
    await expect(runExpandJob({ baseDir: '', outDir: '' }, jobContext().ctx)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(runExpandJob({ baseDir: path.join(fixturesDir, 'llama-tiny'), outDir: path.join(work, 'n'), add: 9 }, jobContext().ctx)).rejects.toMatchObject({ code: 'bad_request' });
  });
});

function cli(values: OptionValues, positionals: string[]) {
  const out: string[] = [];
  const json: unknown[] = [];
  const warnings: string[] = [];
  const ctx: CommandContext = {
    values,
    positionals,
    json: values.json === true,
    say: (t) => out.push(t),
    printJson: (v) => json.push(v),
    warn: (t) => warnings.push(t),
    host: () => (host ??= new EngineHost({ dataDir: path.join(work, 'data') })),
    isTTY: false,
  };
  return { ctx, out, json, warnings };
}

describe('deepen inspect', () => {
  it('--json gives model_type, num_hidden_layers, hidden_size, params_total', async () => {
    const c = cli({ json: true }, [path.join(fixturesDir, 'qwen2-tiny-tied')]);
    await inspectCommand.run(c.ctx);
    expect(c.json[0]).toMatchObject({ model_type: 'qwen2', num_hidden_layers: 4, hidden_size: 64, params_total: 181312, summary: { tiedEmbeddings: true } });
  });

  it('prints a table', async () => {
    const c = cli({}, [path.join(fixturesDir, 'llama-tiny')]);
    await inspectCommand.run(c.ctx);
    const text = c.out.join('\n');
    expect(text).toMatch(/parameters\s+4\.47 M \(4465728\)/);
    expect(text).toMatch(/heads \/ kv heads\s+4 \/ 2/);
    expect(text).toMatch(/tokenizer\s+yes/);
  });

  it('a broken folder is a DeepenError (the CLI exits non-zero with its message)', async () => {
    await expect(inspectCommand.run(cli({}, [work]).ctx)).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('deepen expand', () => {
  it('--dry-run --json prints the plan and writes nothing', async () => {
    const c = cli({ json: true, add: '2', 'dry-run': true }, [path.join(fixturesDir, 'llama-tiny')]);
    await expandCommand.run(c.ctx);
    expect(c.json[0]).toMatchObject({ dryRun: true, new_block_indices: [4, 9], num_hidden_layers: 10 });
  });

  it('expands with --json: the plan and the new block indices', async () => {
    const out = path.join(work, 'cli-out');
    const c = cli({ json: true, add: '2', out, 'shard-size': '300KB' }, [path.join(fixturesDir, 'qwen2-tiny-tied')]);
    await expandCommand.run(c.ctx);
    expect(c.json[0]).toMatchObject({ out, new_block_indices: [2, 5], num_hidden_layers: 6, verified: true });
    expect(listDir(out).filter((f) => f.startsWith('model-'))).toHaveLength(4);
    // recorded as a job like any other
    const jobs = await host!.call('jobs.list', {});
    expect(jobs.some((j) => j.kind === 'expand' && j.state === 'succeeded')).toBe(true);
  });

  it('custom positions and human output', async () => {
    const out = path.join(work, 'cli-custom');
    const c = cli({ strategy: 'custom', positions: ['1,3'], out }, [path.join(fixturesDir, 'llama-sharded-fp32')]);
    await expandCommand.run(c.ctx);
    expect(c.out.join('\n')).toContain('new blocks at 2, 5');
    expect(c.out.join('\n')).toMatch(/2\s+copy of block 1/);
  });

  it('usage errors and an existing output folder', async () => {
    await expect(expandCommand.run(cli({ add: '2' }, [path.join(fixturesDir, 'llama-tiny')]).ctx)).rejects.toThrow(/--out/);
    await expect(expandCommand.run(cli({ out: 'x' }, [path.join(fixturesDir, 'llama-tiny')]).ctx)).rejects.toThrow(/--add/);
    await expect(expandCommand.run(cli({ add: '2', out: work }, [path.join(fixturesDir, 'llama-tiny')]).ctx)).rejects.toMatchObject({ code: 'conflict' });
    expect(parseSize('5GB')).toBe(5e9);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('1024')).toBe(1024);
    expect(() => parseSize('lots')).toThrow();
    expect(parsePositions('3, 7 11')).toEqual([3, 7, 11]);
    expect(() => parsePositions('a')).toThrow();
  });
});
