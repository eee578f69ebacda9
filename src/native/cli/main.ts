// `deepen`: the command-line face of the engine.
import { parseArgs } from 'node:util';
import { DeepenError, toErrorInfo } from '../../shared/errors';
import { EngineHost } from '../host/host';
import { resolveDataDir } from '../host/paths';
import { deepenVersion } from '../host/handlers/engine';
import { UsageError, type Command, type CommandContext } from './command';
import { commands } from './commands/index';

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Deepen ${deepenVersion}: grow a language model by block expansion.

Usage: deepen <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`deepen <command> --help\` for a command's options.
Data folder: ${resolveDataDir()} (set DEEPEN_HOME to use another).`;
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(topHelp() + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${deepenVersion}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`deepen: unknown command "${name}". Run \`deepen --help\` for the list.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help + '\n');
    return 0;
  }
  let host: EngineHost | null = null;
  const json = rest.includes('--json');
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, ...command.options }, allowPositionals: !!command.positionals, strict: true });
    const ctx: CommandContext = {
      values,
      positionals,
      json,
      isTTY: !!process.stderr.isTTY,
      say: (t) => {
        if (!json) process.stdout.write(t + '\n');
      },
      printJson: (v) => process.stdout.write(JSON.stringify(v) + '\n'),
      warn: (t) => process.stderr.write(t + '\n'),
      host: () => (host ??= new EngineHost({ dataDir: resolveDataDir() })),
    };
    const code = await command.run(ctx);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      process.stderr.write(`deepen ${name}: ${(err as Error).message} Run \`deepen ${name} --help\`.\n`);
      return 2;
    }
    const info = toErrorInfo(err);
    process.stderr.write(`deepen ${name}: ${info.message.replace(/\s*\n\s*/g, ' ')}\n`);
    if (info.code === 'internal' && process.env.DEEPEN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return err instanceof DeepenError && err.code === 'cancelled' ? 130 : 1;
  } finally {
    if (host) await (host as EngineHost).close();
  }
}
