import { type MemoryRecord, type Scope, scopeKey } from '@engram/core';
import { epochMs, type SqlParameters } from './postgres-sql.js';

/** A `memories` row as selected by `memoryColumns` (dates as epoch milliseconds). */
export interface MemoryRow {
  id: string;
  content: string;
  context: string | null;
  /** Added by migration 0002: 'conversation' when core derived the context. */
  context_source: string | null;
  content_hash: string;
  type: string;
  subtype: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
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
  emotion: string | null;
  emotional_valence: number | null;
  emotional_arousal: number | null;
  episode_id: string | null;
  sequence_number: number | null;
  preceding_memory_id: string | null;
  source_type: string | null;
  credibility: number | null;
  /** Added by migration 0003. */
  decay_score: number | null;
}

const plainColumns = [
  'id',
  'content',
  'context',
  'context_source',
  'content_hash',
  'type',
  'subtype',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'conversation_id',
  'importance',
  'quality',
  'access_count',
  'superseded_by',
  'key',
  'source',
  'confidence',
  'emotion',
  'emotional_valence',
  'emotional_arousal',
  'episode_id',
  'sequence_number',
  'preceding_memory_id',
  'source_type',
  'credibility',
  'decay_score',
] as const;

const timeColumns = ['last_accessed_at', 'created_at', 'updated_at', 'valid_from', 'valid_to', 'deleted_at'] as const;

/**
 * The SELECT (or RETURNING) list of a `MemoryRow`, qualified with `alias`. Timestamps come back
 * as epoch milliseconds and tags as JSON, so reading rows needs no driver type parsers.
 */
export function memoryColumns(alias = 'm'): string {
  return [
    ...plainColumns.map((column) => `${alias}.${column}`),
    `to_jsonb(${alias}.tags) AS tags`,
    ...timeColumns.map((column) => `${epochMs(`${alias}.${column}`)} AS ${column}`),
  ].join(', ');
}

/** Column names and placeholders of the INSERT of a record. */
export function insertValues(record: MemoryRecord, params: SqlParameters): { columns: string[]; values: string[] } {
  const entries: Array<[string, string]> = [
    ['id', params.add(record.id)],
    ['content', params.add(record.content)],
    ['context', params.add(record.context ?? null)],
    ['context_source', params.add(record.context !== undefined ? (record.contextSource ?? null) : null)],
    ['content_hash', params.add(record.contentHash)],
    ['type', params.add(record.type)],
    ['subtype', params.add(record.subtype)],
    ['tags', params.textArray(record.tags)],
    ['metadata', params.json(record.metadata)],
    ['user_id', params.add(record.scope.userId ?? null)],
    ['agent_id', params.add(record.scope.agentId ?? null)],
    ['run_id', params.add(record.scope.runId ?? null)],
    ['scope_key', params.add(scopeKey(record.scope))],
    ['conversation_id', params.add(record.conversationId)],
    ['importance', `${params.add(record.importance)}::float8`],
    ['quality', `${params.add(record.quality)}::float8`],
    ['access_count', `${params.add(record.accessCount)}::int`],
    ['last_accessed_at', params.time(record.lastAccessedAt)],
    ['created_at', params.time(record.createdAt)],
    ['updated_at', params.time(record.updatedAt)],
    ['valid_from', params.time(record.validFrom)],
    ['valid_to', params.time(record.validTo)],
    ['superseded_by', params.add(record.supersededBy)],
    ['deleted_at', params.time(record.deletedAt)],
    ['key', params.add(record.key)],
    ['source', params.add(record.source)],
    ['confidence', `${params.add(record.confidence)}::float8`],
    ['emotion', params.add(record.emotion)],
    ['emotional_valence', `${params.add(record.emotionalValence)}::float8`],
    ['emotional_arousal', `${params.add(record.emotionalArousal)}::float8`],
    ['episode_id', params.add(record.episodeId)],
    ['sequence_number', `${params.add(record.sequenceNumber)}::float8`],
    ['preceding_memory_id', params.add(record.precedingMemoryId)],
    ['source_type', params.add(record.sourceType)],
    ['credibility', `${params.add(record.credibility)}::float8`],
  ];
  return { columns: entries.map(([column]) => column), values: entries.map(([, value]) => value) };
}

