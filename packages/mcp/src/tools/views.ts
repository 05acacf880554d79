import type { HistoryEntry, MemoryRecord, Relation, SearchHit } from '@engram/core';
import { z } from 'zod';

// What tools return: snake_case like their arguments, ISO dates, empty optional fields left out
// (every token counts in a model's context).

export const memoryViewSchema = z.object({
  id: z.string(),
  content: z.string(),
  type: z.string(),
  subtype: z.string().nullable(),
  tags: z.array(z.string()),
  metadata: z.record(z.string(), z.unknown()),
  importance: z.number(),
  created_at: z.string(),
  updated_at: z.string(),
  content_hash: z.string(),
  access_count: z.number(),
  last_accessed_at: z.string().optional(),
  user_id: z.string().optional(),
  agent_id: z.string().optional(),
  run_id: z.string().optional(),
  conversation_id: z.string().optional(),
  key: z.string().optional(),
  superseded_by: z.string().optional(),
  valid_to: z.string().optional(),
  source: z.string().optional(),
});
export type MemoryView = z.infer<typeof memoryViewSchema>;

export function memoryView(record: MemoryRecord): MemoryView {
  const view: MemoryView = {
    id: record.id,
    content: record.content,
    type: record.type,
    subtype: record.subtype,
    tags: record.tags,
    metadata: record.metadata,
    importance: record.importance,
    created_at: record.createdAt.toISOString(),
    updated_at: record.updatedAt.toISOString(),
    content_hash: record.contentHash,
    access_count: record.accessCount,
  };
  if (record.lastAccessedAt) view.last_accessed_at = record.lastAccessedAt.toISOString();
  if (record.scope.userId !== undefined) view.user_id = record.scope.userId;
  if (record.scope.agentId !== undefined) view.agent_id = record.scope.agentId;
  if (record.scope.runId !== undefined) view.run_id = record.scope.runId;
  if (record.conversationId !== null) view.conversation_id = record.conversationId;
  if (record.key !== null) view.key = record.key;
  if (record.supersededBy !== null) view.superseded_by = record.supersededBy;
  if (record.validTo !== null) view.valid_to = record.validTo.toISOString();
  if (record.source !== null) view.source = record.source;
  return view;
}

export const hitViewSchema = z.object({ score: z.number(), memory: memoryViewSchema });

export function hitView(hit: SearchHit): z.infer<typeof hitViewSchema> {
  return { score: round(hit.score), memory: memoryView(hit.memory) };
}

export const relationViewSchema = z.object({
  source_id: z.string(),
  target_id: z.string(),
  type: z.string(),
  weight: z.number(),
  confidence: z.number(),
  metadata: z.record(z.string(), z.unknown()),
  inferred: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function relationView(relation: Relation): z.infer<typeof relationViewSchema> {
  return {
    source_id: relation.sourceId,
    target_id: relation.targetId,
    type: relation.type,
    weight: relation.weight,
    confidence: relation.confidence,
    metadata: relation.metadata,
    inferred: relation.inferred,
    created_at: relation.createdAt.toISOString(),
    updated_at: relation.updatedAt.toISOString(),
  };
}

export const historyViewSchema = z.object({
  event: z.string(),
  at: z.string(),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  reason: z.string().optional(),
});

export function historyView(entry: HistoryEntry): z.infer<typeof historyViewSchema> {
  return { event: entry.event, at: entry.at.toISOString(), changes: entry.changes, ...(entry.reason ? { reason: entry.reason } : {}) };
}

export function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

// ---------------------------------------------------------------- text

function label(record: MemoryRecord): string {
  return record.subtype ? `${record.type}/${record.subtype}` : record.type;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** One line a model can act on: the id first, then type, date, content and tags. */
export function memoryLine(record: MemoryRecord, options: { max?: number; score?: number } = {}): string {
  const score = options.score === undefined ? '' : ` score ${options.score.toFixed(2)}`;
  const tags = record.tags.length > 0 ? ` #${record.tags.join(' #')}` : '';
  const superseded = record.supersededBy ? ` (superseded by ${record.supersededBy})` : '';
  return `${record.id} [${label(record)}, ${record.createdAt.toISOString().slice(0, 10)}${score}] ${oneLine(record.content, options.max ?? 600)}${tags}${superseded}`;
}

/** The full memory, for get/store/update. */
export function memoryBlock(record: MemoryRecord): string {
  const lines = [
    `id: ${record.id}`,
    `type: ${label(record)}`,
    `created: ${record.createdAt.toISOString()}${record.updatedAt.getTime() !== record.createdAt.getTime() ? ` (updated ${record.updatedAt.toISOString()})` : ''}`,
    `importance: ${record.importance}`,
  ];
  if (record.tags.length > 0) lines.push(`tags: ${record.tags.join(', ')}`);
  if (Object.keys(record.metadata).length > 0) lines.push(`metadata: ${JSON.stringify(record.metadata)}`);
  const scope = Object.entries(record.scope).map(([name, value]) => `${name}=${value}`);
  if (scope.length > 0) lines.push(`scope: ${scope.join(' ')}`);
  if (record.key) lines.push(`key: ${record.key}`);
  if (record.supersededBy) lines.push(`superseded by: ${record.supersededBy}`);
  lines.push('', record.content);
  return lines.join('\n');
}

export function relationLine(relation: Relation): string {
  const weight = relation.weight === 1 ? '' : ` (weight ${relation.weight})`;
  return `${relation.sourceId} —${relation.type}→ ${relation.targetId}${weight}${relation.inferred ? ' [inferred]' : ''}`;
}
