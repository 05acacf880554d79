import type { Filterable, VectorPayload } from '@engram/core';

/**
 * What each Qdrant point carries. Qdrant filters on payload fields; the layout makes every
 * Engram filter exact where Qdrant can express it:
 *
 * - `engram_id`: the memory id (point ids must be UUIDs or integers; see `pointId`).
 * - `user_id`, `agent_id`, `run_id`, `conversation_id`, `subtype`: present only when set.
 * - `type`, `tags` (array), `created_at` and `valid_to` (epoch ms), `superseded` (boolean).
 * - `metadata`: the metadata as given, read back to check filters Qdrant cannot express.
 * - Typed copies of the metadata, because a Qdrant match on a field also matches arrays that
 *   contain the value, while Engram's `eq` compares whole values of the same JSON type:
 *   `meta_string`, `meta_number`, `meta_boolean` hold only the leaves of that type (reached
 *   through objects only, never arrays, like core's `resolvePath`); `meta_array` holds arrays
 *   (their scalar elements); `meta_keys` lists the JSON-encoded path of every field present,
 *   `meta_null` of every null, `meta_array_null` of every array holding a null.
 *   Keys that cannot appear in a Qdrant key path (`.`, `[`, `]`, quotes, spaces…) are left out
 *   of the typed trees; conditions on them are checked on `metadata` after the search instead.
 */
export interface QdrantPayload {
  engram_id: string;
  user_id?: string;
  agent_id?: string;
  run_id?: string;
  conversation_id?: string;
  type: string;
  subtype?: string;
  tags: string[];
  created_at: number;
  superseded: boolean;
  superseded_by: string | null;
  valid_to?: number;
  metadata: Record<string, unknown>;
  meta_string: Record<string, unknown>;
  meta_number: Record<string, unknown>;
  meta_boolean: Record<string, unknown>;
  meta_array: Record<string, unknown>;
  meta_keys: string[];
  meta_null: string[];
  meta_array_null: string[];
}

/** Deepest metadata nesting copied into the typed trees (core's `where` allows 16 levels). */
const maxDepth = 16;

const safeSegment = /^[\p{L}\p{N}_-]+$/u;

/** True when a metadata key can be used verbatim in a Qdrant key path. */
export function isSafeSegment(segment: string): boolean {
  return safeSegment.test(segment) && segment !== '__proto__';
}

/** The key of a metadata path inside one of the typed trees, or null when it cannot be addressed. */
export function typedKey(tree: 'meta_string' | 'meta_number' | 'meta_boolean' | 'meta_array', path: readonly string[]): string | null {
  return path.every(isSafeSegment) ? `${tree}.${path.join('.')}` : null;
}

/** The value `meta_keys` / `meta_null` / `meta_array_null` hold for a path. */
export function pathKey(path: readonly string[]): string {
  return JSON.stringify(path);
}

export function toPayload(id: string, payload: VectorPayload): QdrantPayload {
  const result: QdrantPayload = {
    engram_id: id,
    type: payload.type,
    tags: [...payload.tags],
    created_at: payload.createdAt.getTime(),
    superseded: payload.supersededBy !== null,
    superseded_by: payload.supersededBy,
    metadata: payload.metadata,
    meta_string: {},
    meta_number: {},
    meta_boolean: {},
    meta_array: {},
    meta_keys: [],
    meta_null: [],
    meta_array_null: [],
  };
  if (payload.scope.userId !== undefined) result.user_id = payload.scope.userId;
  if (payload.scope.agentId !== undefined) result.agent_id = payload.scope.agentId;
  if (payload.scope.runId !== undefined) result.run_id = payload.scope.runId;
  if (payload.conversationId !== null) result.conversation_id = payload.conversationId;
  if (payload.subtype !== null) result.subtype = payload.subtype;
  if (payload.validTo !== null) result.valid_to = payload.validTo.getTime();
  flatten(payload.metadata, [], result, true);
  return result;
}

function flatten(object: Record<string, unknown>, path: string[], payload: QdrantPayload, addressable: boolean): void {
  if (path.length >= maxDepth) return;
  for (const [key, value] of Object.entries(object)) {
    const here = [...path, key];
    const typed = addressable && isSafeSegment(key);
    payload.meta_keys.push(pathKey(here));
    if (value === null) {
      payload.meta_null.push(pathKey(here));
    } else if (Array.isArray(value)) {
      if (value.includes(null)) payload.meta_array_null.push(pathKey(here));
      const scalars = value.filter((element) => ['string', 'number', 'boolean'].includes(typeof element));
      if (typed) set(payload.meta_array, here, scalars);
    } else if (typeof value === 'object') {
      flatten(value as Record<string, unknown>, here, payload, typed);
    } else if (typed && typeof value === 'string') {
      set(payload.meta_string, here, value);
    } else if (typed && typeof value === 'number') {
      set(payload.meta_number, here, value);
    } else if (typed && typeof value === 'boolean') {
      set(payload.meta_boolean, here, value);
    }
  }
}

function set(tree: Record<string, unknown>, path: string[], value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const child = node[segment];
    if (typeof child === 'object' && child !== null && !Array.isArray(child)) node = child as Record<string, unknown>;
    else node = node[segment] = {};
  }
  node[path.at(-1) as string] = value;
}

/** The fields core's `matchesFilter` reads, rebuilt from a stored payload. */
export function fromPayload(payload: QdrantPayload): Filterable {
  return {
    id: payload.engram_id,
    scope: {
      ...(payload.user_id !== undefined ? { userId: payload.user_id } : {}),
      ...(payload.agent_id !== undefined ? { agentId: payload.agent_id } : {}),
      ...(payload.run_id !== undefined ? { runId: payload.run_id } : {}),
    },
    conversationId: payload.conversation_id ?? null,
    type: payload.type,
    subtype: payload.subtype ?? null,
    tags: payload.tags,
    metadata: payload.metadata,
    createdAt: new Date(payload.created_at),
    supersededBy: payload.superseded_by,
    validTo: payload.valid_to !== undefined ? new Date(payload.valid_to) : null,
  };
}
