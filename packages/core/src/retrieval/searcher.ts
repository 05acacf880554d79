import { type DecayParameters, decayScore } from '../consolidation/relevance.js';
import type { MemoryStore, RankingRecord } from '../contracts/memory-store.js';
import type { MemoryFilter, MemoryRecord } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import type { EventHub } from '../events/event-hub.js';
import { buildFilter } from '../filter/build-filter.js';
import { matchesFilter } from '../filter/filter.js';
import type { RelationTypes } from '../graph/relation-types.js';
import { ValidationError } from '../model/errors.js';
import type { Ontology } from '../model/ontology.js';
import { type SearchOptions, searchOptionsSchema, validate } from '../model/schema.js';
import type { AccessRecorder } from './access-recorder.js';
import { findDateCues } from './date-cues.js';
import { expandHits } from './expansion.js';
import {
  type Candidate,
  candidateScore,
  collectCandidates,
  defaultVectorWeight,
  type Explanation,
  type ResolvedRetrievalOptions,
  scoreCandidate,
} from './fusion.js';
import { smoothAlongConversations } from './neighbours.js';
import { applyFloor, floorFor, type HitEvidence, queryNames } from './relevance-floor.js';

export interface SearchHit {
  memory: MemoryRecord;
  /** 0–1; see `Explanation` for how it is made. */
  score: number;
  explanation?: Explanation;
}

type Mode = 'hybrid' | 'vector' | 'lexical';

/** A candidate as search ranks it (see `Searcher.run`). */
interface Ranked {
  memory: RankingRecord;
  full: MemoryRecord | undefined;
  candidate: Candidate;
  /** The score so far, and the neighbour smoothing added (`smoothAlongConversations`). */
  explanation: Pick<Explanation, 'score' | 'neighbour'>;
  similarity: number | undefined;
  own: number;
}

const MAX_QUERY_CHARS = 100_000;

export interface SearcherContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  ontology: Ontology;
  relationTypes: RelationTypes;
  events: EventHub;
  access: AccessRecorder;
  retrieval: ResolvedRetrievalOptions;
  /** Opens (or redacts) sensitive memories before they are returned. Default: as stored. */
  reveal?: (record: MemoryRecord) => Promise<MemoryRecord>;
  /** Decay parameters for memories consolidation has not scored yet (`retrieval.decay`). */
  decay: DecayParameters;
  now: () => number;
  /** Metadata fields sensitive memories store encrypted: `where` refuses them. */
  sealedMetadataFields?: ReadonlySet<string> | undefined;
}

/**
 * Hybrid search: lexical and vector candidates, each filtered at the source, fused and reranked
 * (`fusion.ts`), optionally expanded along the graph (`expansion.ts`); emits `search`.
 */
export class Searcher {
  private fusion: ResolvedRetrievalOptions | undefined;

  constructor(private readonly context: SearcherContext) {}

  /** `recordAccess: false` for internal searches (link suggestions) that must not count as reads. */
  async search(query: string, options: SearchOptions = {}, recordAccess = true): Promise<SearchHit[]> {
    // The access write waits while any search is in flight (see AccessRecorder).
    const ended = this.context.access.searchStarted();
    try {
      return await this.run(query, options, recordAccess);
    } finally {
      ended();
    }
  }

