/// <reference types="vite/client" />
import type { DeepenBridge } from '@shared/bridge';

declare global {
  interface Window {
    /** set by the desktop app's preload; absent in browser mode */
    deepen?: DeepenBridge;
  }
}

export {};
