// SQL for chat conversations and their messages. Every query takes the
// database first and binds its parameters. Messages are ordered by `seq`
// within a conversation; compare mode stores one assistant message per model
// after the same user message, told apart by `modelId`.
import { randomUUID } from 'node:crypto';
import { DeepenError } from '../../shared/errors';
import type { Db } from './db';

export const MESSAGE_ROLES = ['system', 'user', 'assistant'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export interface Conversation {
  id: string;
  /** '' until the first user message names it (see addMessage). */
  title: string;
  systemPrompt: string;
  modelIds: string[];
  /** The sampling panel's settings (SamplingSettings plus UI fields such as a preset name). */
  sampling: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ConversationSummary extends Conversation {
  messageCount: number;
}

export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  role: MessageRole;
  content: string;
  /** The model that wrote an assistant message. */
  modelId: string | null;
  /** Generation stats, stop reason, seed… for assistant messages. */
  stats: Record<string, unknown> | null;
  createdAt: number;
}

export interface SearchHit {
  conversationId: string;
  title: string;
  messageId: string;
  role: MessageRole;
  /** The matching part of the message, matches wrapped in [ and ]. */
  snippet: string;
  createdAt: number;
}

interface ConversationRow {
  id: string;
  title: string;
  system_prompt: string;
  model_ids: string;
  sampling: string;
  created_at: number;
  updated_at: number;
  message_count?: number;
}

interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: MessageRole;
  content: string;
  model_id: string | null;
  stats: string | null;
  created_at: number;
}

const toConversation = (r: ConversationRow): Conversation => ({
  id: r.id,
  title: r.title,
  systemPrompt: r.system_prompt,
  modelIds: JSON.parse(r.model_ids) as string[],
  sampling: JSON.parse(r.sampling) as Record<string, unknown>,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  conversationId: r.conversation_id,
  seq: r.seq,
  role: r.role,
  content: r.content,
  modelId: r.model_id,
  stats: r.stats === null ? null : (JSON.parse(r.stats) as Record<string, unknown>),
  createdAt: r.created_at,
});

const TITLE_MAX = 80;

