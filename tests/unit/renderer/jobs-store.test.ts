// The jobs store against an in-memory engine: the list kept live by events,
// events winning over a slower list answer, logs merged by seq, and every
// failed call shown with the engine's own message.
import { describe, expect, it } from 'vitest';
import type { JobLogLine, JobSummary } from '../../../src/shared/contract';
import { DeepenError } from '../../../src/shared/errors';
import { useJobsStore } from '../../../src/renderer/src/stores/useJobsStore';
import { useNotificationsStore } from '../../../src/renderer/src/stores/useNotificationsStore';
import { fakeEngine } from './fake-engine';

function job(id: string, over: Partial<JobSummary> = {}): JobSummary {
  return { id, kind: 'selftest', title: `Job ${id}`, state: 'queued', progress: 0, message: '', createdAt: 1000, startedAt: null, finishedAt: null, error: null, ...over };
}
const line = (seq: number, text = `line ${seq}`): JobLogLine => ({ seq, time: 1000 + seq, level: 'info', text });

describe('useJobsStore', () => {
  it('lists jobs newest first and follows job.updated', async () => {
    const engine = fakeEngine({ 'jobs.list': () => [job('old', { createdAt: 1, state: 'succeeded', progress: 1 }), job('new', { createdAt: 2, state: 'running' })] });
    const jobs = useJobsStore();
    await jobs.load();
    expect(jobs.loaded).toBe(true);
    expect(jobs.jobs.map((j) => j.id)).toEqual(['new', 'old']);
    expect(jobs.activeJobs.map((j) => j.id)).toEqual(['new']);

    engine.emit('job.updated', job('new', { createdAt: 2, state: 'running', progress: 0.5, message: 'half' }));
    engine.emit('job.updated', job('newest', { createdAt: 3 }));
    expect(jobs.byId.new.progress).toBe(0.5);
    expect(jobs.jobs.map((j) => j.id)).toEqual(['newest', 'new', 'old']);

    engine.emit('job.updated', job('new', { createdAt: 2, state: 'succeeded', progress: 1 }));
    expect(jobs.activeJobs.map((j) => j.id)).toEqual(['newest']);
  });

  it('keeps an event that arrived while the list was on its way (the database row lags behind progress events)', async () => {
    let answer!: (list: JobSummary[]) => void;
    const engine = fakeEngine({ 'jobs.list': () => new Promise<JobSummary[]>((r) => (answer = r)) });
    const jobs = useJobsStore();
    const loading = jobs.load();
    await engine.flush();
    engine.emit('job.updated', job('a', { state: 'running', progress: 0.8 }));
    answer([job('a', { state: 'running', progress: 0.4 }), job('b')]);
    await loading;
    expect(jobs.byId.a.progress).toBe(0.8);
    expect(jobs.byId.b).toBeDefined();
  });

  it('loads a job with its log, follows job.log without duplicates, and stops when forgotten', async () => {
    const engine = fakeEngine({
      'jobs.get': ({ id }) => ({ ...job(id, { state: 'running' }), input: { providers: ['cpu'] }, result: null, logs: [line(1), line(2)] }),
    });
    const jobs = useJobsStore();
    engine.emit('job.log', { jobId: 'a', line: line(0) }); // not followed yet: ignored
    const detail = await jobs.loadDetail('a');
    expect(detail?.id).toBe('a');
    expect(jobs.details.a.input).toEqual({ providers: ['cpu'] });
    expect(jobs.byId.a.state).toBe('running');

    engine.emit('job.log', { jobId: 'a', line: line(2) }); // already in the answer
    engine.emit('job.log', { jobId: 'a', line: line(3) });
    expect(jobs.logs.a.map((l) => l.seq)).toEqual([1, 2, 3]);

    // a second answer overlapping what events brought is merged by seq
    engine.handle('jobs.get', ({ id }) => ({ ...job(id, { state: 'succeeded', progress: 1 }), input: {}, result: { ok: true }, logs: [line(1), line(2), line(3), line(4)] }));
    await jobs.loadDetail('a');
    expect(jobs.logs.a.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(jobs.details.a.result).toEqual({ ok: true });

    jobs.forgetLog('a');
    engine.emit('job.log', { jobId: 'a', line: line(5) });
    expect(jobs.logs.a).toBeUndefined();
  });

  it('does not let a detail answer turn a job that an event already finished back into running', async () => {
    let answer!: (v: unknown) => void;
    const engine = fakeEngine({ 'jobs.get': () => new Promise((r) => (answer = r)) });
    const jobs = useJobsStore();
    const loading = jobs.loadDetail('a');
    await engine.flush();
    engine.emit('job.updated', job('a', { state: 'succeeded', progress: 1 }));
    answer({ ...job('a', { state: 'running', progress: 0.3 }), input: {}, result: null, logs: [] });
    await loading;
    expect(jobs.byId.a.state).toBe('succeeded');
  });

  it('cancels, deletes and starts the self-test through the engine', async () => {
    const engine = fakeEngine({
      'jobs.list': () => [job('a', { state: 'running' }), job('b', { state: 'failed' })],
      'jobs.cancel': ({ id }) => job(id, { state: 'cancelled', error: { code: 'cancelled', message: 'Cancelled.' } }),
      'jobs.delete': () => undefined,
      'engine.selftest': () => ({ jobId: 'st' }),
    });
    const jobs = useJobsStore();
    await jobs.load();
    await jobs.cancel('a');
    expect(jobs.byId.a.state).toBe('cancelled');
    expect(await jobs.remove('b')).toBe(true);
    expect(jobs.byId.b).toBeUndefined();
    expect(await jobs.runSelftest()).toBe('st');
    expect(engine.calls.map((c) => c.method)).toEqual(['jobs.list', 'jobs.cancel', 'jobs.delete', 'engine.selftest']);
    expect(engine.calls[1].params).toEqual({ id: 'a' });
  });

  it("shows the engine's message when a call fails and keeps the job", async () => {
    fakeEngine({
      'jobs.list': () => [job('a', { state: 'running' })],
      'jobs.delete': () => {
        throw new DeepenError('conflict', 'This job is still running. Cancel it first, then delete it.');
      },
      'engine.selftest': () => {
        throw new DeepenError('engine_closed', 'The engine is shutting down.');
      },
    });
    const jobs = useJobsStore();
    const notes = useNotificationsStore();
    await jobs.load();
    expect(await jobs.remove('a')).toBe(false);
    expect(jobs.byId.a).toBeDefined();
    expect(notes.items).toEqual([expect.objectContaining({ kind: 'error', title: 'Could not delete the job', message: 'This job is still running. Cancel it first, then delete it.' })]);
    // a closed engine is explained by the full-page notice, not a toast
    expect(await jobs.runSelftest()).toBeUndefined();
    expect(notes.items).toHaveLength(1);
  });

  it('keeps the last value of each metric per job', () => {
    const engine = fakeEngine();
    const jobs = useJobsStore();
    engine.emit('job.metric', { jobId: 'a', name: 'loss', value: 2.5, step: 1 });
    engine.emit('job.metric', { jobId: 'a', name: 'loss', value: 2.1, step: 2 });
    engine.emit('job.metric', { jobId: 'a', name: 'gflops.cpu', value: 40 });
    expect(jobs.metrics.a).toEqual({ loss: 2.1, 'gflops.cpu': 40 });
  });
});
