import type { Explanation, MemoryRecord } from '@engram/core';

/** Field order of a memory in `--json` output and in exports; fields a newer core adds follow these. */
export const RECORD_FIELDS = [
  'id',
  'content',
  'contentHash',
  'type',
  'subtype',
  'tags',
  'metadata',
  'scope',
  'conversationId',
  'key',
  'importance',
  'quality',
  'confidence',
  'source',
  'accessCount',
  'lastAccessedAt',
  'createdAt',
  'updatedAt',
  'validFrom',
  'validTo',
  'supersededBy',
  'deletedAt',
  'emotion',
  'emotionalValence',
  'emotionalArousal',
  'episodeId',
  'sequenceNumber',
  'precedingMemoryId',
  'sourceType',
  'credibility',
] as const satisfies ReadonlyArray<keyof MemoryRecord>;

/** A memory as plain JSON: every field present (null when unset), dates as ISO strings. */
export function toJsonRecord(record: MemoryRecord): Record<string, unknown> {
  const source = record as unknown as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  const convert = (value: unknown) => (value instanceof Date ? value.toISOString() : value === undefined ? null : value);
  for (const field of RECORD_FIELDS) result[field] = convert(source[field]);
  for (const [field, value] of Object.entries(source)) if (!(field in result)) result[field] = convert(value);
  return result;
}

export function typeLabel(record: Pick<MemoryRecord, 'type' | 'subtype'>): string {
  return record.subtype ? `${record.type}/${record.subtype}` : record.type;
}

/** Whitespace runs (newlines included) folded to single spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts `text` to `width` characters (code points), ending with … when cut. */
export function truncate(text: string, width: number): string {
  const characters = Array.from(text);
  if (characters.length <= width) return text;
  if (width <= 1) return width === 1 ? '…' : '';
  return `${characters.slice(0, width - 1).join('')}…`;
}

export function formatDate(date: Date | null): string {
  return date ? date.toISOString().slice(0, 10) : '-';
}

export function formatScore(score: number): string {
  return score.toFixed(3);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/**
 * One line per memory: the leading cells (padded to a common width) then the content on one
 * line, cut to `width` when given (a terminal), whole otherwise (pipes keep everything).
 */
export function formatRows(rows: Array<{ cells: string[]; content: string }>, width?: number): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.cells.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows.map((row) => {
    const prefix = row.cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ');
    const content = oneLine(row.content);
    const line = prefix ? `${prefix}  ${content}` : content;
    return width === undefined ? line : truncate(line, Math.max(width, prefix.length + 12));
  });
}

export function memoryRow(record: MemoryRecord): { cells: string[]; content: string } {
  return { cells: [record.id, typeLabel(record), formatDate(record.createdAt)], content: record.content };
}

/** The signals behind a search score, for `--explain`. */
export function formatExplanation(explanation: Explanation): string {
  const parts = [`relevance ${formatScore(explanation.relevance)}`];
  if (explanation.lexical) parts.push(`lexical #${explanation.lexical.rank} (+${formatScore(explanation.lexical.contribution)})`);
  if (explanation.vector) {
    parts.push(
      `vector #${explanation.vector.rank} sim ${formatScore(explanation.vector.similarity)} (+${formatScore(explanation.vector.contribution)})`,
    );
  }
  parts.push(`recency ${explanation.recency.ageDays.toFixed(1)}d (+${formatScore(explanation.recency.contribution)})`);
  parts.push(`importance ${explanation.importance.value} (+${formatScore(explanation.importance.contribution)})`);
  return parts.join('  ');
}

/** Every set field of a memory, one per line, for `engram get`. */
export function formatDetail(record: MemoryRecord): string {
  const json = toJsonRecord(record);
  const lines: string[] = [];
  const labelWidth = Math.max(...Object.keys(json).map((key) => key.length));
  for (const [field, value] of Object.entries(json)) {
    if (field === 'content') continue;
    if (value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0) continue;
    const text = Array.isArray(value) && field === 'tags' ? value.join(', ') : typeof value === 'string' ? value : JSON.stringify(value);
    lines.push(`${field.padEnd(labelWidth)}  ${text}`);
  }
  lines.push('', record.content);
  return lines.join('\n');
}
