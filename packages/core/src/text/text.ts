import crypto, { createHash } from 'node:crypto';
import { porterStem } from './porter-stemmer.js';

/** The exact-duplicate key: sha256 of the trimmed, case-folded content (whitespace runs folded). */
export function contentHash(content: string): string {
  return sha256Hex(normaliseForHash(content));
}

/**
 * sha256 of a string as hex: `crypto.hash` where Node has it (20.12+, 21.7+) — 0.4 µs against
 * 1.3 µs for a `createHash` object per call, once per memory written — else `createHash`.
 */
const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'hex')
    : (text) => createHash('sha256').update(text).digest('hex');

/** What the duplicate key is computed over: trimmed, whitespace runs folded, lower-cased. */
export function normaliseForHash(content: string): string {
  return content.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** Tags as stored: trimmed, lower-cased, de-duplicated, empty ones dropped, order kept. */
export function normaliseTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const tag of tags) {
    const normalised = tag.trim().toLowerCase();
    if (normalised) seen.add(normalised);
  }
  return [...seen];
}

const wordPattern = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Lower-cased word tokens (unicode letters and digits; simple apostrophes kept inside words). */
export function words(text: string): string[] {
  return text.toLowerCase().match(wordPattern) ?? [];
}

const possessive = /['’]s$/;

/**
 * Search terms: `words`, with a trailing possessive dropped ("caroline's" → "caroline"),
 * diacritics removed ("café" → "cafe") and each word reduced to its Porter stem ("painting" →
 * "paint"), as SQLite's FTS5 `porter unicode61 remove_diacritics 2` tokenizer indexes text. Used
 * by every store's BM25 (in-memory and SQLite).
 */
export function terms(text: string): string[] {
  const found = words(text);
  for (let index = 0; index < found.length; index++) found[index] = term(found[index] as string);
  return found;
}

// Stems of recently seen words: text repeats its words (Zipf), and stemming is most of the cost
// of `terms` (a 15-word memory: ~17 µs uncached, ~3.5 µs with this cache).
const stemCache = new Map<string, string>();
const stemCacheLimit = 50_000;

const nonAscii = /[^\x20-\x7e]/;
const marks = /\p{M}+/gu;

/**
 * A word's search term (the word lower-cased, as `words` returns it): possessive dropped,
 * diacritics removed ("café" → "cafe"), Porter stem. What `terms` maps each word to.
 */
export function searchTerm(word: string): string {
  return term(word);
}

function term(word: string): string {
  let stem = stemCache.get(word);
  if (stem === undefined) {
    let base = possessive.test(word) ? word.slice(0, -2) : word;
    if (nonAscii.test(base)) base = base.normalize('NFD').replace(marks, '').normalize('NFC');
    stem = porterStem(base);
    if (stemCache.size >= stemCacheLimit) stemCache.clear();
    stemCache.set(word, stem);
  }
  return stem;
}

/**
 * BM25's term-frequency saturation (k1) and length normalisation (b), shared by every store
 * (in-memory, SQLite, Postgres). k1 1.2 as FTS5 and Lucene use it; b 0.6 rather than their 0.75:
 * a memory's length counts its context too, and a conversation turn's derived context makes it
 * several turns long, so full length normalisation penalised exactly the turns whose context
 * helps. Chosen on LoCoMo's tuning conversations (docs/retrieval.md "BM25 parameters").
 */
export const BM25_K1 = 1.2;
export const BM25_B = 0.6;

/**
 * What lexical search indexes of a memory: each term's frequency, the weighted sum over its
 * content and tags (weight 1) and its context (`contextWeight`), and its length in tokens (every
 * token, unweighted), as SQLite's FTS5 computes BM25 with column weights.
 */
export function termFrequencies(
  content: string,
  tags: readonly string[],
  context: string | null | undefined,
  contextWeight: number,
): { frequencies: Map<string, number>; length: number } {
  const frequencies = new Map<string, number>();
  let length = 0;
  const count = (text: string, weight: number) => {
    for (const word of words(text)) {
      const stem = term(word);
      frequencies.set(stem, (frequencies.get(stem) ?? 0) + weight);
      length += 1;
    }
  };
  count(content, 1);
  for (const tag of tags) count(tag, 1);
  if (context) count(context, contextWeight);
  return { frequencies, length };
}

/**
 * English function words a lexical query leaves out when it has other words: each matches
 * nearly every memory, so it costs a pass over the index while BM25 gives it almost no weight.
 * A query made only of them is searched as is. Shared by every store's query builder.
 */
export const QUERY_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an the and or but nor if then else so of to in on at by for from with about into onto over under ' +
    'as is am are was were be been being do does did done have has had having i me my we us our you your ' +
    'he him his she her it its they them their this that these those there here what which who whom ' +
    'when where why how not no can could would should will shall may might must'
  ).split(' '),
);

/**
 * How much a word in a memory's `context` counts in lexical search next to one in its content or
 * tags (a BM25 column weight). Chosen on LoCoMo's tuning conversations (see docs/retrieval.md).
 */
export const DEFAULT_CONTEXT_WEIGHT = 0.5;

/** Most distinct terms one lexical query keeps; longer queries keep their first terms. */
export const MAX_QUERY_TERMS = 64;

/** The distinct search `terms` of a query, function words left out when others remain. */
export function queryTerms(query: string): string[] {
  const kept = new Set<string>();
  const common = new Set<string>();
  for (const word of words(query)) {
    const bare = possessive.test(word) ? word.slice(0, -2) : word;
    if (QUERY_STOPWORDS.has(bare)) {
      if (common.size < MAX_QUERY_TERMS) common.add(term(bare));
    } else {
      kept.add(term(bare));
      if (kept.size >= MAX_QUERY_TERMS) break;
    }
  }
  return [...(kept.size > 0 ? kept : common)];
}

/** A rough token count for prompt budgets (~4 characters a token, the usual rule of thumb). */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
