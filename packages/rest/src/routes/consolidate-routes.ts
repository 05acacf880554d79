import type { ConsolidationStep } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import { ConsolidateSchema, ConsolidationReportSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

const consolidateRoute = createRoute({
  method: 'post',
  path: '/api/consolidate',
  tags: ['maintenance'],
  summary: 'Consolidate: score relevance, forget, compress and suggest associations (a dry run by default)',
  description:
    'Runs `memory.consolidate({ dryRun, scope, steps })` on your tenant and answers its report. `dryRun` defaults to true: ' +
    'nothing is written until you send `dryRun: false`. See docs/consolidation.md for what each step does.',
  security: SECURITY,
  request: { ...jsonBody(ConsolidateSchema) },
  responses: { 200: jsonContent(ConsolidationReportSchema, 'The report'), ...ERRORS },
});

export function registerConsolidateRoutes(app: EngramHono): void {
  app.openapi(consolidateRoute, async (context) => {
    const { dryRun, scope, steps } = context.req.valid('json');
    const report = await context.var.memory.consolidate({
      dryRun: dryRun ?? true,
      ...(scope ? { scope } : {}),
      ...(steps ? { steps: steps as ConsolidationStep[] } : {}),
    });
    return context.json(report as never, 200);
  });
}
