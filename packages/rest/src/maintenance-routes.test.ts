import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { tenantMemoryFactory } from './server/tenant-stores.js';
import { call } from './testing/call.js';

/**
 * The maintenance routes (consolidation, erasure, ingestion) and sensitive writes, on real
 * SQLite tenant stores: each tenant has its own file and its own consolidation archive.
 */
const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789' };
const asA = { authorization: `Bearer ${keys.team_a}` };
const asB = { authorization: `Bearer ${keys.team_b}` };
const ENCRYPTION_KEY = 'ab'.repeat(32);
const DAY = 86_400_000;

const directory = mkdtempSync(join(tmpdir(), 'engram-rest-maintenance-'));
const allowed = join(directory, 'allowed');
const outside = join(directory, 'outside');
let app: EngramApp;
let plain: EngramApp;

beforeAll(async () => {
  mkdirSync(join(allowed, 'guides'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(allowed, 'guides', 'install.md'), '# Install\n\n## Windows\n\nRun the installer as administrator.\n');
  writeFileSync(join(outside, 'secret.md'), '# Secret\n\nThe vault code is 4711.\n');
  symlinkSync(join(outside, 'secret.md'), join(allowed, 'link-to-secret.md'));
  const store = { kind: 'sqlite' as const, path: join(directory, 'memory.db') };
  app = createEngramApp({
    memory: tenantMemoryFactory({ store, embedder: 'hash', encryption: { key: ENCRYPTION_KEY } }),
    auth: { keys },
    rateLimit: false,
    allowIngest: [allowed],
    log: () => {},
  });
  plain = createEngramApp({
    memory: tenantMemoryFactory({ store: { kind: 'sqlite', path: join(directory, 'plain', 'memory.db') }, embedder: 'hash' }),
    rateLimit: false,
    log: () => {},
  });
});

afterAll(async () => {
  await app?.engram.close();
  await plain?.engram.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('POST /api/consolidate', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const old = (days: number) => new Date(now - days * DAY).toISOString();
  let faded: string;
  let kept: string;

  beforeAll(async () => {
    const added = await call(
      app,
      'POST',
      '/api/memories/batch',
      {
        memories: [
          { content: 'Opened the settings file once', type: 'file_access', importance: 0.1, createdAt: old(400) },
          { content: 'Release checklist lives in the wiki', type: 'observation', importance: 0.1, createdAt: old(400), tags: ['keep'] },
          { content: 'Fresh note from this week', importance: 0.1, createdAt: old(2) },
        ],
      },
      asA,
    );
    expect(added.status).toBe(201);
    [faded, kept] = added.json.results.map((result: { memory: { id: string } }) => result.memory.id);
  });

  it('is a dry run by default: the report says what would be forgotten, and nothing changes', async () => {
    const report = await call(app, 'POST', '/api/consolidate', { now: new Date(now).toISOString() }, asA);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ dryRun: true, scanned: 3, steps: ['relevance', 'forgetting', 'compression'] });
    expect(report.json.now).toBe(new Date(now).toISOString());
    expect(report.json.forgetting.forgotten.map((entry: { id: string }) => entry.id)).toEqual([faded]);
    expect(report.json.forgetting.protected['keep-tag']).toBe(1);
    expect(report.json.forgetting.archive).toBeNull();
    expect((await call(app, 'GET', `/api/memories/${faded}`, undefined, asA)).status).toBe(200);
    expect(existsSync(join(directory, 'memory.tenants', 'team_a.archive.jsonl'))).toBe(false);
  });

  it('applies with dryRun false: archives to the tenant’s own archive, which /api/import restores', async () => {
    const report = await call(app, 'POST', '/api/consolidate', { dryRun: false, now: new Date(now).toISOString() }, asA);
    expect(report.status).toBe(200);
    const archive = join(directory, 'memory.tenants', 'team_a.archive.jsonl');
    expect(report.json).toMatchObject({ dryRun: false, forgetting: { archive } });
    expect((await call(app, 'GET', `/api/memories/${faded}`, undefined, asA)).status).toBe(404);
    expect((await call(app, 'GET', `/api/memories/${kept}`, undefined, asA)).status).toBe(200);
    const lines = readFileSync(archive, 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).id)).toEqual([faded]);
    const restored = await app.request('http://localhost/api/import', {
      method: 'POST',
      headers: { ...asA, 'content-type': 'application/x-ndjson' },
      body: `${lines.join('\n')}\n`,
    });
    expect(await restored.json()).toMatchObject({ created: 1 });
    const search = await call(app, 'POST', '/api/search', { query: 'settings file', mode: 'lexical' }, asA);
    expect(search.json.hits[0].memory.content).toBe('Opened the settings file once');
  });

  it('takes a scope and steps, and names the field it rejects', async () => {
    const scoped = await call(app, 'POST', '/api/consolidate', { scope: { userId: 'nobody' }, steps: ['relevance'] }, asA);
    expect(scoped.json).toMatchObject({ scanned: 0, steps: ['relevance'], scope: { userId: 'nobody' } });
    expect(scoped.json.forgetting).toBeUndefined();
    const bad = await call(app, 'POST', '/api/consolidate', { steps: ['dreaming'] }, asA);
    expect(bad.status).toBe(400);
    expect(bad.json.error.field).toBe('steps.0');
    expect((await call(app, 'POST', '/api/consolidate', { dryRun: 'no' }, asA)).json.error.field).toBe('dryRun');
    expect((await call(app, 'POST', '/api/consolidate', { apply: true }, asA)).json.error.message).toContain('"apply"');
  });

  it('refuses to apply without an archive, naming the flag (a Postgres store without --archive-dir)', async () => {
    const { Memory, hashEmbedder, inMemoryStore } = await import('@engram/core');
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    const single = createEngramApp({ memory, rateLimit: false, log: () => {} });
    const refused = await call(single, 'POST', '/api/consolidate', { dryRun: false });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain('--archive-dir');
    expect((await call(single, 'POST', '/api/consolidate', { dryRun: false, steps: ['relevance'] })).status).toBe(200);
    await memory.close();
  });
});

