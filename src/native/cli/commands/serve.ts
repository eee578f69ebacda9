import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { isLoopback, serve } from '../../host/server';
import { intOption, stringOption, type Command } from '../command';

/** The built renderer: out/renderer next to out/native (the bundle), or $DEEPEN_RENDERER_DIR. */
export function rendererDir(): string {
  if (process.env.DEEPEN_RENDERER_DIR) return process.env.DEEPEN_RENDERER_DIR;
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.split(path.sep).includes('src') ? path.resolve(here, '../../../../out/renderer') : path.resolve(here, '../renderer');
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the workbench in a browser: engine + UI on http://127.0.0.1',
  help: `Usage: deepen serve [--port N] [--host 127.0.0.1] [--token T]

Starts the engine and serves the workbench UI and its WebSocket endpoint.
Prints the URL to open, with a random access token; without the token every
request is refused. Stop with Ctrl-C.

  --port N     port to listen on (default: a free port)
  --host H     address to bind (default 127.0.0.1; anything else is reachable
               from other machines: a warning is printed)
  --token T    use this access token instead of a random one`,
  options: { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' } },
  async run(ctx) {
    const bind = stringOption(ctx.values, 'host') ?? '127.0.0.1';
    if (!isLoopback(bind)) {
      ctx.warn(`Warning: --host ${bind} makes the workbench reachable from other machines. Anyone with the token can run jobs and read your models and datasets.`);
    }
    const host = ctx.host();
    host.resumeWork();
    const server = await serve(host, { host: bind, port: intOption(ctx.values, 'port', 0), rendererDir: rendererDir(), token: stringOption(ctx.values, 'token') });
    ctx.say('Deepen is running. Open this URL in a browser:');
    process.stdout.write(`${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
  },
};
