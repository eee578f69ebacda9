// `npm start`: builds what changed, then opens the desktop app, or, where
// Electron's binary is absent (it could not be downloaded) or there is no
// display, the same workbench in the browser via `deepen serve`.
//
//   npm start                      desktop app (or browser mode as a fallback)
//   npm start -- --serve           browser mode even where Electron is installed
//   npm start -- --serve --port 8080 [--no-open]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { electronBinary, electronVersion, root } from './lib/electron.mjs';

const usage = `Usage: npm start [-- --serve] [--port N] [--no-open]

  --serve     open the workbench in the browser (deepen serve) instead of the desktop app
  --port N    port for browser mode (default: a free port)
  --no-open   browser mode: print the URL but do not open a browser`;

let options;
try {
  ({ values: options } = parseArgs({
    args: process.argv.slice(2),
    options: { serve: { type: 'boolean' }, port: { type: 'string' }, 'no-open': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
} catch (err) {
  console.error(`npm start: ${err.message}\n\n${usage}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}
if (options.port !== undefined && !/^\d{1,5}$/.test(options.port)) {
  console.error(`npm start: --port must be a number, got "${options.port}".`);
  process.exit(2);
}

// ---- build what is out of date ------------------------------------------

/** Newest modification time among files (recursively for folders); 0 if none exist. */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) {
      for (const e of readdirSync(p)) if (e !== 'node_modules' && !e.startsWith('.')) t = Math.max(t, newest([path.join(p, e)]));
    } else {
      t = Math.max(t, s.mtimeMs);
    }
  }
  return t;
}

/** Oldest modification time among outputs; 0 when one is missing (so it must be built). */
function oldest(paths) {
  let t = Infinity;
  for (const p of paths) {
    if (!existsSync(p)) return 0;
    t = Math.min(t, statSync(p).mtimeMs);
  }
  return t;
}

const at = (...p) => path.join(root, ...p);
const shared = [at('src/shared'), at('package.json')];
const steps = [
  {
    what: 'the engine',
    inputs: [at('src/native'), at('scripts/build-engine.mjs'), ...shared],
    outputs: [at('out/native/cli.js'), at('out/native/engine.js')],
    run: async () => {
      const r = spawnSync(process.execPath, [at('scripts/build-engine.mjs')], { cwd: root, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`scripts/build-engine.mjs exited with code ${r.status}`);
    },
  },
  electronVersion() !== null
    ? {
        what: 'the workbench (electron-vite)',
        inputs: [at('src/main'), at('src/preload'), at('src/renderer'), at('electron.vite.config.ts'), at('renderer.vite.config.ts'), ...shared],
        outputs: [at('out/main/index.js'), at('out/preload/index.cjs'), at('out/renderer/index.html')],
        run: async () => {
          const { build } = await import('electron-vite');
          await build({ root, logLevel: 'warn' });
        },
      }
    : {
        // Without the electron package, electron-vite cannot build main/preload:
        // build the renderer alone for browser mode.
        what: 'the workbench UI (vite)',
        inputs: [at('src/renderer'), at('renderer.vite.config.ts'), ...shared],
        outputs: [at('out/renderer/index.html')],
        run: async () => {
          const { build } = await import('vite');
          await build({ configFile: at('renderer.vite.config.ts'), logLevel: 'warn' });
        },
      },
];

for (const step of steps) {
  if (newest(step.inputs) < oldest(step.outputs)) continue;
  console.log(`Building ${step.what}…`);
  try {
    await step.run();
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\nnpm start: building ${step.what} failed (see above). Fix the error and run \`npm start\` again.`);
    process.exit(1);
  }
}

// ---- run -------------------------------------------------------------------

/** Runs a child in the foreground: Ctrl-C and termination reach it, its exit code becomes ours. */
function foreground(child) {
  for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // Ctrl-C in a terminal already reaches the child (same process group); a
  // second SIGINT would cut its graceful shutdown short. Forward it only if
  // the child is still running a moment later (SIGINT sent to us alone).
  process.on('SIGINT', () => setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGINT'), 1500).unref());
  child.on('error', (err) => {
    console.error(`npm start: could not run ${child.spawnfile}: ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

const hasDisplay = process.platform !== 'linux' || !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const electron = options.serve ? null : electronBinary();

if (electron && hasDisplay) {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make Electron a plain Node and ignore the app
  foreground(spawn(electron, [root], { cwd: root, stdio: 'inherit', env }));
} else {
  if (!options.serve) {
    console.log(
      electron
        ? 'There is no display here (DISPLAY and WAYLAND_DISPLAY are unset): opening the browser workbench instead.'
        : 'Electron is not installed on this machine (its binary could not be downloaded): opening the browser workbench instead.',
    );
  }
  serveInBrowser();
}

function serveInBrowser() {
  const args = [at('out/native/cli.js'), 'serve', ...(options.port ? ['--port', options.port] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
  foreground(child);
  let opened = false;
  let pending = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      // serve prints the URL to open, with its token, on a line of its own
      if (!opened && /^https?:\/\/\S+\?token=\S+$/.test(line.trim())) {
        opened = true;
        if (!options['no-open']) openInBrowser(line.trim());
      }
    }
  });
}

/** Best effort: a headless machine has no browser to open, and the URL is printed anyway. */
function openInBrowser(url) {
  if (!hasDisplay) return;
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    const opener = spawn(command, args, { stdio: 'ignore', detached: true });
    opener.on('error', () => {});
    opener.unref();
  } catch {
    // no opener on this system
  }
}
