import type { RankingRecord } from '../contracts/memory-store.js';
import type { Relation } from '../contracts/model.js';
import { type DateCue, matchesDateCue } from './date-cues.js';
import { checkFloorOptions, type RelevanceFloorOptions } from './relevance-floor.js';

/** How search turns candidate lists into one 0–1 score. All fields optional. */
export interface RetrievalOptions {
  /** Reciprocal-rank-fusion constant k: a list's rank r contributes weight / (k + r). Default 60. */
  rrfK?: number;
  /** Candidates fetched from each list (lexical, vector). Default max(4 × limit, 40). */
  candidates?: number;
  /**
   * Relative weight of each list in the fusion. Defaults: lexical 1; vector 1, or
   * 0.05 with the built-in hash embedder (a lexical model without document
   * frequencies, which BM25 outranks: its list breaks ties and catches misspellings).
   */
  weights?: { lexical?: number; vector?: number };
  /**
   * Dates named in the query ("on October 13, 2023", "in May 2023", "in June", "2022"): memories
   * created in that period count as ranked first by one more list of this weight. Default
   * weight 0.5; `false` turns it off.
   */
  dateCues?: { weight?: number } | false;
  /** Share of the final score given to recency (0–1) and its half-life. Defaults 0.1 and 30 days. */
  recency?: { weight?: number; halfLifeDays?: number };
  /** Share of the final score given to the memory's importance (0–1). Default 0.1. */
  importance?: { weight?: number };
  /**
   * The relevance floor: below it search returns nothing rather than unrelated hits (see
   * `RelevanceFloorOptions`). Default: on with the built-in hash embedder (coverage 0.25,
   * similarity 0.5), off with other embedders. `false` turns it off; a search's `minScore`
   * (even 0) replaces it for that search.
   */
  floor?: RelevanceFloorOptions | false;
  /**
   * Share of the final score given to the memory's consolidation decay score (0–1): the one
   * `consolidate()` stored, else computed on the fly from importance, age and access count.
   * Default 0 (off).
   */
  decay?: { weight?: number };
  /**
   * Neighbour smoothing for conversation turns: a candidate gains this weight × the score of the
   * turn just before or after it in its conversation when that turn is a candidate too (see
   * `smoothAlongConversations`). Default weight 0.15 (measured on LoCoMo); `false` turns it off.
   */
  neighbours?: { weight?: number } | false;
}

export interface ResolvedRetrievalOptions {
  rrfK: number;
  candidates: number | undefined;
  lexicalWeight: number;
  /** Undefined: chosen by the embedder (`defaultVectorWeight`). */
  vectorWeight: number | undefined;
  /** 0 when date cues are off. */
  dateWeight: number;
  recencyWeight: number;
  halfLifeDays: number;
  importanceWeight: number;
  /** As configured; the embedder's default applies when undefined. */
  floor: RelevanceFloorOptions | false | undefined;
  decayWeight: number;
  /** 0 when neighbour smoothing is off. */
  neighbourWeight: number;
}

/** The neighbour-smoothing weight chosen on LoCoMo's tuning conversations (docs/retrieval.md). */
export const DEFAULT_NEIGHBOUR_WEIGHT = 0.15;

export function resolveRetrievalOptions(options: RetrievalOptions = {}): ResolvedRetrievalOptions {
  const resolved = {
    rrfK: options.rrfK ?? 60,
    candidates: options.candidates,
    lexicalWeight: options.weights?.lexical ?? 1,
    vectorWeight: options.weights?.vector,
    dateWeight: options.dateCues === false ? 0 : (options.dateCues?.weight ?? 0.5),
    recencyWeight: options.recency?.weight ?? 0.1,
    halfLifeDays: options.recency?.halfLifeDays ?? 30,
    importanceWeight: options.importance?.weight ?? 0.1,
    floor: options.floor,
    decayWeight: options.decay?.weight ?? 0,
    neighbourWeight: options.neighbours === false ? 0 : (options.neighbours?.weight ?? DEFAULT_NEIGHBOUR_WEIGHT),
  };
  const problems: string[] = checkFloorOptions(options.floor);
  if (!(resolved.rrfK > 0)) problems.push('retrieval.rrfK must be > 0');
  if (resolved.lexicalWeight < 0 || (resolved.vectorWeight ?? 0) < 0) problems.push('retrieval.weights must be >= 0');
  if (!(resolved.dateWeight >= 0)) problems.push('retrieval.dateCues.weight must be >= 0');
  if (
    resolved.recencyWeight < 0 ||
    resolved.importanceWeight < 0 ||
    resolved.decayWeight < 0 ||
    resolved.recencyWeight + resolved.importanceWeight + resolved.decayWeight > 1
  ) {
    problems.push('retrieval.recency.weight, retrieval.importance.weight and retrieval.decay.weight must be >= 0 and sum to at most 1');
  }
  if (!(typeof resolved.neighbourWeight === 'number' && resolved.neighbourWeight >= 0 && resolved.neighbourWeight <= 1)) {
    problems.push('retrieval.neighbours.weight must be a number from 0 to 1');
  }
  if (!(resolved.halfLifeDays > 0)) problems.push('retrieval.recency.halfLifeDays must be > 0');
  if (resolved.candidates !== undefined && !(Number.isInteger(resolved.candidates) && resolved.candidates > 0)) {
    problems.push('retrieval.candidates must be a positive integer');
  }
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  return resolved;
}

