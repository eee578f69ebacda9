import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { EngineHost } from '../../../src/native/host/host';
import { databaseFileIn } from '../../../src/native/host/paths';
import type { JobSummary } from '../../../src/shared/contract/jobs';
import { tempDataDir } from './helpers';

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});

function openHost(dir?: string) {
  const tmp = dir ? { dir, cleanup: () => {} } : tempDataDir();
  const host = new EngineHost({ dataDir: tmp.dir, cancelGraceMs: 3000 });
  cleanups.push(tmp.cleanup);
  return { host, dir: tmp.dir };
}

describe('jobs', () => {
  it('runs a self-test job in a worker to success, streaming progress and logs', async () => {
    const { host } = openHost();
    const updates: JobSummary[] = [];
    const logs: string[] = [];
    host.onEvent((e, p) => {
      if (e === 'job.updated') updates.push(p as JobSummary);
      if (e === 'job.log') logs.push((p as { line: { text: string } }).line.text);
    });
    const { jobId } = await host.call('engine.selftest', { providers: ['cpu'] });
    const job = await host.jobs.wait(jobId);
    expect(job.state).toBe('succeeded');
    expect(job.progress).toBe(1);
    expect(updates.map((u) => u.state)).toContain('running');
    expect(logs.join('\n')).toMatch(/cpu: the graph ran and gave the right sum/);
    const detail = await host.call('jobs.get', { id: jobId });
    expect(detail.result).toMatchObject({ providers: [{ name: 'cpu', ok: true }] });
    expect(detail.logs.length).toBeGreaterThan(0);
    await host.close();
  });

  it('marks a job failed with the runner message when every provider fails', async () => {
    const { host } = openHost();
    // CUDA libraries are never installed by `npm install` (see .npmrc), so this provider fails to start here.
    const { jobId } = await host.call('engine.selftest', { providers: ['cuda'] });
    const job = await host.jobs.wait(jobId);
    expect(job.state).toBe('failed');
    expect(job.error?.message).toMatch(/failed on every provider: cuda/);
    await host.close();
  });

  it('cancels a running job promptly and records it as cancelled', async () => {
    const { host } = openHost();
    const { jobId } = await host.call('engine.selftest', { providers: ['cpu'], benchmarkMs: 20_000 });
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e, p) => {
        if (e === 'job.updated' && (p as JobSummary).id === jobId && (p as JobSummary).progress > 0.15) {
          off();
          resolve();
        }
      });
    });
    const t0 = Date.now();
    await host.call('jobs.cancel', { id: jobId });
    const job = await host.jobs.wait(jobId);
    expect(job.state).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(job.error?.code).toBe('cancelled');
    await host.close();
  });

  it('cancels a queued job before it starts', async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.cleanup);
    const host = new EngineHost({ dataDir: tmp.dir, maxConcurrentJobs: 1 });
    const first = await host.call('engine.selftest', { providers: ['cpu'], benchmarkMs: 2000 });
    const second = await host.call('engine.selftest', { providers: ['cpu'] });
    expect((await host.call('jobs.get', { id: second.jobId })).state).toBe('queued');
    const cancelled = await host.call('jobs.cancel', { id: second.jobId });
    expect(cancelled.state).toBe('cancelled');
    expect((await host.jobs.wait(first.jobId)).state).toBe('succeeded');
    await host.close();
  });

  it('closing the engine stops running jobs and records them as cancelled', async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.cleanup);
    const host = new EngineHost({ dataDir: tmp.dir });
    const { jobId } = await host.call('engine.selftest', { providers: ['cpu'], benchmarkMs: 30_000 });
    await new Promise<void>((resolve) => {
      const off = host.onEvent((e, p) => {
        if (e === 'job.updated' && (p as JobSummary).id === jobId && (p as JobSummary).state === 'running') {
          off();
          resolve();
        }
      });
    });
    await host.close();
    const again = new EngineHost({ dataDir: tmp.dir });
    expect((await again.call('jobs.get', { id: jobId })).state).toBe('cancelled');
    await again.close();
  });

  it('marks jobs left running by a dead process as interrupted on the next start', async () => {
    const tmp = tempDataDir();
    cleanups.push(tmp.cleanup);
    new EngineHost({ dataDir: tmp.dir }).db.close(); // create the schema
    // Simulate a process that died mid-job: a row stuck in "running".
    const db = new Database(databaseFileIn(tmp.dir));
    db.prepare(`INSERT INTO jobs (id, kind, title, state, progress, created_at, started_at) VALUES ('dead', 'selftest', 'x', 'running', 0.4, 1, 1)`).run();
    db.close();
    const host = new EngineHost({ dataDir: tmp.dir });
    const job = await host.call('jobs.get', { id: 'dead' });
    expect(job.state).toBe('interrupted');
    expect(job.error?.message).toMatch(/stopped while this job was running/);
    expect(job.finishedAt).not.toBeNull();
    await host.close();
  });

  it('refuses unknown methods, unknown jobs and deleting a running job', async () => {
    const { host } = openHost();
    await expect(host.call('nope' as never, {} as never)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(host.call('jobs.get', { id: 'missing' })).rejects.toMatchObject({ code: 'not_found' });
    const { jobId } = await host.call('engine.selftest', { providers: ['cpu'], benchmarkMs: 5000 });
    await expect(host.call('jobs.delete', { id: jobId })).rejects.toMatchObject({ code: 'conflict' });
    await host.call('jobs.cancel', { id: jobId });
    await host.jobs.wait(jobId);
    await host.call('jobs.delete', { id: jobId });
    await expect(host.call('jobs.get', { id: jobId })).rejects.toMatchObject({ code: 'not_found' });
    await host.close();
  });
});

describe('provider choice', () => {
  it('falls back to CPU with a reason a user can act on', async () => {
    const { chooseProvider, explainProbe } = await import('../../../src/native/host/providers');
    const cuda = explainProbe({ name: 'cuda', ok: false, reason: 'cuda failed to start: OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library' });
    expect(cuda.reason).toMatch(/CUDA libraries are not installed.*Install CUDA provider/);
    expect(chooseProvider('cuda', [{ name: 'cpu', ok: true }, cuda])).toEqual({ active: 'cpu', fallbackReason: expect.stringMatching(/^Using CPU: the cuda provider is unavailable \(the CUDA libraries/) });
    expect(chooseProvider('webgpu', [{ name: 'cpu', ok: true }, { name: 'webgpu', ok: true }])).toEqual({ active: 'webgpu', fallbackReason: null });
    expect(chooseProvider('dml', [{ name: 'cpu', ok: true }]).fallbackReason).toMatch(/not offered on this machine/);
  });
});
