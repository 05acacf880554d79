import { type MemoryRecord, type Scope, scopeKey } from '@engram/core';

/** A `memories` row as better-sqlite3 returns it (dates are epoch milliseconds). */
export interface MemoryRow {
  rowid: number;
  id: string;
  content: string;
  /** Added by migration 0002. */
  context: string | null;
  content_hash: string;
  type: string;
  subtype: string | null;
  /** JSON array of strings. */
  tags: string;
  /** JSON object. */
  metadata: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  conversation_id: string | null;
  importance: number;
  quality: number | null;
  access_count: number;
  last_accessed_at: number | null;
  created_at: number;
  updated_at: number;
  valid_from: number | null;
  valid_to: number | null;
  superseded_by: string | null;
  deleted_at: number | null;
  key: string | null;
  source: string | null;
  confidence: number | null;
  /** JSON object of the optional SHODH fields that are set, or null when none is. */
  attributes: string | null;
  /** Added by migration 0005; absent from rows built for an insert. */
  decay_score?: number | null;
}

/**
 * The first 16 characters of a content hash, which the exact-duplicate index keys on (since
 * migration 0011; its tables' `hash_prefix` since 0016). A lookup compares the whole hash on the
 * row as well.
 */
export function hashPrefix(operand: string): string {
  return `substr(${operand}, 1, 16)`;
}

/**
 * A subquery answering the rowids that the exact-duplicate index (migration 0016) lists for one
 * scope and hash prefix: its large table's and its recent table's. Parameters: the scope key, an
 * expression giving the hash prefixes (`= ${hashPrefix('?')}` for one hash, `IN (…)` for several)
 * and its parameters, once for each table.
 */
export function hashedRowidsSql(prefixes: string): string {
  return `SELECT memory_rowid FROM memory_hashes WHERE scope_key = ? AND hash_prefix ${prefixes}
    UNION ALL SELECT memory_rowid FROM memory_hashes_recent WHERE scope_key = ? AND hash_prefix ${prefixes}`;
}

/**
 * How `memory_tags_tag` groups rowids (migration 0015): its entries sort by `memory_rowid >>
 * tagBucketShift` first, so a bucket holds 4,096 consecutive rowids and a batch of new memories
 * inserts into the newest bucket's pages only.
 */
export const tagBucketShift = 12;

/**
 * A subquery answering the rowids of the memories that carry any of the tags in the JSON array
 * bound to its one parameter (each rowid once a tag it matches). It seeks `memory_tags_tag` once a
 * bucket, from bucket 0 to the largest rowid's: the index is grouped by bucket, then tag.
 */
export const taggedRowidsSql = `SELECT t.memory_rowid FROM (
    WITH RECURSIVE bucket(number) AS (
      SELECT 0 UNION ALL SELECT number + 1 FROM bucket WHERE number < (SELECT coalesce(max(rowid), 0) >> ${tagBucketShift} FROM memories)
    ) SELECT number FROM bucket
  ) AS b CROSS JOIN memory_tags t
  WHERE (t.memory_rowid >> ${tagBucketShift}) = b.number AND t.tag IN (SELECT value FROM json_each(?))`;

/**
 * The columns of `MemoryRow`, for SELECT lists (qualified with an alias when given; without one,
 * the query must read `FROM memories` unaliased). Access statistics are the row's own columns
 * (as written with the record) plus what `recordAccess` has recorded since in `memory_access`
 * (migration 0013): the count added, and the last access when there is one.
 */
export function memoryColumns(alias?: string): string {
  const prefix = alias ? `${alias}.` : '';
  const rowid = `${alias ?? 'memories'}.rowid`;
  return memoryColumnNames
    .map((column) => {
      if (column === 'access_count')
        return `${prefix}access_count + coalesce((SELECT count FROM memory_access WHERE memory_rowid = ${rowid}), 0) AS access_count`;
      if (column === 'last_accessed_at')
        return `coalesce((SELECT last_accessed_at FROM memory_access WHERE memory_rowid = ${rowid}), ${prefix}last_accessed_at) AS last_accessed_at`;
      return `${prefix}${column}`;
    })
    .join(', ');
}

/** The names of `MemoryRow`'s columns, in the order `memoryColumns` selects them. */
export const memoryColumnNames: readonly string[] = [
  'rowid',
  'id',
  'content',
  'context',
  'content_hash',
  'type',
  'subtype',
  'tags',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'conversation_id',
  'importance',
  'quality',
  'access_count',
  'last_accessed_at',
  'created_at',
  'updated_at',
  'valid_from',
  'valid_to',
  'superseded_by',
  'deleted_at',
  'key',
  'source',
  'confidence',
  'attributes',
  'decay_score',
];

/**
 * `MemoryRow`s from a statement that selects `memoryColumns()` (in that order), read as arrays.
 * better-sqlite3 builds a row object property by property from native code, which costs about
 * twice what reading the row as an array and building the object here does (measured: 80 rows
 * by id, 0.43 against 0.22 ms of CPU) — and search reads ~80 candidate rows a query.
 * The statement is switched to raw mode: use it only through this function.
 */
