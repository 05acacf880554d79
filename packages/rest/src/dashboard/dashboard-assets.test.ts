import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from '../create-engram-app.js';
import { call } from '../testing/call.js';
import { testMemory } from '../testing/test-memory.js';
import { DASHBOARD_CSP } from './dashboard-assets.js';

// A stand-in build (index.html plus one hashed asset): what is served, and how, does not depend on
// the real bundle's contents. tests/dashboard.test.ts drives the real build in Chromium.
const build = mkdtempSync(join(tmpdir(), 'engram-dashboard-'));
mkdirSync(join(build, 'assets'));
writeFileSync(join(build, 'index.html'), '<!doctype html><title>Engram</title><div id="app"></div>');
writeFileSync(join(build, 'assets', 'index-abc123.js'), 'console.log("dashboard")');
writeFileSync(join(build, 'secret.txt'), 'outside assets');

const html = { accept: 'text/html,application/xhtml+xml' };
let app: EngramApp;

beforeAll(() => {
  app = createEngramApp({ memory: testMemory(), dashboard: build, log: () => {} });
});

afterAll(async () => {
  await app.engram.close();
  rmSync(build, { recursive: true, force: true });
});

describe('the dashboard at /', () => {
  it('serves index.html at / with a strict CSP and no caching', async () => {
    const response = await app.request('http://localhost/', { headers: html });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).not.toContain('unsafe-inline');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.text()).toContain('<div id="app">');
  });

  it('serves hashed assets for a year, immutable', async () => {
    const response = await app.request('http://localhost/assets/index-abc123.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await app.request('http://localhost/assets/missing.js')).status).toBe(404);
    const compressed = await app.request('http://localhost/assets/index-abc123.js', { headers: { 'accept-encoding': 'gzip' } });
    expect(compressed.headers.get('content-encoding')).toBe('gzip');
    const text = await new Response((compressed.body as ReadableStream).pipeThrough(new DecompressionStream('gzip'))).text();
    expect(text).toBe('console.log("dashboard")');
  });

  it('answers client-side routes with index.html (a reload of /memories/<id> works)', async () => {
    for (const path of ['/search?q=ci', '/memories/0193a7f2-5a1e-7c3b-9d4e-2f1a6b8c9d0e', '/graph', '/stats']) {
      const response = await app.request(`http://localhost${path}`, { headers: html });
      expect(response.status, path).toBe(200);
      expect(await response.text()).toContain('<div id="app">');
    }
    // Not a page request (a script, an API client): a plain 404, not HTML.
    expect((await app.request('http://localhost/nothing.js')).status).toBe(404);
  });

  it('never shadows the API, /openapi.json or /docs, even for a browser', async () => {
    const unknownApi = await call(app, 'GET', '/api/no-such-route', undefined, html);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.json.error.code).toBe('NOT_FOUND');
    const api = await call(app, 'GET', '/api/stats', undefined, html);
    expect(api.status).toBe(200);
    expect(api.json.total).toBe(0);
    const openapi = await call(app, 'GET', '/openapi.json', undefined, html);
    expect(openapi.json.openapi).toBe('3.1.0');
    const docs = await app.request('http://localhost/docs', { headers: html });
    expect(await docs.text()).toContain('Engram REST API');
  });

  it('never reads outside the assets folder', async () => {
    for (const path of [
      '/assets/../secret.txt',
      '/assets/%2e%2e/secret.txt',
      '/assets/..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ]) {
      const response = await app.request(`http://localhost${path}`);
      expect(await response.text(), path).not.toContain('outside assets');
    }
  });

  it('says how to build it when the package has no build, and is absent with dashboard: false', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'engram-no-dashboard-'));
    const unbuilt = createEngramApp({ memory: testMemory(), dashboard: empty, log: () => {} });
    const response = await unbuilt.request('http://localhost/', { headers: html });
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run build');
    await unbuilt.engram.close();
    rmSync(empty, { recursive: true, force: true });

    const off = createEngramApp({ memory: testMemory(), dashboard: false, log: () => {} });
    const root = await call(off, 'GET', '/', undefined, html);
    expect(root.status).toBe(404);
    expect(root.json.error.code).toBe('NOT_FOUND');
    await off.engram.close();
  });

  it('passes through the Host check like every route (DNS rebinding)', async () => {
    const response = await app.request('http://attacker.example/', { headers: { ...html, host: 'attacker.example' } });
    expect(response.status).toBe(403);
  });
});