/** The vector list's weight with the built-in hash embedder (see `RetrievalOptions.weights`). */
export const HASH_VECTOR_WEIGHT = 0.05;

/** The vector weight when none was configured: lower for the hash embedder (ids `hash-v<n>-…`). */
export function defaultVectorWeight(embedderId: string | undefined): number {
  return embedderId !== undefined && /^hash-v\d+-/.test(embedderId) ? HASH_VECTOR_WEIGHT : 1;
}

/** Why a hit scored what it did. The `contribution`s add up to `score`. */
export interface Explanation {
  /** Fused relevance, 0–1: 1 means ranked first by every list the mode uses. */
  relevance: number;
  lexical?: { rank: number; score: number; contribution: number };
  vector?: { rank: number; similarity: number; contribution: number };
  /** Set when the query named a date and the memory was created then (see `RetrievalOptions.dateCues`). */
  date?: { cue: string; contribution: number };
  recency: { ageDays: number; value: number; contribution: number };
  importance: { value: number; contribution: number };
  /** The query words this memory holds (content, tags, context), when the relevance floor applied. */
  evidence?: { matched: number; coverage: number };
  /** Set when `retrieval.decay.weight` > 0: the decay score, and whether consolidation stored it. */
  decay?: { value: number; stored: boolean; contribution: number };
  /** Set when neighbour smoothing applied: the adjacent conversation turn, its score and what it added. */
  neighbour?: { id: string; score: number; contribution: number };
  /** Set when graph expansion brought this memory in: the seed hit, the edge and the decay applied. */
  expansion?: { seedId: string; seedScore: number; via: Relation; distance: number; factor: number };
  score: number;
}

export interface Candidate {
  id: string;
  lexical?: { rank: number; score: number };
  vector?: { rank: number; similarity: number };
}

/** Merges ranked lists into candidates keyed by id (ranks start at 1). */
export function collectCandidates(
  lexical: ReadonlyArray<{ id: string; score: number }>,
  vector: ReadonlyArray<{ id: string; similarity: number }>,
): Map<string, Candidate> {
  const candidates = new Map<string, Candidate>();
  lexical.forEach((match, index) => {
    candidates.set(match.id, { id: match.id, lexical: { rank: index + 1, score: match.score } });
  });
  vector.forEach((match, index) => {
    const existing = candidates.get(match.id);
    const entry = { rank: index + 1, similarity: match.similarity };
    if (existing) existing.vector = entry;
    else candidates.set(match.id, { id: match.id, vector: entry });
  });
  return candidates;
}

/** A list's share of the relevance: weight / (k + rank), over the best possible (0 without a rank). */
function rankPart(weight: number, rank: number | undefined, rrfK: number, best: number): number {
  return rank === undefined || best === 0 ? 0 : weight / (rrfK + rank) / best;
}

/**
 * The documented score:
 *   relevance = Σ_lists w / (k + rank)  ÷  Σ_lists w / (k + 1)          (0–1)
 *   score     = (1 − r − i − d) · relevance + r · recency + i · importance + d · decay   (0–1)
 * with recency = 0.5 ^ (age / half-life), r and i the recency and importance weights. When the
 * query names dates (`dateCues`), they form one more list in which every memory created in one
 * of those periods is ranked first.
 */