describe('POST /api/forget', () => {
  it('is a dry run unless confirmed, then erases the scope with its history', async () => {
    const first = (await call(app, 'POST', '/api/memories', { content: 'Alice lives in Lyon', scope: { userId: 'alice' } }, asA)).json
      .memory.id;
    await call(app, 'POST', '/api/memories', { content: 'Alice prefers tea', scope: { userId: 'alice' } }, asA);
    await call(app, 'DELETE', `/api/memories/${first}`, undefined, asA);
    const dry = await call(app, 'POST', '/api/forget', { scope: { userId: 'alice' } }, asA);
    expect(dry.json).toMatchObject({ dryRun: true, matched: 2, forgotten: 0 });
    expect(dry.json.ids).toContain(first);
    expect((await call(app, 'GET', `/api/memories/${first}/history`, undefined, asA)).json.history.length).toBeGreaterThan(0);
    const done = await call(app, 'POST', '/api/forget', { scope: { userId: 'alice' }, confirm: true }, asA);
    expect(done.json).toMatchObject({ dryRun: false, matched: 2, forgotten: 2 });
    expect((await call(app, 'GET', '/api/memories?userId=alice&includeSuperseded=true', undefined, asA)).json.items).toEqual([]);
    expect((await call(app, 'GET', `/api/memories/${first}/history`, undefined, asA)).status).toBe(404);
  });

  it('erases by ids, counting only ids of the tenant', async () => {
    const id = (await call(app, 'POST', '/api/memories', { content: 'Temporary token abc' }, asA)).json.memory.id;
    const unknown = '00000000-0000-7000-8000-000000000000';
    expect((await call(app, 'POST', '/api/forget', { ids: [id, unknown] }, asA)).json).toMatchObject({ matched: 1, ids: [id] });
    expect((await call(app, 'POST', '/api/forget', { ids: [id, unknown], confirm: true }, asA)).json).toMatchObject({
      dryRun: false,
      forgotten: 1,
      ids: [id],
    });
    expect((await call(app, 'GET', `/api/memories/${id}`, undefined, asA)).status).toBe(404);
  });

  it('refuses an empty scope, both or neither of scope and ids', async () => {
    for (const body of [{ scope: {} }, {}, { scope: { userId: 'x' }, ids: ['y'] }, { scope: { userId: 'x' }, confirm: 'yes' }]) {
      const refused = await call(app, 'POST', '/api/forget', body, asA);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.json.error.code).toBe('VALIDATION_ERROR');
    }
  });
});