export function readMemoryRows(
  statement: { raw(toggle: boolean): { all(...params: unknown[]): unknown[] } },
  ...params: unknown[]
): MemoryRow[] {
  const values = statement.raw(true).all(...params) as unknown[][];
  const rows: MemoryRow[] = new Array(values.length);
  for (let index = 0; index < values.length; index++) rows[index] = rowFromValues(values[index] as unknown[]);
  return rows;
}

/** A row read in raw mode, by position in `rowColumns`. */
function rowFromValues(values: unknown[]): MemoryRow {
  return {
    rowid: values[0] as number,
    id: values[1] as string,
    content: values[2] as string,
    context: values[3] as string | null,
    content_hash: values[4] as string,
    type: values[5] as string,
    subtype: values[6] as string | null,
    tags: values[7] as string,
    metadata: values[8] as string,
    user_id: values[9] as string | null,
    agent_id: values[10] as string | null,
    run_id: values[11] as string | null,
    conversation_id: values[12] as string | null,
    importance: values[13] as number,
    quality: values[14] as number | null,
    access_count: values[15] as number,
    last_accessed_at: values[16] as number | null,
    created_at: values[17] as number,
    updated_at: values[18] as number,
    valid_from: values[19] as number | null,
    valid_to: values[20] as number | null,
    superseded_by: values[21] as string | null,
    deleted_at: values[22] as number | null,
    key: values[23] as string | null,
    source: values[24] as string | null,
    confidence: values[25] as number | null,
    attributes: values[26] as string | null,
    decay_score: values[27] as number | null,
  };
}

/**
 * The columns of a `RankingRow`, in the order `rankingRowFromValues` reads them: a third of
 * `memoryColumns`, and only the JSON search ranks on parsed (tags; attributes only for a row
 * with a context).
 */
export const rankingColumns =
  'id, content, context, type, subtype, tags, user_id, agent_id, run_id, conversation_id, created_at, valid_to, superseded_by, attributes';

/**
 * The fields of a `RankingRecord` that change only with an entry in `memory_vector_log` (or
 * never): each equal to `rowToRecord`'s field of the same name.
 */
export interface RankingRow {
  id: string;
  content: string;
  context: string | undefined;
  contextSource: 'conversation' | undefined;
  type: string;
  subtype: string | null;
  tags: string[];
  scope: Scope;
  conversationId: string | null;
  createdAt: Date;
  supersededBy: string | null;
  validTo: Date | null;
}

/** A `RankingRow` from raw values that hold `rankingColumns` from position `offset` on. */
export function rankingRowFromValues(values: unknown[], offset: number): RankingRow {
  const context = values[offset + 2] as string | null;
  const attributes = values[offset + 13] as string | null;
  return {
    id: values[offset] as string,
    content: values[offset + 1] as string,
    context: context ?? undefined,
    contextSource:
      context !== null && attributes !== null && (JSON.parse(attributes) as { contextSource?: unknown }).contextSource === 'conversation'
        ? 'conversation'
        : undefined,
    type: values[offset + 3] as string,
    subtype: values[offset + 4] as string | null,
    tags: JSON.parse(values[offset + 5] as string) as string[],
    scope: scopeOf({
      user_id: values[offset + 6] as string | null,
      agent_id: values[offset + 7] as string | null,
      run_id: values[offset + 8] as string | null,
    }),
    conversationId: values[offset + 9] as string | null,
    createdAt: new Date(values[offset + 10] as number),
    validTo: date(values[offset + 11] as number | null),
    supersededBy: values[offset + 12] as string | null,
  };
}

/** The optional emotional / episodic fields (SHODH unified memory schema), kept in one JSON column. */
const attributeFields = [
  'emotion',
  'emotionalValence',
  'emotionalArousal',
  'episodeId',
  'sequenceNumber',
  'precedingMemoryId',
  'sourceType',
  'credibility',
  // 'conversation' when core derived the context (kept here: no column of its own).
  'contextSource',
] as const satisfies ReadonlyArray<keyof MemoryRecord>;

type AttributeField = (typeof attributeFields)[number];

/** Named parameters for the INSERT of a record (see `insertMemorySql`). */
export interface MemoryInsertParameters {
  id: string;
  content: string;
  context: string | null;
  content_hash: string;
  type: string;
  subtype: string | null;
  tags: string;
  metadata: string;
  user_id: string | null;
  agent_id: string | null;
  run_id: string | null;
  scope_key: string;
  conversation_id: string | null;
  importance: number;
  quality: number | null;
  access_count: number;
  last_accessed_at: number | null;
  created_at: number;
  updated_at: number;
  valid_from: number | null;
  valid_to: number | null;
  superseded_by: string | null;
  deleted_at: number | null;
  key: string | null;
  source: string | null;
  confidence: number | null;
  attributes: string | null;
}

