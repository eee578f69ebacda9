// Broken inputs: each must fail with a DeepenError whose message names the
// file (and tensor, where there is one) and says what to do, and an expansion
// from it must leave nothing behind in the output's parent folder.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DeepenError, type ErrorCode } from '../../../src/shared/errors';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { planExpansion } from '../../../src/native/checkpoint/expand-plan';
import { expandCheckpoint } from '../../../src/native/checkpoint/expand-writer';
import { diskFullAfter, nodeFs } from '../../../src/native/checkpoint/fs-layer';
import { cleanup, listDir, tempDir, writeRawSafetensors, writeSyntheticCheckpoint } from './helpers';
import { rejectionOf } from '../../expect-error';

const work = tempDir('broken');
afterAll(() => cleanup(work));
let n = 0;
let baseDir: string;
let outParent: string;
beforeEach(() => {
  n++;
  baseDir = path.join(work, `base-${n}`);
  outParent = path.join(work, `out-${n}`);
  fs.mkdirSync(outParent, { recursive: true });
});


/** Opening and expanding both fail with `code`, the message mentions each of `mentions`, no output is left. */
async function expectBroken(code: ErrorCode, mentions: string[]): Promise<DeepenError> {
  const err = await rejectionOf(openCheckpoint(baseDir));
  expect(err.code, err.message).toBe(code);
  for (const m of mentions) expect(err.message).toContain(m);
  const err2 = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(4, { strategy: 'interleaved', add: 2 })));
  expect(err2.message).toBe(err.message);
  expect(listDir(outParent)).toEqual([]);
  return err;
}

const single = () => path.join(baseDir, 'model.safetensors');

describe('broken safetensors files', () => {
  it('truncated file: names the file and the tensor that runs past the end', async () => {
    await writeSyntheticCheckpoint(baseDir, { dtype: 'F32' });
    const size = fs.statSync(single()).size;
    fs.truncateSync(single(), size - 10);
    const err = await expectBroken('bad_file', ['model.safetensors', 'model.layers.3.mlp.down_proj.weight', 'truncated']);
    expect(err.details).toMatchObject({ tensor: 'model.layers.3.mlp.down_proj.weight' });
  });

  it('file shorter than the length prefix', async () => {
    await writeSyntheticCheckpoint(baseDir);
    fs.writeFileSync(single(), Buffer.from([1, 2, 3]));
    await expectBroken('bad_file', ['model.safetensors', 'too short']);
  });

  it('header length beyond the file', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const fd = fs.openSync(single(), 'r+');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(fs.statSync(single()).size));
    fs.writeSync(fd, len, 0, 8, 0);
    fs.closeSync(fd);
    await expectBroken('bad_file', ['model.safetensors', 'beyond the end of the file']);
  });

  it('a header length of 2^64-1 is refused without allocating', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), '{}', 16, { headerLength: 2n ** 64n - 1n });
    await expectBroken('bad_file', ['model.safetensors', 'header length']);
  });

  it('malformed JSON', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), '{"model.embed_tokens.weight": {"dtype": "BF16", "shape": [32, 16], ', 1024);
    await expectBroken('bad_file', ['model.safetensors', 'malformed']);
  });

  it('a header that is JSON but not an object', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), '{}', 0);
    fs.writeFileSync(single(), Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[1] ')]));
    await expectBroken('bad_file', ['model.safetensors']);
  });

  it('overlapping offsets: names both tensors', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(
      single(),
      {
        'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        'model.embed_tokens.weight': { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
      },
      24,
    );
    await expectBroken('bad_file', ['model.safetensors', 'overlap', 'model.norm.weight', 'model.embed_tokens.weight']);
  });

  it('out-of-range offsets: names the tensor', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), { 'model.norm.weight': { dtype: 'F32', shape: [4], data_offsets: [100, 116] } }, 64);
    await expectBroken('bad_file', ['model.safetensors', 'model.norm.weight', 'beyond the data section']);
  });

  it('offsets that end before they begin', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), { 'model.norm.weight': { dtype: 'F32', shape: [0], data_offsets: [16, 8] } }, 64);
    await expectBroken('bad_file', ['model.norm.weight', 'end before they begin']);
  });

  it('dtype × shape ≠ bytes: names the tensor and both sizes', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), { 'model.norm.weight': { dtype: 'F32', shape: [4, 4], data_offsets: [0, 32] } }, 64);
    await expectBroken('bad_file', ['model.safetensors', 'model.norm.weight', '64 bytes', 'span 32 bytes']);
  });

  it('an unsupported dtype names the tensor and the supported list', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), { 'model.norm.weight': { dtype: 'F64', shape: [4], data_offsets: [0, 32] } }, 32);
    await expectBroken('unsupported', ['model.norm.weight', 'F64', 'BF16']);
  });

  it('a non-string __metadata__ value', async () => {
    await writeSyntheticCheckpoint(baseDir);
    writeRawSafetensors(single(), { __metadata__: { format: 1 } }, 0);
    await expectBroken('bad_file', ['__metadata__.format']);
  });
});

