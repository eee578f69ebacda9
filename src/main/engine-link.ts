// Connects pages to the engine: one MessageChannelMain per page load, one end
// to the engine, the other to the page. Pages that say hello while the engine
// is still starting wait for it; if it cannot start, they are told why (the
// client then shows "engine closed" with that reason).
import { MessageChannelMain, type WebContents } from 'electron';
import { ipcChannels } from '../preload/channels';
import type { EngineProcess } from './engine-process';

export class EngineLink {
  private starting: Promise<void> = Promise.reject(new Error('the engine has not been started'));

  constructor(private readonly engine: EngineProcess) {
    this.starting.catch(() => {}); // only a page's hello looks at it
  }

  /** Starts (or restarts) the engine; pages that say hello meanwhile wait for it. */
  start(): Promise<void> {
    this.starting = this.engine.start();
    this.starting.catch(() => {});
    return this.starting;
  }

  connect(contents: WebContents): void {
    this.starting.then(
      () => {
        if (contents.isDestroyed()) return;
        if (!this.engine.running) {
          contents.send(ipcChannels.closed, 'the engine is not running');
          return;
        }
        const { port1, port2 } = new MessageChannelMain();
        this.engine.connect(port1);
        contents.postMessage(ipcChannels.port, null, [port2]);
      },
      (err: unknown) => {
        if (contents.isDestroyed()) return;
        contents.send(ipcChannels.closed, `the engine could not start: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  /** Tells every page that its engine connection is gone (their ports close too; this says why). */
  notifyClosed(pages: WebContents[], reason: string): void {
    for (const contents of pages) if (!contents.isDestroyed()) contents.send(ipcChannels.closed, reason);
  }
}
