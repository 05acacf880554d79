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
    'What the dashboard’s Stats page draws. Reads every live memory of the scope once (page by page), so it costs a scan: ' +
    'call it on demand, not per request. `days` (default 30, at most 366) sets the timeline’s window.',
  security: SECURITY,
  request: { query: StatsBreakdownQuerySchema },
  responses: { 200: jsonContent(StatsBreakdownSchema, 'The breakdown'), ...ERRORS },
});

const NONE = '(none)';
const DAY_MS = 86_400_000;

function increment(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

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

export async function statsBreakdown(memory: Memory, scope: Scope | undefined, days: number, now = Date.now()) {
  const byType: Record<string, number> = {};
  const bySubtype: Record<string, number> = {};
  const byUser: Record<string, number> = {};
  const byAgent: Record<string, number> = {};
  const tags = new Map<string, number>();
  const start = Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS;
  const timeline = Array.from({ length: days }, (_, index) => ({
    day: new Date(start + index * DAY_MS).toISOString().slice(0, 10),
    byType: {} as Record<string, number>,
  }));
  let total = 0;
  let superseded = 0;
  let relations = 0;
  let cursor: string | null = null;
  do {
    const page = await memory.list({ ...(scope ? { scope } : {}), includeSuperseded: true, limit: 2000, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      total++;
      if (record.supersededBy) superseded++;
      increment(byType, record.type);
      if (record.subtype) increment(bySubtype, record.subtype);
      increment(byUser, record.scope.userId ?? NONE);
      increment(byAgent, record.scope.agentId ?? NONE);
      for (const tag of record.tags) tags.set(tag, (tags.get(tag) ?? 0) + 1);
      const created = new Date(record.createdAt).getTime();
      const slot = timeline[Math.floor((created - start) / DAY_MS)];
      if (created >= start && slot) increment(slot.byType, record.type);
    }
    // One store query per page: each edge once, from its stored source.
    const pageIds = new Set(page.items.map((record) => record.id));
    if (pageIds.size > 0) {
      const outgoing = await memory.store.relationsOf([...pageIds], { direction: 'out' });
      relations += outgoing.filter((edge) => pageIds.has(edge.sourceId)).length;
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  const store = memory.store;
  const vectors = store.capabilities.vectors && store.vectors ? await store.vectors.count() : null;
  const live = await memory.count({ ...(scope ? { scope } : {}), includeSuperseded: true });
  return {
    total,
    superseded,
    byType,
    bySubtype,
    byUser,
    byAgent,
    topTags: [...tags]
      .map(([tag, count]) => ({ tag, count }))
      .sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag))
      .slice(0, 20),
    timeline,
    relations,
    store: { name: store.name, bytes: await storeBytes(store.location) },
    embedder: { id: memory.embedder.id, dimensions: memory.embedder.dimensions },
    index: {
      vectors,
      lexical: store.capabilities.lexical,
      // A scoped count cannot be compared with the index's total: health is judged on the whole tenant.
      healthy: vectors === null || scope !== undefined || vectors >= live,
    },
  };
}

export function registerStatsBreakdownRoutes(app: EngramHono): void {
  app.openapi(breakdownRoute, async (context) => {
    const query = context.req.valid('query');
    const days = Math.min(Math.max(integer(query.days) ?? 30, 1), 366);
    const breakdown = await statsBreakdown(context.var.memory, scopeFrom(query), days);
    return context.json({ ...breakdown, tenant: context.var.tenant } as never, 200);
  });
}
