// The datasets contract through the engine host, with jobs in worker threads
// as the app runs them, and the `deepen data` command as a user runs it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineHost } from '../../../src/native/host/host';
import { createPendingDataset } from '../../../src/native/data/datasets';
import { tempDataDir } from '../../unit/host/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const home = tempDataDir('deepen-ds-host-');
const host = new EngineHost({ dataDir: home.dir });
afterAll(async () => {
  await host.close();
  home.cleanup();
});

const file = (name: string, content: string) => {
  const p = path.join(home.dir, name);
  fs.writeFileSync(p, content);
  return p;
};
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const finish = async (jobId: string) => {
  const job = await host.jobs.wait(jobId);
  return { job, detail: await host.call('jobs.get', { id: jobId }) };
};

describe('datasets through the engine host', () => {
  it('previews, imports in a job, lists, pages, searches, edits, splits, exports and deletes', async () => {
    const src = file('chat.jsonl', jsonl(Array.from({ length: 200 }, (_, i) => ({ messages: [{ role: 'user', content: `question ${i}` }, { role: 'assistant', content: i % 2 ? 'odd answer' : 'even answer' }] }))));
    const preview = await host.call('datasets.preview', { path: src, limit: 3 });
    expect(preview).toMatchObject({ format: 'jsonl', kind: 'chat', mapping: { kind: 'chat', messages: 'messages' }, fields: ['messages'] });
    expect(preview.records).toHaveLength(3);

    const events: string[] = [];
    const off = host.onEvent((e) => events.push(e));
    const started = await host.call('datasets.import', { path: src, name: 'Chats' });
    expect(await host.call('datasets.list', {})).toEqual([]); // hidden until it commits
    const { job, detail } = await finish(started.jobId);
    expect(job.state).toBe('succeeded');
    expect(detail.result).toMatchObject({ records: 200, skipped: 0, kind: 'chat' });
    const [d] = await host.call('datasets.list', {});
    expect(d).toMatchObject({ id: started.datasetId, name: 'Chats', kind: 'chat', records: 200 });
    await expect(host.call('datasets.import', { path: src, name: 'chats' })).rejects.toMatchObject({ code: 'conflict' });

    // the records commit first; the engine then indexes them for search in a job of its own
    const indexJob = (await host.call('jobs.list', {})).find((j) => j.kind === 'dataset-index');
    expect(indexJob?.title).toBe('Index Chats for search');
    expect((await finish(indexJob!.id)).detail.result).toEqual({ indexed: 200 });
    expect((await host.call('datasets.get', { id: d.id })).unindexedRecords).toBe(0);
    expect(await host.call('datasets.index', { datasetId: d.id })).toEqual({ jobId: null });

    const page = await host.call('datasets.records', { datasetId: d.id, filter: { query: 'odd' }, limit: 10 });
    expect(page.rows).toHaveLength(10);
    expect(await host.call('datasets.count', { datasetId: d.id, filter: { query: 'odd' } })).toEqual({ count: 100, capped: false });
    expect(await host.call('datasets.count', { datasetId: d.id, filter: { query: 'odd' }, limit: 10 })).toEqual({ count: 10, capped: true });
    expect(await host.call('datasets.count', { datasetId: d.id, filter: { query: 'odd' }, limit: 100 })).toEqual({ count: 100, capped: false });
    const rec = await host.call('datasets.record.get', { id: page.rows[0].id });
    expect(rec.content.kind).toBe('chat');
    await expect(host.call('datasets.record.update', { id: rec.id, content: { kind: 'text', text: 'wrong kind' } })).rejects.toMatchObject({ code: 'bad_request' });
    const edited = await host.call('datasets.record.update', { id: rec.id, content: { kind: 'chat', messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'rewritten' }] } });
    expect(edited.text).toBe('q\n\nrewritten');
    expect(events).toContain('datasets.changed');

    const split = await finish((await host.call('datasets.split', { datasetId: d.id, evalRatio: 0.25, seed: 1 })).jobId);
    expect(split.detail.result).toMatchObject({ train: expect.any(Number), eval: expect.any(Number) });
    const stats = await host.call('datasets.stats', { datasetId: d.id, seqLen: 4 });
    expect(stats.records).toBe(200);
    expect(stats.evalRecords).toBe((split.detail.result as { eval: number }).eval);

    const out = path.join(home.dir, 'out.jsonl');
    const exp = await finish((await host.call('datasets.export', { datasetId: d.id, path: out, filter: { split: 'eval' } })).jobId);
    expect(exp.detail.result).toMatchObject({ records: stats.evalRecords });
    expect(fs.readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(stats.evalRecords);

    const bulk = await finish((await host.call('datasets.deleteWhere', { datasetId: d.id, filter: { query: 'even' } })).jobId);
    expect(bulk.detail.result).toEqual({ deleted: 100 });
    await expect(host.call('datasets.deleteWhere', { datasetId: d.id, filter: {} })).rejects.toMatchObject({ code: 'bad_request' });

    const del = await host.call('datasets.delete', { id: d.id });
    expect(await host.call('datasets.list', {})).toEqual([]);
    expect((await finish(del.jobId)).job.state).toBe('succeeded');
    await expect(host.call('datasets.get', { id: d.id })).rejects.toMatchObject({ code: 'not_found' });
    off();
  });

  it('an aborted import fails its job with file:line and leaves no dataset behind', async () => {
    const src = file('bad.jsonl', jsonl([{ text: 'fine' }]) + 'oops\n');
    const started = await host.call('datasets.import', { path: src, name: 'Bad', onError: 'abort' });
    const { job } = await finish(started.jobId);
    expect(job.state).toBe('failed');
    expect(job.error?.message).toMatch(/bad\.jsonl:2: not valid JSON/);
    expect(await host.call('datasets.list', {})).toEqual([]);
    const again = await host.call('datasets.import', { path: src, name: 'Bad' }); // the name is free again
    expect((await finish(again.jobId)).detail.result).toMatchObject({ records: 1, skipped: 1 });
  });

  it('a dataset left half-imported by a crash frees its name at the next start and is purged by the next job', async () => {
    const dir = tempDataDir('deepen-ds-orphan-');
    const first = new EngineHost({ dataDir: dir.dir });
    createPendingDataset(first.db, { name: 'Orphan', kind: 'text', source: 'gone.jsonl', jobId: null, evalRatio: 0, seed: 0, now: Date.now() });
    await first.close();
    const second = new EngineHost({ dataDir: dir.dir });
    try {
      const src = path.join(dir.dir, 'in.jsonl');
      fs.writeFileSync(src, jsonl([{ text: 'hello' }]));
      const started = await second.call('datasets.import', { path: src, name: 'Orphan' });
      expect((await second.jobs.wait(started.jobId)).state).toBe('succeeded');
      expect(second.db.prepare(`SELECT count(*) FROM datasets`).pluck().get()).toBe(1);
    } finally {
      await second.close();
      dir.cleanup();
    }
  });

  it('search indexing cut short (cancelled, or Deepen stopped) resumes when a long-lived engine starts, and on request', async () => {
    const dir = tempDataDir('deepen-ds-resume-');
    const first = new EngineHost({ dataDir: dir.dir });
    const src = path.join(dir.dir, 'in.jsonl');
    fs.writeFileSync(src, jsonl(Array.from({ length: 500 }, (_, i) => ({ text: `line ${i} needle` }))));
    const started = await first.call('datasets.import', { path: src, name: 'Resume' });
    expect((await first.jobs.wait(started.jobId)).state).toBe('succeeded');
    // the index job follows the import; stop it before it commits anything
    const index = (await first.call('jobs.list', {})).find((j) => j.kind === 'dataset-index')!;
    first.jobs.cancel(index.id);
    await first.jobs.wait(index.id);
    first.db.prepare(`UPDATE datasets SET indexed_until = 0, unindexed = record_count`).run(); // as if it stopped before its first chunk
    first.db.exec(`DELETE FROM dataset_records_fts`);
    await first.close();

    // one-shot commands (the CLI) leave it alone; the app and `deepen serve` resume it
    const cli = new EngineHost({ dataDir: dir.dir });
    expect((await cli.call('datasets.list', {}))[0].unindexedRecords).toBe(500);
    expect((await cli.call('jobs.list', {})).filter((j) => j.kind === 'dataset-index' && j.state !== 'cancelled')).toEqual([]);
    await cli.close();
    const app = new EngineHost({ dataDir: dir.dir });
    try {
      app.resumeWork();
      const [d] = await app.call('datasets.list', {});
      const detail = await app.call('datasets.get', { id: d.id });
      expect(detail.searchIndexJobId).toBeTruthy();
      expect(await app.call('datasets.index', { datasetId: d.id })).toEqual({ jobId: detail.searchIndexJobId });
      expect((await app.jobs.wait(detail.searchIndexJobId!)).state).toBe('succeeded');
      expect(await app.call('datasets.count', { datasetId: d.id, filter: { query: 'needle' } })).toEqual({ count: 500, capped: false });
      expect((await app.call('datasets.get', { id: d.id })).searchIndexJobId).toBeNull();
    } finally {
      await app.close();
      dir.cleanup();
    }
  });

  it('refuses a missing file and an empty file before starting a job', async () => {
    await expect(host.call('datasets.import', { path: path.join(home.dir, 'missing.jsonl'), name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(host.call('datasets.import', { path: file('empty.csv', ''), name: 'x' })).rejects.toMatchObject({ code: 'bad_file', message: expect.stringMatching(/is empty/) });
  });
});

describe('tokens: a record as the model sees it, and cached counts', () => {
  // llama-tiny's tokenizer with a small chat template added (the fixture has none)
  const modelDir = path.join(home.dir, 'tiny-chat');
  const fixture = path.resolve(root, '../shared/fixtures/hf/llama-tiny');
  const template = '{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}';

  it('renders with the template, marks loss on the reply and its end-of-turn, cuts at the sequence length, and caches counts per tokenizer', async () => {
    fs.mkdirSync(modelDir, { recursive: true });
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'config.json', 'generation_config.json']) fs.copyFileSync(path.join(fixture, f), path.join(modelDir, f));
    fs.writeFileSync(path.join(modelDir, 'chat_template.jinja'), template);
    const src = file('tok.jsonl', jsonl(Array.from({ length: 30 }, (_, i) => ({ prompt: `Name a colour number ${i}`, response: i % 3 ? 'Blue.' : 'A long answer '.repeat(40) }))));
    const started = await host.call('datasets.import', { path: src, name: 'Tok' });
    await finish(started.jobId);
    const page = await host.call('datasets.records', { datasetId: started.datasetId, limit: 2 });

    const r = await host.call('datasets.render', { recordId: page.rows[1].id, modelDir, seqLen: 512 });
    expect(r.mode).toBe('chat');
    expect(r.text).toBe('<|user|>\nName a colour number 1</s>\n<|assistant|>\nBlue.</s>\n');
    const lossText = r.tokens.filter((t) => t.loss).map((t) => t.text).join('');
    expect(lossText.replace(/\s+/g, '')).toBe('Blue.</s>');
    expect(r.truncatedAt).toBeNull();
    // the ids are those of the whole text encoded at once, as inference sees it
    const { TextTokenizer } = await import('../../../src/native/generate/tokenizer');
    expect(r.tokens.map((t) => t.id)).toEqual((await TextTokenizer.fromDir(modelDir)).encode(r.text, { addSpecialTokens: false }));
    const long = await host.call('datasets.render', { recordId: page.rows[0].id, modelDir, seqLen: 16 });
    expect(long.truncatedAt).toBe(16);
    expect(long.total).toBeGreaterThan(16);

    const noTemplate = await host.call('datasets.render', { recordId: page.rows[1].id, modelDir: fixture, seqLen: 64 });
    expect(noTemplate.mode).toBe('completion');
    expect(noTemplate.note).toMatch(/no chat template/);

    const counted = await finish((await host.call('datasets.countTokens', { datasetId: started.datasetId, modelDir })).jobId);
    expect(counted.job.state).toBe('succeeded');
    const detail = await host.call('datasets.get', { id: started.datasetId });
    expect(detail.tokenizers).toEqual([expect.objectContaining({ modelDir, counted: 30, label: 'tiny-chat' })]);
    const stats = await host.call('datasets.stats', { datasetId: started.datasetId, tokenizerId: detail.tokenizers[0].tokenizerId, seqLen: 40 });
    expect(stats.histogram.unit).toBe('tokens');
    expect(stats.tokens).toMatchObject({ counted: 30 });
    expect(stats.overSeqLen).toEqual({ count: 10, exact: true });
    // an edit drops the record's cached count
    await host.call('datasets.record.update', { id: page.rows[1].id, content: { kind: 'instruction', instruction: 'x', output: 'y' } });
    expect((await host.call('datasets.get', { id: started.datasetId })).tokenizers[0].counted).toBe(29);
  });
});

