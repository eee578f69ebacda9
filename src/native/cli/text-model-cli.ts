// What `deepen generate` and `deepen chat` share: finding the model (a folder,
// or a registered model's id or name), checking it fits in memory, loading it
// in this process with a progress line, sampling options, and Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import { DeepenError } from '../../shared/errors';
import { defaultChatSampling, presetSampling, samplingPresets, type ChatSampling, type SamplingPresetName } from '../../shared/contract/chat';
import type { ProviderName } from '../../shared/contract/engine';
import { openCheckpoint } from '../checkpoint/checkpoint';
import { summarizeCheckpoint } from '../checkpoint/summary';
import { openDatabase } from '../data/db';
import { listModels } from '../data/models';
import { readSettings } from '../data/settings';
import { chatContextLength, estimateChatMemory, freeMemoryBytes } from '../host/chat/memory';
import { normalizeSampling } from '../host/chat/sampling-params';
import { TextModel } from '../host/chat/text-model';
import { loadTextModelAssets } from '../generate/prompt';
import { databaseFileIn, resolveDataDir } from '../host/paths';
import { intOption, numberOption, stringOption, UsageError, type CommandContext, type OptionSpec } from './command';

const providers: ProviderName[] = ['cpu', 'webgpu', 'cuda', 'dml'];

export const modelOptions: OptionSpec = {
  provider: { type: 'string' },
  precision: { type: 'string' },
  context: { type: 'string' },
};

