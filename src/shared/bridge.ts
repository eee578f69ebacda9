// What the desktop app's preload exposes on `window.deepen` (contextBridge):
// a message pipe for the contract and nothing else. The preload drops any
// request whose method is not in the contract.
import type { WireMessage } from './protocol';

export interface DeepenBridge {
  send(message: WireMessage): void;
  onMessage(handler: (message: WireMessage) => void): void;
  onClose(handler: (reason: string) => void): void;
  /** open a URL in the system browser (only http/https) */
  openExternal(url: string): void;
  /** native folder/file picker; resolves to null when cancelled */
  pickPath(options: { kind: 'folder' | 'file'; title?: string; filters?: { name: string; extensions: string[] }[] }): Promise<string | null>;
}

export const bridgeKey = 'deepen';
