// Bundles the engine (src/native) into out/native: the `deepen` CLI, the
// desktop app's engine process and the worker entries (see ./lib/engine-bundle.mjs).
import path from 'node:path';
import { bundleEngine, root } from './lib/engine-bundle.mjs';

const started = Date.now();
await bundleEngine([path.join(root, 'src/native/cli.ts'), path.join(root, 'src/native/engine.ts')], path.join(root, 'out/native'), { sourcemap: true });
console.log(`engine built in ${Date.now() - started} ms → out/native`);
