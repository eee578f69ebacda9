// The verbatim layout: base shards copied by the OS and their headers rewritten
// in place. What can go wrong there that the packed layout never meets: names
// that grow when renumbered (block 9 → 11) and no longer fit the old header,
// read-only base files, shards above the size limit, a disk that fills during
// an OS copy, and a base that must never be touched.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { buildPlan, planExpansion } from '../../../src/native/checkpoint/expand-plan';
import { planVerbatimShards } from '../../../src/native/checkpoint/expand-verbatim';
import { verifyExpansion } from '../../../src/native/checkpoint/expand-verify';
import { expandCheckpoint } from '../../../src/native/checkpoint/expand-writer';
import { removePartialOutputs } from '../../../src/native/fs-write';
import { diskFullAfter } from '../../../src/native/checkpoint/fs-layer';
import { readSafetensorsFile, type SafetensorsFile, type TensorInfo } from '../../../src/native/checkpoint/safetensors-reader';
import { cleanup, listDir, tempDir, writeSyntheticCheckpoint } from './helpers';
import { rejectionOf } from '../../expect-error';

const work = tempDir('verbatim');
afterAll(() => cleanup(work));
let n = 0;
const shape = { layers: 12, hidden: 32, intermediate: 48, vocab: 64, maxShardBytes: 40_000 };

async function base(opts: Partial<typeof shape> = {}) {
  const dir = path.join(work, `base-${++n}`);
  await writeSyntheticCheckpoint(dir, { ...shape, ...opts });
  return dir;
}

const shards = (dir: string) => listDir(dir).filter((f) => f.endsWith('.safetensors'));
const hashes = (dir: string) => Object.fromEntries(listDir(dir).map((f) => [f, crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, f))).digest('hex')]));
const dataSection = (file: string) => {
  const bytes = fs.readFileSync(file);
  return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
};


