// `deepen generate <model> --prompt TEXT | --prompt-ids 1,2,3`: one
// continuation, streamed to stdout, or with --json exactly
// {"prompt_ids": [...], "new_ids": [...], "text": "...", ...stats}.
// The ids form is what the engine tests compare against transformers.
import { DeepenError } from '../../../shared/errors';
import { stringOption, UsageError, type Command } from '../command';
import { interruptible, loadForCli, modelOptions, modelOptionsHelp, resolveModelDir, samplingFromOptions, samplingOptions, samplingOptionsHelp, statsLine } from '../text-model-cli';

export function parsePromptIds(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  const ids = parts.map(Number);
  if (!parts.length || ids.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError(`--prompt-ids takes token ids like 1,2,3, got "${text}".`);
  return ids;
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'continue a prompt (text or token ids) with a model, streaming',
  help: `Usage: deepen generate <model> (--prompt TEXT | --prompt-ids 1,2,3) [options]

<model> is a model folder or the name or id of a registered model. The
prompt is continued as plain text (no chat template; the tokenizer adds BOS
as its config says). Text streams to stdout; the speed goes to stderr.

  --prompt TEXT         the text to continue
  --prompt-ids LIST     token ids instead of text (works without a tokenizer)
  --ignore-eos          keep going past the end-of-sequence token
${samplingOptionsHelp}
${modelOptionsHelp}
  --json                print one object: {"prompt_ids", "new_ids", "text",
                        "stop_reason", "seed", "stats"}`,
  options: { prompt: { type: 'string' }, 'prompt-ids': { type: 'string' }, 'ignore-eos': { type: 'boolean' }, ...samplingOptions, ...modelOptions },
  positionals: true,
  async run(ctx) {
    const [modelArg, extra] = ctx.positionals;
    if (!modelArg || extra) throw new UsageError('deepen generate takes exactly one model (a folder, or a registered name or id).');
    const prompt = stringOption(ctx.values, 'prompt');
    const idsText = stringOption(ctx.values, 'prompt-ids');
    if ((prompt === undefined) === (idsText === undefined)) throw new UsageError('Give either --prompt TEXT or --prompt-ids 1,2,3.');
    const promptIds = idsText !== undefined ? parsePromptIds(idsText) : null;
    const sampling = samplingFromOptions(ctx, { maxTokens: 128 });
    const dir = resolveModelDir(modelArg);

    const model = await loadForCli(ctx, dir, { needsText: promptIds === null });
    let stop = false;
    const release = interruptible(() => {
      stop = true;
      process.stderr.write('\nStopping…\n');
    });
    try {
      const answer = await model.run({
        input: promptIds ? { kind: 'ids', ids: promptIds } : { kind: 'prompt', text: prompt! },
        sampling,
        ignoreEos: ctx.values['ignore-eos'] === true,
        isCancelled: () => stop,
        onText: ctx.json ? undefined : (delta) => process.stdout.write(delta),
      });
      if (ctx.json) {
        ctx.printJson({
          prompt_ids: answer.promptIds,
          new_ids: answer.newIds,
          text: answer.text,
          stop_reason: answer.stopReason,
          seed: answer.seed,
          stats: answer.stats,
        });
      } else {
        process.stdout.write('\n');
        ctx.warn(`[${statsLine(answer)} · stopped: ${answer.stopReason}${answer.seed !== null ? ` · seed ${answer.seed}` : ''}]`);
      }
      if (answer.stopReason === 'cancelled') throw new DeepenError('cancelled', 'Stopped.');
    } finally {
      release();
      await model.dispose();
    }
  },
};
