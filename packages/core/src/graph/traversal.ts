import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import type { Direction, RelationTypes } from './relation-types.js';

export interface TraversalOptions {
  direction: Direction;
  types?: string[];
  depth: number;
  includeSuperseded: boolean;
  /** Stop once this many nodes are found. */
  maxNodes: number;
}

export interface Reached {
  memory: MemoryRecord;
  distance: number;
  /** The edge that first reached this memory. */
  via: Relation;
  /** The memory the edge was walked from. */
  from: string;
}

/** A memory a traversal may enter: live (store.get skips deleted ones) and not superseded unless asked. */
async function enterable(store: MemoryStore, ids: string[], includeSuperseded: boolean): Promise<Map<string, MemoryRecord>> {
  if (ids.length === 0) return new Map();
  const records = await store.get(ids);
  return new Map(records.filter((record) => includeSuperseded || record.supersededBy === null).map((record) => [record.id, record]));
}

/**
 * Breadth-first expansion, one store query per level (iterative expansion: each level is one
 * indexed edge lookup plus one record fetch). Each memory is reached once, at its shortest
 * distance; cycles never loop; deleted (and, unless asked, superseded) memories are never entered
 * or crossed; the start is never returned.
 */
export async function expand(
  store: MemoryStore,
  relationTypes: RelationTypes,
  startIds: string[],
  options: TraversalOptions,
): Promise<Reached[]> {
  const visited = new Set(startIds);
  const reached: Reached[] = [];
  let frontier = [...startIds];
  for (let distance = 1; distance <= options.depth && frontier.length > 0 && reached.length < options.maxNodes; distance++) {
    const edges = await store.relationsOf(frontier, { direction: 'both', ...(options.types ? { types: options.types } : {}) });
    const frontierSet = new Set(frontier);
    const candidates = new Map<string, { via: Relation; from: string }>();
    for (const edge of edges) {
      for (const from of [edge.sourceId, edge.targetId]) {
        if (!frontierSet.has(from)) continue;
        const next = relationTypes.step(edge, from, options.direction);
        if (next === undefined || visited.has(next) || candidates.has(next)) continue;
        candidates.set(next, { via: edge, from });
      }
    }
    const live = await enterable(store, [...candidates.keys()], options.includeSuperseded);
    const nextFrontier: string[] = [];
    for (const [id, { via, from }] of candidates) {
      visited.add(id);
      const memory = live.get(id);
      if (!memory) continue;
      reached.push({ memory, distance, via, from });
      nextFrontier.push(id);
      if (reached.length >= options.maxNodes) break;
    }
    frontier = nextFrontier;
  }
  return reached;
}

/** At most this many searches over the raw edges before falling back to checking every node. */
const pathAttempts = 8;

interface PathOptions {
  direction: Direction;
  types?: string[];
  maxDepth: number;
  includeSuperseded: boolean;
}

/**
 * Shortest path by bidirectional breadth-first search (each side one query per level), so a
 * depth-5 path costs about two depth-3 expansions instead of one depth-5 one.
 *
 * Memories are checked for liveness (not deleted, not superseded unless asked) only on the path
 * found, not at every node discovered: the search runs over the edges, the path's memories are
 * fetched, and if one of them cannot be entered it is excluded and the search runs again. The
 * first path whose memories all can be entered is a shortest live path (the graph searched
 * contains every live one). After a few exclusions the search checks every node instead.
 */
export async function shortestPath(
  store: MemoryStore,
  relationTypes: RelationTypes,
  fromId: string,
  toId: string,
  options: PathOptions,
): Promise<string[] | null> {
  if (fromId === toId) return [fromId];
  const excluded = new Set<string>();
  for (let attempt = 0; attempt < pathAttempts; attempt++) {
    const path = await bidirectionalSearch(store, relationTypes, fromId, toId, options, (ids) =>
      Promise.resolve(new Set(ids.filter((id) => !excluded.has(id)))),
    );
    if (path === null) return null;
    const live = await enterable(store, path, options.includeSuperseded);
    const dead = path.filter((id) => !live.has(id));
    if (dead.length === 0) return path;
    if (dead.includes(fromId) || dead.includes(toId)) return null;
    for (const id of dead) excluded.add(id);
  }
  return bidirectionalSearch(store, relationTypes, fromId, toId, options, async (ids) => {
    const live = await enterable(store, ids, options.includeSuperseded);
    return new Set(live.keys());
  });
}

/** The search of `shortestPath`; `allowed` says which discovered memories may be entered. */
async function bidirectionalSearch(
  store: MemoryStore,
  relationTypes: RelationTypes,
  fromId: string,
  toId: string,
  options: PathOptions,
  allowed: (ids: string[]) => Promise<Set<string>>,
): Promise<string[] | null> {
  const reverse: Direction = options.direction === 'out' ? 'in' : options.direction === 'in' ? 'out' : 'both';
  // parent pointers and distances from each end
  const forwardParent = new Map<string, string | null>([[fromId, null]]);
  const backwardParent = new Map<string, string | null>([[toId, null]]);
  const forwardDistance = new Map<string, number>([[fromId, 0]]);
  const backwardDistance = new Map<string, number>([[toId, 0]]);
  let forwardFrontier = [fromId];
  let backwardFrontier = [toId];
  let depth = 0;
  const typeFilter = options.types ? { types: options.types } : {};

  const join = (meeting: string): string[] => {
    const path: string[] = [];
    for (let node: string | null | undefined = meeting; node; node = forwardParent.get(node)) path.unshift(node);
    for (let node = backwardParent.get(meeting); node; node = backwardParent.get(node)) path.push(node);
    return path;
  };

  while (forwardFrontier.length > 0 && backwardFrontier.length > 0 && depth < options.maxDepth) {
    // Expand the smaller side by one whole level.
    const forwardSide = forwardFrontier.length <= backwardFrontier.length;
    const frontier = forwardSide ? forwardFrontier : backwardFrontier;
    const parents = forwardSide ? forwardParent : backwardParent;
    const distances = forwardSide ? forwardDistance : backwardDistance;
    const otherDistances = forwardSide ? backwardDistance : forwardDistance;
    const direction = forwardSide ? options.direction : reverse;
    const frontierSet = new Set(frontier);
    const edges = await store.relationsOf(frontier, { direction: 'both', ...typeFilter });
    const discovered = new Map<string, string>();
    for (const edge of edges) {
      for (const from of [edge.sourceId, edge.targetId]) {
        if (!frontierSet.has(from)) continue;
        const next = relationTypes.step(edge, from, direction);
        if (next === undefined || parents.has(next) || discovered.has(next)) continue;
        discovered.set(next, from);
      }
    }
    const live = await allowed([...discovered.keys()]);
    const nextFrontier: string[] = [];
    let meeting: string | undefined;
    let meetingLength = Number.POSITIVE_INFINITY;
    for (const [id, parent] of discovered) {
      if (!live.has(id)) continue;
      const distance = (distances.get(parent) ?? 0) + 1;
      parents.set(id, parent);
      distances.set(id, distance);
      nextFrontier.push(id);
      const other = otherDistances.get(id);
      // Several meetings in one level can differ in length: keep the shortest.
      if (other !== undefined && distance + other < meetingLength) {
        meeting = id;
        meetingLength = distance + other;
      }
    }
    depth += 1;
    if (meeting !== undefined && meetingLength <= options.maxDepth) return join(meeting);
    if (forwardSide) forwardFrontier = nextFrontier;
    else backwardFrontier = nextFrontier;
  }
  return null;
}
