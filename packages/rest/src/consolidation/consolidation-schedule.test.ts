import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, inMemoryStore, Memory, memoryArchive } from '@engram/core';
import { afterAll, describe, expect, it } from 'vitest';
import { serveOptionsFrom } from '../cli/run-server-command-line.js';
import { serve } from '../server/serve.js';
import { tenantMemoryFactory } from '../server/tenant-stores.js';
import { scheduleTenantConsolidation } from './consolidation-schedule.js';

const DAY = 86_400_000;
const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789' };
const directory = mkdtempSync(join(tmpdir(), 'engram-rest-schedule-'));

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('engram serve --consolidate-every with API keys', () => {
  it('consolidates every tenant with a key, each into its own archive', async () => {
    const store = { kind: 'sqlite' as const, path: join(directory, 'memory.db') };
    const logs: string[] = [];
    const server = await serve({
      memory: tenantMemoryFactory({ store, embedder: 'hash' }),
      auth: { keys },
      port: 0,
      rateLimit: false,
      consolidateEvery: 60_000,
      log: (message) => logs.push(message),
    });
    try {
      for (const [tenant, key] of Object.entries(keys)) {
        const response = await fetch(`${server.url}/api/memories`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: `${tenant} glanced at a log file`, importance: 0.05, createdAt: Date.now() - 500 * DAY }),
        });
        expect(response.status).toBe(201);
      }
      await server.consolidateNow();
      for (const tenant of Object.keys(keys)) {
        const archive = join(directory, 'memory.tenants', `${tenant}.archive.jsonl`);
        expect(existsSync(archive), archive).toBe(true);
        const lines = readFileSync(archive, 'utf8').trim().split('\n');
        expect(lines.map((line) => JSON.parse(line).content)).toEqual([`${tenant} glanced at a log file`]);
        const prefix = `consolidation of tenant ${tenant}: 1 scanned, 1 forgotten (archived to ${archive})`;
        expect(
          logs.some((line) => line.startsWith(prefix)),
          logs.join('\n'),
        ).toBe(true);
      }
      // The requests' memory and the schedule's are one: the request side sees the memory gone.
      const gone = await fetch(`${server.url}/api/memories`, { headers: { authorization: `Bearer ${keys.team_a}` } });
      expect(((await gone.json()) as { items: unknown[] }).items).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('goes on with the other tenants when one fails, and never runs two at once', async () => {
    const logs: string[] = [];
    const memories = new Map<string, Memory>();
    const memoryOf = async (tenant: string) => {
      let memory = memories.get(tenant);
      if (!memory) {
        // Tenant "broken" has no archive: applying forgetting fails for it alone.
        memory = new Memory({
          store: inMemoryStore(),
          embedder: hashEmbedder(),
          logger: false,
          ...(tenant === 'broken' ? {} : { consolidation: { archive: memoryArchive() } }),
        });
        memories.set(tenant, memory);
      }
      return { memory, release: async () => {} };
    };
    const schedule = scheduleTenantConsolidation({
      everyMs: 3_600_000,
      tenants: async () => ['broken', 'fine'],
      memoryOf,
      log: (message) => logs.push(message),
    });
    const [first, second] = [schedule.run(), schedule.run()];
    expect(first).toBe(second);
    await first;
    schedule.stop();
    expect(logs[0]).toMatch(/^consolidation of tenant broken failed: .*archive/);
    expect(logs[1]).toMatch(/^consolidation of tenant fine: 0 scanned, 0 forgotten, 0 patterns, in \d+ ms$/);
    expect(logs).toHaveLength(2);
    for (const memory of memories.values()) await memory.close();
  });

  it('reads --consolidate-every, --allow-ingest and --archive-dir, and refuses a bad duration', () => {
    const options = serveOptionsFrom(
      { 'consolidate-every': '24h', 'allow-ingest': ['docs', '/srv/shared'], 'archive-dir': 'archives' } as never,
      { ENGRAM_ENCRYPTION_KEY: 'ab'.repeat(32) },
      '/work/project',
      () => {},
    );
    expect(options.consolidateEvery).toBe(86_400_000);
    expect(options.allowIngest).toEqual(['/work/project/docs', '/srv/shared']);
    expect(() => serveOptionsFrom({ 'consolidate-every': '10s' } as never, {}, '/work/project', () => {})).toThrow(
      /--consolidate-every must be a duration of at least a minute/,
    );
  });
});
