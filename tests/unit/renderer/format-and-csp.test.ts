// Formatting helpers the pages share, and the renderer's CSP meta tag kept
// equal to the policy `deepen serve` sends (the desktop window has only the
// meta tag).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../../src/shared/csp';
import { formatBytes, formatDuration, formatRelativeTime, percent } from '../../../src/renderer/src/utils/format';
import { errorHeading, jobDurationMs, progressTone } from '../../../src/renderer/src/utils/jobs';

describe('format', () => {
  it('formats bytes, durations, times and percentages', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(8 * 2 ** 30)).toBe('8.0 GB');
    expect(formatBytes(250 * 2 ** 20)).toBe('250 MB');
    expect(formatBytes(-1)).toBe('—');
    expect(formatDuration(950)).toBe('0.9 s');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(75_000)).toBe('1 min 15 s');
    expect(formatDuration(120_000)).toBe('2 min');
    expect(formatDuration((2 * 60 + 3) * 60_000)).toBe('2 h 3 min');
    expect(formatRelativeTime(1_000, 10_000)).toBe('just now');
    expect(formatRelativeTime(0, 5 * 60_000)).toBe('5 min ago');
    expect(formatRelativeTime(0, 3 * 3_600_000)).toBe('3 h ago');
    expect(percent(0.505)).toBe(51);
    expect(percent(1.0000001)).toBe(100);
    expect(percent(-0.1)).toBe(0);
    expect(percent(Number.NaN)).toBe(0);
  });

  it('times jobs from start to finish, or to now while running', () => {
    expect(jobDurationMs({ createdAt: 0, startedAt: null, finishedAt: null }, 50)).toBeNull();
    expect(jobDurationMs({ createdAt: 0, startedAt: 10, finishedAt: null }, 50)).toBe(40);
    expect(jobDurationMs({ createdAt: 0, startedAt: 10, finishedAt: 30 }, 50)).toBe(20);
    expect(jobDurationMs({ createdAt: 0, startedAt: null, finishedAt: 5 }, 50)).toBe(0); // cancelled while queued
    expect(errorHeading('interrupted')).toBe('This job was interrupted');
    expect(progressTone('failed')).toBe('danger');
  });
});

describe('renderer CSP', () => {
  it("index.html carries the server's policy (less frame-ancestors, which browsers ignore in a meta tag)", () => {
    const html = readFileSync(new URL('../../../src/renderer/index.html', import.meta.url), 'utf8');
    const meta = html.match(/http-equiv="Content-Security-Policy"\s+content="([^"]+)"/);
    expect(meta).not.toBeNull();
    const directives = (policy: string) =>
      policy
        .split(';')
        .map((d) => d.trim())
        .filter((d) => d && !d.startsWith('frame-ancestors'))
        .sort();
    expect(directives(meta![1])).toEqual(directives(contentSecurityPolicy));
  });
});
