import type { MemoryRecord, Relation } from '../contracts/model.js';

/**
 * The sync protocol's JSON: what `POST /api/sync/push` takes and `GET /api/sync/changes`
 * answers. Records and edges travel as JSON (dates as ISO strings); vectors never travel —
 * each side embeds with its own embedder (a replica and a server with the same embedder id
 * compute the same vectors, so shipping them would only cost bandwidth).
 */
export type WireRecord = Omit<
  MemoryRecord,
  'createdAt' | 'updatedAt' | 'validFrom' | 'validTo' | 'deletedAt' | 'lastAccessedAt' | 'sensitive'
> & {
  createdAt: string;
  updatedAt: string;
  validFrom: string | null;
  validTo: string | null;
  deletedAt: string | null;
  lastAccessedAt: string | null;
};

export type WireRelation = Omit<Relation, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

/** The fields an update operation carries (their values after the local change). */
export const SYNCED_FIELDS = ['content', 'type', 'subtype', 'tags', 'metadata', 'importance', 'supersededBy', 'validTo'] as const;
export type SyncedField = (typeof SYNCED_FIELDS)[number];

/**
 * One local change, numbered by the replica's change log (`seq`): the operation id is
 * (replicaId, seq), so a push sent twice is applied once.
 */
export type SyncOperation =
  | { seq: number; kind: 'create'; record: WireRecord }
  | { seq: number; kind: 'update'; id: string; fields: Partial<Pick<WireRecord, SyncedField>> }
  | { seq: number; kind: 'delete'; id: string; at: string }
  | { seq: number; kind: 'link'; relation: WireRelation }
  | { seq: number; kind: 'unlink'; relation: WireRelation };

/**
 * Memories a replica erased (`forget`, retention), numbered by the replica's erasure log: the
 * erasure id is (replicaId, seq), so a push sent twice erases once (and erasing is idempotent anyway).
 */
export interface SyncErasure {
  seq: number;
  /** At most 1000 ids. */
  ids: string[];
}

export interface SyncPush {
  /** The replica's id (a UUID it keeps in its store). */
  replicaId: string;
  /** In the replica's change-log order. */
  operations: SyncOperation[];
  /**
   * Optional (servers before erasure sync refuse the field with a 400): applied before
   * `operations`, since every operation still queued was written after them or is unrelated.
   */
  erasures?: SyncErasure[];
}

export interface SyncErasureResult {
  seq: number;
  /** applied: erased here (or already gone); duplicate: this erasure id was applied before. */
  status: 'applied' | 'duplicate';
  /** How many of the ids the server held (any state) and erased now. */
  erased: number;
}

/**
 * - applied: written (or already true on the server);
 * - duplicate: this operation id was applied before (a retried push);
 * - merged: a create matched a live memory with the same key or content in the same scope: the
 *   replica's memory `id` became `memory.id` (the earlier one, updated in place for a key);
 * - ignored: the memory is deleted or unknown on the server (a delete wins over an update).
 */
export type SyncOperationStatus = 'applied' | 'duplicate' | 'merged' | 'ignored';

export interface SyncOperationResult {
  seq: number;
  status: SyncOperationStatus;
  /** The memory the operation concerned, as the server holds it now (merged, ignored), when it exists. */
  memory?: WireRecord | null;
  /** For merged and ignored: why. */
  reason?: string;
}

export interface SyncPushResult {
  results: SyncOperationResult[];
  /** One per pushed erasure, in order (present when the push had `erasures`). */
  erasures?: SyncErasureResult[];
}

/** One entry of a pull: a memory as the server holds it now (null once erased: erase it), or a graph change. */
export type SyncChange =
  | { seq: number; kind: 'memory'; id: string; memory: WireRecord | null }
  | { seq: number; kind: 'relation'; event: 'added' | 'removed'; relation: WireRelation };

export interface SyncChangesPage {
  changes: SyncChange[];
  /** Pass it as `since` next time. */
  cursor: number;
  /** The server's change-log head when the page was read. */
  head: number;
  /** More changes wait after `cursor`. */
  more: boolean;
  /**
   * Memories erased on the server after the replica's erasure cursor (sent as the
   * `X-Engram-Erased-Since` header; without it — an older replica — this is left out). A replica
   * erases its copies before it applies `changes`.
   */
  erased?: SyncErasedPage;
}

export interface SyncErasedPage {
  ids: string[];
  /** Send it as `X-Engram-Erased-Since` next time. */
  cursor: number;
  /** More erasures wait after `cursor`. */
  more: boolean;
  /**
   * True when the replica's erasure cursor is behind the server's erasure-log horizon: entries it
   * had not pulled were dropped (`retention.erasureLogDays`), so it resyncs in full — reads every
   * change from cursor 0 and erases the memories the server no longer holds.
   */
  resync?: boolean;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);
const date = (text: string | null) => (text === null ? null : new Date(text));

export function recordToWire(record: MemoryRecord): WireRecord {
  const { sensitive: _sensitive, ...rest } = record;
  return {
    ...rest,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
    validFrom: iso(record.validFrom),
    validTo: iso(record.validTo),
    deletedAt: iso(record.deletedAt),
    lastAccessedAt: iso(record.lastAccessedAt),
  };
}

export function recordFromWire(wire: WireRecord): MemoryRecord {
  return {
    ...wire,
    createdAt: new Date(wire.createdAt),
    updatedAt: new Date(wire.updatedAt),
    validFrom: date(wire.validFrom),
    validTo: date(wire.validTo),
    deletedAt: date(wire.deletedAt),
    lastAccessedAt: date(wire.lastAccessedAt),
  };
}

export function relationToWire(relation: Relation): WireRelation {
  return { ...relation, createdAt: relation.createdAt.toISOString(), updatedAt: relation.updatedAt.toISOString() };
}

export function relationFromWire(wire: WireRelation): Relation {
  return { ...wire, createdAt: new Date(wire.createdAt), updatedAt: new Date(wire.updatedAt) };
}
