import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '@engram/adapters/postgres';
import { sqliteStore } from '@engram/adapters/sqlite';
import { hashEmbedder, Memory, type MemoryStore } from '@engram/core';
import { type ServerHandle, serve } from '@engram/rest';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

/**
 * The erasure log's horizon (docs/sync.md "Limits"): entries older than `retention.erasureLogDays`
 * are dropped — on the server once, on a replica once its server took them — and a replica that
 * was away longer than that resyncs in full on its next pull: the erasures it was never told of
 * still reach it, its pending writes stay and are pushed. A server on SQLite and on Postgres.
 */
const postgres = usePostgres();
const directory = mkdtempSync(join(tmpdir(), 'engram-erasure-horizon-'));
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close().catch(() => {});
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const DAY = 86_400_000;
const backends: Array<{ name: string; skip: string | undefined; store: () => MemoryStore }> = [
  { name: 'SQLite', skip: undefined, store: () => sqliteStore({ path: join(directory, `server-${randomUUID()}.db`) }) },
  {
    name: 'Postgres',
    skip: postgres.skip,
    store: () => postgresStore({ connectionString: postgres.url, schema: `horizon_${randomUUID().slice(0, 8)}` }),
  },
];

for (const backend of backends) {
  (backend.skip ? describe.skip : describe)(
    `erasure log horizon, server on ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`,
    () => {
      it('drops entries past the retention, and a replica away longer resyncs in full', async () => {
        let clock = Date.UTC(2026, 0, 1);
        const now = () => clock;
        const serverStore = backend.store();
        const central = new Memory({ store: serverStore, embedder: hashEmbedder(), logger: false, now, retention: { erasureLogDays: 30 } });
        const server: ServerHandle = await serve({ memory: central, port: 0, log: () => {} });
        opened.push(server, central);
        const replica = (path: string) => {
          const memory = new Memory({
            store: sqliteStore({ path }),
            embedder: hashEmbedder(),
            logger: false,
            now,
            retention: { erasureLogDays: 30 },
            sync: { url: server.url, interval: '1h', pushDelayMs: false },
          });
          opened.push(memory);
          return memory;
        };
        const laptop = replica(join(directory, `laptop-${randomUUID()}.db`));
        const phonePath = join(directory, `phone-${randomUUID()}.db`);
        let phone = replica(phonePath);
        const first = (await laptop.add({ content: 'Ana prefers tea in the morning' })).memory;
        const second = (await laptop.add({ content: 'Ana moved to Lisbon in March' })).memory;
        const kept = (await laptop.add({ content: 'The build server is called orca' })).memory;
        await laptop.sync.now();
        await phone.sync.now();
        expect((await phone.get(second.id))?.content).toBe('Ana moved to Lisbon in March');
        await phone.close();

        // The phone goes away (closed). The first erasure happens now, the second 40 days later.
        await laptop.forget({ ids: [first.id] });
        await laptop.sync.now();
        clock += 40 * DAY;
        await laptop.forget({ ids: [second.id] });
        await laptop.sync.now();

        // The server dropped the entry older than 30 days (and only it); so did the laptop, which had pushed it.
        const serverLog = await (serverStore.erasuresAfter as NonNullable<MemoryStore['erasuresAfter']>)(0, 100);
        expect(serverLog.horizon).toBe(1);
        expect(serverLog.entries.map((entry) => entry.ids)).toEqual([[second.id]]);
        expect(await laptop.sync.status()).toMatchObject({ pending: 0 });

        // The phone comes back after the horizon passed its erasure cursor, and writes before it syncs.
        phone = replica(phonePath);
        expect((await phone.get(first.id))?.content).toBe('Ana prefers tea in the morning');
        const offline = (await phone.add({ content: 'Written on the phone while away' })).memory;
        await phone.sync.now();
        expect(await phone.get(first.id)).toBeNull(); // told of by the full resync (its log entry is gone)
        expect(await phone.history(first.id)).toEqual([]);
        expect(await phone.get(second.id)).toBeNull(); // told of by the log
        expect((await phone.get(kept.id))?.content).toBe('The build server is called orca');
        expect((await phone.get(offline.id))?.content).toBe('Written on the phone while away');
        expect((await central.get(offline.id))?.content).toBe('Written on the phone while away');
        expect(await phone.sync.status()).toMatchObject({ pending: 0, lastError: null });

        // Done once: the next round is an ordinary one, and the replicas agree.
        const before = await phone.list({ limit: 10 });
        await phone.sync.now();
        await laptop.sync.now();
        const ids = async (memory: Memory) => (await memory.list({ limit: 10 })).items.map((item) => item.id).sort();
        expect(await ids(phone)).toEqual(before.items.map((item) => item.id).sort());
        expect(await ids(laptop)).toEqual(await ids(phone));
      }, 60_000);
    },
  );
}
