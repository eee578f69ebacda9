// The `model-load` job: the face of a model load on the Jobs page (progress,
// log, cancel, a record of failures). The model itself loads in its own
// model worker, which must outlive the job; this runner only relays between
// the two over a BroadcastChannel that the model pool named in the input:
//   job → pool: begin (the job got its slot), cancel
//   pool → job: progress, log, loaded (result), failed (error)
import { BroadcastChannel } from 'node:worker_threads';
import { DeepenError, type ErrorInfo } from '../../../shared/errors';
import { cancelledError, type JobContext } from './job-types';

export interface ModelLoadJobInput {
  channel: string;
  modelId: string;
  name: string;
}

export type LoadChannelMessage =
  | { t: 'begin' }
  | { t: 'cancel' }
  | { t: 'progress'; fraction: number; message: string }
  | { t: 'log'; text: string; level: 'info' | 'warn' | 'error' }
  | { t: 'loaded'; result: unknown }
  | { t: 'failed'; error: ErrorInfo };

export async function runModelLoadJob(input: ModelLoadJobInput, ctx: JobContext): Promise<unknown> {
  const channel = new BroadcastChannel(input.channel);
  let poll: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      channel.onmessage = (event) => {
        const m = (event as { data: LoadChannelMessage }).data;
        if (m.t === 'progress') ctx.progress(m.fraction, m.message);
        else if (m.t === 'log') ctx.log(m.text, m.level);
        else if (m.t === 'loaded') resolve(m.result);
        else if (m.t === 'failed') reject(DeepenError.fromInfo(m.error));
      };
      // Cancel arrives here as the job's shared flag: tell the pool to stop the model worker, and end now
      // (the pool may have cancelled first, before this runner was listening).
      poll = setInterval(() => {
        if (!ctx.isCancelled()) return;
        channel.postMessage({ t: 'cancel' } satisfies LoadChannelMessage);
        reject(cancelledError(`Loading ${input.name}`));
      }, 100);
      channel.postMessage({ t: 'begin' } satisfies LoadChannelMessage);
    });
  } finally {
    clearInterval(poll);
    channel.close();
  }
}
