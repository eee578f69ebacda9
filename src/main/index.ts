// Electron main: one window onto the workbench, the engine in a utility
// process, and the rules that keep the page from reaching anything else.
// Main holds no engine state: it starts the engine, connects pages to it,
// and restarts it when it dies.
import { app, BrowserWindow, dialog, Menu, session, shell, type WebContents } from 'electron';
import { contentSecurityPolicy } from '../shared/csp';
import { ipcChannels, type MenuCommand } from '../preload/channels';
import { EngineLink } from './engine-link';
import { EngineProcess, EngineStartError } from './engine-process';
import { registerIpc } from './ipc';
import { buildAppMenu } from './menu';
import { appFiles, findElectronSqliteBinding } from './paths';
import type { RendererOrigin } from './security';
import { failSmokeTest, runSmokeTest, smokeTestFile } from './smoke';
import { createMainWindow, guardWebContents, installSessionPolicy } from './window';

const files = appFiles(app.getAppPath());
// The dev server URL is honoured only in an unpackaged app: in a release, an
// environment variable must not be able to point the window at another site.
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const origin: RendererOrigin = { indexFile: files.rendererIndex, devServerUrl };

let mainWindow: BrowserWindow | null = null;
const ourPages = new Set<number>();
let quitting = false;
let engineStopped = false;

// Data folder: the user's own DEEPEN_HOME wins (so that the app and the CLI
// can share one), otherwise Electron's per-user folder for this app.
const dataDir = process.env.DEEPEN_HOME || app.getPath('userData');
const sqlite = findElectronSqliteBinding(app.getAppPath(), process.versions.electron ?? '', process.arch);
if (sqlite.problem && !process.env.DEEPEN_SQLITE_BINDING) console.warn(sqlite.problem);

const engine = new EngineProcess({
  entry: files.engine,
  env: {
    ...process.env,
    DEEPEN_HOME: dataDir,
    ...(sqlite.file && !process.env.DEEPEN_SQLITE_BINDING ? { DEEPEN_SQLITE_BINDING: sqlite.file } : {}),
  },
});
const link = new EngineLink(engine);

function pages(): WebContents[] {
  return BrowserWindow.getAllWindows()
    .map((w) => w.webContents)
    .filter((c) => ourPages.has(c.id) && !c.isDestroyed());
}

function openWindow(): BrowserWindow {
  const win = createMainWindow({ preload: files.preload, origin });
  const id = win.webContents.id;
  ourPages.add(id);
  win.on('closed', () => {
    ourPages.delete(id);
    if (mainWindow === win) mainWindow = null;
  });
  mainWindow = win;
  return win;
}

function lastWords(stderrTail: string): string {
  const lines = stderrTail.trim();
  return lines ? `\n\nLast output of the engine:\n${lines.split('\n').slice(-12).join('\n')}` : '';
}

/**
 * Starts the engine; on failure, says why and offers to try again. Resolves
 * true once it runs. Pages whose connection is gone (a restart, or a failed
 * try) are reloaded once it runs, so that they connect again.
 */
async function startEngine(pagesNeedReload: boolean): Promise<boolean> {
  let failed = false;
  for (;;) {
    try {
      await link.start();
      if (pagesNeedReload || failed) reloadPages();
      return true;
    } catch (err) {
      failed = true;
      const message = err instanceof Error ? err.message : String(err);
      link.notifyClosed(pages(), `the engine could not start: ${message}`);
      if (quitting) return false;
      if (smokeTestFile) {
        failSmokeTest(smokeTestFile, message);
        return false;
      }
      const hint = sqlite.problem ? `\n\n${sqlite.problem}` : '';
      const tail = err instanceof EngineStartError ? lastWords(err.stderrTail) : '';
      for (;;) {
        const { response } = await dialog.showMessageBox({
          type: 'error',
          title: 'Deepen could not start its engine',
          message: 'Deepen could not start its engine.',
          detail: `${message}${hint}\n\nData folder: ${dataDir}${tail}`,
          buttons: ['Try Again', 'Open Data Folder', 'Quit'],
          defaultId: 0,
          cancelId: 2,
          noLink: true,
        });
        if (response === 1) {
          await shell.openPath(dataDir);
          continue;
        }
        if (response === 2) {
          app.quit();
          return false;
        }
        break;
      }
    }
  }
}

