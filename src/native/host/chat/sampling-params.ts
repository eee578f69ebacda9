// Sampling settings as they arrive from the UI, the API or a stored
// conversation: filled from the defaults, checked, and refused with a message
// that names the field and its range (a NaN temperature must never reach the
// sampler, and an old conversation may lack newer fields).
import { DeepenError } from '../../../shared/errors';
import { defaultChatSampling, samplingPresets, type ChatSampling } from '../../../shared/contract/chat';

const MAX_STOP_STRINGS = 8;

function num(value: unknown, field: string, ok: (n: number) => boolean, range: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || !ok(n)) {
    throw new DeepenError('bad_request', `The sampling setting ${field} is ${JSON.stringify(value)}, but it must be ${range}.`, { field, value });
  }
  return n;
}

/** Missing fields come from `base`; invalid ones throw. */
export function normalizeSampling(input: Partial<ChatSampling> | Record<string, unknown> | null | undefined, base: ChatSampling = defaultChatSampling): ChatSampling {
  const p = (input ?? {}) as Record<string, unknown>;
  const pick = (k: keyof ChatSampling) => (p[k] === undefined ? base[k] : p[k]);
  const presetRaw = pick('preset');
  const preset = typeof presetRaw === 'string' && (presetRaw in samplingPresets || presetRaw === 'custom') ? (presetRaw as ChatSampling['preset']) : 'custom';
  const seedRaw = pick('seed');
  const stopRaw = pick('stop');
  const stop = stopRaw === null ? [] : typeof stopRaw === 'string' ? [stopRaw] : stopRaw;
  if (!Array.isArray(stop) || stop.some((x) => typeof x !== 'string') || stop.length > MAX_STOP_STRINGS) {
    throw new DeepenError('bad_request', `Stop strings must be a list of at most ${MAX_STOP_STRINGS} texts.`, { field: 'stop' });
  }
  return {
    preset,
    temperature: num(pick('temperature'), 'temperature', (n) => n >= 0 && n <= 5, 'between 0 (greedy) and 5'),
    topK: Math.round(num(pick('topK'), 'top-k', (n) => n >= 0, 'a whole number, 0 for off')),
    topP: num(pick('topP'), 'top-p', (n) => n > 0 && n <= 1, 'above 0 and at most 1 (1 for off)'),
    minP: num(pick('minP'), 'min-p', (n) => n >= 0 && n < 1, 'at least 0 and below 1 (0 for off)'),
    repetitionPenalty: num(pick('repetitionPenalty'), 'repetition penalty', (n) => n > 0 && n <= 5, 'above 0 and at most 5 (1 for off)'),
    seed: seedRaw === null || seedRaw === '' ? null : Math.round(num(seedRaw, 'seed', (n) => Number.isInteger(Number(n)) && n >= 0 && n <= 2 ** 32 - 1, 'a whole number from 0 to 4294967295, or empty for a fresh one')),
    maxTokens: Math.round(num(pick('maxTokens'), 'max tokens', (n) => n >= 1 && n <= 1_000_000, 'at least 1')),
    stop: (stop as string[]).filter((x) => x.length > 0),
  };
}

/** A stored conversation's settings; damaged or old values fall back to the defaults instead of failing the page. */
export function storedSampling(value: Record<string, unknown>): ChatSampling {
  try {
    return normalizeSampling(value);
  } catch {
    return { ...defaultChatSampling };
  }
}
