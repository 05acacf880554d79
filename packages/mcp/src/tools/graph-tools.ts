import type { Memory, Relation } from '@engram/core';
import { z } from 'zod';
import {
  type AnyToolDefinition,
  defined,
  defineTool,
  idArgument,
  inScope,
  invalid,
  plural,
  RELATION_HELP,
  scopeArguments,
  scopeOf,
  visibleMemory,
} from './tool-kit.js';
import { memoryLine, memoryView, memoryViewSchema, relationLine, relationView, relationViewSchema } from './views.js';

const relationType = z
  .string({ error: 'required (related, contradicts, causes, fixes, supports or follows)' })
  .trim()
  .min(1, 'must not be empty')
  .describe(`The relationship: related, contradicts, causes, fixes, supports or follows. ${RELATION_HELP}`);
const unit = z.number().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

// ---------------------------------------------------------------- memory_link / memory_unlink

const memoryLink = defineTool({
  name: 'memory_link',
  title: 'Link two memories',
  description:
    'Record how two memories relate, e.g. a fix "fixes" a bug, a cause "causes" an error, a new finding "contradicts" an old one. ' +
    'Linking again updates the weight.',
  input: z.strictObject({
    source_id: idArgument('The memory the link starts from.'),
    target_id: idArgument('The memory the link points to.'),
    type: relationType,
    weight: unit.optional().describe('Strength 0–1, default 1.'),
    confidence: unit.optional().describe('How sure you are, 0–1, default 1.'),
    metadata: z.record(z.string(), z.unknown()).optional(),
    ...scopeArguments,
  }),
  output: z.object({ relation: relationViewSchema, created: z.boolean() }),
  kind: 'write',
  idempotent: true,
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    await visibleMemory(memory, args.source_id, scope);
    await visibleMemory(memory, args.target_id, scope);
    const relation = await memory.link(
      args.source_id,
      args.target_id,
      args.type,
      defined({ weight: args.weight, confidence: args.confidence, metadata: args.metadata }),
    );
    const created = relation.createdAt.getTime() === relation.updatedAt.getTime();
    return {
      text: `${created ? 'Linked' : 'Updated link'}: ${relationLine(relation)}`,
      data: { relation: relationView(relation), created },
    };
  },
});

const memoryUnlink = defineTool({
  name: 'memory_unlink',
  title: 'Remove a link',
  description: 'Remove the link of this type between two memories (either order for related/contradicts).',
  input: z.strictObject({
    source_id: idArgument('The memory the link starts from.'),
    target_id: idArgument('The memory the link points to.'),
    type: relationType,
    ...scopeArguments,
  }),
  output: z.object({ removed: z.number() }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    await visibleMemory(memory, args.source_id, scope);
    await visibleMemory(memory, args.target_id, scope);
    const removed = await memory.unlink(args.source_id, args.target_id, args.type);
    return {
      text:
        removed === 0
          ? `No ${args.type} link between ${args.source_id} and ${args.target_id}: nothing removed.`
          : `Removed ${plural(removed, 'link')}.`,
      data: { removed },
    };
  },
});

// ---------------------------------------------------------------- memory_graph

const neighborSchema = z.object({ distance: z.number(), via: relationViewSchema, memory: memoryViewSchema });