  private async run(query: string, options: SearchOptions, recordAccess: boolean): Promise<SearchHit[]> {
    const started = performance.now();
    const { store, events } = this.context;
    if (typeof query !== 'string') throw new ValidationError([{ field: 'query', message: 'must be a string' }]);
    if (query.length > MAX_QUERY_CHARS)
      throw new ValidationError([{ field: 'query', message: `is longer than ${MAX_QUERY_CHARS} characters` }]);
    const parsed = validate(searchOptionsSchema, options, 'options');
    const filter = buildFilter(parsed, this.context);
    const vectors = await this.context.open();
    const limit = parsed.limit ?? 10;
    const requested: Mode = parsed.mode ?? 'hybrid';
    const useLexical = requested !== 'vector' && store.capabilities.lexical === 'bm25' && store.lexicalSearch !== undefined;
    const useVector = requested !== 'lexical' && vectors !== undefined;
    if (requested === 'vector' && !useVector)
      throw new ValidationError([{ field: 'options.mode', message: 'is "vector" but this Memory has no vector index' }]);
    if (requested === 'lexical' && !useLexical)
      throw new ValidationError([{ field: 'options.mode', message: `is "lexical" but the ${store.name} store has no lexical search` }]);
    if (query.trim().length === 0) return [];

    const candidateCount = this.context.retrieval.candidates ?? Math.max(limit * 4, 40);
    const [lexical, vector] = await Promise.all([
      useLexical ? (store.lexicalSearch as NonNullable<MemoryStore['lexicalSearch']>).call(store, query, filter, candidateCount) : [],
      useVector
        ? this.context.embedding.embedQuery(query).then((embedding) => (vectors as VectorIndex).search(embedding, candidateCount, filter))
        : [],
    ]);
    const candidates = collectCandidates(lexical, vector);
    const now = this.context.now();
    const lists = { lexical: useLexical, vector: useVector };
    const fusion = this.fusionOptions();
    // Candidates are ranked on the fields ranking reads when the store can answer just those and
    // nothing here needs more (`where` reads metadata, decay the access statistics, expansion
    // whole hits); full records are then read for the hits returned only.
    const getRankingFields = store.getRankingFields;
    const rankOnFields = getRankingFields !== undefined && !filter.where && !(fusion.decayWeight > 0) && !parsed.expand;
    const ids = [...candidates.keys()];
    const dateCues = fusion.dateWeight > 0 ? findDateCues(query) : [];
    // Candidates are ranked on their score alone; the explanation (a handful of objects) is built
    // for the hits returned only. `own`: the score before neighbour smoothing, which orders hits
    // the cap at 1 made equal; `full`: the whole record, when candidates were read whole;
    // `explanation.neighbour` is what smoothing added.
    let scored: Ranked[] = [];
    // Decay reads the access statistics, so a decay weight > 0 reads whole records (`full`).
    const decayOf = (full: MemoryRecord | undefined) => (full ? () => decayScore(full, now, 0, this.context.decay) : undefined);
    const score = (record: RankingRecord, full: MemoryRecord | undefined) => {
      const candidate = candidates.get(record.id);
      // A separate vector index may hold a stale payload: the store's record is the truth.
      if (!candidate || !matchesFilter(record, filter)) return;
      const own = candidateScore(candidate, record, lists, fusion, now, dateCues, decayOf(full));
      scored.push({ memory: record, full, candidate, explanation: { score: own }, similarity: candidate.vector?.similarity, own });
    };
    if (rankOnFields) for (const record of await getRankingFields.call(store, ids)) score(record, undefined);
    else for (const record of await store.get(ids)) score(record, record);
    smoothAlongConversations(scored, fusion.neighbourWeight);
    if (parsed.minScore !== undefined) {
      const minScore = parsed.minScore;
      scored = scored.filter((item) => item.explanation.score >= minScore);
    }
    // Best score first, then the better score before smoothing, then the later id. The comparator
    // answers -1 or 1 (a difference of scores was a heap number a comparison).
    scored.sort((a, b) => {
      if (a.explanation.score !== b.explanation.score) return a.explanation.score > b.explanation.score ? -1 : 1;
      if (a.own !== b.own) return a.own > b.own ? -1 : 1;
      return a.memory.id < b.memory.id ? 1 : -1;
    });
    // The relevance floor (evidence, not rank) applies unless the caller chose a minScore.
    const floor = parsed.minScore === undefined ? floorFor(fusion.floor, this.context.embedding.id) : undefined;
    let kept = scored;
    let evidenceOf: ((item: Ranked) => HitEvidence | undefined) | undefined;
    if (floor) {
      // Expansion seeds from the best hits, so the floor keeps `limit` of them either way.
      const applied = applyFloor(query, scored, floor, limit);
      kept = applied.kept;
      if (kept.length > 0 && floor.unknownNames && !applied.close && (await this.namesAbsent(query, applied.found, filter))) kept = [];
      evidenceOf = (item) => applied.evidence.get(item);
    }
    // The explanation of a kept candidate: `scoreCandidate`'s (whose score is `own`, the same
    // arithmetic), then what smoothing and the floor added, in that order.
    const explain = (item: Ranked): Explanation => {
      const explanation = scoreCandidate(item.candidate, item.memory, lists, fusion, now, dateCues, decayOf(item.full));
      const { neighbour } = item.explanation;
      if (neighbour) {
        explanation.neighbour = neighbour;
        explanation.score = item.explanation.score;
      }
      const evidence = evidenceOf?.(item);
      if (evidence) explanation.evidence = evidence;
      return explanation;
    };
    const whole = rankOnFields
      ? await this.fullRecords(kept, limit, filter, explain)
      : kept.flatMap((item) => (item.full ? [{ memory: item.full, explanation: explain(item) }] : []));
    const hits: SearchHit[] = whole.map(({ memory, explanation }) =>
      parsed.explain ? { memory, score: explanation.score, explanation } : { memory, score: explanation.score },
    );
    if (parsed.expand) {
      await expandHits(store, this.context.relationTypes, hits, filter, parsed.expand, parsed.explain ?? false, parsed.minScore);
    }
    const top = hits.slice(0, limit);
    if (recordAccess) this.context.access.record(top.map((hit) => hit.memory.id));
    const mode: Mode = useLexical && useVector ? 'hybrid' : useVector ? 'vector' : 'lexical';
    events.emit('search', { query, mode, hits: top.length, durationMs: performance.now() - started });
    const reveal = this.context.reveal;
    if (reveal) for (const hit of top) hit.memory = await reveal(hit.memory);
    return top;
  }

