import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import type { EventHub } from '../events/event-hub.js';
import { NotFoundError, ValidationError } from '../model/errors.js';
import { checkMetadata, DEFAULT_METADATA_LIMITS, type ResolvedMetadataLimits } from '../model/input-guards.js';
import {
  type LinkOptions,
  linkOptionsSchema,
  type NeighborsOptions,
  neighborsOptionsSchema,
  type PathOptions,
  pathOptionsSchema,
  type RelationsOptions,
  relationsOptionsSchema,
  type SubgraphOptions,
  subgraphOptionsSchema,
  validate,
} from '../model/schema.js';
import type { Direction, RelationTypes } from './relation-types.js';
import { expand, shortestPath } from './traversal.js';

export interface Neighbor {
  memory: MemoryRecord;
  /** Hops from the start (1 = directly linked). */
  distance: number;
  /** The edge that reached this memory first. */
  via: Relation;
}

export interface Subgraph {
  nodes: MemoryRecord[];
  /** Every edge between two nodes of the subgraph. */
  edges: Relation[];
}

export interface GraphContext {
  store: MemoryStore;
  /** Opens the store (once). */
  open: () => Promise<unknown>;
  relationTypes: RelationTypes;
  events: EventHub;
  /** Limits on link metadata (default: DEFAULT_METADATA_LIMITS). */
  metadataLimits?: ResolvedMetadataLimits;
  now: () => number;
}

/** The live (not deleted) memory with this id; ValidationError naming `field` or NotFoundError otherwise. */
export async function liveMemory(store: MemoryStore, id: unknown, field: string): Promise<MemoryRecord> {
  if (typeof id !== 'string' || id.trim().length === 0) throw new ValidationError([{ field, message: 'must be a memory id' }]);
  const [record] = await store.get([id]);
  if (!record) throw new NotFoundError('Memory', id);
  return record;
}

/**
 * Typed relationships between memories: link, unlink, relations, neighbours, path, subgraph.
 * Emits `relation:added` / `relation:removed`.
 */
export class Graph {
  constructor(private readonly context: GraphContext) {}

  /**
   * Creates (or updates the weight/confidence/metadata of) the edge source —type→ target.
   * `inferred` marks edges core wrote itself (auto-linking).
   */
  async link(sourceId: string, targetId: string, type: string, options: LinkOptions, inferred: boolean): Promise<Relation> {
    const { store, relationTypes } = this.context;
    const relationType = relationTypes.check(type);
    const parsed = validate(linkOptionsSchema, options, 'options');
    checkMetadata(parsed.metadata, 'options.metadata', this.context.metadataLimits ?? DEFAULT_METADATA_LIMITS);
    await this.context.open();
    if (sourceId === targetId)
      throw new ValidationError([{ field: 'targetId', message: 'is the same memory as sourceId: self-loops are not allowed' }]);
    await liveMemory(store, sourceId, 'sourceId');
    await liveMemory(store, targetId, 'targetId');
    const [source, target] = relationTypes.orient(sourceId, targetId, relationType);
    const now = new Date(this.context.now());
    const { relation, created } = await store.upsertRelation({
      sourceId: source,
      targetId: target,
      type: relationType,
      weight: parsed.weight ?? 1,
      confidence: parsed.confidence ?? 1,
      metadata: parsed.metadata ?? {},
      inferred,
      createdAt: now,
      updatedAt: now,
    });
    this.context.events.emit('relation:added', { relation, created });
    return relation;
  }

  async unlink(sourceId: string, targetId: string, type?: string): Promise<number> {
    const { store, relationTypes } = this.context;
    if (typeof sourceId !== 'string' || typeof targetId !== 'string') {
      throw new ValidationError([{ field: typeof sourceId !== 'string' ? 'sourceId' : 'targetId', message: 'must be a memory id' }]);
    }
    const relationType = type === undefined ? undefined : relationTypes.check(type);
    await this.context.open();
    const removed: Relation[] = [];
    if (relationType !== undefined) {
      const [source, target] = relationTypes.orient(sourceId, targetId, relationType);
      removed.push(...(await store.removeRelations(source, target, relationType)));
    } else {
      removed.push(...(await store.removeRelations(sourceId, targetId)));
      // Symmetric edges stored the other way round belong to this pair too.
      for (const symmetric of relationTypes.names.filter((name) => relationTypes.isSymmetric(name))) {
        removed.push(...(await store.removeRelations(targetId, sourceId, symmetric)));
      }
    }
    for (const relation of removed) this.context.events.emit('relation:removed', { relation });
    return removed.length;
  }

