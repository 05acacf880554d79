import { describe, expect, it } from 'vitest';
import { maxQueryTerms, queryWords } from './postgres-text-query.js';

describe('queryWords', () => {
  it('keeps lower-cased words and drops every operator', () => {
    expect(queryWords('Database migration & timeout!')).toEqual(['database', 'migration', 'timeout']);
    expect(queryWords(`"a" | !b <-> c:* (d) 'e'`)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(queryWords("'; DROP TABLE memories; --")).toEqual(['drop', 'table', 'memories']);
  });

  it('keeps unicode words and de-duplicates', () => {
    expect(queryWords('Ünïcödé ünïcödé 東京 café')).toEqual(['ünïcödé', '東京', 'café']);
  });

  it('returns nothing when nothing is searchable', () => {
    for (const text of ['', '   ', '🙂', '(((', '*', '{}[]<>|\\/']) expect(queryWords(text)).toEqual([]);
  });

  it('bounds the number and the length of terms', () => {
    const many = Array.from({ length: 200 }, (_, index) => `w${index}`).join(' ');
    expect(queryWords(many)).toHaveLength(maxQueryTerms);
    expect(queryWords('x'.repeat(10_000))).toEqual(['x'.repeat(128)]);
  });
});
