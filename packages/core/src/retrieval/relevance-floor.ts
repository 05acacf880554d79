import type { RankingRecord } from '../contracts/memory-store.js';
import { QUERY_STOPWORDS, queryTerms, searchTerm, terms, words } from '../text/text.js';

/**
 * When search answers "nothing relevant". Rank fusion gives every result list a first hit scoring
 * near 1, however unrelated: the floor looks at evidence instead.
 * - `coverage` (query level): the share of the query's words (stemmed, function words left out)
 *   found in at least one candidate's content, tags or context. Below it, search returns `[]`
 *   (unless a candidate's vector similarity reaches `similarity`).
 * - per hit: a hit is kept only if it holds at least one query word, or its vector similarity
 *   reaches `similarity`.
 * - `unknownNames` (query level): a query that names things none of which any memory in the
 *   searched scope holds — capitalised words that do not start a sentence, month and weekday names
 *   aside (`queryNames`) — returns `[]` (unless a candidate's vector similarity reaches `similarity`).
 */
export interface RelevanceFloorOptions {
  /** 0–1. Default 0.25 with the built-in hash embedder. */
  coverage?: number;
  /** Cosine similarity, 0–1. Default 0.5 with the built-in hash embedder. */
  similarity?: number;
  /**
   * Answer nothing when the query names things (capitalised words other than a sentence's first,
   * month and weekday names aside) and no memory the search may return holds any of them. Default
   * true with the built-in hash embedder, false otherwise. Turn it off when memories do not name
   * what queries name (first-person notes asked about by their author's name).
   */
  unknownNames?: boolean;
}

export interface ResolvedRelevanceFloor {
  coverage: number;
  similarity: number;
  unknownNames: boolean;
}

/** Measured on LoCoMo (tuning conversations) with `hash-v1-384`: see docs/retrieval.md "Relevance floor". */
export const HASH_RELEVANCE_FLOOR: ResolvedRelevanceFloor = { coverage: 0.25, similarity: 0.5, unknownNames: true };

/**
 * The floor in force: the configured one, or the embedder's default — the hash embedder's
 * (measured), none for other embedders (their similarities are not calibrated here: configure
 * `retrieval.floor` after measuring, see docs/retrieval.md).
 */
export function floorFor(
  configured: RelevanceFloorOptions | false | undefined,
  embedderId: string | undefined,
): ResolvedRelevanceFloor | undefined {
  if (configured === false) return undefined;
  const isHash = embedderId !== undefined && /^hash-v\d+-/.test(embedderId);
  if (configured === undefined) return isHash ? HASH_RELEVANCE_FLOOR : undefined;
  const base = isHash ? HASH_RELEVANCE_FLOOR : { coverage: 0.5, similarity: 1, unknownNames: false };
  return {
    coverage: configured.coverage ?? base.coverage,
    similarity: configured.similarity ?? base.similarity,
    unknownNames: configured.unknownNames ?? base.unknownNames,
  };
}

export function checkFloorOptions(floor: RelevanceFloorOptions | false | undefined): string[] {
  if (floor === undefined || floor === false) return [];
  if (floor === null || typeof floor !== 'object') return ['retrieval.floor must be false or { coverage?, similarity?, unknownNames? }'];
  const problems: string[] = [];
  for (const name of ['coverage', 'similarity'] as const) {
    const value = floor[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1))
      problems.push(`retrieval.floor.${name} must be a number from 0 to 1`);
  }
  if (floor.unknownNames !== undefined && typeof floor.unknownNames !== 'boolean')
    problems.push('retrieval.floor.unknownNames must be true or false');
  return problems;
}

/** The evidence of one hit: how many of the query's words it holds, and their share. */
export interface HitEvidence {
  /** Query words (search terms) found in the memory's content, tags or context. */
  matched: number;
  /** matched ÷ query words (0 when the query has none). */
  coverage: number;
}

/**
 * Applies the floor to scored candidates (best first): answers the ones to keep (possibly none)
 * and each one's evidence.
 */
