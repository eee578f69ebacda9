import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/native/data/db';
import {
  addMessage,
  createConversation,
  deleteConversation,
  getConversation,
  listConversations,
  listMessages,
  renameConversation,
  searchMessages,
  titleFromText,
  truncateConversation,
  updateConversation,
  updateMessage,
} from '../../../src/native/data/conversations';
import { tempDataDir } from '../host/helpers';
import { thrownBy } from '../../expect-error';

let db: Db;
let cleanup: () => void;
beforeEach(() => {
  const t = tempDataDir();
  cleanup = t.cleanup;
  db = openDatabase(path.join(t.dir, 'deepen.db'));
});
afterEach(() => {
  db.close();
  cleanup();
});

const codeOf = (fn: () => unknown): string => thrownBy(fn).code;

describe('conversations', () => {
  it('creates, lists most recent first, renames, updates settings and deletes', () => {
    const a = createConversation(db, { systemPrompt: 'Be terse.', modelIds: ['m1'], sampling: { temperature: 0.7, preset: 'balanced' }, at: 1000 });
    const b = createConversation(db, { title: 'Second', at: 2000 });
    expect(a).toMatchObject({ title: '', systemPrompt: 'Be terse.', modelIds: ['m1'], sampling: { temperature: 0.7, preset: 'balanced' }, createdAt: 1000, updatedAt: 1000 });
    expect(listConversations(db).map((c) => c.id)).toEqual([b.id, a.id]);

    expect(renameConversation(db, a.id, '  Trip plans ', 3000)).toMatchObject({ title: 'Trip plans', updatedAt: 3000 });
    expect(listConversations(db).map((c) => c.id)).toEqual([a.id, b.id]);
    expect(codeOf(() => renameConversation(db, a.id, '   '))).toBe('bad_request');

    const changed = updateConversation(db, b.id, { modelIds: ['base', 'expanded'], sampling: { temperature: 0 } }, 4000);
    expect(changed).toMatchObject({ title: 'Second', modelIds: ['base', 'expanded'], sampling: { temperature: 0 }, updatedAt: 4000 });

    addMessage(db, a.id, { role: 'user', content: 'hello', at: 5000 });
    expect(deleteConversation(db, a.id)).toBe(true);
    expect(deleteConversation(db, a.id)).toBe(false);
    expect(getConversation(db, a.id)).toBeNull();
    expect(listMessages(db, a.id)).toEqual([]);
    expect(searchMessages(db, 'hello')).toEqual([]); // the index forgot it too
    expect(codeOf(() => renameConversation(db, a.id, 'x'))).toBe('not_found');
  });

  it('appends messages in order, titles an untitled conversation from the first user message, and counts them', () => {
    const c = createConversation(db, { at: 1 });
    addMessage(db, c.id, { role: 'system', content: 'sys', at: 2 });
    const u = addMessage(db, c.id, { role: 'user', content: 'How do I grow a model by block expansion?\nDetails follow.', at: 3 });
    const stats = { decodeTokensPerSecond: 42.5, stopReason: 'eos', seed: 7 };
    const r1 = addMessage(db, c.id, { role: 'assistant', content: 'Insert copies…', modelId: 'base', stats, at: 4 });
    const r2 = addMessage(db, c.id, { role: 'assistant', content: 'Zero the output…', modelId: 'expanded', at: 5 });
    addMessage(db, c.id, { role: 'user', content: 'Thanks', at: 6 });
    expect(listMessages(db, c.id).map((m) => [m.seq, m.role, m.modelId])).toEqual([
      [1, 'system', null],
      [2, 'user', null],
      [3, 'assistant', 'base'],
      [4, 'assistant', 'expanded'],
      [5, 'user', null],
    ]);
    expect(r1.stats).toEqual(stats);
    expect(r2.stats).toBeNull();
    expect(u.conversationId).toBe(c.id);
    expect(getConversation(db, c.id)).toMatchObject({ title: 'How do I grow a model by block expansion?', updatedAt: 6 });
    expect(listConversations(db)[0].messageCount).toBe(5);
    expect(codeOf(() => addMessage(db, 'nope', { role: 'user', content: 'x' }))).toBe('not_found');
    expect(codeOf(() => addMessage(db, c.id, { role: 'tool' as never, content: 'x' }))).toBe('bad_request');
  });

  it('edits a message and truncates for regenerate and edit-and-resend', () => {
    const c = createConversation(db);
    const u1 = addMessage(db, c.id, { role: 'user', content: 'first' });
    const a1 = addMessage(db, c.id, { role: 'assistant', content: 'answer one' });
    addMessage(db, c.id, { role: 'user', content: 'second' });
    addMessage(db, c.id, { role: 'assistant', content: 'answer two' });

    const saved = updateMessage(db, a1.id, { content: 'answer one, finished', stats: { generatedTokens: 12 } });
    expect(saved).toMatchObject({ content: 'answer one, finished', stats: { generatedTokens: 12 } });
    expect(searchMessages(db, 'finished').map((h) => h.messageId)).toEqual([a1.id]);

    // edit and resend the first user turn: everything after it goes
    expect(truncateConversation(db, c.id, u1.id)).toBe(3);
    updateMessage(db, u1.id, { content: 'first, edited' });
    expect(listMessages(db, c.id).map((m) => m.content)).toEqual(['first, edited']);
    expect(searchMessages(db, 'answer')).toEqual([]);
    // regenerate: the answer itself goes
    const a2 = addMessage(db, c.id, { role: 'assistant', content: 'new answer' });
    expect(truncateConversation(db, c.id, a2.id, { inclusive: true })).toBe(1);
    expect(codeOf(() => truncateConversation(db, c.id, 'missing'))).toBe('not_found');
    expect(codeOf(() => updateMessage(db, 'missing', { content: 'x' }))).toBe('not_found');
  });

  it('searches message text with FTS5: ranked, with snippets, prefixes, diacritics, and literal punctuation', () => {
    const c1 = createConversation(db, { title: 'Rope' });
    const c2 = createConversation(db, { title: 'Cafe' });
    const m1 = addMessage(db, c1.id, { role: 'user', content: 'How does rotary position embedding (RoPE) scale with yarn?' });
    addMessage(db, c1.id, { role: 'assistant', content: 'Yarn interpolates frequencies. Yarn yarn yarn.' });
    const m3 = addMessage(db, c2.id, { role: 'user', content: 'Un café crème, s\'il vous plaît' });

    const yarn = searchMessages(db, 'yarn');
    expect(yarn).toHaveLength(2);
    expect(yarn[0].role).toBe('assistant'); // more occurrences rank first
    expect(yarn[1]).toMatchObject({ messageId: m1.id, conversationId: c1.id, title: 'Rope' });
    expect(yarn[1].snippet).toContain('[yarn]');
    expect(searchMessages(db, 'rot').map((h) => h.messageId)).toEqual([m1.id]); // prefix of the last word
    expect(searchMessages(db, 'cafe creme').map((h) => h.messageId)).toEqual([m3.id]);
    expect(searchMessages(db, 'position yarn').map((h) => h.messageId)).toEqual([m1.id]); // all words must match
    for (const odd of ['(RoPE)', '"unbalanced', 'AND OR NOT', 'NEAR(', '*', '?', '']) expect(() => searchMessages(db, odd)).not.toThrow();
    expect(searchMessages(db, '(RoPE)').map((h) => h.messageId)).toEqual([m1.id]);
  });

  it('titles are the first line, shortened at a word', () => {
    expect(titleFromText('  Hello\nworld ')).toBe('Hello');
    const long = 'word '.repeat(40);
    const t = titleFromText(long);
    expect(t.length).toBeLessThanOrEqual(81);
    expect(t.endsWith('word…')).toBe(true);
  });
});
