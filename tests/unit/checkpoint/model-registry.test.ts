// The model registry (src/native/data/models.ts): records with summary and
// lineage; removing a record keeps the files unless asked.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/native/data/db';
import { ancestors, childrenOf, getModel, getModelByPath, importModelFolder, listModels, registerExpandedModel, removeModel, renameModel } from '../../../src/native/data/models';
import { runExpandJob } from '../../../src/native/checkpoint/expand-job';
import type { JobContext } from '../../../src/native/host/jobs/job-types';
import { cleanup, fixturesDir, tempDir, writeSyntheticCheckpoint } from '../../engine/checkpoint/helpers';

const work = tempDir('registry');
afterAll(() => cleanup(work));
let db: Db;
let k = 0;
beforeEach(() => {
  db = openDatabase(path.join(work, `db-${++k}`, 'deepen.db'));
});
afterEach(() => db.close());

const quietCtx: JobContext = {
  jobId: 't',
  dataDir: work,
  progress() {},
  log() {},
  metric() {},
  isCancelled: () => false,
  throwIfCancelled() {},
};

describe('model registry', () => {
  it('imports a fixture folder with its summary', async () => {
    const m = await importModelFolder(db, path.join(fixturesDir, 'llama-tiny'));
    expect(m.name).toBe('llama-tiny');
    expect(m.summary).toMatchObject({ family: 'llama', layers: 8, dtype: 'bfloat16', tokenizer: true, vocabSize: 32000 });
    expect(m.lineage).toEqual({ kind: 'imported', parentId: null, plan: null, origin: null });
    expect(getModelByPath(db, path.join(fixturesDir, 'llama-tiny'))?.id).toBe(m.id);
    await expect(importModelFolder(db, path.join(fixturesDir, 'llama-tiny'))).rejects.toMatchObject({ code: 'conflict' });
  });

  it('records an expansion as a child with its plan, and follows lineage', async () => {
    const baseDir = path.join(work, `base-${k}`);
    await writeSyntheticCheckpoint(baseDir);
    const base = await importModelFolder(db, baseDir, { name: 'tiny' });
    const result = await runExpandJob({ baseDir, outDir: path.join(work, `pro-${k}`), strategy: 'interleaved', add: 2 }, quietCtx);
    const child = registerExpandedModel(db, result, { parentId: base.id, jobId: 'job-1' });
    expect(child.lineage.kind).toBe('expanded');
    expect(child.lineage.parentId).toBe(base.id);
    expect(child.lineage.plan?.newBlockIndices).toEqual([2, 5]);
    expect(child.lineage.origin).toEqual({ jobId: 'job-1' });
    expect(child.summary.layers).toBe(6);
    expect(ancestors(db, child.id).map((m) => m.id)).toEqual([base.id]);
    expect(childrenOf(db, base.id).map((m) => m.id)).toEqual([child.id]);
    expect(listModels(db)).toHaveLength(2);
    expect(renameModel(db, child.id, ' tiny-pro ').name).toBe('tiny-pro');

    // Removing the parent keeps the child (lineage parent becomes null) and keeps the files.
    const { filesDeleted } = await removeModel(db, base.id);
    expect(filesDeleted).toBe(false);
    expect(fs.existsSync(path.join(baseDir, 'config.json'))).toBe(true);
    expect(getModel(db, child.id)?.lineage.parentId).toBeNull();

    // Files go only when asked.
    const r = await removeModel(db, child.id, { deleteFiles: true });
    expect(r.filesDeleted).toBe(true);
    expect(fs.existsSync(result.outDir)).toBe(false);
    expect(listModels(db)).toEqual([]);
  });

  it('deleteFiles never deletes a folder that is not a model folder', async () => {
    const dir = path.join(work, `not-a-model-${k}`);
    await writeSyntheticCheckpoint(dir);
    const m = await importModelFolder(db, dir);
    fs.rmSync(path.join(dir, 'config.json'));
    expect((await removeModel(db, m.id, { deleteFiles: true })).filesDeleted).toBe(false);
    expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(true);
  });

  it('unknown ids are not_found', async () => {
    await expect(removeModel(db, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(() => renameModel(db, 'nope', 'x')).toThrow(/No model/);
  });
});
