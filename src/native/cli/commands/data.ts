// `deepen data import|list|stats|export|delete|split|preview`: the dataset
// manager from the command line. Long steps run as jobs in the engine host
// (recorded like any job) with a progress bar on stderr.
import path from 'node:path';
import type { DatasetKind, DatasetSummary, FieldMapping, ImportFormat, ImportReport, OnError, RecordFilter, TextSplitMode } from '../../../shared/contract/datasets';
import { DeepenError } from '../../../shared/errors';
import type { EngineHost } from '../../host/host';
import { numberOption, stringOption, table, UsageError, type Command, type CommandContext } from '../command';
import { followJob } from '../progress';

const kinds: DatasetKind[] = ['text', 'instruction', 'chat'];
const formats: ImportFormat[] = ['text', 'jsonl', 'json', 'csv', 'tsv', 'parquet', 'folder'];
const splitModes: TextSplitMode[] = ['file', 'paragraph', 'line'];

function oneOf<T extends string>(ctx: CommandContext, name: string, allowed: readonly T[]): T | undefined {
  const v = stringOption(ctx.values, name);
  if (v !== undefined && !allowed.includes(v as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}".`);
  return v as T | undefined;
}

/** "--map instruction=q,output=a" → a field mapping; the kind comes from --kind or from the keys. */
export function parseMapping(text: string, kind: DatasetKind | undefined): FieldMapping {
  const pairs = Object.fromEntries(
    text.split(',').map((p) => {
      const [k, ...rest] = p.split('=');
      if (!k?.trim() || !rest.length || !rest.join('=').trim()) throw new UsageError(`--map takes key=field pairs like "text=body" or "instruction=q,output=a", got "${p}".`);
      return [k.trim(), rest.join('=').trim()];
    }),
  ) as Record<string, string>;
  const k: DatasetKind = kind ?? (pairs.messages ? 'chat' : pairs.instruction || pairs.output ? 'instruction' : 'text');
  if (k === 'text') {
    if (!pairs.text) throw new UsageError('--map for text data needs text=FIELD.');
    return { kind: 'text', text: pairs.text };
  }
  if (k === 'instruction') {
    if (!pairs.instruction || !pairs.output) throw new UsageError('--map for instruction data needs instruction=FIELD and output=FIELD (input= and system= are optional).');
    return { kind: 'instruction', instruction: pairs.instruction, output: pairs.output, input: pairs.input, system: pairs.system };
  }
  if (!pairs.messages) throw new UsageError('--map for chat data needs messages=FIELD (role= and content= name the keys inside each turn).');
  return { kind: 'chat', messages: pairs.messages, role: pairs.role, content: pairs.content, system: pairs.system };
}

async function findDataset(host: EngineHost, nameOrId: string | undefined): Promise<DatasetSummary> {
  if (!nameOrId) throw new UsageError('Name the dataset.');
  const all = await host.call('datasets.list', {});
  const d = all.find((x) => x.name.toLowerCase() === nameOrId.toLowerCase()) ?? all.find((x) => x.id === nameOrId || (nameOrId.length >= 8 && x.id.startsWith(nameOrId)));
  if (!d) throw new DeepenError('not_found', `No dataset named "${nameOrId}". Run \`deepen data list\` to see the datasets.`);
  return d;
}

async function runJob(ctx: CommandContext, jobId: string): Promise<unknown> {
  const host = ctx.host();
  await followJob(host, jobId, { quiet: ctx.json, isTTY: ctx.isTTY });
  return (await host.call('jobs.get', { id: jobId })).result;
}

function filterFromOptions(ctx: CommandContext): RecordFilter | undefined {
  const f: RecordFilter = {};
  const q = stringOption(ctx.values, 'query');
  if (q) f.query = q;
  const split = oneOf(ctx, 'split', ['train', 'eval'] as const);
  if (split) f.split = split;
  const min = numberOption(ctx.values, 'min-chars');
  const max = numberOption(ctx.values, 'max-chars');
  if (min !== undefined) f.minChars = min;
  if (max !== undefined) f.maxChars = max;
  return Object.keys(f).length ? f : undefined;
}

async function importCmd(ctx: CommandContext, file: string | undefined) {
  if (!file) throw new UsageError('deepen data import needs a file or folder.');
  const name = stringOption(ctx.values, 'name') ?? path.basename(file).replace(/\.[^.]+$/, '');
  const kind = oneOf(ctx, 'kind', kinds);
  const map = stringOption(ctx.values, 'map');
  const maxMb = numberOption(ctx.values, 'max-record-mb');
  const ext = stringOption(ctx.values, 'ext');
  const started = await ctx.host().call('datasets.import', {
    path: file,
    name,
    kind,
    format: oneOf(ctx, 'format', formats),
    mapping: map ? parseMapping(map, kind) : undefined,
    textSplit: oneOf(ctx, 'text-split', splitModes),
    delimiter: stringOption(ctx.values, 'delimiter'),
    extensions: ext ? ext.split(',') : undefined,
    onError: (oneOf(ctx, 'on-error', ['skip', 'abort'] as const) ?? 'skip') as OnError,
    dedupe: !!ctx.values.dedupe,
    nearDedupe: !!ctx.values['near-dedupe'],
    evalRatio: numberOption(ctx.values, 'eval-ratio'),
    seed: numberOption(ctx.values, 'seed'),
    maxRecordBytes: maxMb !== undefined ? Math.floor(maxMb * 1024 * 1024) : undefined,
  });
  const r = (await runJob(ctx, started.jobId)) as ImportReport;
  // the records are in; the engine indexes them for search next: wait for it so the dataset is searchable when we exit
  const index = await ctx.host().call('datasets.index', { datasetId: r.datasetId });
  const indexStarted = Date.now();
  if (index.jobId) await runJob(ctx, index.jobId);
  const indexMs = Date.now() - indexStarted;
  if (ctx.json) {
    const { skipped, skippedLines, ...rest } = r;
    return ctx.printJson({ ...rest, skipped: skippedLines, skippedCount: skipped, searchIndexMs: indexMs });
  }
  ctx.say(`Imported ${r.records} records into "${r.name}" (${r.kind}, from ${r.format}).`);
  if (r.duplicates) ctx.say(`${r.duplicates} exact duplicates ${r.duplicatesDropped ? 'dropped' : 'kept (use --dedupe to drop them)'}.`);
  if (r.nearDuplicates) ctx.say(`${r.nearDuplicates} near-duplicates ${r.duplicatesDropped ? 'dropped' : 'kept'}.`);
  if (r.skipped) {
    ctx.say(`Skipped ${r.skipped} line${r.skipped === 1 ? '' : 's'}:`);
    for (const s of r.skippedLines.slice(0, 20)) ctx.say(`  ${s.file}:${s.line}: ${s.reason}`);
    if (r.skipped > 20) ctx.say(`  … and ${r.skipped - 20} more (see --json).`);
  }
}

async function statsCmd(ctx: CommandContext, nameOrId: string | undefined) {
  const host = ctx.host();
  const d = await findDataset(host, nameOrId);
  const seqLen = numberOption(ctx.values, 'seq-len');
  const tokenizerId = stringOption(ctx.values, 'tokenizer') ?? (await host.call('datasets.get', { id: d.id })).tokenizers[0]?.tokenizerId;
  const s = await host.call('datasets.stats', { datasetId: d.id, seqLen, tokenizerId });
  if (ctx.json) return ctx.printJson({ id: d.id, name: d.name, kind: d.kind, ...s });
  const rows: (string | number)[][] = [
    ['records', s.records],
    ['characters', s.characters],
    ['train / eval', `${s.trainRecords} / ${s.evalRecords}`],
    ['length min / median / mean / max', `${s.minChars} / ${s.medianChars} / ${Math.round(s.meanChars)} / ${s.maxChars} chars`],
    ['exact duplicates', s.duplicates],
  ];
  if (s.tokens) rows.push(['tokens', `${s.tokens.total} (${s.tokens.counted} records counted)`]);
  if (s.overSeqLen) rows.push([`longer than ${s.seqLen} tokens`, `${s.overSeqLen.count}${s.overSeqLen.exact ? '' : ' (estimated)'}`]);
  ctx.say(table(rows));
  const peak = Math.max(1, ...s.histogram.bins.map((b) => b.count));
  ctx.say(`\nLength (${s.histogram.unit}):`);
  for (const b of s.histogram.bins) ctx.say(`${`${b.from}–${b.to}`.padStart(16)} ${'#'.repeat(Math.round((b.count / peak) * 40)).padEnd(40)} ${b.count}`);
}

export const dataCommand: Command = {
  name: 'data',
  summary: 'import, list, inspect, split, export and delete datasets',
  help: `Usage: deepen data import <file|folder> --name NAME [options]
       deepen data list [--json]
       deepen data stats <name> [--seq-len N] [--tokenizer ID] [--json]
       deepen data split <name> --eval-ratio R [--seed S]
       deepen data export <name> <out.jsonl> [--query Q] [--split train|eval] [--min-chars N] [--max-chars N]
       deepen data delete <name>
       deepen data preview <file|folder> [--format F] [--json]

Import options:
  --kind text|instruction|chat   the kind of records (default: detected)
  --format ${formats.join('|')}   (default: from the extension)
  --map k=field,...          map fields by hand: text=F | instruction=F,output=F[,input=F,system=F]
                             | messages=F[,role=K,content=K]
  --text-split file|paragraph|line   how .txt/.md become records (default paragraph)
  --delimiter C              CSV field delimiter (default , or tab for .tsv)
  --ext .py,.ts              folder imports: the extensions to take
  --on-error skip|abort      a malformed line is skipped and reported (default), or
                             stops the import leaving the database as it was
  --dedupe                   drop exact duplicates (they are counted either way)
  --near-dedupe              also find near-duplicates (MinHash); dropped with --dedupe
  --eval-ratio R, --seed S   put a fraction R of the records in the eval split
  --max-record-mb N          longer lines are skipped and reported (default 16)
  --json                     print one JSON object: records, skipped (file, line, reason), …

An import commits the records first, then indexes them for full-text search
(searchIndexMs in --json); the command returns when both are done. If it is
stopped during indexing, the records stay, and \`deepen serve\` or the app
finish the index when they start.`,
  options: {
    name: { type: 'string' },
    kind: { type: 'string' },
    format: { type: 'string' },
    map: { type: 'string' },
    'text-split': { type: 'string' },
    delimiter: { type: 'string' },
    ext: { type: 'string' },
    'on-error': { type: 'string' },
    dedupe: { type: 'boolean' },
    'near-dedupe': { type: 'boolean' },
    'eval-ratio': { type: 'string' },
    seed: { type: 'string' },
    'max-record-mb': { type: 'string' },
    'seq-len': { type: 'string' },
    tokenizer: { type: 'string' },
    query: { type: 'string' },
    split: { type: 'string' },
    'min-chars': { type: 'string' },
    'max-chars': { type: 'string' },
  },
  positionals: true,
  async run(ctx) {
    const [sub, a, b] = ctx.positionals;
    const host = () => ctx.host();
    switch (sub) {
      case 'import':
        return importCmd(ctx, a);
      case 'preview': {
        if (!a) throw new UsageError('deepen data preview needs a file or folder.');
        const kind = oneOf(ctx, 'kind', kinds);
        const map = stringOption(ctx.values, 'map');
        const p = await host().call('datasets.preview', { path: a, format: oneOf(ctx, 'format', formats), kind, mapping: map ? parseMapping(map, kind) : undefined, textSplit: oneOf(ctx, 'text-split', splitModes), limit: 5 });
        if (ctx.json) return ctx.printJson(p);
        ctx.say(table([['format', p.format], ['kind', p.kind ?? '(none recognized)'], ['fields', p.fields.join(', ')], ['note', p.note ?? '']]));
        for (const r of p.records) ctx.say(`\n${JSON.stringify(r).slice(0, 300)}`);
        for (const x of p.problems) ctx.warn(`${x.file}:${x.line}: ${x.reason}`);
        return;
      }
      case 'list': {
        const list = await host().call('datasets.list', {});
        if (ctx.json) return ctx.printJson({ datasets: list });
        if (!list.length) return ctx.say('No datasets yet. Import one with `deepen data import <file> --name NAME`.');
        ctx.say(table(list.map((d) => [d.name, d.kind, d.records, d.characters, `${d.trainRecords}/${d.evalRecords}`, new Date(d.createdAt).toLocaleString(), d.id.slice(0, 8)]), ['name', 'kind', 'records', 'characters', 'train/eval', 'created', 'id']));
        return;
      }
      case 'stats':
        return statsCmd(ctx, a);
      case 'split': {
        const d = await findDataset(host(), a);
        const evalRatio = numberOption(ctx.values, 'eval-ratio');
        if (evalRatio === undefined) throw new UsageError('deepen data split needs --eval-ratio, e.g. 0.05.');
        const r = await runJob(ctx, (await host().call('datasets.split', { datasetId: d.id, evalRatio, seed: numberOption(ctx.values, 'seed') })).jobId);
        return ctx.json ? ctx.printJson(r) : ctx.say(`Split "${d.name}": ${(r as { train: number }).train} train, ${(r as { eval: number }).eval} eval.`);
      }
      case 'export': {
        const d = await findDataset(host(), a);
        if (!b) throw new UsageError('deepen data export needs the .jsonl file to write.');
        const r = (await runJob(ctx, (await host().call('datasets.export', { datasetId: d.id, path: b, filter: filterFromOptions(ctx) })).jobId)) as { path: string; records: number };
        return ctx.json ? ctx.printJson(r) : ctx.say(`Wrote ${r.records} records to ${r.path}.`);
      }
      case 'delete': {
        const d = await findDataset(host(), a);
        const r = await runJob(ctx, (await host().call('datasets.delete', { id: d.id })).jobId);
        return ctx.json ? ctx.printJson({ id: d.id, name: d.name, ...(r as object) }) : ctx.say(`Deleted "${d.name}".`);
      }
      case undefined:
        throw new UsageError('deepen data needs a subcommand: import, list, stats, split, export, delete or preview.');
      default:
        throw new UsageError(`Unknown data subcommand "${sub}".`);
    }
  },
};
