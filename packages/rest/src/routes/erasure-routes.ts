import { type Memory, type Scope, ValidationError } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import { ForgetResultSchema, ForgetSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

export const forgetRoute = createRoute({
  method: 'post',
  path: '/api/forget',
  tags: ['maintenance'],
  summary: 'Erase memories for good (right to erasure): a dry run unless confirm is true',
  description:
    'Erases every memory of a scope (`{ scope: { userId } }`) or the memories with these ids (`{ ids }`), whatever their state ' +
    '(live, superseded or deleted), with their history, links, vectors and index entries, then reclaims the space. Unlike ' +
    'DELETE /api/memories/{id} (a soft delete that history keeps), nothing of them remains and it cannot be undone. ' +
    'Without `confirm: true` it only reports what would be erased (`matched`, `ids`).',
  security: SECURITY,
  request: { ...jsonBody(ForgetSchema) },
  responses: { 200: jsonContent(ForgetResultSchema, 'What was (or, in a dry run, would be) erased'), ...ERRORS },
});

/** Ids of every memory of the scope, deleted and superseded ones included: what an erasure removes. */
async function idsOfScope(memory: Memory, scope: Scope): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await memory.list({
      scope,
      includeDeleted: true,
      includeSuperseded: true,
      limit: 1000,
      decrypt: false,
      ...(cursor ? { cursor } : {}),
    });
    for (const record of page.items) ids.push(record.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

/** The ids that name a memory of this tenant in any state (history keeps one entry per memory until it is erased). */
async function knownIds(memory: Memory, ids: string[]): Promise<string[]> {
  const known: string[] = [];
  for (const id of new Set(ids)) if ((await memory.history(id)).length > 0) known.push(id);
  return known;
}

export function registerErasureRoutes(app: EngramHono): void {
  app.openapi(forgetRoute, async (context) => {
    const { scope, ids, confirm = false } = context.req.valid('json');
    const memory = context.get('memory');
    if ((scope === undefined) === (ids === undefined)) {
      throw new ValidationError([
        { field: scope === undefined ? 'scope' : 'ids', message: 'send one of scope ({ "userId": "alice" }) or ids ([…])' },
      ]);
    }
    if (scope !== undefined && Object.keys(scope).length === 0) {
      throw new ValidationError([
        { field: 'scope', message: 'names no userId, agentId or runId: refusing to erase every memory of your tenant' },
      ]);
    }
    const matched = scope !== undefined ? await idsOfScope(memory, scope) : await knownIds(memory, ids ?? []);
    if (!confirm || matched.length === 0) {
      return context.json({ dryRun: !confirm, matched: matched.length, forgotten: 0, ids: matched } as never, 200);
    }
    const result = await memory.forget(scope !== undefined ? { scope } : { ids: matched });
    return context.json({ dryRun: false, matched: matched.length, forgotten: result.forgotten, ids: result.ids } as never, 200);
  });
}
