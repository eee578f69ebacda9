// How the engine is bundled: one ESM bundle with code splitting, the worker
// entries (src/native/host/workers/*.ts) beside the given entries, npm
// packages external (native addons must load from node_modules). Used by
// scripts/build-engine.mjs for the app and by benchmarks that must time the
// code as the app runs it.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Bundles `entries` (absolute paths) and every worker entry into `outdir`, emptied first. */
export async function bundleEngine(entries, outdir, opts = {}) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const workersDir = path.join(root, 'src/native/host/workers');
  const workers = readdirSync(workersDir).filter((f) => f.endsWith('.ts')).map((f) => path.join(workersDir, f));
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: [...entries, ...workers],
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: opts.sourcemap ? 'linked' : false,
    define: { __DEEPEN_VERSION__: JSON.stringify(pkg.version) },
    logLevel: 'warning',
  });
}
