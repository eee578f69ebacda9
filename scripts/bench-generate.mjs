#!/usr/bin/env node
// Prefill and decode tokens/s of Deepen's engine (ONNX Runtime, CPU EP, fp32)
// next to llama.cpp (node-llama-cpp) on the same weights: a random Llama-shaped
// checkpoint is written, loaded by our engine, and exported with our GGUF
// exporter (f32, the same precision) for llama.cpp, with the same thread count.
//
//   node scripts/bench-generate.mjs [--sizes 100m,1b] [--prompt 128] [--decode 64]
//                                   [--threads N] [--variants plain,fused] [--keep DIR]
//
// Results print as a table and go to .bench/generate.json.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = (p) => import(path.join(root, 'src', p));

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : 'true']] : acc), []),
);
const sizes = (args.sizes ?? '100m,1b').split(',');
const promptLen = Number(args.prompt ?? 128);
const decodeLen = Number(args.decode ?? 64);
const threads = Number(args.threads ?? os.availableParallelism());
const variants = (args.variants ?? 'plain,fused').split(',');

/** Llama-shaped configs (GQA, SwiGLU, untied head, 32k vocabulary). */
const shapes = {
  '100m': { hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12, num_key_value_heads: 4 },
  '1b': { hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8 },
};

async function writeRandomCheckpoint(dir, shape) {
  const { SafetensorsWriter } = await src('native/checkpoint/safetensors-writer.ts');
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 32000,
    max_position_embeddings: 4096,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    hidden_act: 'silu',
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: 'bfloat16',
    ...shape,
  };
  if (fs.existsSync(path.join(dir, 'config.json'))) return config;
  fs.mkdirSync(dir, { recursive: true });
  const H = config.hidden_size;
  const hs = H / config.num_attention_heads;
  const kvd = config.num_key_value_heads * hs;
  const I = config.intermediate_size;
  const specs = [{ name: 'model.embed_tokens.weight', shape: [32000, H] }, { name: 'model.norm.weight', shape: [H] }, { name: 'lm_head.weight', shape: [32000, H] }];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [H] },
      { name: `${p}post_attention_layernorm.weight`, shape: [H] },
      { name: `${p}self_attn.q_proj.weight`, shape: [H, H] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kvd, H] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kvd, H] },
      { name: `${p}self_attn.o_proj.weight`, shape: [H, H] },
      { name: `${p}mlp.gate_proj.weight`, shape: [I, H] },
      { name: `${p}mlp.up_proj.weight`, shape: [I, H] },
      { name: `${p}mlp.down_proj.weight`, shape: [H, I] },
    );
  }
  const tmp = `${dir}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const writer = SafetensorsWriter.create(tmp, specs.map((s) => ({ ...s, dtype: 'BF16' })));
  let seed = 12345;
  for (const shard of writer.shards) {
    for (const t of shard.tensors) {
      const n = t.spec.shape.reduce((a, b) => a * b, 1);
      const norm = t.spec.shape.length === 1;
      const std = norm ? 0 : 1 / Math.sqrt(t.spec.shape[1]);
      const buf = Buffer.alloc(n * 2);
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      for (let i = 0; i < n; i++) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        f[0] = norm ? 1 : ((seed / 4294967296) * 2 - 1) * std * 1.7;
        buf.writeUInt16LE(u[0] >>> 16, i * 2);
      }
      await writer.writeTensor(t.spec.name, buf);
    }
  }
  await writer.finish();
  fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2));
  fs.renameSync(tmp, dir);
  return config;
}

const promptIds = Array.from({ length: promptLen }, (_, i) => 3 + ((i * 7919) % 31000));

async function benchOurs(dir, variant, cacheDir) {
  const { loadModel } = await src('native/model/load.ts');
  const t0 = performance.now();
  const model = await loadModel(dir, { provider: 'cpu', precision: 'fp32', variant, cacheDir, intraOpThreads: threads });
  const loadS = (performance.now() - t0) / 1000;
  const dec = model.createDecoder();
  await dec.prefill(promptIds.slice(0, 8)); // warm-up: first run allocates
  dec.reset();
  let t = performance.now();
  let logits = await dec.prefill(promptIds);
  const prefill = promptLen / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let i = 0; i < decodeLen; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    logits = await dec.step(best);
  }
  const decode = decodeLen / ((performance.now() - t) / 1000);
  await model.dispose();
  return { engine: `deepen ort-cpu ${variant}`, loadS, prefill, decode };
}

async function benchLlamaCpp(gguf) {
  const { getLlama } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: gguf });
  const context = await model.createContext({ contextSize: promptLen + decodeLen + 16, sequences: 1, threads, batchSize: promptLen });
  const loadS = (performance.now() - t0) / 1000;
  const seq = context.getSequence();
  await seq.evaluateWithoutGeneratingNewTokens(promptIds.slice(0, 8)); // warm-up
  await seq.clearHistory();
  let t = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(promptIds);
  const prefill = promptLen / ((performance.now() - t) / 1000);
  await seq.clearHistory();
  // Decode: generation after the same prompt; prefill time measured above is subtracted.
  t = performance.now();
  let n = 0;
  let first = 0;
  for await (const _ of seq.evaluate(promptIds, { temperature: 0, yieldEogToken: true })) {
    if (n === 0) first = performance.now();
    if (++n > decodeLen) break;
  }
  const decode = decodeLen / ((performance.now() - first) / 1000);
  await context.dispose();
  await model.dispose();
  return { engine: 'llama.cpp (node-llama-cpp) f32', loadS, prefill, decode, firstTokenS: (first - t) / 1000 };
}

const work = args.keep ?? path.join(os.tmpdir(), 'deepen-bench');
fs.mkdirSync(work, { recursive: true });
const results = [];
for (const size of sizes) {
  const shape = shapes[size];
  if (!shape) throw new Error(`unknown size ${size} (use ${Object.keys(shapes).join(', ')})`);
  const dir = path.join(work, `llama-${size}`);
  console.log(`\n== ${size}: writing the random checkpoint (if missing) in ${dir}`);
  await writeRandomCheckpoint(dir, shape);
  const gguf = path.join(work, `llama-${size}.f32.gguf`);
  if (!fs.existsSync(gguf)) {
    const { exportGguf } = await src('native/export/gguf.ts');
    await exportGguf(dir, gguf, { type: 'f32' });
  }
  for (const variant of variants) {
    const r = await benchOurs(dir, variant, path.join(work, 'cache'));
    results.push({ size, threads, ...r });
    console.log(`${size}  ${r.engine.padEnd(34)} prefill ${r.prefill.toFixed(1).padStart(8)} tok/s   decode ${r.decode.toFixed(2).padStart(7)} tok/s   (load ${r.loadS.toFixed(1)} s)`);
  }
  const l = await benchLlamaCpp(gguf);
  results.push({ size, threads, ...l });
  console.log(`${size}  ${l.engine.padEnd(34)} prefill ${l.prefill.toFixed(1).padStart(8)} tok/s   decode ${l.decode.toFixed(2).padStart(7)} tok/s   (load ${l.loadS.toFixed(1)} s)`);
}
const out = path.join(root, '.bench', 'generate.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, promptLen, decodeLen, results }, null, 2));
console.log(`\nwrote ${out}`);