/** A title from the first line of a message, cut at a word near 80 characters. */
export function titleFromText(text: string): string {
  const line = text.trim().split('\n')[0].replace(/\s+/g, ' ').trim();
  if (line.length <= TITLE_MAX) return line;
  const cut = line.slice(0, TITLE_MAX);
  const space = cut.lastIndexOf(' ');
  return `${(space > TITLE_MAX / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function createConversation(
  db: Db,
  c: { id?: string; title?: string; systemPrompt?: string; modelIds?: string[]; sampling?: Record<string, unknown>; at?: number } = {},
): Conversation {
  const at = c.at ?? Date.now();
  const id = c.id ?? randomUUID();
  db.prepare(`INSERT INTO conversations (id, title, system_prompt, model_ids, sampling, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(
    id,
    c.title?.trim() ?? '',
    c.systemPrompt ?? '',
    JSON.stringify(c.modelIds ?? []),
    JSON.stringify(c.sampling ?? {}),
    at,
    at,
  );
  return requireConversation(db, id);
}

export function getConversation(db: Db, id: string): Conversation | null {
  const row = db.prepare(`SELECT * FROM conversations WHERE id = ?`).get(id) as ConversationRow | undefined;
  return row ? toConversation(row) : null;
}

function requireConversation(db: Db, id: string): Conversation {
  const c = getConversation(db, id);
  if (!c) throw new DeepenError('not_found', `There is no conversation ${id}. It may have been deleted; pick another from the list.`, { conversationId: id });
  return c;
}

/** Most recently active first. */
export function listConversations(db: Db, opts: { limit?: number; offset?: number } = {}): ConversationSummary[] {
  const limit = Math.max(1, Math.min(opts.limit ?? 200, 10_000));
  const offset = Math.max(0, opts.offset ?? 0);
  const rows = db
    .prepare(
      `SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count
       FROM conversations c ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ? OFFSET ?`,
    )
    .all(limit, offset) as ConversationRow[];
  return rows.map((r) => ({ ...toConversation(r), messageCount: r.message_count ?? 0 }));
}

export function renameConversation(db: Db, id: string, title: string, at = Date.now()): Conversation {
  const clean = title.trim();
  if (!clean) throw new DeepenError('bad_request', 'A conversation title cannot be empty. Type a name.');
  return updateConversation(db, id, { title: clean }, at);
}

/** Changes settings; bumps updatedAt so the conversation moves to the top of the list. */
export function updateConversation(
  db: Db,
  id: string,
  patch: { title?: string; systemPrompt?: string; modelIds?: string[]; sampling?: Record<string, unknown> },
  at = Date.now(),
): Conversation {
  const current = requireConversation(db, id);
  db.prepare(`UPDATE conversations SET title = ?, system_prompt = ?, model_ids = ?, sampling = ?, updated_at = ? WHERE id = ?`).run(
    patch.title ?? current.title,
    patch.systemPrompt ?? current.systemPrompt,
    JSON.stringify(patch.modelIds ?? current.modelIds),
    JSON.stringify(patch.sampling ?? current.sampling),
    at,
    id,
  );
  return requireConversation(db, id);
}

/** Deletes the conversation and its messages; false when it did not exist. */
export function deleteConversation(db: Db, id: string): boolean {
  return db.prepare(`DELETE FROM conversations WHERE id = ?`).run(id).changes > 0;
}

export function listMessages(db: Db, conversationId: string): Message[] {
  return (db.prepare(`SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq`).all(conversationId) as MessageRow[]).map(toMessage);
}

export function getMessage(db: Db, id: string): Message | null {
  const row = db.prepare(`SELECT * FROM messages WHERE id = ?`).get(id) as MessageRow | undefined;
  return row ? toMessage(row) : null;
}

/**
 * Appends a message. The first user message of an untitled conversation
 * becomes its title, so the list never fills with "New conversation".
 */
export function addMessage(
  db: Db,
  conversationId: string,
  m: { id?: string; role: MessageRole; content: string; modelId?: string | null; stats?: Record<string, unknown> | null; at?: number },
): Message {
  if (!MESSAGE_ROLES.includes(m.role)) {
    throw new DeepenError('bad_request', `A message role must be one of ${MESSAGE_ROLES.join(', ')}, not "${String(m.role)}".`, { role: m.role });
  }
  const at = m.at ?? Date.now();
  const id = m.id ?? randomUUID();
  db.transaction(() => {
    const conversation = requireConversation(db, conversationId);
    const { next } = db.prepare(`SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM messages WHERE conversation_id = ?`).get(conversationId) as { next: number };
    db.prepare(`INSERT INTO messages (id, conversation_id, seq, role, content, model_id, stats, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(
      id,
      conversationId,
      next,
      m.role,
      m.content,
      m.modelId ?? null,
      m.stats ? JSON.stringify(m.stats) : null,
      at,
    );
    const title = conversation.title === '' && m.role === 'user' ? titleFromText(m.content) : conversation.title;
    db.prepare(`UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?`).run(title, at, conversationId);
  })();
  return getMessage(db, id)!;
}

/** Edits a message's text or stats (an edited user turn, an answer saved when streaming ends). */
export function updateMessage(db: Db, id: string, patch: { content?: string; stats?: Record<string, unknown> | null }, at = Date.now()): Message {
  const current = getMessage(db, id);
  if (!current) throw new DeepenError('not_found', `There is no message ${id}. The conversation may have changed; reload it.`, { messageId: id });
  const stats = patch.stats === undefined ? current.stats : patch.stats;
  db.transaction(() => {
    db.prepare(`UPDATE messages SET content = ?, stats = ? WHERE id = ?`).run(patch.content ?? current.content, stats ? JSON.stringify(stats) : null, id);
    db.prepare(`UPDATE conversations SET updated_at = ? WHERE id = ?`).run(at, current.conversationId);
  })();
  return getMessage(db, id)!;
}

/**
 * Drops the messages after `messageId` (and the message itself when
 * `inclusive`): regenerate drops the old answers, edit-and-resend everything
 * after the edited user turn. Returns how many were deleted.
 */
export function truncateConversation(db: Db, conversationId: string, messageId: string, opts: { inclusive?: boolean } = {}): number {
  const m = getMessage(db, messageId);
  if (!m || m.conversationId !== conversationId) {
    throw new DeepenError('not_found', `Message ${messageId} is not part of conversation ${conversationId}. Reload the conversation and try again.`, { conversationId, messageId });
  }
  const op = opts.inclusive ? '>=' : '>';
  return db.prepare(`DELETE FROM messages WHERE conversation_id = ? AND seq ${op} ?`).run(conversationId, m.seq).changes;
}

/**
 * Full-text search over message text, best matches first. The user's words
 * are quoted one by one, so punctuation and FTS operators (AND, NEAR, quotes)
 * in a query are searched for literally instead of failing; the last word
 * also matches as a prefix, for search as you type.
 */
export function searchMessages(db: Db, query: string, opts: { limit?: number } = {}): SearchHit[] {
  const match = ftsQuery(query);
  if (!match) return [];
  const limit = Math.max(1, Math.min(opts.limit ?? 50, 1000));
  const rows = db
    .prepare(
      `SELECT m.id AS message_id, m.conversation_id, m.role, m.created_at, c.title,
              snippet(messages_fts, 0, '[', ']', '…', 12) AS snippet
       FROM messages_fts
       JOIN messages m ON m.rowid = messages_fts.rowid
       JOIN conversations c ON c.id = m.conversation_id
       WHERE messages_fts MATCH ?
       ORDER BY bm25(messages_fts), m.created_at DESC
       LIMIT ?`,
    )
    .all(match, limit) as { message_id: string; conversation_id: string; role: MessageRole; created_at: number; title: string; snippet: string }[];
  return rows.map((r) => ({ conversationId: r.conversation_id, title: r.title, messageId: r.message_id, role: r.role, snippet: r.snippet, createdAt: r.created_at }));
}

function ftsQuery(query: string): string {
  const words = query.split(/\s+/).filter((w) => w.length > 0);
  return words.map((w, i) => `"${w.replace(/"/g, '""')}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}
