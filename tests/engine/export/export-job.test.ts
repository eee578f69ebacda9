// `deepen export` as a job: a safetensors export is a byte-identical,
// re-sharded copy with the model's files; an existing output is refused
// before anything is written.
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { EngineHost } from '../../../src/native/host/host';
import { tempDataDir } from '../../unit/host/helpers';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/hf');
const tmp = tempDataDir('deepen-export-');
const host = new EngineHost({ dataDir: path.join(tmp.dir, 'home') });
afterAll(async () => {
  await host.close();
  tmp.cleanup();
});

describe('export job', () => {
  it('writes a safetensors folder whose tensors equal the source, sharded at the limit', async () => {
    const src = path.join(fixtures, 'llama-tiny');
    const out = path.join(tmp.dir, 'tiny-copy');
    const job = host.jobs.start('export', 'export', { modelDir: src, format: 'safetensors', out, maxShardBytes: 3_000_000 });
    const done = await host.jobs.wait(job.id);
    expect(done.state, done.error?.message).toBe('succeeded');
    const files = fs.readdirSync(out);
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    expect(files).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'tokenizer_config.json']));
    expect(files).not.toContain('deepen_expansion.json');
    const [a, b] = [await openCheckpoint(src), await openCheckpoint(out)];
    try {
      expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
      for (const name of a.tensors.keys()) {
        expect(b.tensors.get(name)!.dtype).toBe(a.tensors.get(name)!.dtype);
        expect(Buffer.compare(await b.readTensor(name), await a.readTensor(name)), name).toBe(0);
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses an output that exists and leaves it untouched', async () => {
    const out = path.join(tmp.dir, 'taken.gguf');
    fs.writeFileSync(out, 'keep me');
    const job = host.jobs.start('export', 'export', { modelDir: path.join(fixtures, 'llama-tiny'), format: 'gguf', out });
    const done = await host.jobs.wait(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('taken.gguf already exists') });
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
  });
});
