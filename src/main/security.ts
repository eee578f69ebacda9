// The security decisions of the main process, as pure functions so that they
// are unit-tested without an Electron binary. Nothing here imports electron.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where our own pages come from: the built renderer, or the dev server. */
export interface RendererOrigin {
  /** absolute path of out/renderer/index.html */
  indexFile: string;
  /** electron-vite's dev server (process.env.ELECTRON_RENDERER_URL), when running `electron-vite dev` */
  devServerUrl?: string;
}

function parse(url: unknown): URL | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/**
 * Is `url` one of our own pages? Used to validate IPC senders and to allow
 * navigation. For the built app only the one index.html counts (hash and
 * query may vary: the router lives in the hash); in dev, any page of the dev
 * server's exact origin. Everything else, including other local files, is foreign.
 */
export function isOwnPage(url: unknown, origin: RendererOrigin): boolean {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol === 'file:') {
    if (u.host !== '' && u.host !== 'localhost') return false; // file://server/share is not ours
    let file: string;
    try {
      file = fileURLToPath(new URL(u.pathname, 'file://'));
    } catch {
      return false;
    }
    return samePath(file, origin.indexFile);
  }
  if (origin.devServerUrl) {
    const dev = parse(origin.devServerUrl);
    if (dev && (dev.protocol === 'http:' || dev.protocol === 'https:')) return u.origin === dev.origin;
  }
  return false;
}

function samePath(a: string, b: string): boolean {
  const x = path.resolve(a);
  const y = path.resolve(b);
  // Windows and macOS file systems are case-insensitive by default.
  return process.platform === 'linux' ? x === y : x.toLowerCase() === y.toLowerCase();
}

/**
 * The only URLs we hand to the system browser: http(s) with a host and no
 * embedded credentials. `shell.openExternal` with file:, smb: or custom
 * schemes can launch programs, so those are refused.
 */
export function isExternalWebUrl(url: unknown): url is string {
  const u = parse(url);
  if (!u) return false;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
  if (!u.hostname) return false;
  if (u.username || u.password) return false;
  return true;
}

export interface PickPathOptions {
  kind: 'folder' | 'file';
  title?: string;
  filters?: { name: string; extensions: string[] }[];
}

/**
 * Checks what the renderer asked the native picker for; returns null when it
 * is malformed. Titles and filter names are shown by the OS, so they are
 * bounded; extensions are bare alphanumerics (or `*`).
 */
export function sanitizePickPathOptions(value: unknown): PickPathOptions | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (v.kind !== 'folder' && v.kind !== 'file') return null;
  const out: PickPathOptions = { kind: v.kind };
  if (v.title !== undefined) {
    if (typeof v.title !== 'string' || v.title.length > 200) return null;
    out.title = v.title;
  }
  if (v.filters !== undefined) {
    if (!Array.isArray(v.filters) || v.filters.length > 20) return null;
    const filters: { name: string; extensions: string[] }[] = [];
    for (const f of v.filters as unknown[]) {
      if (!f || typeof f !== 'object') return null;
      const { name, extensions } = f as Record<string, unknown>;
      if (typeof name !== 'string' || name.length > 100) return null;
      if (!Array.isArray(extensions) || extensions.length > 50) return null;
      if (!extensions.every((e) => typeof e === 'string' && /^(\*|[A-Za-z0-9_.-]{1,32})$/.test(e))) return null;
      filters.push({ name, extensions: extensions as string[] });
    }
    out.filters = filters;
  }
  return out;
}

/**
 * Response headers with our Content-Security-Policy, replacing any the
 * response carried (header names are case-insensitive, so every spelling goes).
 */
export function withContentSecurityPolicy(headers: Record<string, string[] | string> | undefined, policy: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'content-security-policy') continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  out['Content-Security-Policy'] = [policy];
  return out;
}

/** What main knows about the frame behind an IPC message. */
export interface SenderInfo {
  /** the sending frame's URL; null when the frame is gone */
  url: string | null;
  /** the frame is the window's top frame, not an iframe inside it */
  isTopFrame: boolean;
  /** the webContents is one of the windows main created */
  isOurWindow: boolean;
}

/**
 * Only our own page, in the top frame of a window we created, may talk to
 * main: a stray iframe or a page that got navigated elsewhere must not get an
 * engine port, a file picker or the system browser.
 */
export function isTrustedSender(sender: SenderInfo, origin: RendererOrigin): boolean {
  return sender.isOurWindow && sender.isTopFrame && isOwnPage(sender.url, origin);
}

/**
 * Web permissions (camera, notifications, geolocation, …) are denied. The one
 * exception is writing text to the clipboard from our own page, which the
 * copy buttons (chat answers, job logs) need and which reads nothing.
 */
export function isPermissionAllowed(permission: string, requestingUrl: string | null | undefined, origin: RendererOrigin): boolean {
  return permission === 'clipboard-sanitized-write' && isOwnPage(requestingUrl, origin);
}
