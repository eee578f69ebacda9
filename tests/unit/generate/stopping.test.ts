import { describe, expect, it } from 'vitest';
import { StopStringFilter, TokenStopper } from '../../../src/native/generate/stopping';

/** Feeds deltas; returns what was shown, and the delta index where it stopped. */
function feed(stops: string[], deltas: string[]): { shown: string[]; stoppedAt: number; stopString?: string; tail: string } {
  const f = new StopStringFilter(stops);
  const shown: string[] = [];
  for (let i = 0; i < deltas.length; i++) {
    const r = f.push(deltas[i]);
    shown.push(r.text);
    if (r.stopped) return { shown, stoppedAt: i, stopString: r.stopString, tail: f.flush() };
  }
  return { shown, stoppedAt: -1, tail: f.flush() };
}

describe('StopStringFilter', () => {
  it('finds a stop string split across deltas and drops it and what follows', () => {
    const r = feed(['\nUser:'], ['Sure.', '\n', 'Us', 'er', ': next', 'never']);
    expect(r.stoppedAt).toBe(4);
    expect(r.stopString).toBe('\nUser:');
    expect(r.shown.join('')).toBe('Sure.');
    expect(r.tail).toBe('');
  });

  it('holds back a possible beginning of a stop string, then releases it when it turns out not to be one', () => {
    const r = feed(['\nUser:'], ['a', '\nU', 's', 'ual', ' b']);
    expect(r.shown).toEqual(['a', '', '', '\nUsual', ' b']);
    expect(r.stoppedAt).toBe(-1);
  });

  it('releases held text at the end when the stop string never completes', () => {
    const r = feed(['</answer>'], ['42 </ans']);
    expect(r.shown).toEqual(['42 ']);
    expect(r.tail).toBe('</ans');
  });

  it('cuts at the earliest of several stop strings, even inside one delta', () => {
    const r = feed(['STOP', 'END'], ['abc END xyz STOP']);
    expect(r.shown).toEqual(['abc ']);
    expect(r.stopString).toBe('END');
  });

  it('with no stop strings passes text straight through', () => {
    const r = feed([], ['a', 'b']);
    expect(r.shown).toEqual(['a', 'b']);
    expect(new StopStringFilter(['']).push('x')).toEqual({ text: 'x', stopped: false });
  });
});

describe('TokenStopper', () => {
  it('stops on EOS unless told to ignore it, on the token budget and on a full context', () => {
    const s = new TokenStopper({ eosIds: [2, 7], maxNewTokens: 5, maxContext: 10, promptLength: 3 });
    expect(s.isEos(7)).toBe(true);
    expect(s.isEos(3)).toBe(false);
    expect(new TokenStopper({ eosIds: [2], ignoreEos: true, maxNewTokens: 5, maxContext: 10, promptLength: 3 }).isEos(2)).toBe(false);
    expect(s.limitReached(4)).toBeNull();
    expect(s.limitReached(5)).toBe('max_tokens');
    const tight = new TokenStopper({ eosIds: [], maxNewTokens: 100, maxContext: 10, promptLength: 8 });
    expect(tight.limitReached(1)).toBeNull();
    expect(tight.limitReached(2)).toBe('context_full');
  });
});
