import { stat } from 'node:fs/promises';
import type { Memory, Scope } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import { StatsBreakdownQuerySchema, StatsBreakdownSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { integer, scopeFrom } from './request-values.js';
import { ERRORS, jsonContent, SECURITY } from './responses.js';

const breakdownRoute = createRoute({
  method: 'get',
  path: '/api/stats/breakdown',
  tags: ['catalog'],
  summary: 'Counts by type, subtype, user, agent and tag, memories created per day, store size and index health',
  description:
    'What the dashboard’s Stats page draws (`memory.statistics`): aggregate queries on SQLite and Postgres, a scan of the ' +
    'scope’s memories on other stores. `days` (default 30, at most 366) sets the timeline’s window.',
  security: SECURITY,
  request: { query: StatsBreakdownQuerySchema },
  responses: { 200: jsonContent(StatsBreakdownSchema, 'The breakdown'), ...ERRORS },
});

const DAY_MS = 86_400_000;

/** Bytes of a local store file plus its write-ahead log; null when the store is not a file. */
async function storeBytes(location: string | undefined): Promise<number | null> {
  if (!location || location === ':memory:' || location.includes('://')) return null;
  let total = 0;
  let found = false;
  for (const path of [location, `${location}-wal`]) {
    try {
      total += (await stat(path)).size;
      found = true;
    } catch {
      // No such file (no WAL yet, or not a file store).
    }
  }
  return found ? total : null;
}

/** Names in order, null (none) last. */
function byName(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return a.localeCompare(b);
}

export async function statsBreakdown(memory: Memory, scope: Scope | undefined, days: number, now = Date.now()) {
  const start = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  // Aggregate queries on SQLite and Postgres (a scan of the scope's memories on other stores).
  const counts = await memory.statistics(
    { ...(scope ? { scope } : {}), includeSuperseded: true },
    { createdSince: new Date(start), tagLimit: 20 },
  );
  const timeline = Array.from({ length: days }, (_, index) => ({
    day: new Date(start + index * DAY_MS).toISOString().slice(0, 10),
    byType: {} as Record<string, number>,
  }));
  for (const { day, type, count } of counts.createdPerDay) {
    const slot = timeline[day - start / DAY_MS];
    if (slot) slot.byType[type] = (slot.byType[type] ?? 0) + count;
  }
  const record = <Entry>(list: Entry[], key: (entry: Entry) => string, count: (entry: Entry) => number): Record<string, number> => {
    const counted: Record<string, number> = {};
    for (const entry of list) counted[key(entry)] = (counted[key(entry)] ?? 0) + count(entry);
    return counted;
  };
  const store = memory.store;
  const vectors = store.capabilities.vectors && store.vectors ? await store.vectors.count() : null;
  return {
    total: counts.total,
    superseded: counts.superseded,
    byType: record(
      counts.byType,
      (entry) => entry.type,
      (entry) => entry.count,
    ),
    bySubtype: record(
      counts.bySubtype,
      (entry) => entry.subtype,
      (entry) => entry.count,
    ),
    // "No user" is null, never a name: a user may be called anything, "(none)" included.
    byUser: counts.byUser.sort((a, b) => b.count - a.count || byName(a.userId, b.userId)),
    byAgent: counts.byAgent.sort((a, b) => b.count - a.count || byName(a.agentId, b.agentId)),
    topTags: counts.tags.sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag)).slice(0, 20),
    timeline,
    relations: counts.relations,
    store: { name: store.name, bytes: await storeBytes(store.location) },
    embedder: { id: memory.embedder.id, dimensions: memory.embedder.dimensions },
    index: {
      vectors,
      lexical: store.capabilities.lexical,
      // A scoped count cannot be compared with the index's total: health is judged on the whole tenant.
      healthy: vectors === null || scope !== undefined || vectors >= counts.total,
    },
  };
}

export function registerStatsBreakdownRoutes(app: EngramHono): void {
  app.openapi(breakdownRoute, async (context) => {
    const query = context.req.valid('query');
    const days = Math.min(Math.max(integer(query.days) ?? 30, 1), 366);
    const breakdown = await statsBreakdown(context.get('memory'), scopeFrom(query), days);
    return context.json({ ...breakdown, tenant: context.get('tenant') } as never, 200);
  });
}
