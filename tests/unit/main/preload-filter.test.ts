import { describe, expect, it } from 'vitest';
import { incomingMessage, isWebLink, menuEvent, outgoingRequest } from '../../../src/preload/filter';

describe('outgoingRequest', () => {
  it('passes requests for methods of the contract', () => {
    expect(outgoingRequest({ t: 'req', id: 1, method: 'engine.ping', params: {} })).toEqual({ t: 'req', id: 1, method: 'engine.ping', params: {} });
  });

  it('rebuilds the request so nothing else rides along, and defaults params', () => {
    expect(outgoingRequest({ t: 'req', id: 2, method: 'jobs.list', extra: 'x', __proto__: { polluted: true } })).toEqual({ t: 'req', id: 2, method: 'jobs.list', params: {} });
  });

  it('drops methods outside the contract and anything that is not a request', () => {
    for (const m of [
      { t: 'req', id: 1, method: 'engine.shutdown', params: {} },
      { t: 'req', id: 1, method: '__proto__', params: {} },
      { t: 'req', id: 1, method: 'constructor', params: {} },
      { t: 'req', id: 1.5, method: 'engine.ping', params: {} },
      { t: 'req', id: '1', method: 'engine.ping', params: {} },
      { t: 'res', id: 1, ok: true, result: null },
      { t: 'evt', event: 'job.updated', payload: {} },
      { method: 'engine.ping' },
      'engine.ping',
      null,
      undefined,
    ]) {
      expect(outgoingRequest(m), JSON.stringify(m)).toBeNull();
    }
  });
});

describe('incomingMessage', () => {
  it('passes responses and events', () => {
    const res = { t: 'res', id: 1, ok: true, result: 'pong' };
    const evt = { t: 'evt', event: 'job.updated', payload: { id: 'j1' } };
    expect(incomingMessage(res)).toBe(res);
    expect(incomingMessage(evt)).toBe(evt);
  });

  it('drops requests and malformed messages', () => {
    expect(incomingMessage({ t: 'req', id: 1, method: 'engine.ping', params: {} })).toBeNull();
    expect(incomingMessage({ t: 'res', id: 'x' })).toBeNull();
    expect(incomingMessage('hello')).toBeNull();
  });
});

describe('menuEvent', () => {
  it('turns a menu command into an app.* event', () => {
    expect(menuEvent({ command: 'openModelFolder', path: '/models/llama' })).toEqual({ t: 'evt', event: 'app.openModelFolder', payload: { path: '/models/llama' } });
  });

  it('ignores unknown or malformed commands', () => {
    expect(menuEvent({ command: 'openModelFolder', path: '' })).toBeNull();
    expect(menuEvent({ command: 'rm', path: '/' })).toBeNull();
    expect(menuEvent(null)).toBeNull();
  });
});

describe('isWebLink', () => {
  it('accepts http(s) only', () => {
    expect(isWebLink('https://example.com')).toBe(true);
    expect(isWebLink('http://example.com')).toBe(true);
    expect(isWebLink('file:///etc/passwd')).toBe(false);
    expect(isWebLink('javascript:alert(1)')).toBe(false);
    expect(isWebLink(42)).toBe(false);
  });
});
