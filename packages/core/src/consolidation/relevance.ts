import type { MemoryRecord } from '../contracts/model.js';

const DAY = 86_400_000;

export interface DecayParameters {
  retentionDays: Readonly<Record<string, number>>;
  accessBoost: number;
  connectionBoost: number;
}

/** Retention (days) for a base type: its own entry, else `default`, else 90. */
export function retentionFor(type: string, retentionDays: Readonly<Record<string, number>>): number {
  return retentionDays[type] ?? retentionDays.default ?? 90;
}

/**
 * The decay score, 0–1:
 *   importance × e^(−age / retention(type)) × (1 + a·ln(1 + accessCount)) × (1 + c·ln(1 + connections))
 * capped at 1, with age in days since creation. Pure: the same record, clock and edge count
 * always give the same score.
 */
export function decayScore(
  record: Pick<MemoryRecord, 'type' | 'importance' | 'createdAt' | 'accessCount'>,
  now: number,
  connections: number,
  parameters: DecayParameters,
): number {
  const ageDays = Math.max(0, now - record.createdAt.getTime()) / DAY;
  const retention = retentionFor(record.type, parameters.retentionDays);
  const decay = Math.exp(-ageDays / retention);
  const access = 1 + parameters.accessBoost * Math.log1p(record.accessCount);
  const connection = 1 + parameters.connectionBoost * Math.log1p(connections);
  return Math.min(1, record.importance * decay * access * connection);
}

export function ageInDays(record: Pick<MemoryRecord, 'createdAt'>, now: number): number {
  return Math.max(0, now - record.createdAt.getTime()) / DAY;
}
