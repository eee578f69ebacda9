// Starts the built `deepen serve` (out/native/cli.js) on a free port with its
// own data folder, and gives the URL it printed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

export interface Served {
  url: string;
  origin: string;
  token: string;
  home: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** stop, then remove the data folder (a spec's afterAll) */
  dispose(): Promise<void>;
}

export async function startServe(home = fs.mkdtempSync(path.join(os.tmpdir(), 'deepen-e2e-'))): Promise<Served> {
  const child = spawn(process.execPath, ['out/native/cli.js', 'serve'], { env: { ...process.env, DEEPEN_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`deepen serve printed no URL in 30 s.\nstdout: ${out}\nstderr: ${err}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/\?token=(\S+))$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`deepen serve exited with ${code}: ${err}`)));
  });
  const parsed = new URL(url);
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
  };
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    home,
    child,
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Calls one contract method over the WebSocket, as a second client would. */
export async function callEngine(s: Served, method: string, params: unknown): Promise<any> {
  const ws = new WebSocket(`${s.origin.replace('http', 'ws')}/ws?token=${s.token}`);
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  try {
    return await new Promise((resolve, reject) => {
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.t === 'res' && m.id === 1) (m.ok ? resolve(m.result) : reject(new Error(m.error.message)));
      });
      ws.send(JSON.stringify({ t: 'req', id: 1, method, params }));
    });
  } finally {
    ws.close();
  }
}

/** `deepen jobs --json` on the same data folder: what a restarted app would list. */
export function jobsOnDisk(home: string): { id: string; state: string }[] {
  const r = spawnSync(process.execPath, ['out/native/cli.js', 'jobs', '--json', '--limit', '1000'], { env: { ...process.env, DEEPEN_HOME: home }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout).jobs;
}
