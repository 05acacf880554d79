import { createRoute, z } from '@hono/zod-openapi';
import { ScopeSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

const tags = ['maintenance'];

export const ReindexContextBodySchema = z
  .strictObject({
    scope: ScopeSchema.optional(),
    conversationId: z.string().trim().min(1).optional().openapi({ example: 'chat-42' }),
    turns: z.number().int().min(0).max(20).optional().openapi({
      description: "The window for this run (default: the server's conversationContext.turns, 2); 0 removes derived contexts.",
    }),
  })
  .openapi('ReindexContext');

export const ReindexContextResultSchema = z
  .object({
    conversations: z.number().int().openapi({ description: 'Conversations (scope + conversationId) looked at' }),
    memories: z.number().int().openapi({ description: 'Memories in them' }),
    updated: z.number().int().openapi({ description: 'Memories whose derived context was set, changed or removed' }),
  })
  .openapi('ReindexContextResult');

const reindexContextRoute = createRoute({
  method: 'post',
  path: '/api/reindex/context',
  tags,
  summary: 'Rebuild the conversation context Engram derives for turns (engram reindex --context)',
  description:
    'Send `{}` for everything. Re-derives the preceding-turns context of every conversation memory of your tenant (optionally one scope or one ' +
    'conversation) whose context is absent or was derived; a context the writer gave is never touched. For stores written ' +
    'before conversation context existed, or after changing the window. See docs/conversation-context.md.',
  security: SECURITY,
  request: jsonBody(ReindexContextBodySchema),
  responses: { 200: jsonContent(ReindexContextResultSchema, 'What was re-derived'), ...ERRORS },
});

export function registerReindexRoutes(app: EngramHono): void {
  app.openapi(reindexContextRoute, async (context) => {
    // `{}` is everything the tenant holds.
    const result = await context.get('memory').reindexContext(context.req.valid('json'));
    return context.json(result, 200);
  });
}
