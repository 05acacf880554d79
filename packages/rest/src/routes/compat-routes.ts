import { createRoute } from '@hono/zod-openapi';
import {
  CompatSearchResultSchema,
  CompatSearchSchema,
  RecallResultSchema,
  RecallSchema,
  RememberResultSchema,
  RememberSchema,
} from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { recordForJson } from './json-dates.js';
import { addInputFrom } from './request-values.js';
import { ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

const tags = ['compatibility'];

const compatSearchRoute = createRoute({
  method: 'post',
  path: '/api/memories/search',
  tags,
  summary: 'mcp-memory-service search: { query, n_results, tags, memory_type, similarity_threshold }',
  security: SECURITY,
  request: { ...jsonBody(CompatSearchSchema) },
  responses: { 200: jsonContent(CompatSearchResultSchema, 'Results with similarity_score'), ...ERRORS },
});

const rememberRoute = createRoute({
  method: 'post',
  path: '/api/remember',
  tags,
  summary: 'SHODH remember: { content, user_id, memory_type, tags, metadata }',
  security: SECURITY,
  request: { ...jsonBody(RememberSchema) },
  responses: { 200: jsonContent(RememberResultSchema, 'The stored (or already stored) memory'), ...ERRORS },
});

const recallRoute = createRoute({
  method: 'post',
  path: '/api/recall',
  tags,
  summary: 'SHODH recall: { query, user_id, limit }',
  security: SECURITY,
  request: { ...jsonBody(RecallSchema) },
  responses: { 200: jsonContent(RecallResultSchema, 'Memories with scores'), ...ERRORS },
});

export function registerCompatRoutes(app: EngramHono): void {
  app.openapi(compatSearchRoute, async (context) => {
    const body = context.req.valid('json');
    const hits = await context.get('memory').search(body.query, {
      limit: body.n_results ?? body.limit ?? 10,
      ...(body.tags && body.tags.length > 0 ? { tags: body.tags } : {}),
      ...(body.memory_type ? { types: [body.memory_type] } : {}),
      ...(body.similarity_threshold !== undefined ? { minScore: body.similarity_threshold } : {}),
    });
    const results = hits.map((hit) => ({ memory: recordForJson(hit.memory), similarity_score: hit.score }));
    return context.json({ results, query: body.query, total_found: results.length } as never, 200);
  });

  app.openapi(rememberRoute, async (context) => {
    const body = context.req.valid('json');
    const input = addInputFrom(
      {
        content: body.content,
        ...(body.memory_type !== undefined ? { memory_type: body.memory_type } : {}),
        ...(body.tags ? { tags: body.tags } : {}),
        ...(body.metadata ? { metadata: body.metadata } : {}),
        ...(body.user_id !== undefined ? { scope: { userId: body.user_id } } : {}),
      },
      context.req.header('x-agent-id'),
    );
    const result = await context.get('memory').add(input);
    return context.json({ id: result.memory.id, success: true, memory: result.memory } as never, 200);
  });

  app.openapi(recallRoute, async (context) => {
    const body = context.req.valid('json');
    const hits = await context.get('memory').search(body.query, {
      limit: body.limit ?? 10,
      ...(body.user_id !== undefined ? { scope: { userId: body.user_id } } : {}),
    });
    const memories = hits.map((hit) => ({ memory: recordForJson(hit.memory), score: hit.score }));
    return context.json({ memories, count: memories.length } as never, 200);
  });
}
