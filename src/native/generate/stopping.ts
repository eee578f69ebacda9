// When generation ends: an end-of-sequence token, a stop string, the token
// budget, a full context, or the user pressing Stop.

export type StopReason = 'eos' | 'stop_string' | 'max_tokens' | 'context_full' | 'cancelled';

/**
 * Stop strings are matched on the streamed text, not on token ids: "\nUser:"
 * can arrive as "\n", "User", ":" or as one token, and a token can carry text
 * past the stop. Text that might be the start of a stop string is held back
 * until the next delta settles it, so the user never sees half a stop string
 * flash up and disappear. The stop string itself and anything after it are
 * dropped (as in the OpenAI API).
 */
export class StopStringFilter {
  private readonly stops: string[];
  private held = '';
  private done = false;

  constructor(stopStrings: readonly string[]) {
    this.stops = [...new Set(stopStrings.filter((s) => s.length > 0))];
  }

  /** Feeds a text delta; returns the text safe to show and whether a stop string was reached. */
  push(delta: string): { text: string; stopped: boolean; stopString?: string } {
    if (this.done) return { text: '', stopped: true };
    const buffer = this.held + delta;
    let cut = -1;
    let which: string | undefined;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
        which = stop;
      }
    }
    if (cut >= 0) {
      this.done = true;
      this.held = '';
      return { text: buffer.slice(0, cut), stopped: true, stopString: which };
    }
    const keep = this.partialMatchLength(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep), stopped: false };
  }

  /** At the end of generation, releases text held back for a stop string that never came. */
  flush(): string {
    const text = this.done ? '' : this.held;
    this.held = '';
    return text;
  }

  /** Length of the longest end of `text` that is a proper beginning of some stop string. */
  private partialMatchLength(text: string): number {
    let best = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, text.length); n > best; n--) {
        if (text.endsWith(stop.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

export interface TokenStopOptions {
  eosIds: readonly number[];
  /** Keep going past EOS (benchmarks, `deepen generate --ignore-eos`). */
  ignoreEos?: boolean;
  maxNewTokens: number;
  maxContext: number;
  promptLength: number;
}

/** The token-level checks, in the order the generation loop asks them. */
export class TokenStopper {
  private readonly eos: Set<number>;
  constructor(private readonly opts: TokenStopOptions) {
    this.eos = new Set(opts.ignoreEos ? [] : opts.eosIds);
  }

  isEos(id: number): boolean {
    return this.eos.has(id);
  }

  /** After `generated` new tokens: is the context or the budget used up? (A full context is named first: it is the limit the user can do less about.) */
  limitReached(generated: number): StopReason | null {
    if (this.opts.promptLength + generated >= this.opts.maxContext) return 'context_full';
    if (generated >= this.opts.maxNewTokens) return 'max_tokens';
    return null;
  }
}
