// The shape of a `deepen` subcommand. Each lives in ./commands/<name>.ts and
// is listed in ./commands/index.ts. Commands that report something honour
// --json by printing exactly one JSON object on stdout.
import type { ParseArgsConfig } from 'node:util';
import type { EngineHost } from '../host/host';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  json: boolean;
  /** a line for a person (suppressed with --json) */
  say(text: string): void;
  /** the one JSON object of --json mode */
  printJson(value: unknown): void;
  /** a line on stderr (warnings, progress) */
  warn(text: string): void;
  /** the engine host on the data folder, opened on first use and closed after the command */
  host(): EngineHost;
  readonly isTTY: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** usage lines and option descriptions shown by `deepen <name> --help` */
  help: string;
  options: OptionSpec;
  /** allow positional arguments (default: none) */
  positionals?: boolean;
  run(ctx: CommandContext): Promise<number | void>;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intOption(values: OptionValues, name: string, fallback?: number): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got "${v}".`);
  return n;
}

export function numberOption(values: OptionValues, name: string): number | undefined {
  const v = stringOption(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}".`);
  return n;
}

/** A mistake in how the command was called: exit code 2 and a pointer to --help. */
export class UsageError extends Error {}

/** Formats rows as an aligned text table. */
export function table(rows: (string | number)[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length))) ?? [];
  const line = (r: (string | number)[]) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}
