import { type InferResult, NotFoundError } from '@engram/core';
import type { z } from '@hono/zod-openapi';
import { createRoute } from '@hono/zod-openapi';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HttpError } from '../errors.js';
import {
  AddOrInferResultSchema,
  AddOrInferSchema,
  BatchResultSchema,
  BatchSchema,
  ContextResultSchema,
  ContextSchema,
  DeleteResultSchema,
  IdParamSchema,
  ListQuerySchema,
  ListResultSchema,
  MemoryResultSchema,
  SearchResultSchema,
  SearchSchema,
  UpdateMemorySchema,
} from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { hitsForJson, recordForJson } from './json-dates.js';
import { addInputFrom, integer, listFilterFrom, withAgent } from './request-values.js';
import { ERRORS, jsonBody, jsonContent, MODEL_FAILED, NOT_FOUND, SECURITY, validationResponse } from './responses.js';

const tags = ['memories'];

export const addRoute = createRoute({
  method: 'post',
  path: '/api/memories',
  tags,
  summary: 'Store a memory, or learn from a conversation',
  description:
    'Stores one memory (`AddMemory`). An exact duplicate in the same scope returns the stored one with status `duplicate` (200). ' +
    'An `X-Agent-ID` header sets `scope.agentId` and adds the tag `agent:<name>`. Accepts mcp-memory-service bodies (`memory_type`).\n\n' +
    'With `messages` and `infer: true` (`InferMemories`), the server’s language model (ENGRAM_MODEL) extracts the facts worth keeping ' +
    'and reconciles them with what the scope holds: new facts are added, changed ones supersede the old, known ones stay unchanged. ' +
    'The answer is `{ results, plan, usage, warnings }`: 201 when something was written, 200 otherwise (a dry run, nothing new). ' +
    'A server without a model answers 400 naming `infer`.',
  security: SECURITY,
  request: { ...jsonBody(AddOrInferSchema) },
  responses: {
    201: jsonContent(AddOrInferResultSchema, 'Created (or, with infer, something was written)'),
    200: jsonContent(AddOrInferResultSchema, 'Already stored (duplicate), a keyed memory updated, or with infer nothing written'),
    ...ERRORS,
    ...MODEL_FAILED,
  },
});

/**
 * The body is one of two shapes; a failure is reported against the one the caller meant
 * (`infer` or `messages` present: InferMemories), so `field` names what to fix.
 */
function addValidationHook(
  result: { success: boolean; error?: z.ZodError; data?: unknown; target: string },
  context: Parameters<typeof validationResponse>[0],
): Response | undefined {
  if (result.success || !result.error) return undefined;
  const body = (result.data && typeof result.data === 'object' ? result.data : {}) as Record<string, unknown>;
  const inferring = 'infer' in body || 'messages' in body;
  if (inferring && 'content' in body) {
    return validationResponse(
      context,
      {
        code: 'custom',
        path: ['content'],
        message: 'does not go with infer: send the conversation as messages (a string, or [{ role, content }])',
        input: body.content,
      },
      result.target,
    );
  }
  const first = result.error.issues[0];
  if (first?.code !== 'invalid_union') return validationResponse(context, first, result.target);
  const branch = first.errors[inferring ? 1 : 0] ?? [];
  return validationResponse(context, branch[0], result.target);
}

const batchRoute = createRoute({
  method: 'post',
  path: '/api/memories/batch',
  tags,
  summary: 'Store up to 1,000 memories in one transaction',
  description: 'All or nothing: one invalid memory rejects the batch (its index is in `field`) and nothing is written.',
  security: SECURITY,
  request: { ...jsonBody(BatchSchema) },
  responses: { 201: jsonContent(BatchResultSchema, 'Stored, one result per memory in order'), ...ERRORS },
});

const listRoute = createRoute({
  method: 'get',
  path: '/api/memories',
  tags,
  summary: 'List memories, newest first',
  security: SECURITY,
  request: { query: ListQuerySchema },
  responses: { 200: jsonContent(ListResultSchema, 'A page; pass nextCursor as cursor for the next one'), ...ERRORS },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/memories/{id}',
  tags,
  summary: 'Get a memory',
  security: SECURITY,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(MemoryResultSchema, 'The memory'), ...NOT_FOUND, ...ERRORS },
});

const updateRoute = createRoute({
  method: 'patch',
  path: '/api/memories/{id}',
  tags,
  summary: 'Change a memory',
  security: SECURITY,
  request: { params: IdParamSchema, ...jsonBody(UpdateMemorySchema) },
  responses: { 200: jsonContent(MemoryResultSchema, 'The updated memory'), ...NOT_FOUND, ...ERRORS },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/api/memories/{id}',
  tags,
  summary: 'Delete a memory (soft: history keeps it)',
  security: SECURITY,
  request: { params: IdParamSchema },
  responses: { 200: jsonContent(DeleteResultSchema, 'Deleted'), ...NOT_FOUND, ...ERRORS },
});