export function scoreCandidate<Record extends RankingRecord>(
  candidate: Candidate,
  record: Record,
  lists: { lexical: boolean; vector: boolean },
  options: ResolvedRetrievalOptions,
  now: number,
  dateCues: readonly DateCue[] = [],
  decay?: (record: Record) => number,
): Explanation {
  const parts = scoreParts(candidate, record, lists, options, now, dateCues, decay);
  const { relevanceShare, cue } = parts;
  const explanation: Explanation = {
    relevance: parts.relevance,
    recency: { ageDays: parts.ageDays, value: parts.recency, contribution: parts.recencyContribution },
    importance: { value: record.importance, contribution: parts.importanceContribution },
    score: 0,
  };
  // Object literals rather than spreads of the candidate's entries (the same fields, in the same
  // order): a spread is a generic copy.
  const { lexical, vector } = candidate;
  if (lexical && lists.lexical)
    explanation.lexical = { rank: lexical.rank, score: lexical.score, contribution: relevanceShare * parts.lexicalPart };
  if (vector && lists.vector)
    explanation.vector = { rank: vector.rank, similarity: vector.similarity, contribution: relevanceShare * parts.vectorPart };
  if (cue) explanation.date = { cue: cue.text, contribution: relevanceShare * parts.datePart };
  if (options.decayWeight > 0) {
    explanation.decay = { value: parts.decayValue, stored: record.decayScore !== undefined, contribution: parts.decayContribution };
  }
  explanation.score = parts.score;
  return explanation;
}

/**
 * `scoreCandidate(…).score` without the explanation (the same arithmetic, the same bits): search
 * scores every candidate and explains only the hits it returns.
 */
export function candidateScore<Record extends RankingRecord>(
  candidate: Candidate,
  record: Record,
  lists: { lexical: boolean; vector: boolean },
  options: ResolvedRetrievalOptions,
  now: number,
  dateCues: readonly DateCue[] = [],
  decay?: (record: Record) => number,
): number {
  return scoreParts(candidate, record, lists, options, now, dateCues, decay).score;
}

/** The figures of one candidate's score, written into one reused object (read before the next call). */
const parts = {
  relevanceShare: 0,
  lexicalPart: 0,
  vectorPart: 0,
  datePart: 0,
  cue: undefined as DateCue | undefined,
  relevance: 0,
  ageDays: 0,
  recency: 0,
  recencyContribution: 0,
  importanceContribution: 0,
  decayValue: 0,
  decayContribution: 0,
  score: 0,
};

function scoreParts<Record extends RankingRecord>(
  candidate: Candidate,
  record: Record,
  lists: { lexical: boolean; vector: boolean },
  options: ResolvedRetrievalOptions,
  now: number,
  dateCues: readonly DateCue[],
  decay: ((record: Record) => number) | undefined,
): typeof parts {
  const { rrfK } = options;
  const lexicalWeight = lists.lexical ? options.lexicalWeight : 0;
  const vectorWeight = lists.vector ? (options.vectorWeight ?? 1) : 0;
  const dateWeight = dateCues.length > 0 ? options.dateWeight : 0;
  const best = (lexicalWeight + vectorWeight + dateWeight) / (rrfK + 1);
  const relevanceShare = 1 - options.recencyWeight - options.importanceWeight - options.decayWeight;
  const lexicalPart = rankPart(lexicalWeight, candidate.lexical?.rank, rrfK, best);
  const vectorPart = rankPart(vectorWeight, candidate.vector?.rank, rrfK, best);
  const cue = dateWeight > 0 ? dateCues.find((item) => matchesDateCue(item, record.createdAt)) : undefined;
  const datePart = cue ? rankPart(dateWeight, 1, rrfK, best) : 0;
  const relevance = lexicalPart + vectorPart + datePart;
  const ageDays = Math.max(0, now - record.createdAt.getTime()) / 86_400_000;
  const recency = 0.5 ** (ageDays / options.halfLifeDays);
  const recencyContribution = options.recencyWeight * recency;
  const importanceContribution = options.importanceWeight * record.importance;
  let decayValue = 0;
  let decayContribution = 0;
  if (options.decayWeight > 0) {
    decayValue = record.decayScore ?? decay?.(record) ?? record.importance;
    decayContribution = options.decayWeight * decayValue;
  }
  parts.relevanceShare = relevanceShare;
  parts.lexicalPart = lexicalPart;
  parts.vectorPart = vectorPart;
  parts.datePart = datePart;
  parts.cue = cue;
  parts.relevance = relevance;
  parts.ageDays = ageDays;
  parts.recency = recency;
  parts.recencyContribution = recencyContribution;
  parts.importanceContribution = importanceContribution;
  parts.decayValue = decayValue;
  parts.decayContribution = decayContribution;
  // Without a decay weight the last term is 0, as the explanation's missing decay counts.
  parts.score = Math.min(1, relevanceShare * relevance + recencyContribution + importanceContribution + decayContribution);
  return parts;
}
