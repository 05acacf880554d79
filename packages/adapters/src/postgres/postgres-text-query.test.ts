import { describe, expect, it } from 'vitest';
import { maxQueryTerms, tsQueryText } from './postgres-text-query.js';

describe('tsQueryText', () => {
  it('ORs quoted, lower-cased words and drops every operator', () => {
    expect(tsQueryText('Database migration & timeout!')).toBe("'database' | 'migration' | 'timeout'");
    expect(tsQueryText(`"a" | !b <-> c:* (d) 'e'`)).toBe("'a' | 'b' | 'c' | 'd' | 'e'");
    expect(tsQueryText("'; DROP TABLE memories; --")).toBe("'drop' | 'table' | 'memories'");
  });

  it('keeps unicode words and de-duplicates', () => {
    expect(tsQueryText('Ünïcödé ünïcödé 東京 café')).toBe("'ünïcödé' | '東京' | 'café'");
  });

  it('returns null when nothing is searchable', () => {
    for (const text of ['', '   ', '🙂', '(((', '*', '{}[]<>|\\/']) expect(tsQueryText(text)).toBeNull();
  });

  it('bounds the number and the length of terms', () => {
    const many = Array.from({ length: 200 }, (_, index) => `w${index}`).join(' ');
    expect(tsQueryText(many)?.split(' | ')).toHaveLength(maxQueryTerms);
    expect(tsQueryText('x'.repeat(10_000))).toBe(`'${'x'.repeat(128)}'`);
  });
});
