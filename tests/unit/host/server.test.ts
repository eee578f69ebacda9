import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { EngineHost } from '../../../src/native/host/host';
import { serve, type RunningServer } from '../../../src/native/host/server';
import { createClient } from '../../../src/shared/client';
import type { Transport, WireMessage } from '../../../src/shared/protocol';
import { tempDataDir } from './helpers';

let host: EngineHost;
let server: RunningServer;
let tmp: ReturnType<typeof tempDataDir>;

beforeAll(async () => {
  tmp = tempDataDir();
  const renderer = path.join(tmp.dir, 'renderer');
  fs.mkdirSync(renderer);
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Deepen</title>');
  host = new EngineHost({ dataDir: path.join(tmp.dir, 'data') });
  server = await serve(host, { rendererDir: renderer });
});
afterAll(async () => {
  await server.close();
  await host.close();
  tmp.cleanup();
});

const base = () => `http://127.0.0.1:${server.port}`;

function wsTransport(ws: WebSocket): Transport {
  return {
    send: (m) => ws.send(JSON.stringify(m)),
    onMessage: (h) => ws.on('message', (d) => h(JSON.parse(d.toString()) as WireMessage)),
    onClose: (h) => ws.on('close', () => h('closed')),
    close: () => ws.close(),
  };
}

describe('deepen serve', () => {
  it('prints a loopback URL carrying the token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{20,}$`));
  });

  it('refuses HTTP requests without the token or with a wrong one (401)', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base()}/assets/x.js`, { headers: { cookie: 'deepen_token=wrong' } })).status).toBe(401);
  });

  it('sets an HttpOnly cookie from ?token= and redirects to a clean URL, then serves the app with a CSP', async () => {
    const first = await fetch(server.url, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(`${base()}/jobs`, { headers: { cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<title>Deepen</title>');
  });

  it('refuses requests whose Host is not loopback (DNS rebinding)', async () => {
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: server.port, path: `/?token=${server.token}`, headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode!));
    });
    expect(status).toBe(403);
  });

  it('refuses a WebSocket without the token', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('open'));
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('error', (e) => resolve(`error ${e.message}`));
    });
    expect(outcome).toMatch(/401/);
  });

  it('serves the contract over a WebSocket with the token: calls, typed errors and events', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    await new Promise((r, j) => {
      ws.on('open', r);
      ws.on('error', j);
    });
    const api = createClient(wsTransport(ws));
    expect((await api.call('engine.ping', {})).time).toBeGreaterThan(0);
    await expect(api.call('jobs.get', { id: 'nope' })).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/No job/) });
    const seen: string[] = [];
    api.on('job.updated', (j) => seen.push(j.state));
    const { jobId } = await api.call('engine.selftest', { providers: ['cpu'] });
    await host.jobs.wait(jobId);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toContain('succeeded');
    ws.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(api.closed).toBe(true);
    await expect(api.call('engine.ping', {})).rejects.toMatchObject({ code: 'engine_closed' });
  });
});
