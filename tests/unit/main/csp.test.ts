import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy as serverPolicy } from '../../../src/native/host/server';
import { contentSecurityPolicy } from '../../../src/shared/csp';

describe('content security policy', () => {
  it('is the same in the desktop window and in browser mode', () => {
    expect(serverPolicy).toBe(contentSecurityPolicy);
  });

  // Electron may not apply a header to file:// pages, so the page carries the
  // policy in a <meta> tag too; frame-ancestors is the one directive a meta
  // tag cannot carry (browsers ignore it there).
  it('is also in the page itself, for the desktop window', () => {
    const html = fs.readFileSync(path.resolve(__dirname, '../../../src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/i.exec(html)?.[1];
    const withoutFrameAncestors = contentSecurityPolicy
      .split(';')
      .map((d) => d.trim())
      .filter((d) => !d.startsWith('frame-ancestors'))
      .join('; ');
    expect(meta).toBe(withoutFrameAncestors);
  });

  it('allows no remote or inline script, no eval, no plugins, no framing', () => {
    const directives = new Map(contentSecurityPolicy.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }));
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(contentSecurityPolicy).not.toMatch(/unsafe-eval|https?:|\*/);
  });
});
