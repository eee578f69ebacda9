// `npm run bench:expand`: how fast and how lean is block expansion next to a
// plain `cp -r` of the same checkpoint, in the same run, on the same disk?
//
// 1. Builds a synthetic TinyLlama-shaped bf16 checkpoint (~2.2 GB, 22 blocks,
//    hidden 2048, GQA 32/4 heads, vocab 32000) in 500 MB shards, filled with
//    random-ish bytes (one random buffer, reused at shifting offsets: fast).
// 2. Runs, in both orders (cp first, then ours; ours first, then cp), --rounds
//    times (default 3), after one untimed run of each, and reports medians:
//      cp -r base copy             (timed; then `sync`, timed separately)
//      expand base → out, +4 blocks (in a child process, so its peak RSS is its
//                                   own; timed inside the child; then `sync`)
//    Both read the base from the page cache (it was just written and synced)
//    and neither fsyncs, so "cached" compares the copy work itself and
//    "+sync" adds the writeback each caused.
// 3. Prints a table and, as the last line, one JSON object with the figures
//    and `ratio` = ours / cp throughput (bytes written per second; higher is better).
//
// Targets (issue 3): peak RSS < 300 MB + largest tensor; ratio ≥ 0.7.
//
// Options: --size-gb N (default 2.2: blocks are added until the size is reached),
//          --add N (default 4), --rounds N (default 3), --dir PATH (default os.tmpdir()), --keep
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = (p) => path.join(here, '..', 'src', 'native', 'checkpoint', p);
const MB = 1e6;

const { values, positionals } = parseArgs({
  options: { child: { type: 'boolean' }, 'size-gb': { type: 'string' }, add: { type: 'string' }, dir: { type: 'string' }, keep: { type: 'boolean' }, rounds: { type: 'string' } },
  allowPositionals: true,
});

/** The expansion alone, in its own process: prints its timing and peak RSS as JSON. */
async function child(baseDir, outDir, add) {
  const { planExpansion } = await import(src('expand-plan.ts'));
  const { expandCheckpoint } = await import(src('expand-writer.ts'));
  const { openCheckpoint } = await import(src('checkpoint.ts'));
  const base = await openCheckpoint(baseDir);
  const plan = planExpansion(base.config.numLayers, { strategy: 'interleaved', add });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await expandCheckpoint(base, outDir, plan);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await base.close();
  const largest = Math.max(...[...base.tensors.values()].map((t) => t.length));
  // maxRSS is in kilobytes
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytesWritten: r.bytesWritten, files: r.files.length, maxRssBytes: process.resourceUsage().maxRSS * 1024, largestTensorBytes: largest, newDepth: plan.newDepth }) + '\n');
}

function dirBytes(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

function timed(fn) {
  const t0 = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

const sync = () => timed(() => execFileSync('sync')).seconds;

async function buildCheckpoint(dir, targetBytes) {
  const { SafetensorsWriter } = await import(src('safetensors-writer.ts'));
  const hidden = 2048, inter = 5632, heads = 32, kvHeads = 4, vocab = 32000;
  const headDim = hidden / heads;
  const block = (i) => {
    const p = `model.layers.${i}.`;
    return [
      [p + 'input_layernorm.weight', [hidden]],
      [p + 'mlp.down_proj.weight', [hidden, inter]],
      [p + 'mlp.gate_proj.weight', [inter, hidden]],
      [p + 'mlp.up_proj.weight', [inter, hidden]],
      [p + 'post_attention_layernorm.weight', [hidden]],
      [p + 'self_attn.k_proj.weight', [kvHeads * headDim, hidden]],
      [p + 'self_attn.o_proj.weight', [hidden, heads * headDim]],
      [p + 'self_attn.q_proj.weight', [heads * headDim, hidden]],
      [p + 'self_attn.v_proj.weight', [kvHeads * headDim, hidden]],
    ];
  };
  const bytes = (list) => list.reduce((s, [, shape]) => s + shape.reduce((a, b) => a * b, 1) * 2, 0);
  const outer = [
    ['lm_head.weight', [vocab, hidden]],
    ['model.embed_tokens.weight', [vocab, hidden]],
    ['model.norm.weight', [hidden]],
  ];
  const layers = Math.max(2, Math.round((targetBytes - bytes(outer)) / bytes(block(0))));
  const entries = [...outer.slice(0, 2), ...Array.from({ length: layers }, (_, i) => block(i)).flat(), outer[2]];
  const specs = entries.map(([name, shape]) => ({ name, dtype: 'BF16', shape }));
  fs.mkdirSync(dir, { recursive: true });
  const writer = SafetensorsWriter.create(dir, specs, { maxShardBytes: 500 * MB, metadata: { format: 'pt' } });
  const noise = Buffer.allocUnsafe(64 * 2 ** 20 + 4096);
  randomFillSync(noise);
  let shift = 0;
  for (const s of specs) {
    await writer.beginTensor(s.name);
    let left = s.shape.reduce((a, b) => a * b, 1) * 2;
    while (left > 0) {
      const n = Math.min(left, 64 * 2 ** 20);
      shift = (shift + 4093) % 4096;
      await writer.write(noise, shift, n);
      left -= n;
    }
    await writer.endTensor();
  }
  await writer.finish();
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: inter,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 2048,
    rope_theta: 10000,
    rope_scaling: null,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
    bos_token_id: 1,
    eos_token_id: 2,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  fs.writeFileSync(path.join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: 2 }));
  return { layers, bytes: dirBytes(dir) };
}