export const insertMemorySql = `INSERT INTO memories (
  id, content, context, content_hash, type, subtype, tags, metadata, user_id, agent_id, run_id, scope_key,
  conversation_id, importance, quality, access_count, last_accessed_at, created_at, updated_at,
  valid_from, valid_to, superseded_by, deleted_at, key, source, confidence, attributes
) VALUES (
  @id, @content, @context, @content_hash, @type, @subtype, @tags, @metadata, @user_id, @agent_id, @run_id, @scope_key,
  @conversation_id, @importance, @quality, @access_count, @last_accessed_at, @created_at, @updated_at,
  @valid_from, @valid_to, @superseded_by, @deleted_at, @key, @source, @confidence, @attributes
)`;

export function insertParameters(record: MemoryRecord): MemoryInsertParameters {
  return {
    id: record.id,
    content: record.content,
    context: record.context ?? null,
    content_hash: record.contentHash,
    type: record.type,
    subtype: record.subtype,
    tags: JSON.stringify(record.tags),
    metadata: JSON.stringify(record.metadata),
    user_id: record.scope.userId ?? null,
    agent_id: record.scope.agentId ?? null,
    run_id: record.scope.runId ?? null,
    scope_key: scopeKey(record.scope),
    conversation_id: record.conversationId,
    importance: record.importance,
    quality: record.quality,
    access_count: record.accessCount,
    last_accessed_at: time(record.lastAccessedAt),
    created_at: record.createdAt.getTime(),
    updated_at: record.updatedAt.getTime(),
    valid_from: time(record.validFrom),
    valid_to: time(record.validTo),
    superseded_by: record.supersededBy,
    deleted_at: time(record.deletedAt),
    key: record.key,
    source: record.source,
    confidence: record.confidence,
    attributes: attributesJson(record),
  };
}

/** The record a row of `insertParameters(record)` reads back as (same shape `get` returns). */
export function storedRecord(parameters: MemoryInsertParameters): MemoryRecord {
  // The parameters themselves, not `{ ...parameters, rowid: 0 }`: that copy of 27 properties cost
  // 7 µs a memory (V8 builds it property by property), ten times the record it stood in for.
  return rowToRecord(parameters);
}

/** The record of a row (its rowid, when it has one, is not part of the record). */
export function rowToRecord(row: Omit<MemoryRow, 'rowid'>): MemoryRecord {
  const attributes = row.attributes ? (JSON.parse(row.attributes) as Partial<Record<AttributeField, unknown>>) : {};
  return {
    id: row.id,
    content: row.content,
    ...(row.context !== null ? { context: row.context } : {}),
    ...(row.context !== null && attributes.contextSource === 'conversation' ? { contextSource: 'conversation' as const } : {}),
    contentHash: row.content_hash,
    type: row.type,
    subtype: row.subtype,
    tags: JSON.parse(row.tags) as string[],
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    scope: scopeOf(row),
    conversationId: row.conversation_id,
    importance: row.importance,
    quality: row.quality,
    accessCount: row.access_count,
    lastAccessedAt: date(row.last_accessed_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    validFrom: date(row.valid_from),
    validTo: date(row.valid_to),
    supersededBy: row.superseded_by,
    deletedAt: date(row.deleted_at),
    key: row.key,
    source: row.source,
    confidence: row.confidence,
    emotion: (attributes.emotion as string | undefined) ?? null,
    emotionalValence: (attributes.emotionalValence as number | undefined) ?? null,
    emotionalArousal: (attributes.emotionalArousal as number | undefined) ?? null,
    episodeId: (attributes.episodeId as string | undefined) ?? null,
    sequenceNumber: (attributes.sequenceNumber as number | undefined) ?? null,
    precedingMemoryId: (attributes.precedingMemoryId as string | undefined) ?? null,
    sourceType: (attributes.sourceType as string | undefined) ?? null,
    credibility: (attributes.credibility as number | undefined) ?? null,
    ...(row.decay_score !== undefined && row.decay_score !== null ? { decayScore: row.decay_score } : {}),
  };
}

/** Only the scope fields that are set, as callers wrote them (`{}` for the global scope). */
function scopeOf(row: Pick<MemoryRow, 'user_id' | 'agent_id' | 'run_id'>): Scope {
  const scope: Scope = {};
  if (row.user_id !== null) scope.userId = row.user_id;
  if (row.agent_id !== null) scope.agentId = row.agent_id;
  if (row.run_id !== null) scope.runId = row.run_id;
  return scope;
}

/** A row's attributes JSON with `contextSource` set to this value (or removed). */
export function withContextSource(attributes: string | null, source: 'conversation' | undefined): string | null {
  const parsed = attributes ? (JSON.parse(attributes) as Record<string, unknown>) : {};
  if (source === undefined) delete parsed.contextSource;
  else parsed.contextSource = source;
  return Object.keys(parsed).length > 0 ? JSON.stringify(parsed) : null;
}

function attributesJson(record: MemoryRecord): string | null {
  const attributes: Partial<Record<AttributeField, unknown>> = {};
  let any = false;
  for (const field of attributeFields) {
    const value = record[field];
    if (value !== null && value !== undefined) {
      attributes[field] = value;
      any = true;
    }
  }
  return any ? JSON.stringify(attributes) : null;
}

function time(value: Date | null | undefined): number | null {
  return value ? value.getTime() : null;
}

function date(value: number | null): Date | null {
  return value === null ? null : new Date(value);
}
