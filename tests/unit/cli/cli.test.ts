// The `deepen` command, run as a user runs it (a child process), from source.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDataDir } from '../host/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const home = tempDataDir('deepen-cli-');
afterAll(() => home.cleanup());

function deepen(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/native/cli.ts', ...args], {
    cwd: root,
    env: { ...process.env, DEEPEN_HOME: home.dir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('deepen CLI', () => {
  it('doctor --json prints one JSON object with the providers that initialised and the schema version', () => {
    const r = deepen('doctor', '--json');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const info = JSON.parse(lines[0]);
    expect(info.providers).toContain('cpu');
    expect(info.providers).not.toContain('cuda'); // never installed by npm install (see .npmrc)
    expect(info.schemaVersion).toBeGreaterThanOrEqual(1);
    expect(info.dataDir).toBe(home.dir);
  });

  it('jobs --json lists jobs as one JSON object', () => {
    const r = deepen('jobs', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ jobs: expect.any(Array) });
  });

  it('exits non-zero with a one-line message on stderr for mistakes', () => {
    const unknown = deepen('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badOption = deepen('jobs', '--bogus');
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/--bogus/);
    const missing = deepen('jobs', 'show', 'no-such-job', '--json');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^deepen jobs: No job with id no-such-job/);
  });

  it('--help lists the commands; each command has its own --help', () => {
    const top = deepen('--help');
    expect(top.code).toBe(0);
    for (const c of ['serve', 'doctor', 'jobs']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect(deepen('serve', '--help').stdout).toMatch(/--host/);
  });

  it('serve prints the URL with the token on a line of its own, and warns for a non-loopback host', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/native/cli.ts', 'serve', '--host', '0.0.0.0'], {
      cwd: root,
      env: { ...process.env, DEEPEN_HOME: home.dir },
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed; stdout: ${out}; stderr: ${err}`)), 30_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    expect(err).toMatch(/Warning: --host 0\.0\.0\.0/);
    const res = await fetch(url.replace(/\?token=.*/, ''));
    expect(res.status).toBe(401);
    child.kill('SIGINT');
    await new Promise((r) => child.on('exit', r));
  });
});