describe('verbatim layout', () => {
  it('copies every base shard in place, moves what no longer fits to the new-block shard, and leaves the base untouched', async () => {
    const baseDir = await base();
    const before = hashes(baseDir);
    const outDir = path.join(work, 'out-grow');
    const plan = planExpansion(12, { strategy: 'interleaved', add: 4 }); // old 8 → 10, 9 → 12: names grow by a digit
    const result = await expandCheckpoint(baseDir, outDir, plan, { layout: 'verbatim' });
    expect(hashes(baseDir)).toEqual(before);
    expect((await verifyExpansion(baseDir, outDir)).problems).toEqual([]);

    const baseShards = shards(baseDir);
    const outShards = shards(outDir);
    expect(outShards.length).toBeGreaterThan(baseShards.length); // + the new blocks' shard(s)
    expect(result.files).toContain('model.safetensors.index.json');
    let cut = 0;
    for (const [i, f] of baseShards.entries()) {
      // the output's data section is the base's, or a prefix of it where the tail moved out
      const a = dataSection(path.join(baseDir, f));
      const b = dataSection(path.join(outDir, outShards[i]));
      expect(a.subarray(0, b.length).equals(b), `${outShards[i]} keeps ${f}'s bytes`).toBe(true);
      if (b.length < a.length) cut++;
      // same header length: the data did not move
      expect(fs.readFileSync(path.join(outDir, outShards[i])).readBigUInt64LE(0)).toBe(fs.readFileSync(path.join(baseDir, f)).readBigUInt64LE(0));
    }
    expect(cut).toBeGreaterThan(0);
    const index = JSON.parse(fs.readFileSync(path.join(outDir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map)).toHaveLength(result.tensors.length);
    expect(Object.keys(index.weight_map)).toEqual(Object.keys(index.weight_map).slice().sort());
    expect(index.metadata.total_size).toBe(result.bytesWritten);
  });

  it('gives the same tensors as the packed layout', async () => {
    const baseDir = await base();
    const plan = planExpansion(12, { strategy: 'interleaved', add: 4 });
    const packed = path.join(work, 'out-packed');
    const verbatim = path.join(work, 'out-verbatim');
    await expandCheckpoint(baseDir, packed, plan, { layout: 'packed' });
    await expandCheckpoint(baseDir, verbatim, plan, { layout: 'verbatim' });
    const a = await openCheckpoint(packed);
    const b = await openCheckpoint(verbatim);
    try {
      expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
      for (const name of a.tensors.keys()) expect((await b.readTensor(name)).equals(await a.readTensor(name)), name).toBe(true);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('works from read-only base files (a copy keeps the mode, so it is made writable first)', async () => {
    const baseDir = await base();
    for (const f of shards(baseDir)) fs.chmodSync(path.join(baseDir, f), 0o444);
    const outDir = path.join(work, 'out-readonly');
    await expandCheckpoint(baseDir, outDir, planExpansion(12, { strategy: 'top', add: 1 }), { layout: 'verbatim' });
    expect((await verifyExpansion(baseDir, outDir)).ok).toBe(true);
    for (const f of shards(baseDir)) expect(fs.statSync(path.join(baseDir, f)).mode & 0o777).toBe(0o444);
  });

  it('a base shard above the size limit is written packed instead', async () => {
    const baseDir = await base({ maxShardBytes: 10_000_000 }); // one file
    const outDir = path.join(work, 'out-limit');
    await expandCheckpoint(baseDir, outDir, planExpansion(12, { strategy: 'interleaved', add: 2 }), { layout: 'verbatim', maxShardBytes: 60_000 });
    expect(shards(outDir).length).toBeGreaterThan(2);
    expect((await verifyExpansion(baseDir, outDir)).ok).toBe(true);
  });

  it('an export (nothing inserted) is the base byte for byte, header included', async () => {
    const baseDir = await base({ layers: 4 });
    const outDir = path.join(work, 'out-export');
    await expandCheckpoint(baseDir, outDir, buildPlan(4, 'custom', [], [], 'Export'), { layout: 'verbatim', allowEmptyPlan: true });
    const baseShards = shards(baseDir);
    expect(shards(outDir)).toEqual(baseShards);
    for (const f of baseShards) expect(dataSection(path.join(outDir, f)).equals(dataSection(path.join(baseDir, f))), f).toBe(true);
  });

  it('a disk that fills during the OS copy: out_of_disk naming the shard, nothing left', async () => {
    const baseDir = await base();
    const outParent = path.join(work, 'full');
    const err = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(12, { strategy: 'interleaved', add: 4 }), { layout: 'verbatim', fs: diskFullAfter(60_000) }));
    expect(err.code).toBe('out_of_disk');
    expect(err.message).toMatch(/model-\d{5}-of-\d{5}\.safetensors/);
    expect(fs.existsSync(outParent)).toBe(false);
  });

  it('cancelling between shard copies leaves nothing', async () => {
    const baseDir = await base();
    const outParent = path.join(work, 'cancel');
    let calls = 0;
    const err = await rejectionOf(
      expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(12, { strategy: 'interleaved', add: 4 }), { layout: 'verbatim', isCancelled: () => ++calls > 3 }),
    );
    expect(err.code).toBe('cancelled');
    expect(fs.existsSync(outParent)).toBe(false);
  });

  it("'auto' packs small models into one file and copies large ones verbatim", async () => {
    const baseDir = await base({ maxShardBytes: 10_000_000 }); // one base file
    const weights = fs.statSync(path.join(baseDir, 'model.safetensors')).size;
    const plan = planExpansion(12, { strategy: 'interleaved', add: 2 });
    const small = path.join(work, 'out-auto-small');
    const large = path.join(work, 'out-auto-large');
    await expandCheckpoint(baseDir, small, plan, { verbatimMinBytes: weights + 1 });
    await expandCheckpoint(baseDir, large, plan, { verbatimMinBytes: weights });
    expect(shards(small)).toEqual(['model.safetensors']);
    expect(shards(large)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const kept = dataSection(path.join(large, 'model-00001-of-00002.safetensors'));
    expect(dataSection(path.join(baseDir, 'model.safetensors')).subarray(0, kept.length).equals(kept)).toBe(true);
    for (const out of [small, large]) expect((await verifyExpansion(baseDir, out)).ok).toBe(true);
  });

  it('the temp folders (or files) of a stopped writer are found and removed for it (and nothing else)', async () => {
    const parent = path.join(work, 'leftovers');
    for (const d of ['.pro.deepen-partial-123-abc', '.pro.deepen-partial-456-def', '.pro2.deepen-partial-1-a', 'pro-keep']) fs.mkdirSync(path.join(parent, d, 'x'), { recursive: true });
    const removed = await removePartialOutputs(path.join(parent, 'pro'));
    expect(removed.map((p) => path.basename(p)).sort()).toEqual(['.pro.deepen-partial-123-abc', '.pro.deepen-partial-456-def']);
    expect(listDir(parent).sort()).toEqual(['.pro2.deepen-partial-1-a', 'pro-keep']);
    expect(await removePartialOutputs(path.join(work, 'missing', 'pro'))).toEqual([]);
    // a file being built (a GGUF export) goes the same way
    fs.writeFileSync(path.join(parent, '.pro.gguf.deepen-partial-9-ff'), 'half');
    expect((await removePartialOutputs(path.join(parent, 'pro.gguf'))).map((p) => path.basename(p))).toEqual(['.pro.gguf.deepen-partial-9-ff']);
  });
});

describe('planVerbatimShards', () => {
  // offsets relative to a 200-byte header; file() moves them behind its own header length
  const t = (name: string, begin: number, length: number, file = '/m/a.safetensors'): TensorInfo => ({ name, dtype: 'F32', shape: [length / 4], file, offset: 8 + 200 + begin, length });
  const file = (tensors: TensorInfo[], headerLength = 200): SafetensorsFile => {
    const moved = tensors.map((x) => ({ ...x, offset: x.offset - 200 + headerLength }));
    return {
      file: '/m/a.safetensors',
      fileSize: Math.max(...moved.map((x) => x.offset + x.length)),
      headerLength,
      dataStart: 8 + headerLength,
      metadata: { format: 'pt' },
      tensors: moved,
    };
  };
  const plan = (f: SafetensorsFile, rename = (s: string) => s as string | undefined, extra = { deepen_version: '0.1.0' }) =>
    planVerbatimShards({ files: [f], tensors: new Map(f.tensors.map((x) => [x.name, x])) }, rename, { base: { format: 'pt' }, extra }, 1e9);

  it('keeps the run that starts at byte 0 and is contiguous; a gap ends it', () => {
    const f = file([t('a', 0, 400), t('b', 400, 400), t('c', 804, 400)]);
    const [s] = plan(f);
    expect(s.tensors.map((x) => x.name)).toEqual(['a', 'b']);
    expect(s.dataBytes).toBe(800);
    expect(s.header.length).toBe(200);
    expect(JSON.parse(s.header.toString()).__metadata__).toEqual({ format: 'pt', deepen_version: '0.1.0' });
  });

  // the byte length of the header naming these tensors, as the base wrote it
  const headerBytes = (tensors: TensorInfo[]) =>
    JSON.stringify({ __metadata__: { format: 'pt' }, ...Object.fromEntries(tensors.map((x) => [x.name, { dtype: x.dtype, shape: x.shape, data_offsets: [x.offset - 208, x.offset - 208 + x.length] }])) }).length;

  it('drops our metadata before any tensor, then tensors from the end; never the base metadata', () => {
    const tensors = [t('a', 0, 400), t('b', 400, 400)];
    const [s] = plan(file(tensors, headerBytes(tensors)));
    expect(s.tensors).toHaveLength(2);
    expect(JSON.parse(s.header.toString()).__metadata__).toEqual({ format: 'pt' });
    // b renamed longer: only a fits, with our metadata back in; the copy is cut after a's bytes
    const many = [t('a', 0, 4000), t('b', 4000, 40)];
    const [keep] = plan(file(many, headerBytes(many)), (x) => (x === 'b' ? 'b-renamed-longer' : x));
    expect(keep.tensors.map((x) => x.name)).toEqual(['a']);
    expect(keep.dataBytes).toBe(4000);
    expect(JSON.parse(keep.header.toString()).__metadata__).toEqual({ format: 'pt', deepen_version: '0.1.0' });
  });

  it('a copy that would keep less than half its bytes is not made', () => {
    const tensors = [t('a', 0, 300), t('b', 300, 500)];
    expect(plan(file(tensors, headerBytes(tensors)), (x) => `${x}-renamed`)).toEqual([]);
  });

  it('a tensor the checkpoint takes from another file ends the run', () => {
    const f = file([t('a', 0, 400), t('b', 400, 400)]);
    const shards = planVerbatimShards({ files: [f], tensors: new Map([['a', f.tensors[0]], ['b', t('b', 0, 400, '/m/b.safetensors')]]) }, (s) => s, { base: {}, extra: {} }, 1e9);
    expect(shards[0].tensors.map((x) => x.name)).toEqual(['a']);
    expect(JSON.parse(shards[0].header.toString()).__metadata__).toBeUndefined();
  });
});
