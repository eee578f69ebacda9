import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy as serverPolicy } from '../../../src/native/host/server';
import { contentSecurityPolicy } from '../../../src/shared/csp';

describe('content security policy', () => {
  it('is the same in the desktop window and in browser mode', () => {
    expect(serverPolicy).toBe(contentSecurityPolicy);
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
