// Bundles the engine (src/native) into out/native: the `deepen` CLI, the
// desktop app's engine process and the worker entries. npm packages stay
// external (native addons must load from node_modules).
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const workersDir = path.join(root, 'src/native/host/workers');
const workers = readdirSync(workersDir).filter((f) => f.endsWith('.ts')).map((f) => path.join(workersDir, f));

rmSync(path.join(root, 'out/native'), { recursive: true, force: true });
const started = Date.now();
await build({
  absWorkingDir: root,
  entryPoints: [path.join(root, 'src/native/cli.ts'), path.join(root, 'src/native/engine.ts'), ...workers],
  outdir: path.join(root, 'out/native'),
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  define: { __DEEPEN_VERSION__: JSON.stringify(pkg.version) },
  logLevel: 'warning',
});
console.log(`engine built in ${Date.now() - started} ms → out/native`);
