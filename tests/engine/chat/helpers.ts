// Shared by the chat engine tests: fixture paths, a host on a fresh data
// folder, and waiting for events.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventName, PayloadOf } from '../../../src/shared/contract/index';
import { EngineHost } from '../../../src/native/host/host';
import { tempDataDir } from '../../unit/host/helpers';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures/hf');
export const llamaTiny = path.join(fixturesDir, 'llama-tiny');
/** No tokenizer.json: text chat must fail with a message naming the file. */
export const qwenNoTokenizer = path.join(fixturesDir, 'qwen2-tiny-tied');

export function openHost(cleanups: (() => unknown)[]): { host: EngineHost; dir: string } {
  const tmp = tempDataDir('deepen-chat-');
  const host = new EngineHost({ dataDir: tmp.dir });
  cleanups.push(tmp.cleanup, () => host.close());
  return { host, dir: tmp.dir };
}

/** Resolves with the first payload of `event` that `match` accepts. */
export function nextEvent<E extends EventName>(host: EngineHost, event: E, match: (p: PayloadOf<E>) => boolean = () => true, timeoutMs = 30_000): Promise<PayloadOf<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = host.onEvent((e, p) => {
      if (e !== event || !match(p as PayloadOf<E>)) return;
      clearTimeout(timer);
      off();
      resolve(p as PayloadOf<E>);
    });
  });
}

/** Registers a folder and loads it for chat; resolves when it is ready. */
export async function loadModel(host: EngineHost, dir: string, name?: string): Promise<string> {
  const record = await host.call('models.add', name ? { path: dir, name } : { path: dir });
  const { jobId } = await host.call('chat.load', { modelId: record.id });
  const job = await host.jobs.wait(jobId);
  if (job.state !== 'succeeded') throw new Error(`load job ${job.state}: ${job.error?.message}`);
  return record.id;
}
