// Line icons drawn for Deepen on a 24×24 grid (stroke, no fill), so the app
// ships no icon font and loads nothing remote. Each icon is a list of path data.

export type IconName =
  | 'models'
  | 'expand'
  | 'datasets'
  | 'train'
  | 'chat'
  | 'jobs'
  | 'settings'
  | 'play'
  | 'stop'
  | 'trash'
  | 'refresh'
  | 'back'
  | 'close'
  | 'alert'
  | 'check'
  | 'info'
  | 'chip'
  | 'download';

export const iconPaths: Record<IconName, string[]> = {
  models: ['M12 3 20 7.5 12 12 4 7.5Z', 'M4 12l8 4.5 8-4.5', 'M4 16.5 12 21l8-4.5'],
  expand: ['M5 4h14v4H5Z', 'M5 16h14v4H5Z', 'M12 10.5v3', 'M10.5 12h3', 'M7 12h.01', 'M17 12h.01'],
  datasets: ['M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3Z', 'M4 6v6c0 1.7 3.6 3 8 3s8-1.3 8-3V6', 'M4 12v6c0 1.7 3.6 3 8 3s8-1.3 8-3v-6'],
  train: ['M3 20h18', 'M4 16l5-5 4 3 7-8', 'M15 6h5v5'],
  chat: ['M4 5h16v11H9l-5 4Z', 'M8 9.5h8', 'M8 12.5h5'],
  jobs: ['M9 6h11', 'M9 12h11', 'M9 18h11', 'M4 5.5l1 1 2-2', 'M4 11.5l1 1 2-2', 'M4.5 18h1'],
  settings: ['M4 6h10', 'M18 6h2', 'M14 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0', 'M4 12h2', 'M10 12h10', 'M6 12a2 2 0 1 0 4 0a2 2 0 1 0-4 0', 'M4 18h8', 'M16 18h4', 'M12 18a2 2 0 1 0 4 0a2 2 0 1 0-4 0'],
  play: ['M7 4.5v15L19 12Z'],
  stop: ['M6 6h12v12H6Z'],
  trash: ['M4 7h16', 'M9 7V4h6v3', 'M6 7l1 13h10l1-13', 'M10 11v5', 'M14 11v5'],
  refresh: ['M20 11a8 8 0 0 0-14.3-4.9L4 8', 'M4 4v4h4', 'M4 13a8 8 0 0 0 14.3 4.9L20 16', 'M20 20v-4h-4'],
  back: ['M15 5l-7 7 7 7'],
  close: ['M6 6l12 12', 'M18 6 6 18'],
  alert: ['M12 3 2 20h20Z', 'M12 10v4', 'M12 17h.01'],
  check: ['M5 12.5l4.5 4.5L19 7'],
  info: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18Z', 'M12 11v5', 'M12 8h.01'],
  chip: ['M7 7h10v10H7Z', 'M10 10h4v4h-4Z', 'M10 3v4', 'M14 3v4', 'M10 17v4', 'M14 17v4', 'M3 10h4', 'M3 14h4', 'M17 10h4', 'M17 14h4'],
  download: ['M12 4v11', 'M7 10l5 5 5-5', 'M5 20h14'],
};