const memoryGraph = defineTool({
  name: 'memory_graph',
  title: 'Explore linked memories',
  description:
    'Follow links between memories. action "connected": memories linked to id (up to depth hops); ' +
    '"path": the shortest chain of links from "from" to "to"; "subgraph": every memory within depth hops of id and the links among them.',
  input: z.strictObject({
    action: z.enum(['connected', 'path', 'subgraph'], { error: 'required: connected, path or subgraph' }),
    id: idArgument('The memory to start from (connected, subgraph).').optional(),
    from: idArgument('Start of the path (path).').optional(),
    to: idArgument('End of the path (path).').optional(),
    direction: z.enum(['out', 'in', 'both']).optional().describe('Follow links out of, into, or both ways (default both).'),
    types: z.array(z.string()).max(50).optional().describe('Only these relationship types.'),
    depth: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(10, 'must be at most 10')
      .optional()
      .describe('Hops: default 1 (connected), 2 (subgraph), 5 (path, the longest chain tried).'),
    include_superseded: z.boolean().optional().describe('Also cross memories replaced by newer ones. Default false.'),
    limit: z.number().int().min(1).max(1000).optional().describe('Most memories returned. Default 100.'),
    ...scopeArguments,
  }),
  output: z.object({
    action: z.enum(['connected', 'path', 'subgraph']),
    nodes: z.array(memoryViewSchema),
    edges: z.array(relationViewSchema),
    neighbors: z.array(neighborSchema).optional(),
    found: z.boolean().optional(),
  }),
  kind: 'read',
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    const types = args.types && args.types.length > 0 ? args.types : undefined;
    const limit = args.limit ?? 100;
    if (args.action === 'path') {
      if (args.from === undefined) throw invalid('from', 'is required for action "path"');
      if (args.to === undefined) throw invalid('to', 'is required for action "path"');
      await visibleMemory(memory, args.from, scope);
      await visibleMemory(memory, args.to, scope);
      const found = await memory.path(
        args.from,
        args.to,
        defined({ direction: args.direction ?? 'both', types, maxDepth: args.depth ?? 5, includeSuperseded: args.include_superseded }),
      );
      // A chain through memories of another scope is no chain for this caller.
      const path = found?.every((record) => inScope(record, scope)) ? found : null;
      const edges = path
        ? await edgesAlong(
            memory,
            path.map((record) => record.id),
            types,
          )
        : [];
      return {
        text: path
          ? `Path of ${plural(path.length - 1, 'link')}:\n${path.map((record, index) => `${index === 0 ? '' : `  ${edgeLabel(edges[index - 1])}\n`}${index + 1}. ${memoryLine(record, { max: 200 })}`).join('\n')}`
          : `No path from ${args.from} to ${args.to} within ${args.depth ?? 5} links.`,
        data: {
          action: 'path',
          found: path !== null,
          nodes: (path ?? []).map(memoryView),
          edges: edges.filter((edge): edge is Relation => edge !== undefined).map(relationView),
        },
      };
    }
    if (args.id === undefined) throw invalid('id', `is required for action "${args.action}"`);
    const start = await visibleMemory(memory, args.id, scope);
    if (args.action === 'connected') {
      const reached = (
        await memory.neighbors(
          args.id,
          defined({
            direction: args.direction ?? 'both',
            types,
            depth: args.depth ?? 1,
            includeSuperseded: args.include_superseded,
            limit: 10_000,
          }),
        )
      )
        .filter((neighbor) => inScope(neighbor.memory, scope))
        .slice(0, limit);
      return {
        text:
          reached.length === 0
            ? `No memories are linked to ${args.id}.`
            : `${plural(reached.length, 'memory')} linked to ${args.id}:\n${reached.map((neighbor) => `- ${neighbor.via.type} (${plural(neighbor.distance, 'hop')}): ${memoryLine(neighbor.memory, { max: 200 })}`).join('\n')}`,
        data: {
          action: 'connected',
          nodes: reached.map((neighbor) => memoryView(neighbor.memory)),
          edges: reached.map((neighbor) => relationView(neighbor.via)),
          neighbors: reached.map((neighbor) => ({
            distance: neighbor.distance,
            via: relationView(neighbor.via),
            memory: memoryView(neighbor.memory),
          })),
        },
      };
    }
    if (args.direction !== undefined) throw invalid('direction', 'applies to connected and path; a subgraph follows links both ways');
    const graph = await memory.subgraph(
      args.id,
      defined({ radius: args.depth ?? 2, types, includeSuperseded: args.include_superseded, maxNodes: 10_000 }),
    );
    const nodes = [start, ...graph.nodes.filter((node) => node.id !== start.id && inScope(node, scope))].slice(0, limit);
    const ids = new Set(nodes.map((node) => node.id));
    const edges = graph.edges.filter((edge) => ids.has(edge.sourceId) && ids.has(edge.targetId));
    return {
      text: `${plural(nodes.length, 'memory')} and ${plural(edges.length, 'link')} around ${args.id}:\n${nodes.map((node) => `- ${memoryLine(node, { max: 200 })}`).join('\n')}${edges.length > 0 ? `\nLinks:\n${edges.map((edge) => `- ${relationLine(edge)}`).join('\n')}` : ''}`,
      data: { action: 'subgraph', nodes: nodes.map(memoryView), edges: edges.map(relationView) },
    };
  },
});

/** The edge joining each consecutive pair of a path (either orientation). */
async function edgesAlong(memory: Memory, ids: string[], types: string[] | undefined): Promise<Array<Relation | undefined>> {
  const edges: Array<Relation | undefined> = [];
  for (let index = 0; index + 1 < ids.length; index++) {
    const from = ids[index] as string;
    const to = ids[index + 1] as string;
    const relations = await memory.relations(from, defined({ types }));
    edges.push(
      relations.find((edge) => (edge.sourceId === from && edge.targetId === to) || (edge.sourceId === to && edge.targetId === from)),
    );
  }
  return edges;
}

function edgeLabel(edge: Relation | undefined): string {
  return edge ? `—${edge.type}→` : '—';
}

// ---------------------------------------------------------------- memory_resolve

const memoryResolve = defineTool({
  name: 'memory_resolve',
  title: 'Resolve a contradiction',
  description:
    'Two memories disagree and one is right: the loser is marked superseded by the winner (hidden from search unless include_superseded), ' +
    'a contradicts link is recorded, and the history keeps why.',
  input: z.strictObject({
    winner_id: idArgument('The memory that is right (stays current).'),
    loser_id: idArgument('The memory that is wrong or outdated (becomes superseded).'),
    reason: z.string().max(1000).optional().describe('Why, for the history.'),
    ...scopeArguments,
  }),
  output: z.object({ winner: memoryViewSchema, loser: memoryViewSchema }),
  kind: 'destructive',
  idempotent: true,
  async run(args, context) {
    const memory = await context.memory();
    const scope = scopeOf(args, context.defaults);
    await visibleMemory(memory, args.winner_id, scope);
    await visibleMemory(memory, args.loser_id, scope);
    const { winner, loser } = await memory.resolve(args.winner_id, args.loser_id, defined({ reason: args.reason }));
    return {
      text: `Resolved: ${loser.id} is superseded by ${winner.id}.\nCurrent: ${memoryLine(winner, { max: 200 })}\nSuperseded: ${memoryLine(loser, { max: 200 })}`,
      data: { winner: memoryView(winner), loser: memoryView(loser) },
    };
  },
});

export const graphTools: AnyToolDefinition[] = [memoryLink, memoryUnlink, memoryGraph, memoryResolve];
