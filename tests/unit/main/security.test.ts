import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  isExternalWebUrl,
  isOwnPage,
  isPermissionAllowed,
  isTrustedSender,
  sanitizePickPathOptions,
  withContentSecurityPolicy,
  type RendererOrigin,
} from '../../../src/main/security';

const indexFile = path.resolve('/opt/Deepen/out/renderer/index.html');
const built: RendererOrigin = { indexFile };
const dev: RendererOrigin = { indexFile, devServerUrl: 'http://localhost:5173' };
const indexUrl = pathToFileURL(indexFile).href;

describe('isOwnPage', () => {
  it('accepts the built index.html, whatever its hash or query', () => {
    expect(isOwnPage(indexUrl, built)).toBe(true);
    expect(isOwnPage(`${indexUrl}#/jobs/12`, built)).toBe(true);
    expect(isOwnPage(`${indexUrl}?x=1#/`, built)).toBe(true);
  });

  it('refuses other local files, even beside the index or reached through ..', () => {
    expect(isOwnPage(pathToFileURL(path.resolve('/opt/Deepen/out/renderer/other.html')).href, built)).toBe(false);
    expect(isOwnPage(pathToFileURL('/etc/passwd').href, built)).toBe(false);
    expect(isOwnPage(`${indexUrl}/../../../../etc/passwd`, built)).toBe(false);
    expect(isOwnPage(indexUrl.replace('file:///', 'file://evil.example/'), built)).toBe(false);
  });

  it('accepts the dev server only when one is configured, and only its exact origin', () => {
    expect(isOwnPage('http://localhost:5173/', built)).toBe(false);
    expect(isOwnPage('http://localhost:5173/#/models', dev)).toBe(true);
    expect(isOwnPage('http://localhost:5174/', dev)).toBe(false);
    expect(isOwnPage('https://localhost:5173/', dev)).toBe(false);
    expect(isOwnPage('http://localhost.evil.example:5173/', dev)).toBe(false);
    expect(isOwnPage(indexUrl, dev)).toBe(true);
  });

  it('refuses remote pages, odd schemes and garbage', () => {
    for (const url of ['https://example.com/', 'about:blank', 'data:text/html,hi', 'javascript:alert(1)', 'devtools://devtools/', '', 'not a url', null, undefined, 42]) {
      expect(isOwnPage(url, dev), String(url)).toBe(false);
    }
  });

  it('ignores a dev server URL that is not http(s)', () => {
    expect(isOwnPage('file:///etc/passwd', { indexFile, devServerUrl: 'file:///' })).toBe(false);
  });
});

describe('isTrustedSender', () => {
  it('needs our page, in the top frame, of a window we created', () => {
    expect(isTrustedSender({ url: indexUrl, isTopFrame: true, isOurWindow: true }, built)).toBe(true);
    expect(isTrustedSender({ url: indexUrl, isTopFrame: false, isOurWindow: true }, built)).toBe(false);
    expect(isTrustedSender({ url: indexUrl, isTopFrame: true, isOurWindow: false }, built)).toBe(false);
    expect(isTrustedSender({ url: 'https://example.com/', isTopFrame: true, isOurWindow: true }, built)).toBe(false);
    expect(isTrustedSender({ url: null, isTopFrame: true, isOurWindow: true }, built)).toBe(false);
  });
});

describe('isExternalWebUrl', () => {
  it('lets plain http(s) links through', () => {
    expect(isExternalWebUrl('https://huggingface.co/meta-llama')).toBe(true);
    expect(isExternalWebUrl('http://example.com/a?b=c#d')).toBe(true);
  });

  it('refuses schemes that can launch programs or read files, and credentials in the URL', () => {
    for (const url of ['file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)', 'ms-settings:', 'vscode://x', 'mailto:a@b.c', 'https://user:pw@example.com/', 'http://', 'https//x', '', 7, null]) {
      expect(isExternalWebUrl(url), String(url)).toBe(false);
    }
  });
});

describe('sanitizePickPathOptions', () => {
  it('keeps well-formed options', () => {
    expect(sanitizePickPathOptions({ kind: 'folder' })).toEqual({ kind: 'folder' });
    expect(sanitizePickPathOptions({ kind: 'file', title: 'Pick a dataset', filters: [{ name: 'Parquet', extensions: ['parquet', 'jsonl'] }] })).toEqual({
      kind: 'file',
      title: 'Pick a dataset',
      filters: [{ name: 'Parquet', extensions: ['parquet', 'jsonl'] }],
    });
  });

  it('drops fields it does not know', () => {
    expect(sanitizePickPathOptions({ kind: 'folder', defaultPath: '/etc', properties: ['multiSelections'] })).toEqual({ kind: 'folder' });
  });

  it('refuses malformed options', () => {
    for (const v of [null, 'folder', {}, { kind: 'save' }, { kind: 'file', title: 5 }, { kind: 'file', title: 'x'.repeat(201) }, { kind: 'file', filters: {} }, { kind: 'file', filters: [{ name: 'a', extensions: ['../x'] }] }, { kind: 'file', filters: [{ name: 'a' }] }]) {
      expect(sanitizePickPathOptions(v), JSON.stringify(v)).toBeNull();
    }
  });
});

describe('withContentSecurityPolicy', () => {
  it('replaces any policy the response carried, in any spelling, and keeps other headers', () => {
    const out = withContentSecurityPolicy({ 'content-security-policy': ["default-src *"], 'Content-Type': ['text/html'], 'X-One': 'a' }, "default-src 'self'");
    expect(out).toEqual({ 'Content-Type': ['text/html'], 'X-One': ['a'], 'Content-Security-Policy': ["default-src 'self'"] });
  });

  it('works when the response had no headers', () => {
    expect(withContentSecurityPolicy(undefined, 'p')).toEqual({ 'Content-Security-Policy': ['p'] });
  });
});

describe('isPermissionAllowed', () => {
  it('denies everything except clipboard writes from our own page', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write', indexUrl, built)).toBe(true);
    expect(isPermissionAllowed('clipboard-sanitized-write', 'https://example.com/', built)).toBe(false);
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'serial', 'usb']) {
      expect(isPermissionAllowed(p, indexUrl, built), p).toBe(false);
    }
  });
});
