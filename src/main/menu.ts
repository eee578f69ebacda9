// The application menu. Page-level commands (Open model folder…) are sent to
// the focused page, which handles them like any other event.
import { app, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  isDev: boolean;
  focusedWindow(): BrowserWindow | null;
  openModelFolder(win: BrowserWindow): void;
  restartEngine(): void;
  openDataFolder(): void;
  showAbout(): void;
}

export function buildAppMenu(actions: MenuActions): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];
  if (isMac) template.push({ role: 'appMenu' });
  template.push(
    {
      label: '&File',
      submenu: [
        {
          label: 'Open Model Folder…',
          accelerator: 'CmdOrCtrl+O',
          click: () => {
            const win = actions.focusedWindow();
            if (win) actions.openModelFolder(win);
          },
        },
        { type: 'separator' },
        { label: 'Restart Engine', click: () => actions.restartEngine() },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    // Without the Edit roles, copy and paste shortcuts do not work in text fields on macOS.
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        ...(actions.isDev
          ? ([{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }] satisfies MenuItemConstructorOptions[])
          : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    {
      label: '&Help',
      submenu: [
        { label: `About ${app.name}`, click: () => actions.showAbout() },
        { label: 'Open Data Folder', click: () => actions.openDataFolder() },
      ],
    },
  );
  return Menu.buildFromTemplate(template);
}