describe('POST /api/ingest', () => {
  it('ingests text with a title: chunks found by their heading, idempotent on a re-run', async () => {
    const body = { text: '# Guide\n\n## Deploy\n\nTag the release, then run the deploy job.', title: 'Guide', format: 'markdown' };
    const first = await call(app, 'POST', '/api/ingest', { ...body, tags: ['docs'], scope: { agentId: 'docs-bot' } }, asA);
    expect(first.status).toBe(200);
    expect(first.json.documents[0]).toMatchObject({ source: 'Guide', status: 'created' });
    expect(first.json.chunks.created).toBeGreaterThan(0);
    const again = await call(app, 'POST', '/api/ingest', { ...body, tags: ['docs'], scope: { agentId: 'docs-bot' } }, asA);
    expect(again.json.documents[0].status).toBe('unchanged');
    const hits = (await call(app, 'POST', '/api/search', { query: 'Deploy', tags: ['docs'] }, asA)).json.hits;
    expect(hits[0].memory.context).toContain('Deploy');
    expect(hits[0].memory.scope).toEqual({ agentId: 'docs-bot' });
  });

  it('ingests uploaded files (multipart), reporting a bad one without losing the rest', async () => {
    const form = new FormData();
    form.append('file', new File(['# Runbook\n\nRestart the worker with systemctl.'], 'runbook.md'));
    form.append('file', new File([new Uint8Array([0, 1, 2, 3, 0, 0, 255])], 'blob.txt'));
    form.append('tags', 'ops, uploaded');
    form.append('scope', JSON.stringify({ userId: 'ops' }));
    const response = await app.request('http://localhost/api/ingest', { method: 'POST', headers: asA, body: form });
    const report = (await response.json()) as { documents: Array<{ source: string; status: string; error?: string }>; failed: number };
    expect(response.status).toBe(200);
    expect(report.failed).toBe(1);
    expect(report.documents.find((document) => document.source === 'runbook.md')?.status).toBe('created');
    expect(report.documents.find((document) => document.source === 'blob.txt')?.error).toBeTruthy();
    const list = (await call(app, 'GET', '/api/memories?userId=ops&tags=uploaded', undefined, asA)).json.items;
    expect(list.map((item: { content: string }) => item.content).join(' ')).toContain('systemctl');
  });

  it('reads server paths only inside --allow-ingest folders, never through a symbolic link out of them', async () => {
    const inside = await call(app, 'POST', '/api/ingest', { paths: [join(allowed, 'guides')] }, asA);
    expect(inside.status).toBe(200);
    expect(inside.json.documents).toHaveLength(1);
    expect(inside.json.documents[0].status).toBe('created');
    const relative = await call(app, 'POST', '/api/ingest', { paths: ['guides/install.md'] }, asA);
    expect(relative.json.documents[0].status).toBe('unchanged');
    for (const path of [join(outside, 'secret.md'), `${allowed}/../outside/secret.md`, join(allowed, 'link-to-secret.md'), '/etc/passwd']) {
      const refused = await call(app, 'POST', '/api/ingest', { paths: [path] }, asA);
      expect(refused.status, path).toBe(400);
      expect(refused.json.error.field).toBe('paths');
    }
    const all = (await call(app, 'GET', '/api/export', undefined, asA)).json;
    expect(String(all)).not.toContain('4711');
    const none = await call(plain, 'POST', '/api/ingest', { paths: ['anything.md'] });
    expect(none.status).toBe(400);
    expect(none.json.error.message).toContain('--allow-ingest');
  });

  it('names what is missing or mixed up', async () => {
    expect((await call(app, 'POST', '/api/ingest', {}, asA)).json.error.field).toBe('text');
    expect((await call(app, 'POST', '/api/ingest', { text: 'x' }, asA)).json.error.field).toBe('title');
    expect((await call(app, 'POST', '/api/ingest', { text: 'x', title: 't', paths: ['a'] }, asA)).json.error.field).toBe('paths');
    expect((await call(app, 'POST', '/api/ingest', { text: 'x', title: 't', prune: true }, asA)).json.error.field).toBe('prune');
    expect((await call(app, 'POST', '/api/ingest', { documents: [{ text: 'x' }] }, asA)).json.error.field).toBe('documents.0.title');
  });
});

describe('sensitive memories', () => {
  it('are sealed at rest with the server’s key and read back opened, on add and batch', async () => {
    const added = await call(app, 'POST', '/api/memories', { content: 'Bob’s passport number is X1234567', sensitive: true }, asB);
    expect(added.status).toBe(201);
    expect(added.json.memory).toMatchObject({ content: 'Bob’s passport number is X1234567', sensitive: true });
    const batch = await call(app, 'POST', '/api/memories/batch', { memories: [{ content: 'Bob’s PIN is 9731', sensitive: true }] }, asB);
    expect(batch.status).toBe(201);
    expect((await call(app, 'GET', `/api/memories/${added.json.memory.id}`, undefined, asB)).json.memory.content).toContain('X1234567');
    await app.engram.close();
    const bytes = readFileSync(join(directory, 'memory.tenants', 'team_b.db')).toString('latin1');
    const wal = existsSync(join(directory, 'memory.tenants', 'team_b.db-wal'))
      ? readFileSync(join(directory, 'memory.tenants', 'team_b.db-wal')).toString('latin1')
      : '';
    for (const secret of ['X1234567', '9731']) {
      expect(bytes).not.toContain(secret);
      expect(wal).not.toContain(secret);
    }
  });

  it('a server without ENGRAM_ENCRYPTION_KEY answers 400 naming the variable, and writes nothing', async () => {
    const refused = await call(plain, 'POST', '/api/memories', { content: 'A secret', sensitive: true });
    expect(refused.status).toBe(400);
    expect(refused.json.error.field).toBe('sensitive');
    expect(refused.json.error.message).toContain('ENGRAM_ENCRYPTION_KEY');
    const batch = await call(plain, 'POST', '/api/memories/batch', {
      memories: [{ content: 'fine' }, { content: 'secret', sensitive: true }],
    });
    expect(batch.status).toBe(400);
    expect(batch.json.error.message).toContain('ENGRAM_ENCRYPTION_KEY');
    expect((await call(plain, 'GET', '/api/memories')).json.items).toEqual([]);
  });
});