// CPU seconds (user + system) say how much work each did, which a busy shared
// machine distorts far less than wall time.
const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

function runCp(base, dst) {
  const timeFile = path.join(path.dirname(dst), 'cp.time');
  const cmd = timeBin ? [timeBin, ['-f', '%U %S', '-o', timeFile, 'cp', '-r', base, dst]] : ['cp', ['-r', base, dst]];
  const r = timed(() => spawnSync(cmd[0], cmd[1], { stdio: 'inherit' }));
  if (r.value.status !== 0) throw new Error('cp failed');
  const cpuSeconds = timeBin ? fs.readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').reduce((a, b) => a + Number(b), 0) : null;
  const syncSeconds = sync();
  return { seconds: r.seconds, cpuSeconds, syncSeconds, bytes: dirBytes(dst) };
}

function runOurs(base, dst, add) {
  const r = timed(() => spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', base, dst, '--add', String(add)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
  if (r.value.status !== 0) throw new Error(`expansion failed:\n${r.value.stdout}`);
  const out = JSON.parse(r.value.stdout.trim().split('\n').at(-1));
  const syncSeconds = sync();
  return { seconds: out.seconds, cpuSeconds: out.cpuSeconds, processSeconds: r.seconds, syncSeconds, bytes: out.bytesWritten, maxRssBytes: out.maxRssBytes, largestTensorBytes: out.largestTensorBytes, newDepth: out.newDepth };
}

async function main() {
  const sizeBytes = Number(values['size-gb'] ?? 2.2) * 1e9;
  const add = Number(values.add ?? 4);
  const root = fs.mkdtempSync(path.join(values.dir ?? os.tmpdir(), 'deepen-bench-expand-'));
  // base + the expanded copy + the cp copy, each alive at most one at a time, plus margin
  const needBytes = sizeBytes * (1 + 1.3 + 1) + 1e9;
  const st = fs.statfsSync(root);
  const freeBytes = st.bavail * st.bsize;
  process.stderr.write(execFileSync('df', ['-h', root], { encoding: 'utf8' }));
  if (freeBytes < needBytes) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`bench:expand needs ${(needBytes / 1e9).toFixed(1)} GB free in ${path.dirname(root)}, has ${(freeBytes / 1e9).toFixed(1)} GB. Use --dir or --size-gb.`);
  }
  const cleanup = () => values.keep || fs.rmSync(root, { recursive: true, force: true });
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const baseDir = path.join(root, 'base');
    process.stderr.write(`building a ~${(sizeBytes / 1e9).toFixed(1)} GB bf16 checkpoint in ${baseDir} …\n`);
    const t0 = performance.now();
    const { layers, bytes: baseBytes } = await buildCheckpoint(baseDir, sizeBytes);
    const buildSeconds = (performance.now() - t0) / 1000;
    sync();
    process.stderr.write(`built ${layers} blocks, ${(baseBytes / 1e9).toFixed(2)} GB in ${buildSeconds.toFixed(1)} s\n`);

    // The first copy after building the base runs several times slower for
    // either tool (the file system is still settling the base's writes): one
    // untimed run of each first.
    for (const who of ['cp', 'ours']) {
      const dst = path.join(root, 'warm-up');
      if (who === 'cp') runCp(baseDir, dst);
      else runOurs(baseDir, dst, add);
      fs.rmSync(dst, { recursive: true, force: true });
      sync();
    }

    // This machine may be shared: alternate the two, in both orders, and take medians.
    const runs = [];
    const rounds = Math.max(1, Number(values.rounds ?? 3));
    const orders = Array.from({ length: rounds }, () => [['cp', 'ours'], ['ours', 'cp']]).flat();
    for (const order of orders) {
      for (const who of order) {
        const dst = path.join(root, who === 'cp' ? 'copy' : 'expanded');
        const r = who === 'cp' ? runCp(baseDir, dst) : runOurs(baseDir, dst, add);
        runs.push({ order: order.join(' → '), who, ...r });
        fs.rmSync(dst, { recursive: true, force: true });
        sync();
      }
    }
    report({ layers, baseBytes, add, runs });
  } finally {
    cleanup();
  }
}

