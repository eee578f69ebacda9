// Incremental decoding for one sequence: prefill a prompt, then one token per
// step, keeping the KV cache between runs (on the device for GPU providers).
// Sampling, stopping and streaming live in generate/; this only turns ids
// into next-token logits.

import { DeepenError } from '../../shared/errors';
import type { Session, Tensor } from '../onnx/runtime';
import { idsTensor, indexTensor, type FeedBuilder } from './feeds';
import { io } from './forward-graph';

export interface DecoderHost {
  session: Session;
  feeds: FeedBuilder;
  vocabSize: number;
  numLayers: number;
  /** the model's context length; longer prompts are refused */
  maxPositions: number;
}

export class Decoder {
  private past: Record<string, Tensor> | null = null;
  private length = 0;
  private busy = false;
  private disposed = false;

  constructor(private readonly host: DecoderHost) {}

  /** Tokens in the cache (the position the next token gets). */
  get position(): number {
    return this.length;
  }

  /** Appends `ids` to the sequence; returns the logits (V) after its last token. */
  async prefill(ids: readonly number[]): Promise<Float32Array> {
    if (!ids.length) throw new DeepenError('bad_request', 'The prompt is empty: give at least one token.');
    return this.run(ids);
  }

  /** Appends one token; returns the logits (V) for the next one. */
  step(id: number): Promise<Float32Array> {
    return this.run([id]);
  }

  /** Forget the sequence (and free its cache). */
  reset(): void {
    this.releasePast();
    this.length = 0;
  }

  dispose(): void {
    this.reset();
    this.disposed = true;
  }

  private async run(ids: readonly number[]): Promise<Float32Array> {
    if (this.disposed) throw new DeepenError('engine_closed', 'This decoder was disposed. Start a new one.');
    if (this.busy) throw new DeepenError('conflict', 'The decoder is already running a step; wait for it to finish.');
    const { feeds, vocabSize, maxPositions, session } = this.host;
    if (this.length + ids.length > maxPositions) {
      throw new DeepenError(
        'bad_request',
        `The conversation is ${this.length + ids.length} tokens long, more than the model's context of ${maxPositions}. Shorten the prompt or start a new conversation.`,
        { tokens: this.length + ids.length, context: maxPositions },
      );
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new DeepenError('bad_request', `Token id ${id} is outside the vocabulary (0..${vocabSize - 1}).`);
    }
    this.busy = true;
    try {
      const inputs: Record<string, Tensor> = {
        [io.inputIds]: idsTensor([ids], ids.length),
        [io.logitsIndex]: indexTensor([ids.length - 1]),
        ...feeds.positional(1, ids.length, this.length),
        ...(this.past ?? feeds.emptyPast(1)),
      };
      const out = await session.run(inputs);
      const next: Record<string, Tensor> = {};
      for (let i = 0; i < this.host.numLayers; i++) {
        next[io.pastKey(i)] = out[io.presentKey(i)];
        next[io.pastValue(i)] = out[io.presentValue(i)];
      }
      this.releasePast();
      this.past = next;
      this.length += ids.length;
      const logits = out[io.logits];
      if (logits.location !== 'cpu') throw new DeepenError('internal', 'Logits were left on the device.');
      return logits.data as Float32Array;
    } finally {
      this.busy = false;
    }
  }

  private releasePast(): void {
    if (!this.past) return;
    for (const t of Object.values(this.past)) if (t.location === 'device') t.dispose();
    this.past = null;
  }
}
