import { loadChatFormatter, type ChatFormatter, type ChatMessage, type RenderOptions } from './chat-template';
import { TextTokenizer } from './tokenizer';

// Everything text-side a loaded model needs to chat: its tokenizer and its
// chat template, read from the model folder once; and the step from a
// conversation to prompt ids plus the ids that end the answer.

export interface TextModelAssets {
  tokenizer: TextTokenizer;
  chat: ChatFormatter;
}

export async function loadTextModelAssets(modelDir: string): Promise<TextModelAssets> {
  const tokenizer = await TextTokenizer.fromDir(modelDir);
  const chat = await loadChatFormatter(modelDir, tokenizer.templateTokens, tokenizer.config);
  return { tokenizer, chat };
}

export interface ChatPrompt {
  ids: number[];
  text: string;
  mode: 'chat' | 'completion';
  /** Shown to the user in completion mode. */
  note?: string;
  /**
   * Ids that end the answer. In chat mode the end-of-turn markers count too:
   * a Llama 3 instruct folder whose generation_config.json is missing names
   * only <|end_of_text|> as EOS, yet ends every turn with <|eot_id|>.
   */
  eosIds: number[];
}

export function buildChatPrompt(assets: TextModelAssets, messages: readonly ChatMessage[], opts: RenderOptions = {}): ChatPrompt {
  const { tokenizer, chat } = assets;
  const rendered = chat.render(messages, opts);
  const ids = tokenizer.encode(rendered.text, { addSpecialTokens: rendered.addSpecialTokens });
  const eosIds = rendered.mode === 'chat' ? [...new Set([...tokenizer.eosIds, ...tokenizer.endOfTurnIds])] : tokenizer.eosIds;
  return { ids, text: rendered.text, mode: rendered.mode, note: rendered.note, eosIds };
}
