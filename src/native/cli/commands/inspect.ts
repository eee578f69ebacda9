// `deepen inspect <dir>`: what a model folder holds, read from its config and
// safetensors headers only (fast even for large models).
import { openCheckpoint } from '../../checkpoint/checkpoint';
import { formatBytes, formatParams, summarizeCheckpoint, type CheckpointSummary } from '../../checkpoint/summary';
import { table, UsageError, type Command } from '../command';

/** The --json object: HF-style snake_case names first (stable for scripts), then the full summary. */
export function inspectJson(summary: CheckpointSummary, dir: string, warnings: string[]) {
  return {
    path: dir,
    model_type: summary.family,
    num_hidden_layers: summary.layers,
    hidden_size: summary.hiddenSize,
    intermediate_size: summary.intermediateSize,
    num_attention_heads: summary.heads,
    num_key_value_heads: summary.kvHeads,
    vocab_size: summary.vocabSize,
    params_total: summary.paramsTotal,
    params_per_block: summary.paramsPerBlock,
    dtype: summary.dtype,
    size_on_disk: summary.sizeOnDisk,
    summary,
    warnings,
  };
}

export function summaryRows(s: CheckpointSummary): string[][] {
  return [
    ['family', `${s.family}${s.architectures.length ? ` (${s.architectures.join(', ')})` : ''}`],
    ['parameters', `${formatParams(s.paramsTotal)} (${s.paramsTotal})`],
    ['per block', `${formatParams(s.paramsPerBlock)} × ${s.layers} blocks`],
    ['embeddings', `${formatParams(s.embeddingParams)}${s.tiedEmbeddings ? ' (tied with lm_head)' : `, lm_head ${formatParams(s.lmHeadParams)}`}`],
    ['layers', String(s.layers)],
    ['hidden / mlp', `${s.hiddenSize} / ${s.intermediateSize}`],
    ['heads / kv heads', `${s.heads} / ${s.kvHeads} (head dim ${s.headDim})`],
    ['vocab', String(s.vocabSize)],
    ['context', String(s.maxPositionEmbeddings)],
    ['dtype', Object.keys(s.dtypeBytes).length > 1 ? `${s.dtype} (also ${Object.keys(s.dtypeBytes).slice(1).join(', ')})` : s.dtype],
    ['attention', [s.attentionBias ? 'q/k/v bias' : 'no bias', s.qkNorm ? 'q/k norm' : ''].filter(Boolean).join(', ')],
    ['size on disk', `${formatBytes(s.sizeOnDisk)} in ${s.shards} safetensors file${s.shards === 1 ? '' : 's'}`],
    ['tokenizer', s.tokenizer ? 'yes' : 'no'],
    ['chat template', s.chatTemplate ? 'yes' : 'no'],
    ['config layout', `transformers ${s.configLayout}`],
  ];
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'show what a Hugging Face model folder holds (family, size, layers, dtype, tokenizer)',
  help: `Usage: deepen inspect <model-folder> [--json]

Reads config.json and the safetensors headers (never the weights) and prints
the model's family, parameters (total and per block), layers, hidden size,
heads / kv heads, vocabulary, dtype, size on disk, and whether a tokenizer
and chat template are present. Every header is validated on the way.

  --json   print one JSON object (model_type, num_hidden_layers, hidden_size,
           params_total, … and the full summary)`,
  options: { json: { type: 'boolean' } },
  positionals: true,
  async run(ctx) {
    const [dir, extra] = ctx.positionals;
    if (!dir || extra) throw new UsageError('deepen inspect takes exactly one model folder.');
    const ckpt = await openCheckpoint(dir);
    try {
      const summary = await summarizeCheckpoint(ckpt);
      if (ctx.json) return void ctx.printJson(inspectJson(summary, ckpt.dir, ckpt.warnings));
      ctx.say(ckpt.dir);
      ctx.say(table(summaryRows(summary)));
      for (const w of ckpt.warnings) ctx.warn(`warning: ${w}`);
    } finally {
      await ckpt.close();
    }
  },
};
