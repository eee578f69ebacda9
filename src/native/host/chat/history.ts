// What a model sees of a conversation. Each turn is a user message followed
// by the answers of the models that took part; a model is shown its own
// answer of each turn (compare mode keeps the columns apart), or, for turns it
// did not answer (the model was switched mid-conversation), the first good
// answer there is, so the context still reads as one dialogue.
import type { AnswerInfo } from '../../../shared/contract/chat';
import type { Message } from '../../data/conversations';

export interface HistoryMessage {
  role: string;
  content: string;
}

/** Messages up to the last user turn (answers after it are being replaced), as `modelId` should see them. */
export function buildHistory(systemPrompt: string, messages: readonly Message[], modelId: string): HistoryMessage[] {
  let lastUser = -1;
  messages.forEach((m, i) => {
    if (m.role === 'user') lastUser = i;
  });
  const upTo = messages.slice(0, lastUser + 1);
  const out: HistoryMessage[] = [];
  if (systemPrompt.trim()) out.push({ role: 'system', content: systemPrompt });
  let turn: Message[] = [];
  const closeTurn = () => {
    const usable = turn.filter(isUsableAnswer);
    const pick = usable.find((m) => m.modelId === modelId) ?? usable[0];
    if (pick) out.push({ role: 'assistant', content: pick.content });
    turn = [];
  };
  for (const m of upTo) {
    if (m.role === 'assistant') {
      turn.push(m);
      continue;
    }
    closeTurn();
    out.push({ role: m.role, content: m.content });
  }
  closeTurn();
  return out;
}

function isUsableAnswer(m: Message): boolean {
  const state = (m.stats as Partial<AnswerInfo> | null)?.state;
  return m.content.trim().length > 0 && state !== 'failed' && state !== 'streaming';
}