/** After a restart the old connections are gone: a reload gives each page a fresh client and port. */
function reloadPages(): void {
  for (const contents of pages()) contents.reload();
}

let restarting = false;
async function restartEngine(): Promise<void> {
  if (restarting || quitting) return;
  restarting = true;
  try {
    await engine.stop();
    link.notifyClosed(pages(), 'the engine is restarting');
    await startEngine(true);
  } finally {
    restarting = false;
  }
}

engine.onUnexpectedExit(({ code, stderrTail }) => {
  link.notifyClosed(pages(), `the engine stopped unexpectedly (exit code ${code})`);
  if (quitting) return;
  void dialog
    .showMessageBox({
      type: 'error',
      title: 'The Deepen engine stopped',
      message: 'The Deepen engine stopped unexpectedly.',
      detail: `Exit code ${code}. Jobs that were running are marked interrupted and can be started again.${lastWords(stderrTail)}`,
      buttons: ['Restart Engine', 'Quit'],
      defaultId: 0,
      cancelId: 1,
      noLink: true,
    })
    .then(async ({ response }) => {
      if (response === 1) app.quit();
      else if (!restarting) {
        restarting = true;
        try {
          await startEngine(true);
        } finally {
          restarting = false;
        }
      }
    });
});

function openModelFolder(win: BrowserWindow): void {
  void dialog.showOpenDialog(win, { title: 'Open Model Folder', properties: ['openDirectory'] }).then((r) => {
    const folder = r.filePaths[0];
    if (r.canceled || !folder || win.isDestroyed()) return;
    const command: MenuCommand = { command: 'openModelFolder', path: folder };
    win.webContents.send(ipcChannels.menu, command);
  });
}

function showAbout(): void {
  const v = process.versions;
  void dialog.showMessageBox({
    type: 'info',
    title: `About ${app.name}`,
    message: `${app.name} ${app.getVersion()}`,
    detail: `A workbench for growing language models by block expansion.\n\nElectron ${v.electron}\nChromium ${v.chrome}\nNode ${v.node}\n\nData folder: ${dataDir}`,
    buttons: ['OK'],
    noLink: true,
  });
}

// Graceful shutdown: the engine marks running jobs interrupted and closes
// SQLite cleanly; if it hangs, it is killed after a few seconds.
app.on('before-quit', (event) => {
  if (engineStopped) return;
  event.preventDefault();
  if (quitting) return;
  quitting = true;
  void engine.stop(5000).finally(() => {
    engineStopped = true;
    app.quit();
  });
});

if (!app.requestSingleInstanceLock()) {
  // Another Deepen is running and owns the database: it gets focused instead (second-instance).
  app.exit(0);
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, origin));

  app.on('window-all-closed', () => {
    // macOS apps stay in the dock without windows; the engine keeps running jobs meanwhile.
    if (process.platform !== 'darwin') app.quit();
  });

  void app.whenReady().then(() => {
    installSessionPolicy(session.defaultSession, origin, contentSecurityPolicy);
    registerIpc({ origin, isOurWindow: (c) => ourPages.has(c.id), connect: (c) => link.connect(c) });
    Menu.setApplicationMenu(
      buildAppMenu({
        isDev: !app.isPackaged,
        focusedWindow: () => BrowserWindow.getFocusedWindow() ?? mainWindow,
        openModelFolder,
        restartEngine: () => void restartEngine(),
        openDataFolder: () => void shell.openPath(dataDir),
        showAbout,
      }),
    );
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
    // The window opens at once; its page waits for the engine (see EngineLink).
    const win = openWindow();
    if (smokeTestFile) runSmokeTest(win, smokeTestFile);
    void startEngine(false);
  });
}
