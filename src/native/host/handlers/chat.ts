// The chat domain: the model pool (load, unload, what is loaded), raw
// generation for the OpenAI endpoints, and conversations with streaming
// answers. State lives in a ChatService per host; `closeChat` stops its
// model workers when the host closes.
import { chatMethods } from '../../../shared/contract/chat';
import { DeepenError } from '../../../shared/errors';
import * as sql from '../../data/conversations';
import { ChatService, toInfo } from '../chat/chat-service';
import { ModelPool } from '../model-pool';
import type { HandlersFor, HostServices } from '../services';
import { getSettings } from './engine';

export interface ChatOptions {
  /** memory the pool may assume free (tests refuse loads with a small one) */
  freeMemory?: () => number;
  headroomBytes?: number;
}

const services = new WeakMap<object, ChatService>();

/** The chat service of a host, found by its database (the OpenAI endpoints and tests reach it this way). */
export function chatServiceOf(db: object): ChatService | undefined {
  return services.get(db);
}

export async function closeChat(db: object): Promise<void> {
  await services.get(db)?.pool.close();
  services.delete(db);
}

export function chatHandlers(s: HostServices, opts: ChatOptions = {}): HandlersFor<typeof chatMethods> {
  const pool = new ModelPool({
    db: s.db,
    jobs: s.jobs,
    dataDir: s.dataDir,
    provider: () => getSettings(s).provider,
    onChange: (modelId, model) => s.emit('chat.model', model ? { modelId, model } : { modelId, model: null, removed: true }),
    freeMemory: opts.freeMemory,
    headroomBytes: opts.headroomBytes,
  });
  const chat = new ChatService(s, pool);
  services.set(s.db, chat);

  return {
    'chat.models': () => pool.list(),
    'chat.estimate': (p) => pool.estimate(p),
    'chat.load': (p) => pool.load(p),
    'chat.unload': async (p) => ({ modelId: p.modelId, unloaded: await pool.unload(p.modelId) }),
    'chat.generate': (p) => ({ requestId: chat.generate(p) }),
    'chat.cancel': (p) => {
      if (!p.requestId && !p.conversationId) throw new DeepenError('bad_request', 'Say what to stop: a requestId or a conversationId.');
      return { cancelled: chat.cancel(p) };
    },
    'chat.list': (p) => sql.listConversations(s.db, { limit: p?.limit }).map(toInfo),
    'chat.create': (p) => chat.create(p ?? {}),
    'chat.get': (p) => chat.detail(p.id),
    'chat.update': (p) => chat.update(p),
    'chat.delete': (p) => {
      chat.delete(p.id);
      return { id: p.id };
    },
    'chat.search': (p) => sql.searchMessages(s.db, String(p.query ?? ''), { limit: p.limit }),
    'chat.send': (p) => chat.send(p),
    'chat.regenerate': (p) => chat.regenerate(p),
    'chat.edit': (p) => chat.edit(p),
  };
}
