// The IPC channels between main and the preload, in one place so that the
// two sides cannot drift. Contract traffic does not use these: it goes over
// the MessagePort that `port` delivers.
export const ipcChannels = {
  /** preload → main: this page wants an engine connection */
  hello: 'deepen:hello',
  /** main → preload: the MessagePort to the engine (in event.ports) */
  port: 'deepen:port',
  /** main → preload: the engine is gone; payload is the reason */
  closed: 'deepen:closed',
  /** main → preload: a menu command for the page; payload is a MenuCommand */
  menu: 'deepen:menu',
  /** preload → main (invoke): native folder/file picker */
  pickPath: 'deepen:pick-path',
  /** preload → main: open an http(s) URL in the system browser */
  openExternal: 'deepen:open-external',
} as const;

/**
 * Menu commands main forwards to the page. The preload turns them into
 * events on the same handler as the engine's, named `app.<command>`, so the
 * renderer subscribes to them like any other event.
 */
export type MenuCommand = { command: 'openModelFolder'; path: string };
