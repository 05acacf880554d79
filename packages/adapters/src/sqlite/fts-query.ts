import { MAX_QUERY_TERMS, QUERY_STOPWORDS } from '@engram/core';

/** Most distinct terms one lexical query sends to FTS5; longer queries keep their first terms. */
export const maxFtsTerms = MAX_QUERY_TERMS;

/** Longest term kept, in characters; a longer run of letters is cut (it cannot be a real word). */
const maxTermLength = 128;

// Letters, combining marks and digits: what the unicode61 tokenizer keeps inside a token.
const termPattern = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Turns free user text into a safe FTS5 MATCH expression, or null when it has no searchable term.
 *
 * User text is never handed to FTS5 as syntax: quotes, `*`, `AND`/`OR`/`NOT`/`NEAR`, parentheses
 * and `column:` prefixes would either raise a syntax error or change the meaning. Instead the
 * text is split into words, each word becomes a quoted FTS5 string (it contains only letters,
 * marks and digits, so it needs no escaping), and the words are OR-ed so BM25 ranks documents
 * that match more of them higher. Common English function words are dropped when other words
 * remain (see `QUERY_STOPWORDS`).
 */
export function ftsQuery(text: string): string | null {
  const terms = new Set<string>();
  const common = new Set<string>();
  for (const match of text.matchAll(termPattern)) {
    const term = match[0].toLowerCase().slice(0, maxTermLength);
    // Function words (core's QUERY_STOPWORDS) match nearly every memory: a natural question such
    // as "what did we decide about the cache" measured 3x slower than "decide cache" at 10k
    // memories, while BM25 gives them almost no weight.
    if (QUERY_STOPWORDS.has(term)) {
      if (common.size < maxFtsTerms) common.add(term);
      continue;
    }
    terms.add(term);
    if (terms.size >= maxFtsTerms) break;
  }
  const kept = terms.size > 0 ? terms : common;
  if (kept.size === 0) return null;
  return [...kept].map((term) => `"${term}"`).join(' OR ');
}
