// Structural check of a written expansion, run right after writing: it reads
// the output back from disk, as a loader would. Every copied tensor must be
// byte-identical to its source, every zeroed tensor all zero, the tensor set
// exactly as planned, and config.json equal to the base config except for the
// keys depth changes. (The numerical check — expanded logits equal base
// logits — belongs to the inference engine.)
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { expandedConfigJson } from './expand-config';
import { normalizePlan, type ExpansionPlan } from './expand-plan';
import { DEFAULT_CHUNK_BYTES, MANIFEST_FILE, outputTensors } from './expand-writer';

export interface VerifyOptions {
  /** the plan the output was written with; read from deepen_expansion.json when absent */
  plan?: ExpansionPlan;
  chunkBytes?: number;
  onProgress?: (bytesDone: number, bytesTotal: number, tensorName: string) => void;
  isCancelled?: () => boolean;
}

export interface VerifyReport {
  ok: boolean;
  /** what is wrong, one line each (at most 50) */
  problems: string[];
  tensorsCopied: number;
  tensorsZeroed: number;
  bytesCompared: number;
  seconds: number;
}

const MAX_PROBLEMS = 50;

export async function verifyExpansion(base: string | Checkpoint, outDir: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const baseCkpt = typeof base === 'string' ? await openCheckpoint(base) : base;
  let out: Checkpoint | null = null;
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  let copied = 0;
  let zeroed = 0;
  let bytesCompared = 0;
  try {
    const plan = normalizePlan(opts.plan ?? (await readManifestPlan(outDir, baseCkpt.config.numLayers)), baseCkpt.config.numLayers);
    try {
      out = await openCheckpoint(outDir);
    } catch (err) {
      if (!(err instanceof DeepenError) || err.code === 'cancelled') throw err;
      problem(`the output does not open as a checkpoint: ${err.message}`);
      return { ok: false, problems, tensorsCopied: 0, tensorsZeroed: 0, bytesCompared: 0, seconds: (Date.now() - started) / 1000 };
    }

    // config.json: same keys, same values, except what depth changes.
    const { json: expectedConfig } = expandedConfigJson(baseCkpt.rawConfig, baseCkpt.config, plan);
    const gotKeys = Object.keys(out.rawConfig);
    for (const k of Object.keys(expectedConfig)) if (!(k in out.rawConfig)) problem(`config.json lacks "${k}"`);
    for (const k of gotKeys) if (!(k in expectedConfig)) problem(`config.json has an unexpected key "${k}"`);
    for (const k of gotKeys) {
      if (k in expectedConfig && JSON.stringify(out.rawConfig[k]) !== JSON.stringify(expectedConfig[k])) {
        problem(`config.json "${k}" is ${JSON.stringify(out.rawConfig[k]).slice(0, 80)}, expected ${JSON.stringify(expectedConfig[k]).slice(0, 80)}`);
      }
    }
    if (out.config.numLayers !== plan.newDepth) problem(`config.json num_hidden_layers is ${out.config.numLayers}, expected ${plan.newDepth}`);

    // The tensor set, exactly.
    const expected = outputTensors(baseCkpt, plan);
    const expectedNames = new Set(expected.map((t) => t.name));
    for (const name of out.tensors.keys()) if (!expectedNames.has(name)) problem(`unexpected tensor "${name}"`);

    const chunk = Math.max(4096, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    const largest = Math.min(chunk, Math.max(0, ...expected.map((t) => t.length)));
    const a = Buffer.allocUnsafe(largest);
    const b = Buffer.allocUnsafe(largest);
    const zeros = Buffer.alloc(largest);
    const total = expected.reduce((s, t) => s + t.length, 0);
    for (const t of expected) {
      const got = out.tensors.get(t.name);
      if (!got) {
        problem(`missing tensor "${t.name}"`);
        continue;
      }
      if (got.dtype !== t.dtype || got.shape.join(',') !== t.shape.join(',')) {
        problem(`tensor "${t.name}" is ${got.dtype} [${got.shape}], expected ${t.dtype} [${t.shape}] like "${t.source}"`);
        continue;
      }
      let same = true;
      for (let start = 0; start < t.length && same; start += chunk) {
        if (opts.isCancelled?.()) throw new DeepenError('cancelled', 'The check was cancelled.');
        const len = Math.min(chunk, t.length - start);
        const [x, y] = await Promise.all([out.readChunk(t.name, start, len, a), t.zero ? zeros : baseCkpt.readChunk(t.source, start, len, b)]);
        same = x.subarray(0, len).equals(y.subarray(0, len));
        bytesCompared += len;
        opts.onProgress?.(bytesCompared, total, t.name);
      }
      if (!same) problem(t.zero ? `tensor "${t.name}" should be all zeros but is not` : `tensor "${t.name}" differs from its source "${t.source}"`);
      if (t.zero) zeroed++;
      else copied++;
    }
  } finally {
    await out?.close();
    if (typeof base === 'string') await baseCkpt.close();
  }
  return { ok: problems.length === 0, problems, tensorsCopied: copied, tensorsZeroed: zeroed, bytesCompared, seconds: (Date.now() - started) / 1000 };
}

async function readManifestPlan(outDir: string, numLayers: number): Promise<ExpansionPlan> {
  const file = path.join(outDir, MANIFEST_FILE);
  let manifest: { plan?: { strategy?: ExpansionPlan['strategy']; insertions?: ExpansionPlan['insertions'] } };
  try {
    manifest = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new DeepenError('bad_file', `Could not read ${file} (${(err as Error).message}); without it the check does not know which blocks are new. Pass the plan explicitly.`, { file });
  }
  const insertions = manifest?.plan?.insertions;
  if (!Array.isArray(insertions)) throw new DeepenError('bad_file', `${file} has no plan.insertions list.`, { file });
  return { strategy: manifest.plan?.strategy ?? 'custom', baseLayers: numLayers, insertions } as ExpansionPlan;
}
