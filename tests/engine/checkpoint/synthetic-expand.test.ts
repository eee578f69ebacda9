// Expansions the fixtures do not cover: uneven depths (the 49-layer case that
// makes the authors' script assert), other families and layouts, biases on
// o_proj/down_proj, sharded output, every strategy.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { planExpansion, type PlanRequest } from '../../../src/native/checkpoint/expand-plan';
import { verifyExpansion } from '../../../src/native/checkpoint/expand-verify';
import { expandCheckpoint } from '../../../src/native/checkpoint/expand-writer';
import { summarizeCheckpoint } from '../../../src/native/checkpoint/summary';
import { cleanup, listDir, tempDir, writeSyntheticCheckpoint, type SyntheticOptions } from './helpers';

const work = tempDir('synthetic');
afterAll(() => cleanup(work));
let n = 0;

async function expandSynthetic(opts: SyntheticOptions, req: PlanRequest, expandOpts: { maxShardBytes?: number; chunkBytes?: number } = {}) {
  const id = ++n;
  const baseDir = path.join(work, `base-${id}`);
  const outDir = path.join(work, `out-${id}`);
  await writeSyntheticCheckpoint(baseDir, opts);
  const plan = planExpansion(opts.layers ?? 4, req);
  const result = await expandCheckpoint(baseDir, outDir, plan, expandOpts);
  const report = await verifyExpansion(baseDir, outDir);
  expect(report.problems).toEqual([]);
  const config = JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8'));
  return { baseDir, outDir, plan, result, report, config };
}