  async relations(id: string, options: RelationsOptions = {}): Promise<Relation[]> {
    const { store, relationTypes } = this.context;
    const parsed = validate(relationsOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => relationTypes.check(type, `options.types.${index}`));
    await this.context.open();
    await liveMemory(store, id, 'id');
    const direction: Direction = parsed.direction ?? 'both';
    const edges = (await store.relationsOf([id], { direction: 'both', ...(types ? { types } : {}) })).filter(
      (edge) => relationTypes.step(edge, id, direction) !== undefined,
    );
    const others = await store.get([...new Set(edges.map((edge) => (edge.sourceId === id ? edge.targetId : edge.sourceId)))]);
    const live = new Set(others.map((record) => record.id));
    return edges.filter((edge) => live.has(edge.sourceId === id ? edge.targetId : edge.sourceId));
  }

  async neighbors(id: string, options: NeighborsOptions = {}): Promise<Neighbor[]> {
    const { store, relationTypes } = this.context;
    const parsed = validate(neighborsOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => relationTypes.check(type, `options.types.${index}`));
    await this.context.open();
    await liveMemory(store, id, 'id');
    const reached = await expand(store, relationTypes, [id], {
      direction: parsed.direction ?? 'both',
      ...(types ? { types } : {}),
      depth: parsed.depth ?? 1,
      includeSuperseded: parsed.includeSuperseded ?? false,
      maxNodes: parsed.limit ?? 10_000,
    });
    return reached.map(({ memory, distance, via }) => ({ memory, distance, via }));
  }

  async path(fromId: string, toId: string, options: PathOptions = {}): Promise<MemoryRecord[] | null> {
    const { store, relationTypes } = this.context;
    const parsed = validate(pathOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => relationTypes.check(type, `options.types.${index}`));
    await this.context.open();
    const from = await liveMemory(store, fromId, 'fromId');
    const to = await liveMemory(store, toId, 'toId');
    const includeSuperseded = parsed.includeSuperseded ?? false;
    if (!includeSuperseded && (from.supersededBy !== null || to.supersededBy !== null)) return null;
    const ids = await shortestPath(store, relationTypes, fromId, toId, {
      direction: parsed.direction ?? 'both',
      ...(types ? { types } : {}),
      maxDepth: parsed.maxDepth ?? 5,
      includeSuperseded,
    });
    if (!ids) return null;
    const records = new Map((await store.get(ids)).map((record) => [record.id, record]));
    const path = ids.map((pathId) => records.get(pathId));
    return path.every((record) => record !== undefined) ? (path as MemoryRecord[]) : null;
  }

  async subgraph(id: string, options: SubgraphOptions = {}): Promise<Subgraph> {
    const { store, relationTypes } = this.context;
    const parsed = validate(subgraphOptionsSchema, options, 'options');
    const types = parsed.types?.map((type, index) => relationTypes.check(type, `options.types.${index}`));
    await this.context.open();
    const center = await liveMemory(store, id, 'id');
    const maxNodes = parsed.maxNodes ?? 500;
    const reached =
      maxNodes > 1
        ? await expand(store, relationTypes, [id], {
            direction: 'both',
            ...(types ? { types } : {}),
            depth: parsed.radius ?? 2,
            includeSuperseded: parsed.includeSuperseded ?? false,
            maxNodes: maxNodes - 1,
          })
        : [];
    const nodes = [center, ...reached.map((item) => item.memory)];
    const nodeIds = new Set(nodes.map((node) => node.id));
    const edges = (await store.relationsOf([...nodeIds], { direction: 'out', ...(types ? { types } : {}) })).filter((edge) =>
      nodeIds.has(edge.targetId),
    );
    return { nodes, edges };
  }
}
