import os from 'node:os';
import path from 'node:path';

/**
 * The data folder: $DEEPEN_HOME when set (Electron sets it to its userData
 * folder when it starts the engine), otherwise the platform's usual place.
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.DEEPEN_HOME) return path.resolve(env.DEEPEN_HOME);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Deepen');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Deepen');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'deepen');
}

export const databaseFileIn = (dataDir: string) => path.join(dataDir, 'deepen.db');
