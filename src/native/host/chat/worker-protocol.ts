// Messages between the model pool (engine thread) and a model worker (one
// thread per loaded model). Plain data only: they cross postMessage.
import type { ErrorInfo } from '../../../shared/errors';
import type { ChatSampling, ChatStopReason, GenerationStatsInfo } from '../../../shared/contract/chat';
import type { Provider } from '../../onnx/runtime';
import type { TextModelFacts, TextRequestInput } from './text-model';

export interface WorkerLoadOptions {
  dir: string;
  provider: Provider;
  precision: 'fp32' | 'fp16';
  contextLength: number;
  cacheDir: string;
  intraOpThreads?: number;
}

export interface WorkerGenerateRequest {
  requestId: string;
  input: TextRequestInput;
  sampling: ChatSampling;
  ignoreEos?: boolean;
  /** Int32Array(1) over it: 1 once the user stopped the answer (read between tokens) */
  cancelFlag: SharedArrayBuffer;
}

export interface WorkerAnswer {
  text: string;
  promptIds: number[];
  newIds: number[];
  stopReason: Exclude<ChatStopReason, 'error'>;
  seed: number | null;
  mode: 'chat' | 'completion' | null;
  note: string | null;
  droppedMessages: number;
  stats: GenerationStatsInfo;
}

export type HostToModel = { t: 'load'; options: WorkerLoadOptions } | ({ t: 'generate' } & WorkerGenerateRequest) | { t: 'dispose' };

export type ModelToHost =
  | { t: 'progress'; fraction: number; message: string }
  | { t: 'loaded'; facts: TextModelFacts }
  | { t: 'load-failed'; error: ErrorInfo }
  /** the request left the queue and its prompt is being read */
  | { t: 'started'; requestId: string }
  | { t: 'text'; requestId: string; delta: string; tokens: number }
  | { t: 'done'; requestId: string; answer: WorkerAnswer }
  /** `text` is what streamed before the error */
  | { t: 'failed'; requestId: string; error: ErrorInfo; text: string }
  | { t: 'disposed' };

/** Text events are sent at most this often; the first token goes at once. */
export const TEXT_FLUSH_MS = 30;
