#!/usr/bin/env node
// The `deepen` command: runs the bundled engine CLI (built by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = fileURLToPath(new URL('../out/native/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('deepen: the engine is not built yet. Run `npm run build` in the Deepen folder, then try again.\n');
  process.exit(1);
}
await import(pathToFileURL(cli).href);
