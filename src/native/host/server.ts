// Browser mode: serves the built renderer and a WebSocket endpoint for the
// contract. Every HTTP and WebSocket request must carry the access token
// (printed in the URL; opening it sets an HttpOnly cookie), or it gets 401.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { EngineHost } from './host';
import { webSocketTransport } from './transports';
import { handleOpenAiRequest } from './openai';
import { contentSecurityPolicy } from '../../shared/csp';

export { contentSecurityPolicy };

export interface ServeOptions {
  host?: string;
  port?: number;
  /** folder of the built renderer (index.html) */
  rendererDir: string;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'deepen_token';
const mimeTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

function sameToken(a: string | null, token: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(token);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function serve(host: EngineHost, opts: ServeOptions): Promise<RunningServer> {
  const bindHost = opts.host ?? '127.0.0.1';
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const rendererDir = path.resolve(opts.rendererDir);

  const tokenOf = (req: http.IncomingMessage, url: URL) =>
    url.searchParams.get('token') ?? readCookie(req.headers.cookie, COOKIE) ?? (req.headers.authorization?.replace(/^Bearer\s+/i, '') || null);

  const refuse = (res: http.ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  };

  // A page on another site can point a DNS name at 127.0.0.1 (DNS rebinding);
  // on loopback, only loopback Host headers are served.
  const hostAllowed = (req: http.IncomingMessage) => {
    if (!isLoopback(bindHost)) return true;
    const name = (req.headers.host ?? '').replace(/:\d+$/, '');
    return isLoopback(name);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!hostAllowed(req)) return refuse(res, 403, 'Deepen: requests must use the address printed by `deepen serve`.');
    if (url.pathname.startsWith('/v1/')) return void handleOpenAiRequest(host, req, res, sameToken(tokenOf(req, url), token));
    if (!sameToken(tokenOf(req, url), token)) {
      return refuse(res, 401, 'Deepen: this address needs the access token. Open the full URL that `deepen serve` printed (it ends in ?token=…).');
    }
    if (url.searchParams.has('token')) {
      // Keep the token out of the address bar and history: set the cookie and redirect.
      url.searchParams.delete('token');
      res.writeHead(302, {
        'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname + (url.search || ''),
        'cache-control': 'no-store',
      });
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed');
    serveStatic(rendererDir, url.pathname, res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || !hostAllowed(req) || !sameToken(tokenOf(req, url), token)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => host.connect(webSocketTransport(ws)));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, bindHost, () => {
      const port = (server.address() as AddressInfo).port;
      const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost;
      resolve({
        url: `http://${shownHost}:${port}/?token=${token}`,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            for (const c of wss.clients) c.terminate();
            wss.close();
            server.closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
  });
}

function serveStatic(root: string, pathname: string, res: http.ServerResponse): void {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  let file = path.join(root, path.normalize(rel));
  if (!file.startsWith(root)) {
    res.writeHead(403).end();
    return;
  }
  // Client-side routes (/models, /jobs/…) all load the app shell.
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(root, 'index.html');
  if (!fs.existsSync(file)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`The workbench UI is not built (${root} has no index.html). Run \`npm run build\`, then start \`deepen serve\` again.`);
    return;
  }
  const ext = path.extname(file);
  res.writeHead(200, {
    'content-type': mimeTypes[ext] ?? 'application/octet-stream',
    'content-security-policy': contentSecurityPolicy,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': ext === '.html' ? 'no-store' : 'max-age=3600',
  });
  fs.createReadStream(file).pipe(res);
}
