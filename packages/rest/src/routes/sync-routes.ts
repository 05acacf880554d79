import { createRoute } from '@hono/zod-openapi';
import {
  SyncChangesHeadersSchema,
  SyncChangesQuerySchema,
  SyncChangesResultSchema,
  SyncPushResultSchema,
  SyncPushSchema,
} from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

const tags = ['sync'];

const changesRoute = createRoute({
  method: 'get',
  path: '/api/sync/changes',
  tags,
  summary: "Your tenant's changes after a cursor: each memory changed as it is now, and graph changes",
  description:
    'Replicas pull with the `cursor` of the previous page until `more` is false. A memory changed several times in a page ' +
    'travels once. Vectors never travel: each side embeds with its own embedder. With the `X-Engram-Erased-Since` header, ' +
    'the answer also lists the memories erased (forget, retention) after that erasure cursor (`erased`): erase them.',
  security: SECURITY,
  request: { query: SyncChangesQuerySchema, headers: SyncChangesHeadersSchema },
  responses: { 200: jsonContent(SyncChangesResultSchema, 'A page of changes'), ...ERRORS },
});

const pushRoute = createRoute({
  method: 'post',
  path: '/api/sync/push',
  tags,
  summary: "Apply a replica's local operations to your tenant, in order, each (replicaId, seq) once",
  description:
    'Operations are applied in the order they arrive (the server orders concurrent writers). A create whose key or content ' +
    'matches a live memory in the same scope is merged into it; an update of a deleted memory is ignored (a delete wins). ' +
    'A retried push answers `duplicate` for what was applied before. `erasures` (memories the replica erased) are applied first, ' +
    'each (replicaId, seq) once, in your tenant only, as `POST /api/forget` erases.',
  security: SECURITY,
  request: jsonBody(SyncPushSchema),
  responses: { 200: jsonContent(SyncPushResultSchema, 'One result per operation, in order'), ...ERRORS },
});

export function registerSyncRoutes(app: EngramHono): void {
  app.openapi(changesRoute, async (context) => {
    const query = context.req.valid('query');
    const erasedSince = context.req.valid('header')['x-engram-erased-since'];
    const page = await context.get('memory').sync.changes({
      since: Number(query.since),
      ...(query.limit !== undefined ? { limit: Number(query.limit) } : {}),
      ...(erasedSince !== undefined ? { erasedSince: Number(erasedSince) } : {}),
    });
    return context.json(page as never, 200);
  });

  app.openapi(pushRoute, async (context) => {
    const result = await context.get('memory').sync.receive(context.req.valid('json'));
    return context.json(result as never, 200);
  });
}
