import type { Memory, Scope } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import { HealthSchema, ScopeQuerySchema, StatsResultSchema, TagsResultSchema, TypesResultSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { scopeFrom } from './request-values.js';
import { ERRORS, jsonContent, SECURITY } from './responses.js';

const tags = ['catalog'];

const tagsRoute = createRoute({
  method: 'get',
  path: '/api/tags',
  tags,
  summary: 'Every tag in use, with how many live memories carry it (most used first)',
  security: SECURITY,
  request: { query: ScopeQuerySchema },
  responses: { 200: jsonContent(TagsResultSchema, 'Tags and counts'), ...ERRORS },
});

const typesRoute = createRoute({
  method: 'get',
  path: '/api/types',
  tags,
  summary: 'The ontology: base types, their subtypes, and how many live memories each type has',
  security: SECURITY,
  request: { query: ScopeQuerySchema },
  responses: { 200: jsonContent(TypesResultSchema, 'Types'), ...ERRORS },
});

const statsRoute = createRoute({
  method: 'get',
  path: '/api/stats',
  tags,
  summary: 'Counts, the store kind and the embedder of your tenant',
  security: SECURITY,
  request: { query: ScopeQuerySchema },
  responses: { 200: jsonContent(StatsResultSchema, 'Statistics'), ...ERRORS },
});

export const healthRoute = createRoute({
  method: 'get',
  path: '/api/health',
  tags: ['server'],
  summary: 'Liveness: no authentication, no internals',
  responses: { 200: jsonContent(HealthSchema, 'The server is up') },
});

/** Counts tags over every live memory in scope, page by page. */
async function countTags(memory: Memory, scope: Scope | undefined): Promise<Array<{ tag: string; count: number }>> {
  const counts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const page = await memory.list({ ...(scope ? { scope } : {}), includeSuperseded: true, limit: 5000, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) for (const tag of record.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return [...counts].map(([tag, count]) => ({ tag, count })).sort((a, b) => b.count - a.count || a.tag.localeCompare(b.tag));
}

export function registerCatalogRoutes(app: EngramHono): void {
  app.openapi(tagsRoute, async (context) => {
    const tagCounts = await countTags(context.get('memory'), scopeFrom(context.req.valid('query')));
    return context.json({ tags: tagCounts } as never, 200);
  });

  app.openapi(typesRoute, async (context) => {
    const memory = context.get('memory');
    const scope = scopeFrom(context.req.valid('query'));
    const types = [];
    for (const type of memory.ontology.types) {
      const count = await memory.count({ ...(scope ? { scope } : {}), types: [type] });
      types.push({ type, subtypes: [...memory.ontology.subtypesOf(type)], count });
    }
    return context.json({ types } as never, 200);
  });

  app.openapi(statsRoute, async (context) => {
    const memory = context.get('memory');
    const scope = scopeFrom(context.req.valid('query'));
    const filter = scope ? { scope } : {};
    const total = await memory.count(filter);
    const byType: Record<string, number> = {};
    for (const type of memory.ontology.types) byType[type] = await memory.count({ ...filter, types: [type] });
    const superseded = (await memory.count({ ...filter, includeSuperseded: true })) - total;
    return context.json(
      {
        total,
        superseded,
        byType,
        store: { name: memory.store.name },
        embedder: { id: memory.embedder.id, dimensions: memory.embedder.dimensions },
        tenant: context.get('tenant'),
      } as never,
      200,
    );
  });
}
