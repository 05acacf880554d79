import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, serve } from './server/serve.js';
import { tenantMemoryFactory } from './server/tenant-stores.js';

/**
 * 1,000 malformed requests (bad JSON, wrong types, huge bodies, bad headers, path and query
 * tricks, wrong methods), generated from a fixed seed, against a real server on a SQLite file.
 * Every answer must be a 4xx with a JSON error body, the server must stay up, and nothing may
 * be written: the store's change log does not move.
 */
const key = 'fuzz-key-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'engram-rest-fuzz-'));
let server: ServerHandle;
let existingId: string;
let otherId: string;

function send(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      // A fresh connection each: after an early answer (413) the server may close a connection mid-body.
      { host: url.hostname, port: url.port, method, path, agent: false, headers: { authorization: `Bearer ${key}`, ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type'] ?? ''), text }));
      },
    );
    outgoing.on('error', reject);
    if (body !== undefined) outgoing.end(body);
    else outgoing.end();
  });
}

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

type Case = { method: string; path: string; body?: string | Buffer; headers?: Record<string, string> };

function cases(count: number): Case[] {
  const next = random(20_261_204);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const json = { 'content-type': 'application/json' };
  const badJson = [
    '{',
    '{"content": ',
    '{"content": "x",}',
    "{'content': 'x'}",
    'NaN',
    '[1, 2',
    '{"a": undefined}',
    '\u0000',
    'null',
    '"just a string"',
    '42',
    '[]',
    `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
    '{"content": "\\ud800"',
  ];
  // Values of a wrong type or out of range for each kind of field.
  const notString = [null, 42, [], {}, true, [1, 'a']];
  const notNumber = [null, 'x', '', [], {}, true, -5, 1e12];
  const notList = [null, 'x', 42, {}, true, [1, {}]];
  const notObject = [null, 'x', 42, [], true];
  const kinds: Record<string, unknown[]> = {
    content: notString,
    text: notString,
    query: notString,
    type: [null, 42, [], {}, ''],
    mode: ['sideways', 42, null],
    key: [null, 42, '', 'k'.repeat(300)],
    reason: notString,
    user_id: [null, 42, '', [], 'u'.repeat(300)],
    sourceId: notString,
    targetId: notString,
    winnerId: notString,
    loserId: notString,
    time: [42, null, 'the twelfth of never'],
    createdAt: [null, 'not a date', [], {}],
    after: [null, 'not a date', [], {}],
    tags: notList,
    types: [null, 'x', 42, ['not-a-type'], {}],
    memories: [null, 'x', 42, {}, [], [42]],
    metadata: notObject,
    scope: [null, 'x', 42, [], { userId: 42 }, { tenant: 'other' }],
    expand: [null, 'x', 42, { depth: 99 }, { colour: 1 }],
    where: ['x', 42, [], { x: { between: 1 } }, { $where: 'sleep(1)' }],
  };
  const wrongFor = (field: string): unknown[] => kinds[field] ?? notNumber;
  const writeRoutes = [
    '/api/memories',
    '/api/memories/batch',
    '/api/search',
    '/api/context',
    '/api/relations',
    '/api/resolve',
    '/api/memories/search',
    '/api/remember',
    '/api/recall',
    '/api/consolidate',
    '/api/forget',
    '/api/ingest',
  ];
  const fields: Record<string, string[]> = {
    '/api/memories': [
      'content',
      'type',
      'tags',
      'metadata',
      'scope',
      'importance',
      'createdAt',
      'key',
      'emotionalValence',
      'sequenceNumber',
    ],
    '/api/memories/batch': ['memories'],
    '/api/search': ['query', 'limit', 'mode', 'types', 'tags', 'where', 'after', 'time', 'expand', 'scope'],
    '/api/context': ['query', 'tokenBudget', 'limit', 'where'],
    '/api/relations': ['sourceId', 'targetId', 'type', 'weight'],
    '/api/resolve': ['winnerId', 'loserId', 'reason'],
    '/api/memories/search': ['query', 'n_results', 'tags', 'similarity_threshold'],
    '/api/remember': ['content', 'user_id', 'tags'],
    '/api/recall': ['query', 'user_id', 'limit'],
    // Only fields whose every wrong value is invalid (dryRun, confirm, now and title have valid ones among them).
    '/api/consolidate': ['steps', 'scope'],
    '/api/forget': ['scope', 'ids'],
    '/api/ingest': ['text', 'format', 'tags', 'scope'],
  };
  const validBase: Record<string, Record<string, unknown>> = {
    '/api/memories': { content: 'fuzz content' },
    '/api/memories/batch': { memories: [{ content: 'fuzz batch one' }, { content: 'fuzz batch two' }] },
    '/api/search': { query: 'fuzz' },
    '/api/context': { query: 'fuzz' },
    '/api/relations': { sourceId: 'ID', targetId: 'OTHER', type: 'related' },
    '/api/resolve': { winnerId: 'ID', loserId: 'OTHER' },
    '/api/memories/search': { query: 'fuzz' },
    '/api/remember': { content: 'fuzz remember' },
    '/api/recall': { query: 'fuzz' },
    '/api/consolidate': { dryRun: false },
    '/api/forget': { scope: { userId: 'fuzz-nobody' }, confirm: true },
    '/api/ingest': { text: '# Fuzz\n\nA fuzzed document.', title: 'Fuzz' },
  };
  const pathTricks = [
    '/api/memories/%00',
    '/api/memories/..%2F..%2Fetc%2Fpasswd',
    '/api/memories/%ZZ',
    `/api/memories/${'a'.repeat(300)}`,
    '/api//memories/x',
    '/api/memories/x/unknown',
    '/API/MEMORIES',
    '/api/memories/ID/history/extra',
    '/api/path?from=ID',
    '/api/path?from=ID&to=OTHER&maxDepth=99',
    '/api/memories?limit=abc',
    '/api/memories?limit=999999',
    '/api/memories?where={bad',
    '/api/memories?where={"x":{"between":1}}',
    '/api/memories?cursor=not-a-cursor',
    '/api/memories?after=yesterday-ish&before=2020-01-01',
    '/api/memories?time=the%20twelfth%20of%20never',
    '/api/memories?colour=red',
    `/api/memories?types=${'x,'.repeat(200)}`,
    '/api/memories/ID/neighbors?depth=0',
    '/api/memories/ID/neighbors?direction=sideways',
    '/api/memories/ID/subgraph?radius=-1',
    '/api/relations?sourceId=ID',
    '/api/export?where=[1',
    '/api/events?limit=5',
    '/api/memories/ID/relations?types=not-a-type',
  ];
  const list: Case[] = [];
  for (let index = 0; index < count; index++) {
    const kind = index % 8;
    if (kind === 0) {
      list.push({ method: 'POST', path: pick(writeRoutes), body: pick(badJson), headers: json });
    } else if (kind === 1 || kind === 2) {
      const route = pick(writeRoutes);
      const body = JSON.parse(
        JSON.stringify(validBase[route]).replaceAll('"ID"', JSON.stringify(existingId)).replaceAll('"OTHER"', JSON.stringify(otherId)),
      );
      const field = pick(fields[route] as string[]);
      body[field] =
        route === '/api/memories/batch' ? [{ content: 'fine' }, { content: pick([42, null, [], {}, true]) }] : pick(wrongFor(field));
      if (kind === 2) body[`unknown_${index}`] = 1;
      list.push({ method: 'POST', path: route, body: JSON.stringify(body), headers: json });
    } else if (kind === 3) {
      const size = pick([1_000_001, 1_500_000, 3_000_000]);
      list.push({
        method: pick(['POST', 'PATCH']),
        path: pick(['/api/memories', '/api/search', `/api/memories/${existingId}`]),
        body: Buffer.alloc(size, 0x61),
        headers: json,
      });
    } else if (kind === 4) {
      const header = pick<Record<string, string>>([
        { authorization: 'Bearer' },
        { authorization: 'Bearer wrong-key-0123456789' },
        { authorization: 'Basic dXNlcjpwYXNz' },
        { authorization: `Bearer ${'k'.repeat(5000)}` },
        { 'x-agent-id': 'agent with spaces' },
        { 'x-agent-id': 'a'.repeat(500) },
        { 'content-type': 'text/plain' },
        { 'content-type': 'application/xml' },
        { host: 'evil.example' },
        { origin: 'https://evil.example' },
      ]);
      const body = header['content-type'] === 'text/plain' ? 'content=hello' : JSON.stringify({ content: 'header fuzz' });
      list.push({ method: 'POST', path: '/api/memories', body, headers: { ...json, ...header } });
    } else if (kind === 5) {
      const path = pick(pathTricks).replaceAll('ID', existingId).replaceAll('OTHER', otherId);
      list.push({ method: 'GET', path });
    } else if (kind === 6) {
      list.push({
        method: pick(['PUT', 'PATCH', 'DELETE']),
        path: pick(['/api/memories', '/api/search', '/api/stats', '/api/import?x=1', '/api/resolve']),
        body: '{}',
        headers: json,
      });
    } else {
      const lines = pick([
        `{"content": "good"}\n{"content": 5}\n`,
        `{"content": "good"}\nnot json\n`,
        `[1,2,3]\n`,
        `{"content": "good", "importance": 9}\n`,
        `{"content": "good", "type": "x", "scope": []}\n`,
      ]);
      list.push({ method: 'POST', path: '/api/import', body: lines, headers: { 'content-type': 'application/x-ndjson' } });
    }
  }
  return list;
}

beforeAll(async () => {
  server = await serve({
    memory: tenantMemoryFactory({ store: { kind: 'sqlite', path: join(directory, 'memory.db') }, embedder: 'hash' }),
    auth: { keys: { fuzz: key } },
    port: 0,
    rateLimit: false,
    log: () => {},
  });
  const first = await send('POST', '/api/memories', JSON.stringify({ content: 'the one memory before fuzzing' }), {
    'content-type': 'application/json',
  });
  existingId = JSON.parse(first.text).memory.id;
  const second = await send('POST', '/api/memories', JSON.stringify({ content: 'the other memory before fuzzing' }), {
    'content-type': 'application/json',
  });
  otherId = JSON.parse(second.text).memory.id;
});

afterAll(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('1,000 malformed requests', () => {
  it('get only 4xx JSON errors, leave the server up and write nothing', { timeout: 120_000 }, async () => {
    const memory = await server.app.engram.tenants.get('fuzz');
    const headBefore = (await memory.store.changesSince?.(null, 0))?.head;
    const countBefore = await memory.count({ includeSuperseded: true });
    const failures: string[] = [];
    const all = cases(1000);
    expect(all).toHaveLength(1000);
    for (const [index, item] of all.entries()) {
      let response: Awaited<ReturnType<typeof send>>;
      try {
        response = await send(item.method, item.path, item.body, item.headers);
      } catch (error) {
        failures.push(`#${index} ${item.method} ${item.path.slice(0, 80)} (${item.body?.length ?? 0} bytes) → ${(error as Error).message}`);
        continue;
      }
      let parsed: { error?: { code?: unknown; message?: unknown } } | undefined;
      try {
        parsed = JSON.parse(response.text);
      } catch {}
      const ok =
        response.status >= 400 &&
        response.status < 500 &&
        response.type.includes('application/json') &&
        typeof parsed?.error?.code === 'string' &&
        typeof parsed.error.message === 'string';
      if (!ok) failures.push(`#${index} ${item.method} ${item.path.slice(0, 80)} → ${response.status} ${response.text.slice(0, 160)}`);
    }
    expect(failures, failures.slice(0, 10).join('\n')).toEqual([]);
    expect((await send('GET', '/api/health')).status).toBe(200);
    expect(await memory.count({ includeSuperseded: true })).toBe(countBefore);
    expect((await memory.store.changesSince?.(null, 0))?.head).toBe(headBefore);
    expect((await memory.relations(existingId)).length).toBe(0);
  });
});
