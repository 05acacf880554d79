import { z } from 'zod';
import { VERSION } from '../version.js';
import { type AnyToolDefinition, defineTool, scopeArguments, scopeOf, type ToolContext } from './tool-kit.js';

export const statsOutputSchema = z.object({
  health: z.object({ ok: z.boolean(), latency_ms: z.number(), error: z.string().optional() }),
  total: z.number().optional(),
  superseded: z.number().optional(),
  by_type: z.record(z.string(), z.number()).optional(),
  store: z.object({ name: z.string(), location: z.string().nullable() }).optional(),
  embedder: z.object({ id: z.string(), dimensions: z.number() }).optional(),
  scope: z.object({ user_id: z.string().optional(), agent_id: z.string().optional(), run_id: z.string().optional() }),
  server: z.object({ name: z.string(), version: z.string() }),
});
export type Stats = z.infer<typeof statsOutputSchema>;

/** Counts, store, embedder and health. Never throws: a store that cannot open is reported as unhealthy. */
export async function collectStats(args: { user_id?: string; agent_id?: string; run_id?: string }, context: ToolContext): Promise<Stats> {
  const scope = scopeOf(args, context.defaults);
  const scopeView = {
    ...(scope.userId !== undefined ? { user_id: scope.userId } : {}),
    ...(scope.agentId !== undefined ? { agent_id: scope.agentId } : {}),
    ...(scope.runId !== undefined ? { run_id: scope.runId } : {}),
  };
  const server = { name: 'engram', version: VERSION };
  let started = performance.now();
  try {
    const memory = await context.memory();
    await memory.ready();
    // Latency of one query on an open store (opening it the first time is not the store's health).
    started = performance.now();
    const total = await memory.count({ scope });
    const latency = performance.now() - started;
    const byType: Record<string, number> = {};
    for (const type of memory.ontology.types) byType[type] = await memory.count({ scope, types: [type] });
    const superseded = (await memory.count({ scope, includeSuperseded: true })) - total;
    return {
      health: { ok: true, latency_ms: Math.round(latency * 10) / 10 },
      total,
      superseded,
      by_type: byType,
      store: { name: memory.store.name, location: memory.store.location ?? null },
      embedder: { id: memory.embedder.id, dimensions: memory.embedder.dimensions },
      scope: scopeView,
      server,
    };
  } catch (error) {
    return {
      health: {
        ok: false,
        latency_ms: Math.round((performance.now() - started) * 10) / 10,
        error: error instanceof Error ? error.message : String(error),
      },
      scope: scopeView,
      server,
    };
  }
}

export function statsText(stats: Stats): string {
  if (!stats.health.ok) return `Unhealthy: ${stats.health.error}`;
  const scope =
    Object.entries(stats.scope)
      .map(([name, value]) => `${name}=${value}`)
      .join(' ') || 'everything (no scope)';
  return [
    `healthy (${stats.health.latency_ms} ms)`,
    `store: ${stats.store?.name} ${stats.store?.location ?? ''}`.trimEnd(),
    `embedder: ${stats.embedder?.id} (${stats.embedder?.dimensions} dimensions)`,
    `scope: ${scope}`,
    `memories: ${stats.total}${stats.superseded ? ` (+${stats.superseded} superseded)` : ''}`,
    ...Object.entries(stats.by_type ?? {}).map(([type, count]) => `  ${type}: ${count}`),
    `server: engram-mcp ${stats.server.version}`,
  ].join('\n');
}

const memoryStats = defineTool({
  name: 'memory_stats',
  title: 'Memory statistics',
  description: 'How many memories there are (by type), where they are stored, which embedder is used, and whether the store is healthy.',
  input: z.strictObject({ ...scopeArguments }),
  output: statsOutputSchema,
  kind: 'read',
  async run(args, context) {
    const stats = await collectStats(args, context);
    return { text: statsText(stats), data: stats };
  },
});

export const statsTools: AnyToolDefinition[] = [memoryStats];
