/** Most distinct terms one lexical query sends; longer queries keep their first terms. */
export const maxQueryTerms = 64;

/** Longest term kept, in characters; a longer run of letters is cut (it cannot be a real word). */
const maxTermLength = 128;

// Letters, combining marks and digits: what the default text-search parser keeps inside a word.
const termPattern = /[\p{L}\p{M}\p{N}]+/gu;

/**
 * Turns free user text into a `to_tsquery` input, or null when it has no searchable term.
 *
 * User text is never handed to the tsquery parser as syntax: `&`, `|`, `!`, `<->`, `:*`,
 * parentheses and quotes would raise a syntax error or change the meaning. The text is split into
 * words; each becomes a quoted lexeme (it holds only letters, marks and digits, so it needs no
 * escaping) that `to_tsquery('english', …)` still stems and stop-word-filters; and the words are
 * OR-ed, so ranking favours documents that match more of them (like the SQLite store's BM25).
 */
export function tsQueryText(text: string): string | null {
  const terms = new Set<string>();
  for (const match of text.matchAll(termPattern)) {
    terms.add(match[0].toLowerCase().slice(0, maxTermLength));
    if (terms.size >= maxQueryTerms) break;
  }
  if (terms.size === 0) return null;
  return [...terms].map((term) => `'${term}'`).join(' | ');
}