export const searchRoute = createRoute({
  method: 'post',
  path: '/api/search',
  tags: ['retrieval'],
  summary: 'Hybrid search',
  security: SECURITY,
  request: { ...jsonBody(SearchSchema) },
  responses: { 200: jsonContent(SearchResultSchema, 'Hits, best first'), ...ERRORS },
});

const contextRoute = createRoute({
  method: 'post',
  path: '/api/context',
  tags: ['retrieval'],
  summary: 'The best memories for a query as a prompt-ready block within a token budget',
  security: SECURITY,
  request: { ...jsonBody(ContextSchema) },
  responses: { 200: jsonContent(ContextResultSchema, 'Text, its token estimate and the hits in it'), ...ERRORS },
});

export function registerMemoryRoutes(app: EngramHono): void {
  app.openapi(
    addRoute,
    async (context) => {
      const body = context.req.valid('json');
      const agent = context.req.header('x-agent-id');
      if ('infer' in body) {
        const memory = context.get('memory');
        if (!memory.model) {
          throw new HttpError(
            400,
            'VALIDATION_ERROR',
            'Invalid infer: this server has no language model. Start it with ENGRAM_MODEL set (e.g. openai:gpt-4o-mini or ollama:qwen2.5:7b), plus ENGRAM_MODEL_URL and ENGRAM_MODEL_KEY as needed, or store the text as given with { content } and no infer',
            'infer',
          );
        }
        const { messages, infer, ...options } = body;
        // A client that hangs up stops the model calls (on @hono/node-server the request's signal
        // aborts when the connection closes): nothing is written, no tokens are spent for nobody.
        const signal = context.req.raw.signal;
        let result: InferResult;
        try {
          result = await memory.add(messages, { ...options, ...withAgent(options, agent), infer, signal });
        } catch (error) {
          if (!signal.aborted) throw error;
          // 499 (nginx's "client closed request"): nobody reads it, but it keeps this out of the error log.
          throw new HttpError(
            499 as ContentfulStatusCode,
            'CLIENT_CLOSED',
            'The client closed the connection: the model call was stopped and nothing was written',
          );
        }
        const wrote = result.results.some((item) => item.status !== 'unchanged');
        return context.json(result as never, wrote ? 201 : 200);
      }
      const result = await context.get('memory').add(addInputFrom(body, agent));
      return context.json(result as never, result.status === 'created' ? 201 : 200);
    },
    (result, context) => addValidationHook(result, context) as never,
  );

  app.openapi(batchRoute, async (context) => {
    const agent = context.req.header('x-agent-id');
    const inputs = context.req.valid('json').memories.map((body, index) => addInputFrom(body, agent, `memories.${index}`));
    const results = await context.get('memory').addMany(inputs, 'memories');
    return context.json({ results } as never, 201);
  });

  app.openapi(listRoute, async (context) => {
    const query = context.req.valid('query');
    const limit = integer(query.limit);
    const page = await context.get('memory').list({
      ...listFilterFrom(query),
      ...(limit !== undefined ? { limit } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    return context.json({ ...page, items: page.items.map(recordForJson) } as never, 200);
  });

  app.openapi(getRoute, async (context) => {
    const { id } = context.req.valid('param');
    const memory = await context.get('memory').get(id);
    if (!memory) throw new NotFoundError('Memory', id);
    return context.json({ memory: recordForJson(memory) } as never, 200);
  });

  app.openapi(updateRoute, async (context) => {
    const { id } = context.req.valid('param');
    const memory = await context.get('memory').update(id, context.req.valid('json'));
    return context.json({ memory } as never, 200);
  });

  app.openapi(deleteRoute, async (context) => {
    const { id } = context.req.valid('param');
    if (!(await context.get('memory').delete(id))) throw new NotFoundError('Memory', id);
    return context.json({ deleted: true, id } as never, 200);
  });

  app.openapi(searchRoute, async (context) => {
    const { query, ...options } = context.req.valid('json');
    const hits = await context.get('memory').search(query, options);
    return context.json({ hits: hitsForJson(hits) } as never, 200);
  });

  app.openapi(contextRoute, async (context) => {
    const result = await context.get('memory').context(context.req.valid('json'));
    return context.json({ ...result, hits: hitsForJson(result.hits) } as never, 200);
  });
}
