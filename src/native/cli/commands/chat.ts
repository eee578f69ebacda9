// `deepen chat <model>`: a conversation in the terminal. Answers stream as
// they are written; Ctrl-C stops an answer, /exit (or Ctrl-D) leaves.
// Reads lines from a pipe too, answering each in turn (scripts, tests).
import readline from 'node:readline';
import { DeepenError, toErrorInfo } from '../../../shared/errors';
import { stringOption, UsageError, type Command } from '../command';
import { interruptible, loadForCli, modelOptions, modelOptionsHelp, resolveModelDir, samplingFromOptions, samplingOptions, samplingOptionsHelp, statsLine } from '../text-model-cli';

const commandsHelp = `/exit            leave (or Ctrl-D)
/reset           start the conversation again
/system TEXT     set the system prompt (and start again)
/help            this list`;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'chat with a model in the terminal (streaming)',
  help: `Usage: deepen chat <model> [options]

<model> is a model folder or the name or id of a registered model. Type a
message and press Enter; the answer streams as it is written. Ctrl-C stops
an answer; /exit or Ctrl-D leaves. A model without a chat template is
chatted with in plain completion mode (a note says so).

  --system TEXT         system prompt
  --stats               print the speed after each answer
${samplingOptionsHelp}
${modelOptionsHelp}

In the chat:
${commandsHelp}`,
  options: { system: { type: 'string' }, stats: { type: 'boolean' }, ...samplingOptions, ...modelOptions },
  positionals: true,
  async run(ctx) {
    const [modelArg, extra] = ctx.positionals;
    if (!modelArg || extra) throw new UsageError('deepen chat takes exactly one model (a folder, or a registered name or id).');
    if (ctx.json) throw new UsageError('deepen chat has no --json output; use `deepen generate --json` for scripts.');
    const sampling = samplingFromOptions(ctx);
    const dir = resolveModelDir(modelArg);
    const model = await loadForCli(ctx, dir, { needsText: true });
    const facts = model.facts();
    const interactive = !!process.stdin.isTTY;
    const out = (text: string) => process.stdout.write(text);

    if (facts.tokenizerError) {
      await model.dispose();
      throw DeepenError.fromInfo(facts.tokenizerError);
    }
    if (facts.templateError) ctx.warn(`warning: ${facts.templateError.message}`);
    if (facts.note) ctx.warn(`note: ${facts.note}`);
    ctx.warn(`${dir} on ${facts.provider} (${facts.precision}), context ${facts.contextLength} tokens. /help for commands, /exit to leave.`);

    let system = stringOption(ctx.values, 'system') ?? '';
    let history: { role: string; content: string }[] = [];
    let stopAnswer = false;
    let answering = false;
    const rl = readline.createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
    // On a terminal, readline turns Ctrl-C into its own event: stop the answer, or leave when idle.
    rl.on('SIGINT', () => {
      if (answering) stopAnswer = true;
      else rl.close();
    });
    const release = interruptible(() => {
      if (answering) stopAnswer = true;
      else rl.close();
    });
    const prompt = () => interactive && rl.prompt();
    rl.setPrompt('you › ');
    prompt();
    try {
      for await (const raw of rl) {
        const line = raw.trim();
        if (!line) {
          prompt();
          continue;
        }
        if (line === '/exit' || line === '/quit') break;
        if (line === '/help') {
          out(`${commandsHelp}\n`);
        } else if (line === '/reset') {
          history = [];
          out('(conversation cleared)\n');
        } else if (line.startsWith('/system')) {
          system = line.slice('/system'.length).trim();
          history = [];
          out(system ? '(system prompt set; conversation cleared)\n' : '(system prompt removed; conversation cleared)\n');
        } else {
          history.push({ role: 'user', content: line });
          const messages = system ? [{ role: 'system', content: system }, ...history] : history;
          if (interactive) out('model › ');
          answering = true;
          stopAnswer = false;
          try {
            const answer = await model.run({ input: { kind: 'messages', messages }, sampling, isCancelled: () => stopAnswer, onText: out });
            out('\n');
            history.push({ role: 'assistant', content: answer.text });
            if (answer.droppedMessages) ctx.warn(`(the ${answer.droppedMessages} oldest messages were left out to fit the context)`);
            if (answer.stopReason === 'cancelled') ctx.warn('(stopped)');
            if (answer.stopReason === 'context_full') ctx.warn('(the context is full: /reset to start again)');
            if (ctx.values.stats === true) ctx.warn(`[${statsLine(answer)}]`);
          } catch (err) {
            // A prompt too long or a template that refuses: say so and keep the chat going.
            history.pop();
            out('\n');
            ctx.warn(`error: ${toErrorInfo(err).message}`);
          } finally {
            answering = false;
          }
        }
        prompt();
      }
    } finally {
      release();
      rl.close();
      await model.dispose();
    }
  },
};
