// Export a registered or any local model folder: GGUF (f32/f16/q8_0) for
// llama.cpp, LM Studio and Ollama, or a fresh safetensors folder (re-sharded,
// dtypes kept, config/tokenizer/chat template copied). Both write to a
// temporary name and rename on success, so a failed or cancelled export
// leaves nothing behind.
import fs from 'node:fs/promises';
import path from 'node:path';
import { DeepenError } from '../../../shared/errors';
import { openCheckpoint } from '../../checkpoint/checkpoint';
import { buildPlan } from '../../checkpoint/expand-plan';
import { expandCheckpoint, MANIFEST_FILE } from '../../checkpoint/expand-writer';
import { exportGguf, type GgufPrecision } from '../../export/gguf';
import { cancelledError, type JobContext } from './job-types';

export type ExportFormat = 'gguf' | 'safetensors';

export interface ExportJobInput {
  modelDir: string;
  format: ExportFormat;
  /** a .gguf file, or a folder for safetensors */
  out: string;
  /** gguf only (default f16) */
  precision?: GgufPrecision;
  /** safetensors only: shard size limit in bytes (default 5 GB) */
  maxShardBytes?: number;
}

export interface ExportJobResult {
  format: ExportFormat;
  out: string;
  bytes: number;
  seconds: number;
}

export async function runExportJob(input: ExportJobInput, ctx: JobContext): Promise<ExportJobResult> {
  const started = Date.now();
  const out = path.resolve(input.out);
  const isCancelled = () => ctx.isCancelled();
  if (await fs.stat(out).then(() => true, () => false)) {
    throw new DeepenError('conflict', `${out} already exists. Choose another --out, or move it away first.`);
  }
  if (input.format === 'gguf') {
    const type = input.precision ?? 'f16';
    ctx.log(`Writing ${out} (${type})`);
    const r = await exportGguf(input.modelDir, out, {
      type,
      isCancelled,
      onProgress: (done, total) => ctx.progress(total ? done / total : 0, `Converting tensors to ${type}`),
    });
    ctx.throwIfCancelled();
    return { format: 'gguf', out: r.file, bytes: r.bytes, seconds: (Date.now() - started) / 1000 };
  }
  if (input.format !== 'safetensors') throw new DeepenError('bad_request', `Unknown export format "${String(input.format)}". Use gguf or safetensors.`);
  // A safetensors export is an expansion with nothing inserted: the same
  // streaming, dtype-preserving, atomic writer.
  const ckpt = await openCheckpoint(input.modelDir);
  try {
    const plan = buildPlan(ckpt.config.numLayers, 'custom', [], [], 'Export');
    const r = await expandCheckpoint(ckpt, out, plan, {
      maxShardBytes: input.maxShardBytes,
      allowEmptyPlan: true,
      isCancelled,
      onProgress: (done, total, name) => ctx.progress(total ? done / total : 0, `Writing ${name}`),
    });
    // The writer records expansions; an export has none to record.
    await fs.rm(path.join(r.outDir, MANIFEST_FILE), { force: true });
    if (ctx.isCancelled()) throw cancelledError('The export');
    return { format: 'safetensors', out: r.outDir, bytes: r.bytesWritten, seconds: (Date.now() - started) / 1000 };
  } finally {
    await ckpt.close();
  }
}
