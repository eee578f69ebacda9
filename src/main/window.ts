// The window and the web-facing rules around it: what it may load, where it
// may navigate, what opens in the system browser, which headers and
// permissions our pages get. The decisions themselves are in ./security.
import { BrowserWindow, shell, type Session, type WebContents } from 'electron';
import { isExternalWebUrl, isOwnPage, isPermissionAllowed, withContentSecurityPolicy, type RendererOrigin } from './security';

/**
 * Session-wide rules, installed once before any window loads: our CSP on
 * every response (foreign pages cannot load anyway, and a header the page
 * did not choose cannot be stripped by it) and permissions denied.
 */
export function installSessionPolicy(session: Session, origin: RendererOrigin, policy: string): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: withContentSecurityPolicy(details.responseHeaders, policy) });
  });
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    callback(isPermissionAllowed(permission, details.requestingUrl, origin));
  });
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin, details) => {
    return isPermissionAllowed(permission, details.requestingUrl ?? requestingOrigin, origin);
  });
}

/** Opens a link the page asked for in the system browser, if it is a plain web link. */
export function openExternally(url: unknown): void {
  if (!isExternalWebUrl(url)) return;
  shell.openExternal(url).catch((err: unknown) => console.error(`Could not open ${url} in the system browser:`, err));
}

/**
 * Applied to every webContents the app creates (app 'web-contents-created'):
 * no navigation away from our page, no new windows (http(s) links go to the
 * system browser instead), no <webview>.
 */
export function guardWebContents(contents: WebContents, origin: RendererOrigin): void {
  const refuse = (event: { preventDefault(): void }, url: string) => {
    if (isOwnPage(url, origin)) return;
    event.preventDefault();
    openExternally(url);
  };
  contents.on('will-navigate', (event) => refuse(event, event.url));
  contents.on('will-redirect', (event) => refuse(event, event.url));
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

export interface WindowOptions {
  preload: string;
  origin: RendererOrigin;
}

export function createMainWindow({ preload, origin }: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    title: 'Deepen',
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 560,
    show: false,
    autoHideMenuBar: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  const loaded = origin.devServerUrl ? win.loadURL(origin.devServerUrl) : win.loadFile(origin.indexFile);
  loaded.catch((err: unknown) => console.error('The window could not load the workbench page:', err));
  return win;
}
