import { type ConsolidationReport, type Memory, ValidationError } from '@engram/core';
import { createRoute } from '@hono/zod-openapi';
import { runExclusively } from '../consolidation/consolidation-runs.js';
import { ConsolidateSchema, ConsolidationReportSchema } from '../schemas.js';
import type { EngramHono } from './app-env.js';
import { CONFLICT, ERRORS, jsonBody, jsonContent, SECURITY } from './responses.js';

export const consolidateRoute = createRoute({
  method: 'post',
  path: '/api/consolidate',
  tags: ['maintenance'],
  summary: 'Consolidate your memories: a dry run unless dryRun is false',
  description:
    'Scores how relevant each memory still is (relevance), archives then soft-deletes the faded ones (forgetting: never linked, ' +
    'important, keyed or `keep`-tagged ones), folds near-duplicate clusters into `pattern` memories (compression) and, when asked, ' +
    'suggests links (associations). The answer is the report of `memory.consolidate()`: what each step would do (dry run, the default) ' +
    'or did, with ids and reasons. Forgotten memories go to your tenant’s own archive (JSON Lines that POST /api/import restores). ' +
    'One applying run per tenant at a time (409 otherwise); no request timeout applies.',
  security: SECURITY,
  request: { ...jsonBody(ConsolidateSchema) },
  responses: {
    200: jsonContent(ConsolidationReportSchema, 'The report'),
    ...CONFLICT,
    ...ERRORS,
  },
});

/** The report as JSON: `now` as an ISO string (what the OpenAPI document says). */
export function reportJson(report: ConsolidationReport): unknown {
  return JSON.parse(JSON.stringify(report));
}

export async function consolidate(memory: Memory, options: Parameters<Memory['consolidate']>[0]): Promise<ConsolidationReport> {
  try {
    return await memory.consolidate(options);
  } catch (error) {
    if (ValidationError.isInstance(error) && error.field === 'consolidation.archive') {
      // Core's message speaks to SDK users; a server's operator fixes it with a flag.
      throw new ValidationError(
        [
          {
            field: 'dryRun',
            message:
              'false needs an archive for forgotten memories, and this server has none (a Postgres store): start it with --archive-dir <folder>, or leave the forgetting step out (steps)',
          },
        ],
        { cause: error },
      );
    }
    throw error;
  }
}

export function registerConsolidationRoutes(app: EngramHono): void {
  app.openapi(consolidateRoute, async (context) => {
    const { dryRun = true, scope, steps, now } = context.req.valid('json');
    const memory = context.get('memory');
    const options = { dryRun, ...(scope ? { scope } : {}), ...(steps ? { steps } : {}), ...(now !== undefined ? { now } : {}) };
    const report = dryRun ? await consolidate(memory, options) : await runExclusively(memory, () => consolidate(memory, options));
    return context.json(reportJson(report) as never, 200);
  });
}
