import path from 'node:path';
import { formatBytes } from '../../checkpoint/summary';
import type { ExportJobInput, ExportJobResult } from '../../host/jobs/export-job';
import { stringOption, UsageError, type Command } from '../command';
import { followJob } from '../progress';
import { parseSize } from './expand';

const precisions = ['f32', 'f16', 'q8_0'] as const;

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a model as GGUF (llama.cpp, LM Studio, Ollama) or as a fresh safetensors folder',
  help: `Usage: deepen export <model-dir> --format gguf|safetensors --out <path> [--precision f32|f16|q8_0] [--shard-size 5GB] [--json]

  --format gguf         one .gguf file for llama.cpp, LM Studio and Ollama
                        (llama, mistral, qwen2, qwen3); --precision f16 by default
  --format safetensors  a Hugging Face folder: weights re-sharded (dtypes kept),
                        config, tokenizer and chat template copied
  --out PATH            the .gguf file or the folder to create (must not exist)
  --shard-size SIZE     safetensors shard limit, e.g. 2GB (default 5GB)
  --json                print one JSON object: format, out, bytes, seconds

Runs as a job (see \`deepen jobs\`); Ctrl-C cancels and leaves nothing behind.`,
  options: { format: { type: 'string' }, out: { type: 'string' }, precision: { type: 'string' }, 'shard-size': { type: 'string' } },
  positionals: true,
  async run(ctx) {
    const [modelDir] = ctx.positionals;
    if (!modelDir || ctx.positionals.length > 1) throw new UsageError('deepen export takes one model folder.');
    const format = stringOption(ctx.values, 'format');
    if (format !== 'gguf' && format !== 'safetensors') throw new UsageError('--format must be gguf or safetensors.');
    const out = stringOption(ctx.values, 'out');
    if (!out) throw new UsageError('--out is required: the .gguf file or the folder to write.');
    const precision = stringOption(ctx.values, 'precision');
    if (precision !== undefined && (format !== 'gguf' || !(precisions as readonly string[]).includes(precision))) {
      throw new UsageError(format === 'gguf' ? `--precision must be one of ${precisions.join(', ')}.` : '--precision applies to --format gguf only.');
    }
    const shard = stringOption(ctx.values, 'shard-size');
    const input: ExportJobInput = {
      modelDir: path.resolve(modelDir),
      format,
      out: path.resolve(out),
      precision: precision as ExportJobInput['precision'],
      maxShardBytes: shard === undefined ? undefined : parseSize(shard),
    };
    const host = ctx.host();
    const job = host.jobs.start('export', `Export ${path.basename(input.modelDir)} as ${format}${precision ? ` (${precision})` : ''}`, input);
    const done = await followJob(host, job.id, { quiet: ctx.json, isTTY: ctx.isTTY });
    const result = (await host.call('jobs.get', { id: done.id })).result as ExportJobResult;
    if (ctx.json) return void ctx.printJson(result);
    ctx.say(`Wrote ${result.out} (${formatBytes(result.bytes)}) in ${result.seconds.toFixed(1)} s.`);
  },
};