export const samplingOptions: OptionSpec = {
  preset: { type: 'string' },
  greedy: { type: 'boolean' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'min-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  seed: { type: 'string' },
  'max-new-tokens': { type: 'string' },
  stop: { type: 'string', multiple: true },
};

export const modelOptionsHelp = `  --provider P          cpu | webgpu | cuda | dml (default: the one chosen in
                        Settings; falls back to cpu with the reason)
  --precision P         fp32 | fp16 (default fp32 on cpu, fp16 on GPUs)
  --context N           tokens the KV cache holds (default: the model's, ≤ 2048)`;

export const samplingOptionsHelp = `  --preset NAME         ${Object.keys(samplingPresets).join(' | ')} (default balanced)
  --greedy              always take the most likely token (temperature 0)
  --temperature T       0 = greedy
  --top-k K --top-p P --min-p P --repetition-penalty R
  --seed N              make sampling repeatable
  --max-new-tokens N    most tokens to write
  --stop TEXT           end the answer before TEXT (repeatable)`;

export function samplingFromOptions(ctx: CommandContext, defaults: Partial<ChatSampling> = {}): ChatSampling {
  const presetName = stringOption(ctx.values, 'preset');
  if (presetName !== undefined && !(presetName in samplingPresets)) throw new UsageError(`--preset must be one of ${Object.keys(samplingPresets).join(', ')}.`);
  const base = presetName ? presetSampling(presetName as SamplingPresetName) : { ...defaultChatSampling, ...defaults };
  const stop = ctx.values.stop;
  const patch: Partial<ChatSampling> = {
    temperature: ctx.values.greedy === true ? 0 : numberOption(ctx.values, 'temperature'),
    topK: numberOption(ctx.values, 'top-k'),
    topP: numberOption(ctx.values, 'top-p'),
    minP: numberOption(ctx.values, 'min-p'),
    repetitionPenalty: ctx.values.greedy === true && numberOption(ctx.values, 'repetition-penalty') === undefined ? 1 : numberOption(ctx.values, 'repetition-penalty'),
    seed: intOption(ctx.values, 'seed'),
    maxTokens: intOption(ctx.values, 'max-new-tokens'),
    stop: Array.isArray(stop) ? stop.map(String) : undefined,
  };
  for (const k of Object.keys(patch) as (keyof ChatSampling)[]) if (patch[k] === undefined) delete patch[k];
  try {
    return normalizeSampling(patch, base);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A folder, or the id or name of a registered model. */
export function resolveModelDir(arg: string): string {
  const asPath = path.resolve(arg);
  if (fs.existsSync(asPath) && fs.statSync(asPath).isDirectory()) return asPath;
  const dbFile = databaseFileIn(resolveDataDir());
  if (fs.existsSync(dbFile)) {
    const db = openDatabase(dbFile);
    try {
      const found = listModels(db).find((m) => m.id === arg || m.name === arg);
      if (found) return found.path;
    } finally {
      db.close();
    }
  }
  throw new DeepenError('not_found', `"${arg}" is neither a model folder nor a registered model. Give the folder of a Hugging Face model, or a name from the Models page.`, { model: arg });
}

function settingsProvider(): ProviderName {
  const dbFile = databaseFileIn(resolveDataDir());
  if (!fs.existsSync(dbFile)) return 'cpu';
  const db = openDatabase(dbFile);
  try {
    const p = readSettings(db).provider;
    return providers.includes(p as ProviderName) ? (p as ProviderName) : 'cpu';
  } finally {
    db.close();
  }
}

/** Loads the model in this process after the memory check; progress on stderr when it is a terminal. */
export async function loadForCli(ctx: CommandContext, dir: string, opts: { needsText: boolean }): Promise<TextModel> {
  const providerArg = stringOption(ctx.values, 'provider');
  if (providerArg !== undefined && !providers.includes(providerArg as ProviderName)) throw new UsageError(`--provider must be one of ${providers.join(', ')}.`);
  const provider = (providerArg as ProviderName | undefined) ?? settingsProvider();
  const precisionArg = stringOption(ctx.values, 'precision');
  if (precisionArg !== undefined && precisionArg !== 'fp32' && precisionArg !== 'fp16') throw new UsageError('--precision must be fp32 or fp16.');
  const precision = (precisionArg as 'fp32' | 'fp16' | undefined) ?? (provider === 'cpu' ? 'fp32' : 'fp16');

  // Text needs the tokenizer: say it is missing before minutes of weight conversion, not after.
  if (opts.needsText) await loadTextModelAssets(dir);
  const ckpt = await openCheckpoint(dir);
  let summary;
  try {
    summary = await summarizeCheckpoint(ckpt);
  } finally {
    await ckpt.close();
  }
  const contextLength = chatContextLength(summary, intOption(ctx.values, 'context'));
  const estimate = estimateChatMemory({ modelId: dir, name: path.basename(dir), shape: summary, precision, contextLength, freeBytes: freeMemoryBytes() });
  if (!estimate.fits) throw new DeepenError('out_of_memory', estimate.explanation, { estimate });

  let last = '';
  const model = await TextModel.load(dir, {
    provider,
    precision,
    contextLength,
    cacheDir: path.join(resolveDataDir(), 'cache', 'onnx'),
    onProgress: (fraction, message) => {
      if (ctx.json || !ctx.isTTY) return;
      const text = `${(fraction * 100).toFixed(0).padStart(3)}% ${message}`.slice(0, (process.stderr.columns || 100) - 1);
      if (text !== last) process.stderr.write(`\r\x1b[K${text}`);
      last = text;
    },
  });
  if (last) process.stderr.write('\r\x1b[K');
  const facts = model.facts();
  if (facts.fallbackReason) ctx.warn(`warning: ${facts.fallbackReason}`);
  return model;
}

/** Ctrl-C once: stop the answer. Twice: quit. */
export function interruptible(onInterrupt: () => void): () => void {
  let count = 0;
  const handler = () => {
    if (++count > 1) process.exit(130);
    onInterrupt();
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

export function statsLine(a: { stats: { promptTokens: number; generatedTokens: number; timeToFirstTokenMs: number; prefillTokensPerSecond: number; decodeTokensPerSecond: number | null } }): string {
  const s = a.stats;
  const decode = s.decodeTokensPerSecond === null ? '–' : s.decodeTokensPerSecond.toFixed(1);
  return `${s.generatedTokens} tokens · first after ${s.timeToFirstTokenMs.toFixed(0)} ms · prefill ${s.prefillTokensPerSecond.toFixed(0)} tok/s (${s.promptTokens} tokens) · decode ${decode} tok/s`;
}
