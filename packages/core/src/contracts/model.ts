/**
 * The data model shared by every contract. Types only: no runtime code lives here.
 */

/** Who a memory belongs to. Every given field must match for a memory to be "in scope". */
export interface Scope {
  userId?: string;
  agentId?: string;
  runId?: string;
}

/** A stored memory, exactly as a store returns it. Optional data is `null`, never `undefined`. */
export interface MemoryRecord {
  /** UUIDv7: time-ordered, so ids sort in creation order. */
  id: string;
  content: string;
  /**
   * Set by core on records it returns when the content is stored encrypted (`add({ sensitive:
   * true })`); stores never see it. Without the key, `content` is a redaction notice.
   */
  sensitive?: boolean;
  /**
   * Text that helps find this memory without being part of it: the turns before it in a
   * conversation, the title of the document it came from. Stores that support it index it for
   * lexical search at a lower weight than the content; it is not embedded, not shown as
   * content and not part of the duplicate key. Absent when none was given (and on stores that
   * do not keep it).
   */
  context?: string;
  /**
   * 'conversation' when Engram derived `context` from the preceding turns of the memory's
   * conversation (see `conversationContext`); absent when the caller gave it (or there is none).
   * Engram only ever rewrites a derived context.
   */
  contextSource?: 'conversation';
  /** sha256 (hex) of the trimmed, case-folded content: the exact-duplicate key. */
  contentHash: string;
  /** Base type (observation, decision, learning, error, pattern, or an application type). */
  type: string;
  /** Subtype within the base type, or null when only the base type was given. */
  subtype: string | null;
  /** Trimmed, lower-cased, de-duplicated. */
  tags: string[];
  metadata: Record<string, unknown>;
  scope: Scope;
  conversationId: string | null;
  /** 0..1, default 0.5. */
  importance: number;
  quality: number | null;
  accessCount: number;
  lastAccessedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  validFrom: Date | null;
  validTo: Date | null;
  supersededBy: string | null;
  deletedAt: Date | null;
  /** Caller key for idempotent upserts: adding the same key in the same scope updates. */
  key: string | null;
  source: string | null;
  confidence: number | null;
  // Optional emotional / episodic fields (SHODH unified memory schema).
  emotion: string | null;
  /** -1..1 */
  emotionalValence: number | null;
  /** 0..1 */
  emotionalArousal: number | null;
  episodeId: string | null;
  sequenceNumber: number | null;
  precedingMemoryId: string | null;
  sourceType: string | null;
  /** 0..1 */
  credibility: number | null;
  /**
   * The decay score (0–1) the last applied `consolidate()` stored, a rerank signal for search
   * (`retrieval.decay`). Absent until consolidation scored the memory, and on stores that do not
   * keep it (no `recordDecayScores`).
   */
  decayScore?: number;
}

/** A JSON scalar a metadata condition compares with. */
export type ConditionValue = string | number | boolean | null;

export type ComparisonOperator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'contains' | 'exists';

/**
 * A metadata condition, already validated and normalised by core (see `parseWhere`).
 *
 * Semantics every store must follow (the conformance suite checks them):
 * - `path` walks into `metadata` (`['a', 'b']` is `metadata.a.b`).
 * - `eq` / `ne` / `in` / `nin` compare JSON values of the same JSON type: `1` never equals `"1"` or `true`.
 *   `ne` and `nin` also match when the field is missing.
 * - `gt` / `gte` / `lt` / `lte` compare numbers numerically and strings lexicographically (ISO dates
 *   sort correctly); a field of another JSON type never matches.
 * - `contains`: an array field containing an element equal to the value, or a string field
 *   containing the value as a case-sensitive substring.
 * - `exists: true` matches when the field is present (even if `null`); `exists: false` when absent.
 */
export type Condition =
  | { kind: 'and'; conditions: Condition[] }
  | { kind: 'or'; conditions: Condition[] }
  | { kind: 'not'; condition: Condition }
  | { kind: 'compare'; path: string[]; operator: Exclude<ComparisonOperator, 'in' | 'nin' | 'exists'>; value: ConditionValue }
  | { kind: 'compare'; path: string[]; operator: 'in' | 'nin'; value: ConditionValue[] }
  | { kind: 'compare'; path: string[]; operator: 'exists'; value: boolean };

/**
 * What a store or vector index filters on, already normalised by core.
 * Deleted memories never match. Every field narrows the result (AND).
 */
export interface MemoryFilter {
  /** Each given field must be equal. A missing field does not constrain. */
  scope?: Scope;
  conversationId?: string;
  /**
   * Base types and subtypes, OR-ed together: a memory matches when its `type` is in `types`
   * or its `subtype` is in `subtypes` (`{ types: ['error'], subtypes: ['insight'] }` selects
   * every error and the learning/insight memories). Both absent: no type constraint.
   */
  types?: string[];
  subtypes?: string[];
  /** Normalised (lower-case) tags. `any`: at least one; `all`: every one. */
  tags?: { any?: string[]; all?: string[] };
  /** createdAt >= after (inclusive). */
  after?: Date;
  /** createdAt < before (exclusive). */
  before?: Date;
  where?: Condition;
  /** Restrict to these ids. */
  ids?: string[];
  /** Superseded memories (supersededBy set) are excluded unless this is true. */
  includeSuperseded?: boolean;
  /**
   * Answer as the store stood at this instant: memories created after it are excluded, and a
   * memory superseded after it counts as not superseded (its `validTo`, the supersession time,
   * is later). Deleted memories stay excluded.
   */
  asOf?: Date;
}

export interface EmbedderInfo {
  id: string;
  dimensions: number;
}

/** A typed, weighted edge between two memories, keyed by (sourceId, targetId, type). */
export interface Relation {
  sourceId: string;
  targetId: string;
  /** 'related', 'contradicts', 'causes', 'fixes', 'supports', 'follows', or an application type. */
  type: string;
  /** 0..1, default 1. */
  weight: number;
  /** 0..1, default 1. */
  confidence: number;
  metadata: Record<string, unknown>;
  /** True when written by automatic linking rather than by a caller. */
  inferred: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type HistoryEvent = 'created' | 'updated' | 'superseded' | 'deleted';

/**
 * A change to the graph in the store-wide change log (`MemoryStore.changesSince`): an edge
 * written (created or its weight, confidence or metadata changed) or removed. Filed under the
 * edge's source memory; `history(id)` leaves these out.
 */
export interface RelationChange {
  event: 'relation:added' | 'relation:removed';
  /** The edge's source. */
  memoryId: string;
  /** The edge as written, or as it was when removed. */
  relation: Relation;
  at: Date;
  /** Free-form origin of the change (sync writes 'sync'); null for a caller's. */
  reason: string | null;
}

/** One change to a memory, oldest first in `history()`. */
export interface HistoryEntry {
  memoryId: string;
  event: HistoryEvent;
  at: Date;
  /** The fields that changed, with their old and new values (dates as ISO strings). */
  changes: Record<string, { from: unknown; to: unknown }>;
  /** Free-form reason given by the caller (e.g. to `resolve`). */
  reason: string | null;
}
