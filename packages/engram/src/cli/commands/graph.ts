import { BUILT_IN_RELATION_TYPES, type MemoryRecord, type Relation, ValidationError } from '@engram/core';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../errors.js';
import { formatRows, memoryRow, toJsonRecord, typeLabel } from '../format.js';
import { type CliState, Invocation } from '../invocation.js';
import { parseJsonObject, parseList, parseNumber, parsePositiveInteger } from '../options.js';

const DIRECTIONS = ['out', 'in', 'both'] as const;
type DirectionFlag = (typeof DIRECTIONS)[number];

function parseDirection(value: string): DirectionFlag {
  if (!(DIRECTIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${DIRECTIONS.join(', ')}`);
  return value as DirectionFlag;
}

function relationJson(relation: Relation): Record<string, unknown> {
  return { ...relation, createdAt: relation.createdAt.toISOString(), updatedAt: relation.updatedAt.toISOString() };
}

function edgeLabel(relation: Relation): string {
  return `${relation.sourceId} -${relation.type}${relation.weight !== 1 ? `(${relation.weight})` : ''}-> ${relation.targetId}${relation.inferred ? ' (inferred)' : ''}`;
}

/** `engram link`, `unlink`, `neighbors`, `path`, `graph`: the relationship graph from the shell. */
export function registerGraph(program: Command, state: CliState): void {
  program
    .command('link')
    .description('Link two memories with a typed relationship (related, contradicts, causes, fixes, supports, follows).')
    .argument('<source>', 'Source memory id')
    .argument('<type>', 'Relationship type')
    .argument('<target>', 'Target memory id')
    .option('--weight <n>', 'Edge weight 0..1 (default 1)', parseNumber)
    .option('--confidence <n>', 'Confidence 0..1 (default 1)', parseNumber)
    .option('--metadata <json>', 'Edge metadata as a JSON object', parseJsonObject)
    .addHelpText(
      'after',
      `
Examples:
  $ engram link <fix-id> fixes <bug-id>
  $ engram link <a> contradicts <b> --confidence 0.7`,
    )
    .action(
      async (
        source: string,
        type: string,
        target: string,
        flags: { weight?: number; confidence?: number; metadata?: Record<string, unknown> },
        self: Command,
      ) => {
        const invocation = new Invocation(state, self);
        const relation = await invocation.withMemory('read', (memory) =>
          memory
            .link(source, target, type, {
              ...(flags.weight !== undefined ? { weight: flags.weight } : {}),
              ...(flags.confidence !== undefined ? { confidence: flags.confidence } : {}),
              ...(flags.metadata !== undefined ? { metadata: flags.metadata } : {}),
            })
            .catch((error: unknown) => {
              // The type is the second positional argument here, not a --type flag, and the CLI
              // cannot register new types: say so in the shell's terms.
              if (ValidationError.isInstance(error) && error.field === 'type') {
                throw new CliError(
                  `invalid <type> "${type}": unknown relationship type. Use one of ${Object.keys(BUILT_IN_RELATION_TYPES).join(', ')} (engram link <source> <type> <target>).`,
                  error.code,
                );
              }
              throw error;
            }),
        );
        await invocation.result({ relation: relationJson(relation) }, () => `linked ${edgeLabel(relation)}`);
      },
    );

  program
    .command('unlink')
    .description('Remove the relationship(s) between two memories: of one type, or all of them.')
    .argument('<source>', 'Source memory id')
    .argument('<target>', 'Target memory id')
    .option('--type <type>', 'Only this relationship type')
    .action(async (source: string, target: string, flags: { type?: string }, self: Command) => {
      const invocation = new Invocation(state, self);
      const removed = await invocation.withMemory('read', (memory) => memory.unlink(source, target, flags.type));
      await invocation.result({ removed }, () => `removed ${removed} relationship${removed === 1 ? '' : 's'}`);
    });

  program
    .command('neighbors')
    .alias('neighbours')
    .description('Memories linked to one, nearest first (deleted and superseded ones are skipped).')
    .argument('<id>', 'Memory id')
    .option('--depth <n>', 'Hops to follow (default 1)', parsePositiveInteger)
    .option('--direction <dir>', 'out, in or both (default both)', parseDirection)
    .option('--types <types>', 'Only these relationship types (comma-separated)', parseList)
    .option('--limit <n>', 'At most this many', parsePositiveInteger)
    .option('--include-superseded', 'Also walk through superseded memories')
    .addHelpText(
      'after',
      `
Examples:
  $ engram neighbors <bug-id> --depth 2
  $ engram neighbors <id> --direction out --types causes,fixes --json`,
    )
    .action(
      async (
        id: string,
        flags: { depth?: number; direction?: DirectionFlag; types?: string[]; limit?: number; includeSuperseded?: boolean },
        self: Command,
      ) => {
        const invocation = new Invocation(state, self);
        const neighbors = await invocation.withMemory('read', (memory) =>
          memory.neighbors(id, {
            ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
            ...(flags.direction !== undefined ? { direction: flags.direction } : {}),
            ...(flags.types !== undefined ? { types: flags.types } : {}),
            ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
            ...(flags.includeSuperseded ? { includeSuperseded: true } : {}),
          }),
        );
        await invocation.result(
          {
            neighbors: neighbors.map((item) => ({
              memory: toJsonRecord(item.memory),
              distance: item.distance,
              via: relationJson(item.via),
            })),
          },
          () =>
            neighbors.length === 0
              ? 'no linked memories'
              : formatRows(
                  neighbors.map((item) => ({
                    cells: [String(item.distance), item.via.type, item.memory.id, typeLabel(item.memory)],
                    content: item.memory.content,
                  })),
                  invocation.width,
                ),
        );
      },
    );

  program
    .command('path')
    .description('The shortest chain of links from one memory to another.')
    .argument('<from>', 'Start memory id')
    .argument('<to>', 'End memory id')
    .option('--max-depth <n>', 'Longest path to look for (default 5)', parsePositiveInteger)
    .option('--direction <dir>', 'Follow edges out, in, or both ways (default both)', parseDirection)
    .option('--types <types>', 'Only these relationship types (comma-separated)', parseList)
    .action(async (from: string, to: string, flags: { maxDepth?: number; direction?: DirectionFlag; types?: string[] }, self: Command) => {
      const invocation = new Invocation(state, self);
      const path = await invocation.withMemory('read', (memory) =>
        memory.path(from, to, {
          ...(flags.maxDepth !== undefined ? { maxDepth: flags.maxDepth } : {}),
          ...(flags.direction !== undefined ? { direction: flags.direction } : {}),
          ...(flags.types !== undefined ? { types: flags.types } : {}),
        }),
      );
      if (!path) invocation.fail(1);
      await invocation.result({ path: path ? path.map(toJsonRecord) : null }, () =>
        path
          ? formatRows(
              path.map((record: MemoryRecord) => memoryRow(record)),
              invocation.width,
            )
          : 'no path within the depth limit',
      );
    });

  program
    .command('graph')
    .description('The subgraph around a memory: nodes and the edges among them (use --json for D3 and friends).')
    .argument('<id>', 'Center memory id')
    .option('--radius <n>', 'Hops from the center (default 2)', parsePositiveInteger)
    .option('--types <types>', 'Only these relationship types (comma-separated)', parseList)
    .option('--max-nodes <n>', 'At most this many nodes (default 500)', parsePositiveInteger)
    .addHelpText(
      'after',
      `
Examples:
  $ engram graph <id> --json > graph.json
  $ engram graph <id> --radius 1 --types fixes,causes`,
    )
    .action(async (id: string, flags: { radius?: number; types?: string[]; maxNodes?: number }, self: Command) => {
      const invocation = new Invocation(state, self);
      const graph = await invocation.withMemory('read', (memory) =>
        memory.subgraph(id, {
          ...(flags.radius !== undefined ? { radius: flags.radius } : {}),
          ...(flags.types !== undefined ? { types: flags.types } : {}),
          ...(flags.maxNodes !== undefined ? { maxNodes: flags.maxNodes } : {}),
        }),
      );
      await invocation.result({ nodes: graph.nodes.map(toJsonRecord), edges: graph.edges.map(relationJson) }, () => [
        `${graph.nodes.length} memories, ${graph.edges.length} relationships`,
        ...formatRows(graph.nodes.map(memoryRow), invocation.width),
        ...graph.edges.map(edgeLabel),
      ]);
    });
}
