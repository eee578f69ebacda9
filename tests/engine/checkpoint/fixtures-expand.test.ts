// Expanding the three shared fixtures with the paper's interleaved strategy
// must give exactly the tensor names and new block indices the LLaMA Pro
// authors' script produced (fixtures.json), with every dtype kept; in both
// output layouts (packed: fresh shards in name order; verbatim: the base's
// shards copied by the OS with their headers rewritten, new blocks apart).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../../src/native/checkpoint/checkpoint';
import { planExpansion } from '../../../src/native/checkpoint/expand-plan';
import { verifyExpansion } from '../../../src/native/checkpoint/expand-verify';
import { expandCheckpoint, MANIFEST_FILE } from '../../../src/native/checkpoint/expand-writer';
import { readSafetensorsFile } from '../../../src/native/checkpoint/safetensors-reader';
import { cleanup, fixtureCases, fixtureNames, fixturesDir, listDir, tempDir } from './helpers';

const work = tempDir('fixtures-expand');
afterAll(() => cleanup(work));

const layouts = ['packed', 'verbatim'] as const;
describe.each(fixtureNames.flatMap((name) => layouts.map((layout) => [name, layout] as const)))('expanding %s (interleaved, as the paper; %s layout)', (name, layout) => {
  const c = fixtureCases()[name];
  const baseDir = path.join(fixturesDir, name);
  const outDir = path.join(work, `${name}-pro-${layout}`);

  it('plans the new block indices of fixtures.json', async () => {
    const added = c.expanded_layers - c.layers;
    const plan = planExpansion(c.layers, { strategy: 'interleaved', add: added });
    expect(plan.newBlockIndices).toEqual(c.new_layer_indices);
    expect(plan.newDepth).toBe(c.expanded_layers);
    expect(plan.warnings).toEqual([]);
  });

  it('writes exactly the official tensor names, copies bytes exactly and zeroes o_proj/down_proj of new blocks', async () => {
    const base = await openCheckpoint(baseDir);
    try {
      const plan = planExpansion(c.layers, { strategy: 'interleaved', add: c.expanded_layers - c.layers });
      const progress: number[] = [];
      const result = await expandCheckpoint(base, outDir, plan, { layout, onProgress: (done, total) => progress.push(done / total) });
      expect(progress.at(-1)).toBe(1);
      expect(listDir(work).filter((n) => n.includes('deepen-partial'))).toEqual([]);

      const out = await openCheckpoint(outDir);
      try {
        // The authors' script saves model.state_dict(), which lists lm_head.weight even when it is
        // tied to the embeddings; HF save_pretrained (and we) store a tied weight once.
        const official = base.config.tieWordEmbeddings ? c.official_keys.filter((k) => k !== 'lm_head.weight') : c.official_keys;
        expect([...out.tensors.keys()].sort()).toEqual([...official].sort());
        expect(out.config.numLayers).toBe(c.expanded_layers);

        const newSet = new Set(c.new_layer_indices);
        const zeroed: string[] = [];
        for (const [tname, t] of out.tensors) {
          const m = /^model\.layers\.(\d+)\.(.+)$/.exec(tname);
          const newIndex = m ? Number(m[1]) : -1;
          const isNew = newSet.has(newIndex);
          // source block of new index k: the old block just below it (interleaved)
          const source = m ? plan.layers[newIndex].source : -1;
          const sourceName = m ? `model.layers.${source}.${m[2]}` : tname;
          const src = base.tensors.get(sourceName)!;
          expect(t.dtype, tname).toBe(src.dtype);
          expect(t.shape, tname).toEqual(src.shape);
          const bytes = await out.readTensor(tname);
          if (isNew && /^(self_attn\.o_proj|mlp\.down_proj)\.(weight|bias)$/.test(m![2])) {
            expect(bytes.every((b) => b === 0), `${tname} is zero`).toBe(true);
            zeroed.push(tname);
          } else {
            expect(bytes.equals(await base.readTensor(sourceName)), `${tname} equals ${sourceName}`).toBe(true);
          }
        }
        expect(zeroed.sort()).toEqual(result.zeroed.slice().sort());
        expect(zeroed).toHaveLength(2 * c.new_layer_indices.length);
        // q/k/v biases of Qwen2 are copied, not zeroed
        if (name === 'qwen2-tiny-tied') {
          const b = await out.readTensor('model.layers.2.self_attn.q_proj.bias');
          expect(b.equals(await base.readTensor('model.layers.1.self_attn.q_proj.bias'))).toBe(true);
        }
      } finally {
        await out.close();
      }
    } finally {
      await base.close();
    }
  });

  it('keeps the dtype in the file header (bf16 stays bf16) and the safetensors metadata', async () => {
    const shards = listDir(outDir).filter((f) => f.endsWith('.safetensors'));
    if (layout === 'packed') expect(shards).toEqual(['model.safetensors']);
    else expect(shards.length).toBeGreaterThan(1);
    const files = await Promise.all(shards.map((f) => readSafetensorsFile(path.join(outDir, f))));
    for (const file of files) {
      expect(new Set(file.tensors.map((t) => t.dtype))).toEqual(new Set([c.dtype === 'torch.bfloat16' ? 'BF16' : 'F32']));
      expect(file.metadata.format).toBe('pt');
      expect(file.headerLength % 8).toBe(0);
    }
    // ours is in every packed shard; a verbatim shard carries it only where the header has room
    const ours = files.filter((f) => f.metadata.deepen_version);
    expect(ours.length).toBeGreaterThan(0);
    for (const file of ours) {
      expect(file.metadata.deepen_version).toMatch(/^\d+\.\d+\.\d+/);
      expect(file.metadata.deepen_new_blocks).toBe(c.new_layer_indices.join(','));
    }
  });

  it('writes config.json (depth and per-layer lists), companions and deepen_expansion.json', () => {
    const baseConfig = JSON.parse(fs.readFileSync(path.join(baseDir, 'config.json'), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(outDir, 'config.json'), 'utf8'));
    expect(Object.keys(config)).toEqual(Object.keys(baseConfig)); // same keys, same order, same layout
    expect(config.num_hidden_layers).toBe(c.expanded_layers);
    expect(config.rope_parameters).toEqual(baseConfig.rope_parameters);
    expect(config.dtype).toBe(baseConfig.dtype);
    if (baseConfig.layer_types) expect(config.layer_types).toHaveLength(c.expanded_layers);
    for (const f of listDir(baseDir).filter((n) => /^(tokenizer|generation_config)/.test(n))) {
      expect(fs.readFileSync(path.join(outDir, f)).equals(fs.readFileSync(path.join(baseDir, f))), f).toBe(true);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, MANIFEST_FILE), 'utf8'));
    expect(manifest.new_block_indices).toEqual(c.new_layer_indices);
    expect(manifest.base_model.path).toBe(baseDir);
    expect(manifest.new_blocks.map((b: { source: number }) => b.source)).toEqual(c.new_layer_indices.map((i, k) => i - k - 1));
    expect(manifest.tensors_zeroed).toHaveLength(2 * c.new_layer_indices.length);
    expect(manifest.tool_version).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.plan.strategy).toBe('interleaved');
  });

  it('passes the structural check', async () => {
    const report = await verifyExpansion(baseDir, outDir);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.tensorsZeroed).toBe(2 * c.new_layer_indices.length);
  });
});
