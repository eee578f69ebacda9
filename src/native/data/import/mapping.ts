// From rows to records: guessing the mapping from the first rows (plain
// `text`; Alpaca instruction/input/output; prompt/response; OpenAI
// `messages`; ShareGPT `conversations` of from/value) and applying a mapping
// to each row, with a reason when a row does not fit.
import type { ChatTurn, DatasetKind, FieldMapping, RecordContent } from '../../../shared/contract/datasets';
import { describeJsonType } from './text-readers';

/** A row that does not fit the mapping; the message is the reason shown to the user. */
export class MappingError extends Error {}

/** Reads a possibly dotted field ("meta.body") from a row. */
export function getField(row: Record<string, unknown>, field: string): unknown {
  if (field in row) return row[field];
  let v: unknown = row;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const TEXT_FIELDS = ['text', 'content', 'body', 'document', 'code', 'markdown'];
const PAIRS: [string, string][] = [
  ['instruction', 'output'],
  ['prompt', 'response'],
  ['prompt', 'completion'],
  ['prompt', 'chosen'],
  ['question', 'answer'],
  ['query', 'response'],
  ['input', 'output'],
];

const isTurnList = (v: unknown, role: string, content: string) =>
  Array.isArray(v) && v.length > 0 && v.every((t) => t && typeof t === 'object' && role in t && content in t);

/** The best mapping for these rows, restricted to a kind when one is asked for. */
export function detectMapping(rows: Record<string, unknown>[], kind?: DatasetKind): { kind: DatasetKind; mapping: FieldMapping } | null {
  const sample = rows.slice(0, 50);
  if (!sample.length) return null;
  // most rows, not all: a few broken rows must not hide the layout (they are reported when imported)
  const has = (f: string) => sample.filter((r) => getField(r, f) !== undefined && getField(r, f) !== null).length >= Math.ceil(sample.length * 0.5);
  const some = (f: string) => sample.some((r) => getField(r, f) !== undefined && getField(r, f) !== null);
  const first = sample[0];
  const candidates: { kind: DatasetKind; mapping: FieldMapping }[] = [];

  for (const key of ['messages', 'conversations', 'conversation', 'dialog', 'chat']) {
    const v = first[key];
    if (isTurnList(v, 'role', 'content')) candidates.push({ kind: 'chat', mapping: { kind: 'chat', messages: key, ...(some('system') ? { system: 'system' } : {}) } });
    else if (isTurnList(v, 'from', 'value'))
      candidates.push({ kind: 'chat', mapping: { kind: 'chat', messages: key, role: 'from', content: 'value', ...(some('system') ? { system: 'system' } : {}) } });
  }
  for (const [ins, out] of PAIRS) {
    if (has(ins) && has(out)) {
      const input = ins !== 'input' && some('input') ? { input: 'input' } : {};
      const system = some('system') ? { system: 'system' } : {};
      candidates.push({ kind: 'instruction', mapping: { kind: 'instruction', instruction: ins, output: out, ...input, ...system } });
      break;
    }
  }
  for (const f of TEXT_FIELDS) {
    if (has(f) && typeof getField(first, f) === 'string') {
      candidates.push({ kind: 'text', mapping: { kind: 'text', text: f } });
      break;
    }
  }
  if (!candidates.length && !kind) {
    // one string field and nothing else worth reading: take it as text
    const strings = Object.keys(first).filter((k) => typeof first[k] === 'string');
    if (strings.length === 1) candidates.push({ kind: 'text', mapping: { kind: 'text', text: strings[0] } });
  }
  return (kind ? candidates.find((c) => c.kind === kind) : candidates[0]) ?? null;
}

/** Fields a mapping reads at the top level of a row (for parquet column selection). */
export function mappingFields(m: FieldMapping): { text: string[]; lists: string[] } {
  const top = (f: string | undefined) => (f ? [f.split('.')[0]] : []);
  if (m.kind === 'text') return { text: top(m.text), lists: [] };
  if (m.kind === 'instruction') return { text: [...top(m.instruction), ...top(m.input), ...top(m.output), ...top(m.system)], lists: [] };
  return { text: top(m.system), lists: top(m.messages) };
}

/** ShareGPT and other exports name roles their own way; training uses system/user/assistant. */
const ROLE_NAMES: Record<string, string> = {
  human: 'user',
  user: 'user',
  gpt: 'assistant',
  assistant: 'assistant',
  chatgpt: 'assistant',
  bard: 'assistant',
  bing: 'assistant',
  model: 'assistant',
  bot: 'assistant',
  system: 'system',
  tool: 'tool',
  function: 'tool',
  observation: 'tool',
};

function textField(row: Record<string, unknown>, field: string, optional: boolean): string | undefined {
  const v = getField(row, field);
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw new MappingError(`the field "${field}" is missing`);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  throw new MappingError(`the field "${field}" is ${describeJsonType(v)}, not text`);
}

export function applyMapping(row: Record<string, unknown>, m: FieldMapping): RecordContent {
  if (m.kind === 'text') return { kind: 'text', text: textField(row, m.text, false)! };
  if (m.kind === 'instruction') {
    const input = m.input ? textField(row, m.input, true) : undefined;
    const system = m.system ? textField(row, m.system, true) : undefined;
    return {
      kind: 'instruction',
      instruction: textField(row, m.instruction, false)!,
      output: textField(row, m.output, false)!,
      ...(input ? { input } : {}),
      ...(system ? { system } : {}),
    };
  }
  const list = getField(row, m.messages);
  if (list === undefined || list === null) throw new MappingError(`the field "${m.messages}" is missing`);
  if (!Array.isArray(list)) throw new MappingError(`the field "${m.messages}" is ${describeJsonType(list)}, not a list of turns`);
  const roleKey = m.role ?? 'role';
  const contentKey = m.content ?? 'content';
  const messages: ChatTurn[] = [];
  const system = m.system ? textField(row, m.system, true) : undefined;
  if (system) messages.push({ role: 'system', content: system });
  list.forEach((t, i) => {
    if (!t || typeof t !== 'object' || Array.isArray(t)) throw new MappingError(`turn ${i + 1} of "${m.messages}" is ${describeJsonType(t)}, not an object`);
    const turn = t as Record<string, unknown>;
    const role = turn[roleKey];
    const content = turn[contentKey];
    if (typeof role !== 'string') throw new MappingError(`turn ${i + 1} of "${m.messages}" has no "${roleKey}" text`);
    if (typeof content !== 'string') {
      throw new MappingError(`turn ${i + 1} of "${m.messages}" has ${content === undefined ? 'no' : describeJsonType(content) + ' as'} "${contentKey}"${content === undefined ? '' : ', not text'}`);
    }
    messages.push({ role: ROLE_NAMES[role.toLowerCase()] ?? role, content });
  });
  if (!messages.some((x) => x.role === 'assistant')) throw new MappingError(`the conversation in "${m.messages}" has no assistant turn to learn from`);
  return { kind: 'chat', messages };
}

/** Whether a record has anything in it (empty records are skipped, not errors). */
export function isEmptyContent(c: RecordContent): boolean {
  if (c.kind === 'text') return !c.text.trim();
  if (c.kind === 'instruction') return !c.instruction.trim() && !c.output.trim();
  return c.messages.every((m) => !m.content.trim());
}

export function describeMapping(m: FieldMapping): string {
  if (m.kind === 'text') return `text ← "${m.text}"`;
  if (m.kind === 'instruction') {
    return [`instruction ← "${m.instruction}"`, m.input && `input ← "${m.input}"`, `output ← "${m.output}"`, m.system && `system ← "${m.system}"`].filter(Boolean).join(', ');
  }
  return `messages ← "${m.messages}" (role: "${m.role ?? 'role'}", content: "${m.content ?? 'content'}")`;
}