/** The columns an insert sets (`insertValues`, `insertRow`). */
export const insertColumns = [
  'id',
  'content',
  'context',
  'context_source',
  'content_hash',
  'type',
  'subtype',
  'tags',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'scope_key',
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
  'emotion',
  'emotional_valence',
  'emotional_arousal',
  'episode_id',
  'sequence_number',
  'preceding_memory_id',
  'source_type',
  'credibility',
] as const;

/**
 * The INSERT of a record as one JSON object keyed by column (the columns of `insertValues`), for
 * multi-row inserts through `json_populate_recordset(NULL::memories, $1)`: the table's own row
 * type converts each field (ISO strings to timestamptz, arrays to text[], objects to jsonb).
 * Null fields are left out (a missing key reads as NULL): most optional columns are null, and a
 * batch's JSON is then about a third smaller to build, send and parse.
 */
export function insertRow(record: MemoryRecord): Partial<Record<(typeof insertColumns)[number], unknown>> {
  const time = (value: Date | null) => (value ? value.toISOString() : null);
  const full: Record<(typeof insertColumns)[number], unknown> = {
    id: record.id,
    content: record.content,
    context: record.context ?? null,
    context_source: record.context !== undefined ? (record.contextSource ?? null) : null,
    content_hash: record.contentHash,
    type: record.type,
    subtype: record.subtype,
    tags: record.tags,
    metadata: record.metadata,
    user_id: record.scope.userId ?? null,
    agent_id: record.scope.agentId ?? null,
    run_id: record.scope.runId ?? null,
    scope_key: scopeKey(record.scope),
    conversation_id: record.conversationId,
    importance: record.importance,
    quality: record.quality,
    access_count: record.accessCount,
    last_accessed_at: time(record.lastAccessedAt),
    created_at: time(record.createdAt),
    updated_at: time(record.updatedAt),
    valid_from: time(record.validFrom),
    valid_to: time(record.validTo),
    superseded_by: record.supersededBy,
    deleted_at: time(record.deletedAt),
    key: record.key,
    source: record.source,
    confidence: record.confidence,
    emotion: record.emotion,
    emotional_valence: record.emotionalValence,
    emotional_arousal: record.emotionalArousal,
    episode_id: record.episodeId,
    sequence_number: record.sequenceNumber,
    preceding_memory_id: record.precedingMemoryId,
    source_type: record.sourceType,
    credibility: record.credibility,
  };
  const row: Partial<Record<(typeof insertColumns)[number], unknown>> = {};
  for (const column of insertColumns) if (full[column] !== null && full[column] !== undefined) row[column] = full[column];
  return row;
}

export function rowToRecord(row: MemoryRow): MemoryRecord {
  return {
    id: row.id,
    content: row.content,
    ...(row.context !== null ? { context: row.context } : {}),
    ...(row.context !== null && row.context_source === 'conversation' ? { contextSource: 'conversation' as const } : {}),
    contentHash: row.content_hash,
    type: row.type,
    subtype: row.subtype,
    tags: row.tags,
    metadata: row.metadata,
    scope: scopeOf(row),
    conversationId: row.conversation_id,
    importance: row.importance,
    quality: row.quality,
    accessCount: row.access_count,
    lastAccessedAt: date(row.last_accessed_at),
    createdAt: date(row.created_at) as Date,
    updatedAt: date(row.updated_at) as Date,
    validFrom: date(row.valid_from),
    validTo: date(row.valid_to),
    supersededBy: row.superseded_by,
    deletedAt: date(row.deleted_at),
    key: row.key,
    source: row.source,
    confidence: row.confidence,
    emotion: row.emotion,
    emotionalValence: row.emotional_valence,
    emotionalArousal: row.emotional_arousal,
    episodeId: row.episode_id,
    sequenceNumber: row.sequence_number,
    precedingMemoryId: row.preceding_memory_id,
    sourceType: row.source_type,
    credibility: row.credibility,
    ...(row.decay_score !== null && row.decay_score !== undefined ? { decayScore: row.decay_score } : {}),
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

/** Epoch milliseconds (float8, possibly off by float rounding on servers before PG 14) to a Date. */
function date(value: number | null): Date | null {
  return value === null ? null : new Date(Math.round(value));
}
