import { NotFoundError } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import {
  HistoryResultSchema,
  IdParamSchema,
  LinkSchema,
  NeighborsQuerySchema,
  NeighborsResultSchema,
  PathQuerySchema,
  PathResultSchema,
  RelationResultSchema,
  RelationsQuerySchema,
  RelationsResultSchema,
  ResolveResultSchema,
  ResolveSchema,
  SubgraphQuerySchema,
  SubgraphResultSchema,
  UnlinkQuerySchema,
  UnlinkResultSchema,
} from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { flag, integer, splitList } from './request-values.js';
import { CONFLICT, ERRORS, jsonBody, jsonContent, NOT_FOUND, SECURITY } from './responses.js';

const tags = ['graph'];

const linkRoute = createRoute({
  method: 'post',
  path: '/api/relations',
  tags,
  summary: 'Link two memories with a typed relationship (or update the existing edge)',
  security: SECURITY,
  request: { ...jsonBody(LinkSchema) },
  responses: {
    201: jsonContent(RelationResultSchema, 'Created'),
    200: jsonContent(RelationResultSchema, 'Updated'),
    ...NOT_FOUND,
    ...ERRORS,
  },
});

const unlinkRoute = createRoute({
  method: 'delete',
  path: '/api/relations',
  tags,
  summary: 'Remove the edges from sourceId to targetId (of one type, or all)',
  security: SECURITY,
  request: { query: UnlinkQuerySchema },
  responses: { 200: jsonContent(UnlinkResultSchema, 'How many edges were removed'), ...ERRORS },
});

const relationsRoute = createRoute({
  method: 'get',
  path: '/api/memories/{id}/relations',
  tags,
  summary: 'Edges of a memory',
  security: SECURITY,
  request: { params: IdParamSchema, query: RelationsQuerySchema },
  responses: { 200: jsonContent(RelationsResultSchema, 'Edges, oldest first'), ...NOT_FOUND, ...ERRORS },
});

const neighborsRoute = createRoute({
  method: 'get',
  path: '/api/memories/{id}/neighbors',
  tags,
  summary: 'Memories linked to this one, up to `depth` hops',
  security: SECURITY,
  request: { params: IdParamSchema, query: NeighborsQuerySchema },
  responses: { 200: jsonContent(NeighborsResultSchema, 'Neighbours, nearest first'), ...NOT_FOUND, ...ERRORS },
});

const subgraphRoute = createRoute({
  method: 'get',
  path: '/api/memories/{id}/subgraph',
  tags,
  summary: 'The memories within `radius` hops and every edge among them',
  security: SECURITY,
  request: { params: IdParamSchema, query: SubgraphQuerySchema },
  responses: { 200: jsonContent(SubgraphResultSchema, 'Nodes and edges'), ...NOT_FOUND, ...ERRORS },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/api/memories/{id}/history',
  tags,
  summary: 'Every change to a memory, oldest first',
  security: SECURITY,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(HistoryResultSchema, 'History entries'), ...NOT_FOUND, ...ERRORS },
});

const pathRoute = createRoute({
  method: 'get',
  path: '/api/path',
  tags,
  summary: 'Shortest path between two memories',
  security: SECURITY,
  request: { query: PathQuerySchema },
  responses: { 200: jsonContent(PathResultSchema, 'The memories along the path, or null'), ...NOT_FOUND, ...ERRORS },
});

const resolveRoute = createRoute({
  method: 'post',
  path: '/api/resolve',
  tags,
  summary: 'Settle a contradiction: the loser is superseded by the winner',
  security: SECURITY,
  request: { ...jsonBody(ResolveSchema) },
  responses: { 200: jsonContent(ResolveResultSchema, 'Both memories after the change'), ...NOT_FOUND, ...CONFLICT, ...ERRORS },
});

export function registerGraphRoutes(app: EngramHono): void {
  app.openapi(linkRoute, async (context) => {
    const { sourceId, targetId, type, ...options } = context.req.valid('json');
    const memory = context.get('memory');
    // 201 for a new edge, 200 when the existing one (either orientation, for symmetric types) was updated.
    const existing = await memory.relations(sourceId, { direction: 'both', types: [type] });
    const known = existing.some((edge) => new Set([edge.sourceId, edge.targetId]).has(targetId));
    const relation = await memory.link(sourceId, targetId, type, options);
    return context.json({ relation } as never, known ? 200 : 201);
  });

  app.openapi(unlinkRoute, async (context) => {
    const { sourceId, targetId, type } = context.req.valid('query');
    const removed = await context.get('memory').unlink(sourceId, targetId, type);
    return context.json({ removed } as never, 200);
  });

  app.openapi(relationsRoute, async (context) => {
    const { id } = context.req.valid('param');
    const query = context.req.valid('query');
    const types = splitList(query.types);
    const relations = await context.get('memory').relations(id, {
      ...(query.direction ? { direction: query.direction } : {}),
      ...(types ? { types } : {}),
    });
    return context.json({ relations } as never, 200);
  });

  app.openapi(neighborsRoute, async (context) => {
    const { id } = context.req.valid('param');
    const query = context.req.valid('query');
    const types = splitList(query.types);
    const depth = integer(query.depth);
    const limit = integer(query.limit);
    const includeSuperseded = flag(query.includeSuperseded);
    const neighbors = await context.get('memory').neighbors(id, {
      ...(query.direction ? { direction: query.direction } : {}),
      ...(types ? { types } : {}),
      ...(depth !== undefined ? { depth } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(includeSuperseded !== undefined ? { includeSuperseded } : {}),
    });
    return context.json({ neighbors } as never, 200);
  });

  app.openapi(subgraphRoute, async (context) => {
    const { id } = context.req.valid('param');
    const query = context.req.valid('query');
    const types = splitList(query.types);
    const radius = integer(query.radius);
    const maxNodes = integer(query.maxNodes);
    const includeSuperseded = flag(query.includeSuperseded);
    const subgraph = await context.get('memory').subgraph(id, {
      ...(types ? { types } : {}),
      ...(radius !== undefined ? { radius } : {}),
      ...(maxNodes !== undefined ? { maxNodes } : {}),
      ...(includeSuperseded !== undefined ? { includeSuperseded } : {}),
    });
    return context.json(subgraph as never, 200);
  });

  app.openapi(historyRoute, async (context) => {
    const { id } = context.req.valid('param');
    const history = await context.get('memory').history(id);
    // Core answers [] for an id that never existed or was erased (forget): over HTTP that is a 404.
    if (history.length === 0) throw new NotFoundError('Memory', id);
    return context.json({ history } as never, 200);
  });

  app.openapi(pathRoute, async (context) => {
    const query = context.req.valid('query');
    const types = splitList(query.types);
    const maxDepth = integer(query.maxDepth);
    const includeSuperseded = flag(query.includeSuperseded);
    const path = await context.get('memory').path(query.from, query.to, {
      ...(query.direction ? { direction: query.direction } : {}),
      ...(types ? { types } : {}),
      ...(maxDepth !== undefined ? { maxDepth } : {}),
      ...(includeSuperseded !== undefined ? { includeSuperseded } : {}),
    });
    return context.json({ path } as never, 200);
  });

  app.openapi(resolveRoute, async (context) => {
    const { winnerId, loserId, reason } = context.req.valid('json');
    const result = await context.get('memory').resolve(winnerId, loserId, reason !== undefined ? { reason } : {});
    return context.json(result as never, 200);
  });
}
