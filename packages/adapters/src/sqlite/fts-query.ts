/** Most distinct terms one lexical query sends to FTS5; longer queries keep their first terms. */
export const maxFtsTerms = 64;

/** Longest term kept, in characters; a longer run of letters is cut (it cannot be a real word). */
const maxTermLength = 128;

// Letters, combining marks and digits: what the unicode61 tokenizer keeps inside a token.
const termPattern = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * English function words left out of a query that has other terms. Each matches nearly every
 * document, so it costs a full pass over the index (a natural question such as "what did we
 * decide about the cache" measured 3x slower than "decide cache" at 10k memories), while BM25
 * gives it almost no weight. A query made only of them is searched as is.
 */
const stopwords = new Set(
  (
    'a an the and or but nor if then else so of to in on at by for from with about into onto over under ' +
    'as is am are was were be been being do does did done have has had having i me my we us our you your ' +
    'he him his she her it its they them their this that these those there here what which who whom ' +
    'when where why how not no can could would should will shall may might must'
  ).split(' '),
);

/**
 * Turns free user text into a safe FTS5 MATCH expression, or null when it has no searchable term.
 *
 * User text is never handed to FTS5 as syntax: quotes, `*`, `AND`/`OR`/`NOT`/`NEAR`, parentheses
 * and `column:` prefixes would either raise a syntax error or change the meaning. Instead the
 * text is split into words, each word becomes a quoted FTS5 string (it contains only letters,
 * marks and digits, so it needs no escaping), and the words are OR-ed so BM25 ranks documents
 * that match more of them higher. Common English function words are dropped when other words
 * remain (see `stopwords`).
 */
export function ftsQuery(text: string): string | null {
  const terms = new Set<string>();
  const common = new Set<string>();
  for (const match of text.matchAll(termPattern)) {
    const term = match[0].toLowerCase().slice(0, maxTermLength);
    if (stopwords.has(term)) {
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