describe('deepen data (CLI)', () => {
  const cliHome = tempDataDir('deepen-ds-cli-');
  afterAll(() => cliHome.cleanup());
  const deepen = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/native/cli.ts', 'data', ...args], { cwd: root, env: { ...process.env, DEEPEN_HOME: cliHome.dir }, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('import --json prints records and skipped lines with file, line and reason; stats --json prints records and characters', () => {
    const src = path.join(cliHome.dir, 'in.jsonl');
    fs.writeFileSync(src, jsonl([{ text: 'alpha' }, { text: 'beta' }]) + '[1]\n' + jsonl([{ text: 'alpha' }]));
    const imp = deepen('import', src, '--name', 'cli-set', '--dedupe', '--json');
    expect(imp.code).toBe(0);
    const r = JSON.parse(imp.stdout);
    expect(r).toMatchObject({ records: 2, skippedCount: 1, duplicates: 1, skipped: [{ file: src, line: 3, reason: 'the line is an array, not a JSON object with fields' }] });
    const stats = deepen('stats', 'cli-set', '--json');
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ records: 2, characters: 9 });
    const list = deepen('list', '--json');
    expect(JSON.parse(list.stdout).datasets.map((d: { name: string }) => d.name)).toEqual(['cli-set']);
    const out = path.join(cliHome.dir, 'out.jsonl');
    expect(deepen('export', 'cli-set', out).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe('{"text":"alpha"}\n{"text":"beta"}\n');
    expect(deepen('delete', 'cli-set').code).toBe(0);
    expect(JSON.parse(deepen('list', '--json').stdout).datasets).toEqual([]);
  }, 240_000);

  it('exits non-zero with a one-line message on errors', () => {
    const src = path.join(cliHome.dir, 'bad.jsonl');
    fs.writeFileSync(src, '{"text":"ok"}\nnot json\n');
    const r = deepen('import', src, '--name', 'strict', '--on-error', 'abort', '--json');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^deepen data: .*bad\.jsonl:2: not valid JSON.*nothing was imported/);
    const missing = deepen('stats', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('deepen data: No dataset named "nope". Run `deepen data list` to see the datasets.');
    expect(deepen('import', src, '--kind', 'poem').code).toBe(2);
  }, 240_000);
});
