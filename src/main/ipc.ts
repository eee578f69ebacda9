// The three things a page may ask main for, each only after checking that
// the sender is our own page in a window we created: an engine connection,
// a native file/folder picker, and opening a web link in the system browser.
import { BrowserWindow, dialog, ipcMain, type IpcMainEvent, type IpcMainInvokeEvent, type OpenDialogOptions, type WebContents } from 'electron';
import { ipcChannels } from '../preload/channels';
import { isTrustedSender, sanitizePickPathOptions, type RendererOrigin } from './security';
import { openExternally } from './window';

export interface IpcDeps {
  origin: RendererOrigin;
  isOurWindow(contents: WebContents): boolean;
  /** give this page a MessagePort to the engine (now, or once the engine is ready) */
  connect(contents: WebContents): void;
}

export function registerIpc(deps: IpcDeps): void {
  const trusted = (event: IpcMainEvent | IpcMainInvokeEvent, what: string): boolean => {
    const frame = event.senderFrame;
    let url: string | null = null;
    let isTopFrame = false;
    try {
      url = frame?.url ?? null;
      isTopFrame = !!frame && frame.parent === null;
    } catch {
      // the frame went away while the message was in flight
    }
    const ok = isTrustedSender({ url, isTopFrame, isOurWindow: deps.isOurWindow(event.sender) }, deps.origin);
    if (!ok) console.warn(`Refused ${what} from ${url ?? 'a frame that is gone'}: not the Deepen workbench page.`);
    return ok;
  };

  ipcMain.on(ipcChannels.hello, (event) => {
    if (trusted(event, 'an engine connection')) deps.connect(event.sender);
  });

  ipcMain.on(ipcChannels.openExternal, (event, url: unknown) => {
    if (trusted(event, 'opening a link')) openExternally(url);
  });

  ipcMain.handle(ipcChannels.pickPath, async (event, raw: unknown): Promise<string | null> => {
    if (!trusted(event, 'a file dialog')) throw new Error('refused: not the Deepen workbench page');
    const options = sanitizePickPathOptions(raw);
    if (!options) throw new Error('pickPath: expected { kind: "folder" | "file", title?, filters? }');
    const dialogOptions: OpenDialogOptions = {
      title: options.title,
      properties: options.kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'],
      filters: options.kind === 'file' ? options.filters : undefined,
    };
    const win = BrowserWindow.fromWebContents(event.sender);
    const result = win ? await dialog.showOpenDialog(win, dialogOptions) : await dialog.showOpenDialog(dialogOptions);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
}