function report({ layers, baseBytes, add, runs }) {
  const mbps = (bytes, s) => bytes / MB / s;
  const rows = runs.map((r) => ({
    run: `${r.order}: ${r.who}`,
    bytes: r.bytes,
    cached: mbps(r.bytes, r.seconds),
    synced: mbps(r.bytes, r.seconds + r.syncSeconds),
    seconds: r.seconds,
    sync: r.syncSeconds,
    rss: r.maxRssBytes,
    cpuPerGb: r.cpuSeconds === null ? null : r.cpuSeconds / (r.bytes / 1e9),
  }));
  // median over the runs of one tool
  const mean = (who, key) => {
    const xs = rows.filter((r) => r.run.endsWith(who)).map((r) => r[key]).sort((a, b) => a - b);
    const m = Math.floor(xs.length / 2);
    return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  };
  const ours = runs.filter((r) => r.who === 'ours');
  const peakRss = Math.max(...ours.map((r) => r.maxRssBytes));
  const largest = ours[0].largestTensorBytes;
  const rssTarget = 300 * MB + largest;
  const cpCached = mean(': cp', 'cached');
  const oursCached = mean(': ours', 'cached');
  const ratio = oursCached / cpCached;
  const ratioSynced = mean(': ours', 'synced') / mean(': cp', 'synced');

  const header = ['run', 'GB written', 'MB/s (cached)', 'MB/s (+sync)', 'seconds', 'sync s', 'CPU s/GB', 'peak RSS MB'];
  const table = rows.map((r) => [r.run, (r.bytes / 1e9).toFixed(2), r.cached.toFixed(0), r.synced.toFixed(0), r.seconds.toFixed(2), r.sync.toFixed(2), r.cpuPerGb === null ? '-' : r.cpuPerGb.toFixed(2), r.rss ? (r.rss / MB).toFixed(0) : '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\nBlock expansion vs cp -r: ${layers} → ${layers + add} blocks, base ${(baseBytes / 1e9).toFixed(2)} GB bf16, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}, Node ${process.version}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const t of table) console.log(line(t));
  console.log(`\nmedian MB/s: cp ${cpCached.toFixed(0)}, ours ${oursCached.toFixed(0)} (ours timed inside its process; with Node start-up: ${ours.map((r) => r.processSeconds.toFixed(2)).join(', ')} s)`);
  console.log(`throughput ours / cp: ${ratio.toFixed(2)} cached, ${ratioSynced.toFixed(2)} with sync (target ≥ 0.70)`);
  if (timeBin) console.log(`CPU per GB written (median): cp ${mean(': cp', 'cpuPerGb').toFixed(2)} s, ours ${mean(': ours', 'cpuPerGb').toFixed(2)} s`);
  console.log(`peak RSS ${(peakRss / MB).toFixed(0)} MB; target < 300 MB + largest tensor ${(largest / MB).toFixed(0)} MB = ${(rssTarget / MB).toFixed(0)} MB: ${peakRss < rssTarget ? 'met' : 'MISSED'}`);
  console.log(
    JSON.stringify({
      bench: 'expand',
      base_bytes: baseBytes,
      base_layers: layers,
      added: add,
      cp_mb_s: Number(cpCached.toFixed(1)),
      ours_mb_s: Number(oursCached.toFixed(1)),
      cp_mb_s_synced: Number(mean(': cp', 'synced').toFixed(1)),
      ours_mb_s_synced: Number(mean(': ours', 'synced').toFixed(1)),
      ratio: Number(ratio.toFixed(3)),
      ratio_synced: Number(ratioSynced.toFixed(3)),
      peak_rss_mb: Number((peakRss / MB).toFixed(1)),
      largest_tensor_mb: Number((largest / MB).toFixed(1)),
      rss_target_mb: Number((rssTarget / MB).toFixed(1)),
      cp_cpu_s_per_gb: timeBin ? Number(mean(': cp', 'cpuPerGb').toFixed(3)) : null,
      ours_cpu_s_per_gb: Number(mean(': ours', 'cpuPerGb').toFixed(3)),
      rss_ok: peakRss < rssTarget,
      throughput_ok: ratio >= 0.7,
      rounds: rows.length / 4,
      cpus: os.cpus().length,
      load_average_1m: Number(os.loadavg()[0].toFixed(2)),
      runs: rows.map((r) => ({ run: r.run, mb_s: Number(r.cached.toFixed(1)), mb_s_synced: Number(r.synced.toFixed(1)), cpu_s_per_gb: r.cpuPerGb === null ? null : Number(r.cpuPerGb.toFixed(3)), seconds: Number(r.seconds.toFixed(3)), sync_seconds: Number(r.sync.toFixed(3)), peak_rss_mb: r.rss ? Number((r.rss / MB).toFixed(1)) : null })),
    }),
  );
}

// Last, so every const above is initialised before it runs.
if (values.child) await child(positionals[0], positionals[1], Number(values.add ?? 4));
else await main();
