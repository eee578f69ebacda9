// The models domain through the real host: register the llama-tiny fixture,
// plan on it, expand it in a job and find the result registered with its
// lineage; and the failures a user meets (bad folder, unsupported type,
// output that exists), each with a message that says what to do.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineHost } from '../../../src/native/host/host';
import type { ExpandJobOutcome } from '../../../src/shared/contract/models';
import { tempDataDir } from './helpers';
import { rejectionOf } from '../../expect-error';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.resolve(root, '../shared/fixtures/hf');
const llamaTiny = path.join(fixtures, 'llama-tiny');

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function openHost() {
  const tmp = tempDataDir('deepen-models-');
  const host = new EngineHost({ dataDir: tmp.dir });
  cleanups.push(tmp.cleanup, () => host.close());
  return { host, dir: tmp.dir };
}


/** A copy of a fixture whose config.json is changed by `edit`. */
function editedCopy(dir: string, name: string, edit: (c: Record<string, unknown>) => void): string {
  const out = path.join(dir, name);
  fs.cpSync(llamaTiny, out, { recursive: true });
  const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
  edit(config);
  fs.writeFileSync(path.join(out, 'config.json'), JSON.stringify(config));
  return out;
}

describe('models handlers', () => {
  it('registers a folder with its summary, lists, renames and removes it without touching files', async () => {
    const { host } = openHost();
    const events: unknown[] = [];
    host.onEvent((e, p) => e === 'model.changed' && events.push(p));
    const m = await host.call('models.add', { path: llamaTiny });
    expect(m).toMatchObject({ name: 'llama-tiny', path: llamaTiny, lineage: null, present: true });
    expect(m.summary).toMatchObject({ family: 'llama', layers: 8, hiddenSize: 64, heads: 4, kvHeads: 2, vocabSize: 32000, dtype: 'bfloat16', tokenizer: true });
    expect(m.summary.blockParams).toHaveLength(8);
    expect(m.summary.paramsTotal).toBe(m.summary.embeddingParams + m.summary.lmHeadParams + m.summary.finalNormParams + 8 * m.summary.paramsPerBlock);

    expect((await rejectionOf(host.call('models.add', { path: llamaTiny }))).code).toBe('conflict');
    expect(await host.call('models.list', {})).toHaveLength(1);
    expect((await host.call('models.rename', { id: m.id, name: ' tiny ' })).name).toBe('tiny');
    expect((await rejectionOf(host.call('models.rename', { id: m.id, name: '  ' }))).code).toBe('bad_request');

    expect(await host.call('models.remove', { id: m.id })).toEqual({ id: m.id, filesDeleted: false });
    expect(fs.existsSync(path.join(llamaTiny, 'model.safetensors'))).toBe(true);
    expect(await host.call('models.list', {})).toEqual([]);
    expect(events).toEqual([{ id: m.id }, { id: m.id }, { id: m.id, removed: true }]);
  });

  it('inspects without registering', async () => {
    const { host } = openHost();
    const r = await host.call('models.inspect', { path: `  "${llamaTiny}" ` });
    expect(r.path).toBe(llamaTiny);
    expect(r.summary.layers).toBe(8);
    expect(await host.call('models.list', {})).toEqual([]);
  });

  it('refuses bad folders with messages that say what to do', async () => {
    const { host, dir } = openHost();
    const missing = await rejectionOf(host.call('models.add', { path: path.join(dir, 'nope') }));
    expect(missing.code).toBe('not_found');
    expect(missing.message).toMatch(/is not a folder/);

    fs.mkdirSync(path.join(dir, 'empty'));
    const empty = await rejectionOf(host.call('models.add', { path: path.join(dir, 'empty') }));
    expect(empty.code).toBe('not_found');
    expect(empty.message).toMatch(/no config\.json/);

    const gpt2 = editedCopy(dir, 'gpt2', (c) => (c.model_type = 'gpt2'));
    const unsupported = await rejectionOf(host.call('models.add', { path: gpt2 }));
    expect(unsupported.code).toBe('unsupported');
    expect(unsupported.message).toMatch(/llama, mistral, qwen2, qwen3/);

    const wrongDepth = editedCopy(dir, 'deep', (c) => (c.num_hidden_layers = 9));
    expect((await rejectionOf(host.call('models.add', { path: wrongDepth }))).code).toBe('bad_file');

    expect((await rejectionOf(host.call('models.add', { path: ' ' }))).code).toBe('bad_request');
    expect(await host.call('models.list', {})).toEqual([]);
  });

  it('plans with live figures: the paper layout, uneven splits shown rather than refused, warnings for bottom', async () => {
    const { host } = openHost();
    const m = await host.call('models.add', { path: llamaTiny });
    const per = m.summary.paramsPerBlock;

    const r = await host.call('models.plan', { modelId: m.id, strategy: 'interleaved', groups: 2, copies: 1 });
    expect(r.plan.newBlockIndices).toEqual([4, 9]);
    expect(r.plan.newDepth).toBe(10);
    expect(r.figures).toMatchObject({ baseDepth: 8, newDepth: 10, added: 2, paramsTrainable: 2 * per, paramsTotal: m.summary.paramsTotal + 2 * per, storedPrecision: 'bf16' });
    expect(r.figures.diskBytes).toBe(m.summary.sizeOnDisk + 2 * per * 2);
    const bf16 = r.figures.memory.find((x) => x.precision === 'bf16')!;
    const fp32 = r.figures.memory.find((x) => x.precision === 'fp32')!;
    expect(bf16.weightsBytes).toBe(r.figures.paramsTotal * 2);
    expect(bf16.gradientsBytes).toBe(2 * per * 2);
    expect(bf16.optimizerBytes).toBe(2 * per * 8);
    expect(bf16.masterBytes).toBe(2 * per * 4);
    expect(fp32.masterBytes).toBe(0);
    expect(bf16.totalBytes).toBe(bf16.weightsBytes + bf16.gradientsBytes + bf16.optimizerBytes + bf16.masterBytes + bf16.activationsBytes);
    expect(r.figures.formula.join('\n')).toMatch(/AdamW/);
    expect(r.suggestedName).toBe('llama-tiny-expanded-10L');

    const uneven = await host.call('models.plan', { modelId: m.id, strategy: 'interleaved', add: 3 });
    expect(uneven.plan.newDepth).toBe(11);
    expect(uneven.plan.warnings.join(' ')).toMatch(/do not split evenly/);

    const bottom = await host.call('models.plan', { modelId: m.id, strategy: 'bottom', add: 1 });
    expect(bottom.plan.newBlockIndices).toEqual([0]);
    expect(bottom.plan.warnings.join(' ')).toMatch(/29\.36/);

    const custom = await host.call('models.plan', { modelId: m.id, strategy: 'custom', insertions: [{ after: 2, source: 1 }] });
    expect(custom.plan.insertions).toEqual([{ after: 2, source: 1, newIndex: 3 }]);

    expect((await rejectionOf(host.call('models.plan', { modelId: m.id, strategy: 'interleaved', add: 20 }))).code).toBe('bad_request');
    expect((await rejectionOf(host.call('models.plan', { modelId: 'nope', strategy: 'top', add: 1 }))).code).toBe('not_found');
  });

  it('expands in a job and registers the result with lineage and the checks', async () => {
    const { host, dir } = openHost();
    const base = await host.call('models.add', { path: llamaTiny });
    const { plan, suggestedOutDir } = await host.call('models.plan', { modelId: base.id, strategy: 'interleaved', add: 2 });
    expect(suggestedOutDir).toBe(path.join(dir, 'models', 'llama-tiny-expanded-10L'));
    const changed: unknown[] = [];
    host.onEvent((e, p) => e === 'model.changed' && changed.push(p));

    const { jobId } = await host.call('models.expand', { modelId: base.id, plan, name: 'tiny pro' });
    const job = await host.jobs.wait(jobId);
    expect(job.error).toBeNull();
    expect(job.state).toBe('succeeded');
    const outcome = (await host.call('jobs.get', { id: jobId })).result as ExpandJobOutcome;
    expect(outcome.outDir).toBe(path.join(dir, 'models', 'tiny-pro'));
    expect(outcome.newBlockIndices).toEqual([4, 9]);
    expect(outcome.verify?.ok).toBe(true);
    // The numerical check ran: the copies are identities, so the logits agree.
    expect(outcome.preservation).toMatchObject({ state: 'passed', tolerance: 1e-3 });
    expect(outcome.preservation.maxAbsDiff).toBeLessThan(1e-3);
    expect(fs.readdirSync(path.join(dir, 'cache')).filter((f) => f.startsWith('preservation-'))).toEqual([]);
    expect(outcome.modelId).toBeTruthy();

    const child = await host.call('models.get', { id: outcome.modelId! });
    expect(child).toMatchObject({ name: 'tiny pro', path: outcome.outDir, present: true });
    expect(child.summary.layers).toBe(10);
    expect(child.lineage).toMatchObject({ kind: 'expanded', parentId: base.id, parentName: 'llama-tiny', newBlockIndices: [4, 9], jobId });
    expect(child.structural).toMatchObject({ ok: true });
    expect(child.preservation).toEqual(outcome.preservation);

    // The same output folder again is refused before any job starts.
    const again = await rejectionOf(host.call('models.expand', { modelId: base.id, plan, outDir: outcome.outDir }));
    expect(again.code).toBe('conflict');
    expect(again.message).toMatch(/already exists/);

    // Removing the parent keeps the child's lineage readable.
    await host.call('models.remove', { id: base.id });
    expect((await host.call('models.get', { id: child.id })).lineage).toMatchObject({ parentId: null, parentName: 'llama-tiny', parentPath: llamaTiny });

    // Deleting files needs the flag; then the folder goes.
    expect(await host.call('models.remove', { id: child.id, deleteFiles: true })).toEqual({ id: child.id, filesDeleted: true });
    expect(fs.existsSync(outcome.outDir)).toBe(false);
  });

  it('refuses a plan made for another depth, and expanding a model whose folder is gone', async () => {
    const { host, dir } = openHost();
    const copy = path.join(dir, 'copy');
    fs.cpSync(llamaTiny, copy, { recursive: true });
    const m = await host.call('models.add', { path: copy });
    const { plan } = await host.call('models.plan', { modelId: m.id, strategy: 'top', add: 1 });
    const wrong = await rejectionOf(host.call('models.expand', { modelId: m.id, plan: { ...plan, baseLayers: 12 } }));
    expect(wrong.code).toBe('bad_request');
    fs.rmSync(copy, { recursive: true });
    expect((await host.call('models.get', { id: m.id })).present).toBe(false);
    const gone = await rejectionOf(host.call('models.expand', { modelId: m.id, plan }));
    expect(gone.code).toBe('not_found');
    expect(gone.message).toMatch(/gone/);
  });
});