describe('uneven and unusual expansions', () => {
  it('49 layers + 8 (where the authors\' script asserts): spread evenly, written and verified', async () => {
    const { plan, config, report } = await expandSynthetic({ layers: 49, hidden: 8, intermediate: 8, heads: 2, kvHeads: 1, vocab: 8 }, { strategy: 'interleaved', add: 8 });
    expect(config.num_hidden_layers).toBe(57);
    expect(plan.newBlockIndices).toHaveLength(8);
    expect(report.tensorsZeroed).toBe(16);
  });

  it('7 layers + 2', async () => {
    const { plan, config } = await expandSynthetic({ layers: 7 }, { strategy: 'interleaved', add: 2 });
    expect(plan.newBlockIndices).toEqual([3, 8]);
    expect(config.num_hidden_layers).toBe(9);
  });

  it('biases on o_proj and down_proj are zeroed too, other biases copied (llama attention_bias + mlp_bias)', async () => {
    const { outDir, report } = await expandSynthetic({ outputBiases: true }, { strategy: 'interleaved', add: 2 });
    expect(report.tensorsZeroed).toBe(8);
    const out = await openCheckpoint(outDir);
    try {
      for (const s of ['self_attn.o_proj.bias', 'mlp.down_proj.bias']) expect((await out.readTensor(`model.layers.2.${s}`)).every((b) => b === 0)).toBe(true);
      for (const s of ['mlp.up_proj.bias', 'self_attn.q_proj.bias']) expect((await out.readTensor(`model.layers.2.${s}`)).some((b) => b !== 0)).toBe(true);
    } finally {
      await out.close();
    }
  });

  it('Qwen3 q/k norms are copied; 4.x config layout is kept', async () => {
    const { outDir, config } = await expandSynthetic({ modelType: 'qwen3', layout4: true }, { strategy: 'top', add: 1 });
    expect(config.torch_dtype).toBe('bfloat16');
    expect(config.rope_theta).toBe(10000);
    expect('rope_parameters' in config).toBe(false);
    const out = await openCheckpoint(outDir);
    try {
      expect(out.config.qkNorm).toBe(true);
      expect((await out.readTensor('model.layers.4.self_attn.q_norm.weight')).equals(await out.readTensor('model.layers.3.self_attn.q_norm.weight'))).toBe(true);
    } finally {
      await out.close();
    }
  });

  it('Qwen2 layer_types and max_window_layers follow the new depth', async () => {
    const { config } = await expandSynthetic(
      {
        modelType: 'qwen2',
        tie: true,
        config: { layer_types: ['full_attention', 'full_attention', 'sliding_attention', 'sliding_attention'], max_window_layers: 2, use_sliding_window: true, sliding_window: 64 },
      },
      { strategy: 'interleaved', add: 2 },
    );
    // old 0,1 | copy of 1 | old 2,3 | copy of 3
    expect(config.layer_types).toEqual(['full_attention', 'full_attention', 'full_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention']);
    expect(config.max_window_layers).toBe(3);
  });

  it('bottom and custom strategies write and verify', async () => {
    const bottom = await expandSynthetic({}, { strategy: 'bottom', add: 2 });
    expect(bottom.plan.newBlockIndices).toEqual([0, 1]);
    expect(JSON.parse(fs.readFileSync(path.join(bottom.outDir, 'deepen_expansion.json'), 'utf8')).plan.warnings[0]).toContain('29.36');
    const custom = await expandSynthetic({}, { strategy: 'custom', positions: [0, 0, 3] });
    expect(custom.plan.newBlockIndices).toEqual([1, 2, 6]);
  });

  it('shards the output at the size limit, in block order, and verifies across shards', async () => {
    const { outDir, result } = await expandSynthetic({ layers: 6, hidden: 32, intermediate: 64 }, { strategy: 'interleaved', add: 3 }, { maxShardBytes: 20_000, chunkBytes: 1000 });
    const shards = listDir(outDir).filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(3);
    expect(shards[0]).toMatch(/^model-00001-of-000\d\d\.safetensors$/);
    expect(result.files).toContain('model.safetensors.index.json');
    const index = JSON.parse(fs.readFileSync(path.join(outDir, 'model.safetensors.index.json'), 'utf8'));
    expect(Object.keys(index.weight_map)).toHaveLength(result.tensors.length);
    // numeric order: block 2 is written before block 10
    const order = result.tensors.map((t) => t.name).filter((t) => t.endsWith('input_layernorm.weight'));
    expect(order.slice(0, 3)).toEqual(['model.layers.0.input_layernorm.weight', 'model.layers.1.input_layernorm.weight', 'model.layers.2.input_layernorm.weight']);
  });

  it('chunk size and read-ahead depth change nothing in the bytes written', async () => {
    const outs: Buffer[] = [];
    for (const [chunkBytes, readAhead] of [
      [undefined, undefined],
      [4096, 2],
      [4096 + 8, 5],
    ] as const) {
      const id = ++n;
      const baseDir = path.join(work, `base-rw-${id}`);
      await writeSyntheticCheckpoint(baseDir, { layers: 4, hidden: 64, intermediate: 96, outputBiases: true });
      const outDir = path.join(work, `out-rw-${id}`);
      await expandCheckpoint(baseDir, outDir, planExpansion(4, { strategy: 'interleaved', add: 2 }), { chunkBytes, readAhead });
      outs.push(fs.readFileSync(path.join(outDir, 'model.safetensors')));
    }
    expect(outs[1].equals(outs[0])).toBe(true);
    expect(outs[2].equals(outs[0])).toBe(true);
  });

  it('reads a Hugging Face cache snapshot, where every file is a symlink to a blob', async () => {
    const blobs = path.join(work, 'hf-blobs');
    const snapshot = path.join(work, 'hf-snapshot');
    await writeSyntheticCheckpoint(blobs, { maxShardBytes: 10_000 });
    fs.mkdirSync(snapshot);
    for (const f of fs.readdirSync(blobs)) fs.symlinkSync(path.join(blobs, f), path.join(snapshot, f));
    const ckpt = await openCheckpoint(snapshot);
    const summary = await summarizeCheckpoint(ckpt);
    await ckpt.close();
    expect(summary.sizeOnDisk).toBeGreaterThan(summary.weightsBytes);
    expect(summary.tokenizer).toBe(true);
    expect(summary.chatTemplate).toBe(true);
    const outDir = path.join(work, 'hf-out');
    await expandCheckpoint(snapshot, outDir, planExpansion(4, { strategy: 'interleaved', add: 2 }));
    expect(fs.lstatSync(path.join(outDir, 'tokenizer.json')).isFile()).toBe(true); // a copy, not a link
    expect((await verifyExpansion(snapshot, outDir)).ok).toBe(true);
  });

  it('verify catches a tampered output', async () => {
    const { baseDir, outDir, plan } = await expandSynthetic({}, { strategy: 'interleaved', add: 2 });
    const file = path.join(outDir, 'model.safetensors');
    const out = await openCheckpoint(outDir);
    const zeroT = out.tensors.get('model.layers.2.self_attn.o_proj.weight')!;
    const copyT = out.tensors.get('model.layers.3.mlp.up_proj.weight')!;
    await out.close();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([1]), 0, 1, zeroT.offset + 3);
    fs.writeSync(fd, Buffer.from([0]), 0, 1, copyT.offset + copyT.length - 1);
    fs.closeSync(fd);
    const config = JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8'));
    config.extra_key = 1;
    fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(config));
    const report = await verifyExpansion(baseDir, outDir, { plan });
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain('model.layers.2.self_attn.o_proj.weight" should be all zeros');
    expect(report.problems.join('\n')).toContain('model.layers.3.mlp.up_proj.weight" differs');
    expect(report.problems.join('\n')).toContain('unexpected key "extra_key"');
  });
});