export function applyFloor<Hit extends { memory: RankingRecord; similarity: number | undefined }>(
  query: string,
  hits: readonly Hit[],
  floor: Pick<ResolvedRelevanceFloor, 'coverage' | 'similarity'>,
  limit = Number.POSITIVE_INFINITY,
): { kept: Hit[]; evidence: Map<Hit, HitEvidence>; found: ReadonlySet<string>; close: boolean } {
  const wanted = queryTerms(query);
  const evidence = new Map<Hit, HitEvidence>();
  const found = new Set<string>();
  if (wanted.length === 0) return { kept: [...hits], evidence, found, close: false };
  const close = (hit: Hit) => hit.similarity !== undefined && hit.similarity >= floor.similarity;
  const kept: Hit[] = [];
  let anyClose = false;
  for (const hit of hits) {
    // Enough kept and enough evidence: the rest cannot change the answer (tokenising is the cost).
    if (kept.length >= limit && (anyClose || found.size / wanted.length >= floor.coverage)) break;
    const own = ownTerms(hit.memory);
    let matched = 0;
    for (const term of wanted) {
      if (own.has(term)) {
        matched += 1;
        found.add(term);
      }
    }
    evidence.set(hit, { matched, coverage: matched / wanted.length });
    if (close(hit)) anyClose = true;
    if (kept.length < limit && (matched > 0 || close(hit))) kept.push(hit);
  }
  if (found.size / wanted.length < floor.coverage && !anyClose) return { kept: [], evidence, found, close: anyClose };
  return { kept, evidence, found, close: anyClose };
}

/**
 * The search terms of a memory's content, tags and context, remembered per record object: a
 * store that answers the same `RankingRecord` again while its fields stand still (SQLite's
 * ranking cache; records are never changed once answered, see `MemoryStore.getRankingFields`)
 * is tokenised once, not at every search that ranks it (tokenising was ~5 % of a search's CPU).
 */
const termsOfRecord = new WeakMap<RankingRecord, ReadonlySet<string>>();

function ownTerms(record: RankingRecord): ReadonlySet<string> {
  let own = termsOfRecord.get(record);
  if (own === undefined) {
    own = new Set(terms(`${record.content} ${record.tags.join(' ')} ${record.context ?? ''}`));
    termsOfRecord.set(record, own);
  }
  return own;
}

/** Month and weekday names (and their short forms): capitalised, but a date, not a name. */
const CALENDAR_WORDS: ReadonlySet<string> = new Set(
  (
    'january february march april may june july august september october november december ' +
    'jan feb mar apr jun jul aug sep sept oct nov dec ' +
    'monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun'
  ).split(' '),
);

const wordWithPosition = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;
const sentenceEnd = /[.!?:;]["'”’)\]]*\s*$/u;

/**
 * The names a query mentions, as search terms: words written with a capital first letter that do
 * not start a sentence (the query's first word, or one after `.`, `!`, `?`, `:`, `;`), month and
 * weekday names, single letters and function words ("I") aside: each as the word (lower-cased) and
 * its search term. "When did Caroline go to the LGBTQ support group?" → caroline, lgbtq.
 */
export function queryNames(query: string): Array<{ word: string; term: string }> {
  const names = new Map<string, { word: string; term: string }>();
  let previousEnd = -1;
  for (const match of query.matchAll(wordWithPosition)) {
    const word = match[0];
    const start = match.index ?? 0;
    const startsSentence = previousEnd < 0 || sentenceEnd.test(query.slice(previousEnd, start));
    previousEnd = start + word.length;
    if (startsSentence || word.length < 2 || !/^\p{Lu}/u.test(word)) continue;
    const lower = words(word)[0] ?? '';
    const bare = lower.replace(/['’]s$/, '');
    if (CALENDAR_WORDS.has(bare) || QUERY_STOPWORDS.has(bare)) continue;
    const term = searchTerm(lower);
    if (!names.has(term)) names.set(term, { word: bare, term });
  }
  return [...names.values()];
}