  /**
   * The best `limit` of the ranked candidates as full records, best first. A candidate deleted (or
   * changed out of the filter) since it was ranked is left out and the next one read in its place.
   */
  private async fullRecords(
    ranked: readonly Ranked[],
    limit: number,
    filter: MemoryFilter,
    explain: (item: Ranked) => Explanation,
  ): Promise<Array<{ memory: MemoryRecord; explanation: Explanation }>> {
    const out: Array<{ memory: MemoryRecord; explanation: Explanation }> = [];
    let next = 0;
    while (out.length < limit && next < ranked.length) {
      const batch = ranked.slice(next, next + limit - out.length);
      next += batch.length;
      const records = new Map((await this.context.store.get(batch.map((item) => item.memory.id))).map((record) => [record.id, record]));
      for (const item of batch) {
        const record = records.get(item.memory.id);
        if (record && matchesFilter(record, filter)) out.push({ memory: record, explanation: explain(item) });
      }
    }
    return out;
  }

  /**
   * Whether the query names things (`queryNames`) and no memory the filter lets through holds any
   * of them: a name seen among the candidates settles it at once; each other one costs a
   * one-result lexical search. Without lexical search nothing can be known absent.
   */
  private async namesAbsent(query: string, found: ReadonlySet<string>, filter: MemoryFilter): Promise<boolean> {
    const { store } = this.context;
    if (store.capabilities.lexical !== 'bm25' || !store.lexicalSearch) return false;
    const names = queryNames(query);
    if (names.length === 0 || names.some((name) => found.has(name.term))) return false;
    for (const name of names) {
      if ((await store.lexicalSearch(name.word, filter, 1)).length > 0) return false;
    }
    return true;
  }

  /** The retrieval options with the vector weight settled once the embedder is known. */
  private fusionOptions(): ResolvedRetrievalOptions {
    const retrieval = this.context.retrieval;
    if (retrieval.vectorWeight !== undefined) return retrieval;
    this.fusion ??= { ...retrieval, vectorWeight: defaultVectorWeight(this.context.embedding.id) };
    return this.fusion;
  }
}
