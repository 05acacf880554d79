/** Most distinct terms one lexical query sends; longer queries keep their first terms. */
export const maxQueryTerms = 64;

/** Longest term kept, in characters; a longer run of letters is cut (it cannot be a real word). */
const maxTermLength = 128;

// Letters, combining marks and digits: what the default text-search parser keeps inside a word.
const termPattern = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * The distinct lower-cased words of free user text (letters, marks, digits), at most
 * `maxQueryTerms`, each cut to `maxTermLength` characters; empty when nothing is searchable.
 *
 * User text is never handed to the tsquery parser as syntax: `&`, `|`, `!`, `<->`, `:*`,
 * parentheses and quotes would raise a syntax error or change the meaning. The words hold only
 * letters, marks and digits; the store turns each into lexemes with `to_tsvector('english', word)`
 * (stemming, stop words) and builds its tsqueries from those quoted lexemes.
 */
export function queryWords(text: string): string[] {
  const terms = new Set<string>();
  for (const match of text.matchAll(termPattern)) {
    terms.add(match[0].toLowerCase().slice(0, maxTermLength));
    if (terms.size >= maxQueryTerms) break;
  }
  return [...terms];
}
