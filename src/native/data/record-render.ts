// A record as a model trains on it: text split into segments that do or do
// not carry loss, then token ids with a loss flag per token. Pretraining text
// carries loss everywhere; instruction and chat records only on the
// assistant's turns (including the end-of-turn marker the template writes, so
// the model learns to stop).
import type { ChatTurn, RecordContent } from '../../shared/contract/datasets';

export interface Segment {
  text: string;
  loss: boolean;
}

export interface RenderedSegments {
  segments: Segment[];
  /** whether encoding should add the tokenizer's BOS/EOS (chat templates write their own) */
  addSpecialTokens: boolean;
  mode: 'text' | 'chat' | 'completion';
  note?: string;
}

/** The subset of the tokenizer a trainer's data path needs (TextTokenizer fits it). */
export interface TokenEncoder {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
}

/** Renders a conversation (generate/chat-template's ChatFormatter fits it). */
export interface ChatTemplateLike {
  render(messages: readonly ChatTurn[], opts?: { addGenerationPrompt?: boolean }): { text: string; mode: 'chat' | 'completion'; addSpecialTokens: boolean; note?: string };
}

export function recordToMessages(content: RecordContent): ChatTurn[] {
  if (content.kind === 'chat') return content.messages;
  if (content.kind === 'instruction') {
    const user = content.input ? `${content.instruction}\n\n${content.input}` : content.instruction;
    return [...(content.system ? [{ role: 'system', content: content.system }] : []), { role: 'user', content: user }, { role: 'assistant', content: content.output }];
  }
  return [{ role: 'user', content: content.text }];
}

/**
 * A minimal template for tests and for models without one in chat data:
 * "<|role|>\ncontent\n" per turn, the assistant's text and closing newline
 * carrying loss.
 */
export const plainChatTemplate: ChatTemplateLike = {
  render(messages, opts) {
    const body = messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('');
    return { text: body + (opts?.addGenerationPrompt ? '<|assistant|>\n' : ''), mode: 'chat', addSpecialTokens: true };
  },
};

/**
 * Splits a rendered conversation into prompt and assistant segments by
 * rendering growing prefixes: the text added between "up to turn i with the
 * generation prompt" and "up to and including turn i" is the assistant's
 * reply with its end-of-turn marker. Templates that rewrite earlier turns
 * (e.g. drop reasoning from past replies) break the prefix property; then the
 * reply text is found in the full render instead.
 */
export function renderChat(messages: readonly ChatTurn[], template: ChatTemplateLike): RenderedSegments {
  const full = template.render(messages, { addGenerationPrompt: false });
  const segments: Segment[] = [];
  let prev = '';
  let consistent = true;
  for (let i = 0; i < messages.length && consistent; i++) {
    if (messages[i].role !== 'assistant') continue;
    const prompt = template.render(messages.slice(0, i), { addGenerationPrompt: true }).text;
    const upto = template.render(messages.slice(0, i + 1), { addGenerationPrompt: false }).text;
    if (!prompt.startsWith(prev) || !upto.startsWith(prompt) || !full.text.startsWith(upto)) {
      consistent = false;
      break;
    }
    segments.push({ text: prompt.slice(prev.length), loss: false }, { text: upto.slice(prompt.length), loss: true });
    prev = upto;
  }
  if (consistent) {
    segments.push({ text: full.text.slice(prev.length), loss: false });
  } else {
    segments.length = 0;
    let cursor = 0;
    for (const m of messages) {
      if (m.role !== 'assistant' || !m.content) continue;
      const at = full.text.indexOf(m.content, cursor);
      if (at < 0) continue;
      segments.push({ text: full.text.slice(cursor, at), loss: false }, { text: m.content, loss: true });
      cursor = at + m.content.length;
    }
    segments.push({ text: full.text.slice(cursor), loss: false });
  }
  return { segments: segments.filter((s) => s.text.length > 0), addSpecialTokens: full.addSpecialTokens, mode: full.mode, note: full.note };
}

export function renderRecord(content: RecordContent, template: ChatTemplateLike | null): RenderedSegments {
  if (content.kind === 'text') return { segments: [{ text: content.text, loss: true }], addSpecialTokens: true, mode: 'text' };
  return renderChat(recordToMessages(content), template ?? plainChatTemplate);
}

export interface TokenizedRecord {
  ids: number[];
  loss: Uint8Array;
}

/**
 * Encodes the whole rendered text at once, as inference will, and gives each
 * token the loss flag of the segment it starts in. Encoding segment by
 * segment would differ: SentencePiece tokenizers put a word-start marker at
 * the start of every separately encoded piece. A segment's tokens are found
 * by encoding the text up to its end and taking the ids shared with the
 * whole (a token that spans a boundary goes to the later segment). Special
 * tokens the tokenizer adds in front (BOS) carry no loss.
 */
export function tokenizeSegments(r: RenderedSegments, encoder: TokenEncoder, eosId?: number | null): TokenizedRecord {
  const opts = { addSpecialTokens: r.addSpecialTokens };
  const full = r.segments.map((s) => s.text).join('');
  const ids = encoder.encode(full, opts);
  const loss = new Uint8Array(ids.length + 1);
  let start = 0;
  let chars = 0;
  r.segments.forEach((seg, i) => {
    chars += seg.text.length;
    let end = ids.length;
    if (i < r.segments.length - 1) {
      const prefix = encoder.encode(full.slice(0, chars), opts);
      end = 0;
      while (end < prefix.length && end < ids.length && prefix[end] === ids[end]) end++;
    }
    for (let k = start; k < end; k++) loss[k] = seg.loss ? 1 : 0;
    start = Math.max(start, end);
  });
  if (r.addSpecialTokens) {
    const lead = encoder.encode('', opts);
    for (let k = 0; k < lead.length && k < ids.length && ids[k] === lead[k] && ids[k] !== eosId; k++) loss[k] = 0;
  }
  // a pretraining document ends with EOS, so packed documents are separated and the model learns where text ends
  if (r.mode === 'text' && eosId !== null && eosId !== undefined && ids[ids.length - 1] !== eosId) {
    ids.push(eosId);
    loss[ids.length - 1] = 1;
  }
  return { ids, loss: loss.subarray(0, ids.length) };
}
