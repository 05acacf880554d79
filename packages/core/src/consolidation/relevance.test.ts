import { describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_DAYS, resolveConsolidationOptions } from './consolidation-options.js';
import { forgettingVerdict, protectionOf } from './forgetting.js';
import { decayScore } from './relevance.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 0, 1);
const parameters = { retentionDays: DEFAULT_RETENTION_DAYS, accessBoost: 0.2, connectionBoost: 0.2 };
const record = (type: string, ageDays: number, importance = 0.5, accessCount = 0) => ({
  type,
  importance,
  accessCount,
  createdAt: new Date(now - ageDays * DAY),
});

describe('decayScore', () => {
  it('is importance × e^(−age / retention(type)) with no access and no edges', () => {
    expect(decayScore(record('observation', 30), now, 0, parameters)).toBeCloseTo(0.5 * Math.exp(-1), 10);
    expect(decayScore(record('error', 365), now, 0, parameters)).toBeCloseTo(0.5 * Math.exp(-1), 10);
    expect(decayScore(record('observation', 0), now, 0, parameters)).toBe(0.5);
  });

  it('keeps errors and decisions longer than observations', () => {
    const observation = decayScore(record('observation', 120), now, 0, parameters);
    expect(decayScore(record('error', 120), now, 0, parameters)).toBeGreaterThan(observation * 10);
    expect(decayScore(record('decision', 120), now, 0, parameters)).toBeGreaterThan(observation * 10);
  });

  it('uses the default retention for application types, and a configured table', () => {
    expect(decayScore(record('recipe', 90), now, 0, parameters)).toBeCloseTo(0.5 * Math.exp(-1), 10);
    const custom = resolveConsolidationOptions({ retentionDays: { observation: 10 } });
    expect(decayScore(record('observation', 10), now, 0, custom)).toBeCloseTo(0.5 * Math.exp(-1), 10);
    expect(custom.retentionDays.error).toBe(365);
  });

  it('boosts accessed and connected memories, capped at 1', () => {
    const base = decayScore(record('observation', 30), now, 0, parameters);
    expect(decayScore(record('observation', 30, 0.5, 9), now, 0, parameters)).toBeCloseTo(base * (1 + 0.2 * Math.log(10)), 10);
    expect(decayScore(record('observation', 30), now, 3, parameters)).toBeCloseTo(base * (1 + 0.2 * Math.log(4)), 10);
    expect(decayScore(record('observation', 0, 1, 1000), now, 50, parameters)).toBe(1);
  });

  it('treats a memory from the future as new', () => {
    expect(decayScore(record('observation', -5), now, 0, parameters)).toBe(0.5);
  });
});

describe('forgettingVerdict', () => {
  const rules = resolveConsolidationOptions().forgetting;
  const old = { importance: 0.1, key: null, tags: [] as string[], createdAt: new Date(now - 400 * DAY) };

  it('forgets an old memory under the threshold, with the reason', () => {
    const verdict = forgettingVerdict(old, 0.01, 0, now, rules);
    expect(verdict).toEqual({ forget: true, reason: 'decay score 0.0100 < 0.05 and 400 days old (≥ 90)' });
  });

  it('never forgets a linked, important, keyed or keep-tagged memory, whatever its score', () => {
    expect(forgettingVerdict(old, 0, 1, now, rules)).toMatchObject({ forget: false, protection: 'linked' });
    expect(forgettingVerdict({ ...old, importance: 0.7 }, 0, 0, now, rules)).toMatchObject({ forget: false, protection: 'important' });
    expect(forgettingVerdict({ ...old, key: 'k' }, 0, 0, now, rules)).toMatchObject({ forget: false, protection: 'keyed' });
    expect(forgettingVerdict({ ...old, tags: ['keep'] }, 0, 0, now, rules)).toMatchObject({ forget: false, protection: 'keep-tag' });
  });

  it('keeps young and relevant memories', () => {
    expect(forgettingVerdict({ ...old, createdAt: new Date(now - 89 * DAY) }, 0, 0, now, rules)).toEqual({
      forget: false,
      reason: 'too young',
    });
    expect(forgettingVerdict(old, 0.05, 0, now, rules)).toEqual({ forget: false, reason: 'relevant' });
  });

  it('honours a configured keep tag and importance floor', () => {
    const custom = resolveConsolidationOptions({ forgetting: { keepTag: 'Pinned', protectImportance: 0.3 } }).forgetting;
    expect(protectionOf({ ...old, tags: ['pinned'] }, 0, custom)).toBe('keep-tag');
    expect(protectionOf({ ...old, importance: 0.3 }, 0, custom)).toBe('important');
    expect(protectionOf(old, 0, custom)).toBeUndefined();
  });
});

describe('resolveConsolidationOptions', () => {
  it('names the field and what it must be', () => {
    expect(() => resolveConsolidationOptions({ forgetting: { threshold: 2 } })).toThrow(
      /consolidation\.forgetting\.threshold: must be a number from 0 to 1 \(got 2\)/,
    );
    expect(() => resolveConsolidationOptions({ retentionDays: { error: 0 } })).toThrow(/consolidation\.retentionDays\.error/);
    expect(() => resolveConsolidationOptions({ compression: { minClusterSize: 1 } })).toThrow(/consolidation\.compression\.minClusterSize/);
    expect(() => resolveConsolidationOptions({ archive: {} as never })).toThrow(/consolidation\.archive: must have an append/);
  });
});
