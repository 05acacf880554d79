import type { MemoryRecord } from '../contracts/model.js';
import { ageInDays } from './relevance.js';

/** Why a memory may never be forgotten. */
export type Protection = 'linked' | 'important' | 'keyed' | 'keep-tag';

export interface ForgettingRules {
  threshold: number;
  minAgeDays: number;
  protectImportance: number;
  keepTag: string;
}

export type ForgettingVerdict =
  | { forget: true; reason: string }
  | { forget: false; protection?: Protection; reason: 'protected' | 'too young' | 'relevant' };

/**
 * Whether forgetting takes this memory. The protections come first and are absolute: a memory
 * with any edge, importance ≥ `protectImportance`, a caller `key` or the keep tag is never
 * forgotten, whatever its score. Otherwise it goes when its score is under the threshold and it
 * is at least `minAgeDays` old.
 */
export function forgettingVerdict(
  record: Pick<MemoryRecord, 'importance' | 'key' | 'tags' | 'createdAt'>,
  score: number,
  connections: number,
  now: number,
  rules: ForgettingRules,
): ForgettingVerdict {
  const protection = protectionOf(record, connections, rules);
  if (protection) return { forget: false, protection, reason: 'protected' };
  const age = ageInDays(record, now);
  if (age < rules.minAgeDays) return { forget: false, reason: 'too young' };
  if (score >= rules.threshold) return { forget: false, reason: 'relevant' };
  return {
    forget: true,
    reason: `decay score ${score.toFixed(4)} < ${rules.threshold} and ${Math.floor(age)} days old (≥ ${rules.minAgeDays})`,
  };
}

export function protectionOf(
  record: Pick<MemoryRecord, 'importance' | 'key' | 'tags'>,
  connections: number,
  rules: Pick<ForgettingRules, 'protectImportance' | 'keepTag'>,
): Protection | undefined {
  if (connections > 0) return 'linked';
  if (record.importance >= rules.protectImportance) return 'important';
  if (record.key !== null) return 'keyed';
  if (record.tags.includes(rules.keepTag)) return 'keep-tag';
  return undefined;
}