describe('broken sharded checkpoints', () => {
  it('missing shard: names the shard and a tensor it should hold', async () => {
    await writeSyntheticCheckpoint(baseDir, { maxShardBytes: 4000 });
    const shards = listDir(baseDir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f));
    expect(shards.length).toBeGreaterThan(2);
    fs.rmSync(path.join(baseDir, shards[1]));
    const err = await expectBroken('bad_file', [shards[1], 'missing', 'model.']);
    expect(err.details).toMatchObject({ file: path.join(baseDir, shards[1]) });
  });

  it('an index naming a tensor the shard does not hold', async () => {
    await writeSyntheticCheckpoint(baseDir, { maxShardBytes: 4000 });
    const indexFile = path.join(baseDir, 'model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    index.weight_map['model.layers.0.self_attn.rotary_emb.inv_freq'] = 'model-00002-of-' + Object.values<string>(index.weight_map)[0].slice(-17);
    fs.writeFileSync(indexFile, JSON.stringify(index));
    await expectBroken('bad_file', ['model.layers.0.self_attn.rotary_emb.inv_freq', 'model-00002-of-', 'model.safetensors.index.json']);
  });

  it('an index whose shard path leaves the folder', async () => {
    await writeSyntheticCheckpoint(baseDir, { maxShardBytes: 4000 });
    const indexFile = path.join(baseDir, 'model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
    index.weight_map['model.norm.weight'] = '../elsewhere.safetensors';
    fs.writeFileSync(indexFile, JSON.stringify(index));
    await expectBroken('bad_file', ['model.norm.weight', 'outside the checkpoint folder']);
  });

  it('an index that is not JSON', async () => {
    await writeSyntheticCheckpoint(baseDir, { maxShardBytes: 4000 });
    fs.writeFileSync(path.join(baseDir, 'model.safetensors.index.json'), '{"weight_map": ');
    await expectBroken('bad_file', ['model.safetensors.index.json', 'not valid JSON']);
  });
});

describe('broken configs', () => {
  it('config missing a required field names config.json and the field', async () => {
    await writeSyntheticCheckpoint(baseDir, { config: { hidden_size: undefined } });
    const err = await expectBroken('bad_file', ['config.json', '"hidden_size"', 'missing']);
    expect(err.details).toMatchObject({ field: 'hidden_size' });
  });

  it('no config.json at all', async () => {
    await writeSyntheticCheckpoint(baseDir);
    fs.rmSync(path.join(baseDir, 'config.json'));
    await expectBroken('not_found', ['config.json', baseDir]);
  });

  it('an unsupported model_type lists the supported ones', async () => {
    await writeSyntheticCheckpoint(baseDir, { config: { model_type: 'gpt2' } });
    await expectBroken('unsupported', ['"gpt2"', 'llama, mistral, qwen2, qwen3']);
  });

  it('config depth that disagrees with the weights', async () => {
    await writeSyntheticCheckpoint(baseDir, { config: { num_hidden_layers: 5 } });
    await expectBroken('bad_file', ['num_hidden_layers = 5', 'missing block 4']);
  });

  it('shapes that disagree with the config', async () => {
    await writeSyntheticCheckpoint(baseDir, { config: { vocab_size: 33 } });
    await expectBroken('bad_file', ['model.embed_tokens.weight', '[32, 16]', '[33, 16]']);
  });

  it('no weights at all', async () => {
    await writeSyntheticCheckpoint(baseDir);
    fs.rmSync(single());
    await expectBroken('not_found', ['model.safetensors', 'save_pretrained']);
  });
});

describe('output problems', () => {
  it('an existing output folder is a conflict and is left untouched', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const out = path.join(outParent, 'pro');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const err = await rejectionOf(expandCheckpoint(baseDir, out, planExpansion(4, { strategy: 'interleaved', add: 2 })));
    expect(err.code).toBe('conflict');
    expect(err.message).toContain(out);
    expect(listDir(outParent)).toEqual(['pro']);
    expect(listDir(out)).toEqual(['keep.txt']);
  });

  it('a disk that fills up mid-write: out_of_disk naming file and tensor, nothing left', async () => {
    await writeSyntheticCheckpoint(baseDir, { layers: 8, hidden: 64, intermediate: 128, vocab: 64 });
    const out = path.join(outParent, 'pro');
    const err = await rejectionOf(
      expandCheckpoint(baseDir, out, planExpansion(8, { strategy: 'interleaved', add: 2 }), { fs: diskFullAfter(100_000), chunkBytes: 8192 }),
    );
    expect(err.code).toBe('out_of_disk');
    expect(err.message).toContain('model.safetensors');
    expect(err.message).toMatch(/tensor "model\.[^"]+"/);
    expect(err.message).toContain('Free some space');
    expect(listDir(outParent)).toEqual([]);
  });

  it('a disk that fills up while copying the tokenizer', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const enospc = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    const fsLayer = { ...nodeFs, copyFile: async () => Promise.reject(enospc) };
    const err = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(4, { strategy: 'top', add: 1 }), { fs: fsLayer }));
    expect(err.code).toBe('out_of_disk');
    expect(err.message).toContain('tokenizer.json');
    expect(listDir(outParent)).toEqual([]);
  });

  it('too little free space is refused before writing anything', async () => {
    await writeSyntheticCheckpoint(baseDir);
    let opened = 0;
    const fsLayer = { ...nodeFs, freeBytes: async () => 1000, open: async (f: string) => (opened++, nodeFs.open(f)) };
    const err = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(4, { strategy: 'interleaved', add: 2 }), { fs: fsLayer }));
    expect(err.code).toBe('out_of_disk');
    expect(err.message).toMatch(/needs [\d.]+ GiB but .* has 0\.00 GiB free/);
    expect(opened).toBe(0);
    expect(listDir(outParent)).toEqual([]);
  });

  it('a failed rename removes the temp folder', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const fsLayer = { ...nodeFs, rename: async () => Promise.reject(Object.assign(new Error('EXDEV: cross-device link'), { code: 'EXDEV' })) };
    const err = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(4, { strategy: 'interleaved', add: 2 }), { fs: fsLayer }));
    expect(err.code).toBe('internal');
    expect(listDir(outParent)).toEqual([]);
  });

  it('cancelling mid-write leaves nothing; created parent folders go too', async () => {
    await writeSyntheticCheckpoint(baseDir, { layers: 8, hidden: 64, intermediate: 128, vocab: 64 });
    let calls = 0;
    const out = path.join(outParent, 'new', 'deeper', 'pro');
    const err = await rejectionOf(
      expandCheckpoint(baseDir, out, planExpansion(8, { strategy: 'interleaved', add: 4 }), { chunkBytes: 4096, isCancelled: () => ++calls > 20 }),
    );
    expect(err.code).toBe('cancelled');
    expect(listDir(outParent)).toEqual([]);
  });

  it('writing into the base folder itself is refused', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const err = await rejectionOf(expandCheckpoint(baseDir, baseDir, planExpansion(4, { strategy: 'interleaved', add: 2 })));
    expect(err.code).toBe('conflict');
  });

  it('a plan made for another depth is refused', async () => {
    await writeSyntheticCheckpoint(baseDir);
    const err = await rejectionOf(expandCheckpoint(baseDir, path.join(outParent, 'pro'), planExpansion(8, { strategy: 'interleaved', add: 2 })));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('8 blocks');
    expect(listDir(outParent)).toEqual([]);
  });
});
