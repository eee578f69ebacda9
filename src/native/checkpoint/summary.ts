// The figures a user needs to pick a model and plan an expansion: what the
// Models page lists, what `deepen inspect` prints, what the registry stores.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Checkpoint } from './checkpoint';
import { torchDtypeName, type Dtype } from './dtypes';
import { parseBlockName } from './block-names';
import type { ModelSummary } from '../../shared/contract/models';

/** The summary is part of the contract (the Models page and `deepen inspect` show it as is). */
export type CheckpointSummary = ModelSummary;

export async function summarizeCheckpoint(ckpt: Checkpoint): Promise<CheckpointSummary> {
  const c = ckpt.config;
  const blockParams = new Array<number>(c.numLayers).fill(0);
  const bytesByDtype = new Map<Dtype, number>();
  let paramsTotal = 0;
  let embeddingParams = 0;
  let lmHeadParams = 0;
  let finalNormParams = 0;
  let weightsBytes = 0;
  for (const t of ckpt.tensors.values()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    paramsTotal += n;
    weightsBytes += t.length;
    bytesByDtype.set(t.dtype, (bytesByDtype.get(t.dtype) ?? 0) + t.length);
    const block = parseBlockName(t.name);
    if (block) blockParams[block.index] += n;
    else if (/^(model\.)?embed_tokens\.weight$/.test(t.name)) embeddingParams += n;
    else if (t.name === 'lm_head.weight') lmHeadParams += n;
    else if (/^(model\.)?norm\.weight$/.test(t.name)) finalNormParams += n;
  }
  const dtypes = [...bytesByDtype.entries()].sort((a, b) => b[1] - a[1]);
  return {
    family: c.modelType,
    architectures: c.architectures,
    layers: c.numLayers,
    hiddenSize: c.hiddenSize,
    intermediateSize: c.intermediateSize,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    vocabSize: c.vocabSize,
    maxPositionEmbeddings: c.maxPositionEmbeddings,
    tiedEmbeddings: c.tieWordEmbeddings,
    attentionBias: c.attentionBias,
    qkNorm: c.qkNorm,
    paramsTotal,
    paramsPerBlock: blockParams[0] ?? 0,
    blockParams,
    embeddingParams,
    lmHeadParams,
    finalNormParams,
    dtype: dtypes.length ? torchDtypeName(dtypes[0][0]) : (c.dtype ?? 'unknown'),
    dtypeBytes: Object.fromEntries(dtypes.map(([d, b]) => [torchDtypeName(d), b])),
    weightsBytes,
    sizeOnDisk: await folderSize(ckpt.dir),
    shards: ckpt.files.length,
    tokenizer: ckpt.hasTokenizer,
    chatTemplate: ckpt.chatTemplate !== null,
    configLayout: c.layout,
  };
}

/**
 * Sum of file sizes under `dir`. Symlinked files count with their target's
 * size (the Hugging Face cache links every file of a snapshot to a blob);
 * symlinked folders are not followed.
 */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await folderSize(p);
    else if (e.isFile() || e.isSymbolicLink()) {
      const st = await fs.stat(p).catch(() => null);
      if (st?.isFile()) total += st.size;
    }
  }
  return total;
}

/** "1.24 B", "229.95 K": parameter counts the way model cards write them. */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} K`;
  return String(n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
