import { BM25_B, BM25_K1, type LexicalMatch, type MemoryFilter } from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { compileFilter } from './postgres-filter.js';
import { lexicalPostingsEnabled, shortMemoryLength } from './postgres-migrations.js';
import { SqlParameters } from './postgres-sql.js';
import { queryWords } from './postgres-text-query.js';

/** How long corpus statistics (live count, average length, common-lexeme frequencies) and document frequencies are reused. */
const statisticsTtlMs = 30_000;

/** Below this many rows (planner estimate) statistics are counted exactly instead of read from `pg_stats`. */
const exactBelowRows = 5_000;

/** A lexeme's document frequency is counted exactly up to this many live rows (rarer than `pg_stats` lists). */
const countCap = 2_000;

/** Candidates taken from each one-lexeme list, and from the lists of memories holding all (or all but one) of them. */
const termListLength = 50;
const combinedListLength = 200;

/** With a filter, when at most this many memories match it and hold a query word, all of them are scored. */
const filteredExactLimit = 2_000;

/** The merged all-but-one list is used when it should read at most this many postings rows (else GIN). */
const mergedRowsLimit = 10_000;

/** The all-but-one list is one index scan per left-out word (a BitmapOr) from this many postings of the words. */
const separateScansFrom = 20_000;

/** Most query lexemes that get their own candidate list (the rarest ones). */
const maxListedTerms = 8;

/** Weight of a word in a memory's `context` (tsvector weight B) next to one in its content or tags (A), as in core. */
const contextWeight = 0.5;

/** From this many live memories the store builds the length-tier text indexes (see `lengthTiers`). */
const lengthTiersFrom = 50_000;

/**
 * Partial text indexes of the shortest memories, chosen from the data once the table is large:
 * each holds the live memories of at most `cut` tokens, the cut being the longest length whose
 * memories (and all shorter ones) are at most `share` of the live rows in a sample. A candidate
 * list ("the N shortest holding these words") of common words reads the smallest one that should
 * hold N of them instead of every posting of the words in `memories_search`.
 */
export const lengthTiers = [
  { name: 'memories_search_quarter', share: 0.3 },
  { name: 'memories_search_half', share: 0.55 },
] as const;

/** A partial text index of the live memories of at most `cut` tokens, and what share of them it holds. */
export interface ShortIndex {
  cut: number;
  /** Share of live memories in it. */
  share: number;
  /** Their average length over the average length of all live memories. */
  lengthRatio: number;
}

/**
 * A length-tier index (`lengthTiers`) of the memories of at most `cut` tokens, built CONCURRENTLY
 * so writers are not blocked while it is built (the index goes in the table's schema).
 */
export function lengthTierStatement(memories: string, name: string, cut: number): string {
  if (!lengthTiers.some((tier) => tier.name === name)) throw new Error(`unknown length tier index ${name}`);
  if (!Number.isInteger(cut) || cut <= shortMemoryLength)
    throw new Error(`a length tier's cut must be an integer above ${shortMemoryLength}, got ${cut}`);
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON ${memories} USING gin (search)
          WHERE deleted_at IS NULL AND search_length <= ${cut}`;
}

interface CorpusStatistics {
  at: number;
  documents: number;
  averageLength: number;
  /** The short memories' text indexes: `memories_search_short` (migration 0011) and the length tiers built so far. */
  shortIndexes: ShortIndex[];
  /** Share of rows holding each common lexeme (from ANALYZE), when the table is large enough to use it. */
  common: Map<string, number> | null;
  /** True when counts and lengths were estimated (a large table), false when counted exactly. */
  sampled: boolean;
  /** Whether `memory_lexemes` is kept for this schema (`lexicalPostings`), so its lists can be read. */
  postings: boolean;
}

/**
 * BM25 over the Postgres text index, like the SQLite and in-memory stores (k1 1.2, b 0.6,
 * idf `ln(1 + (N − df + 0.5) / (df + 0.5))`, a context word counting half), on a bounded set of
 * candidates instead of every row that holds a query word:
 *
 * - the shortest live memories holding all the query's lexemes, those holding all but one, and the
 *   shortest holding each of the rarest lexemes, each an index-ordered scan (`search_length`) with
 *   the filter applied, `LIMIT`ed; when every word is common the best BM25 scores are among the
 *   shortest memories holding most of the words, so the candidates hold them;
 * - the candidates are scored exactly from their tsvectors (term frequency by weight, length).
 *
 * Corpus statistics (live rows, average length) and document frequencies are cached per store for
 * 30 s. Below 5,000 rows they are exact counts, dropped on every write through the store; above,
 * the live count and average length come from the planner's row estimate and a sample, frequent
 * lexemes' frequencies from `pg_stats` (ANALYZE, which autovacuum runs as the table grows) — read
 * again in the background once expired, searches going on with the old ones meanwhile — and
 * other lexemes are counted up to 2,000 rows. A lexeme counted at 0 is never reused: it is counted
 * again on the next search, so a word is found as soon as a memory holding it is committed.
 */
export class PostgresLexicalSearch {
  private statistics: CorpusStatistics | null = null;
  private readonly frequencies = new Map<string, { at: number; documents: number }>();
  private readonly lexemes = new Map<string, string[]>();
  /** Set once this store has asked for ANALYZE of a large table without statistics. */
  private analyzing = false;
  /** The background refresh of expired large-table statistics, while one runs. */
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly memories: string,
    private readonly schema: string,
    /** `memory_lexemes` (migration 0009): one row per lexeme of each live, current memory, by length. */
    private readonly postings: string,
    /** How each unfiltered candidate list is read (tests force each way to check they agree). */
    private readonly planList: typeof listPlan = listPlan,
    /**
     * `buildIndexes`: whether this store may build the length tiers (not on PGlite, one
     * connection in process); `lengthTiersFrom`: from how many live memories (tests lower it).
     */
    private readonly options: { buildIndexes?: boolean; lengthTiersFrom?: number } = {},
  ) {}

  /** Set once this store has started building the length tiers it found missing. */
  private tiering = false;

  /**
   * After a write through this store: a small table's statistics are exact and recounted at once
   * (a write changes them visibly); a large table's come from ANALYZE and samples, and one write
   * moves them by almost nothing, so they keep their 30 s lifetime instead of a recount per write.
   */
  invalidate(): void {
    if (!this.statistics?.sampled) {
      this.statistics = null;
      this.frequencies.clear();
    }
  }

  async search(client: Queryable, query: string, filter: MemoryFilter, limit: number): Promise<LexicalMatch[]> {
    const words = queryWords(query);
    if (words.length === 0) return [];
    const lexemes = await this.lexemesOf(client, words);
    if (lexemes.length === 0) return [];
    const statistics = await this.corpus(client);
    if (statistics.documents === 0) return [];
    const frequencies = await this.documentFrequencies(client, lexemes, statistics);
    const idf = lexemes.map((lexeme) => {
      const df = Math.min(frequencies.get(lexeme) ?? 0, statistics.documents);
      return Math.log(1 + (statistics.documents - df + 0.5) / (df + 0.5));
    });
    // Rarest first: they get their own lists; a lexeme no live memory holds cannot add candidates.
    const byRarity = lexemes.map((lexeme, index) => ({ lexeme, idf: idf[index] as number, df: frequencies.get(lexeme) ?? 0 }));
    const present = byRarity.filter((term) => term.df > 0).sort((a, b) => b.idf - a.idf);
    if (present.length === 0) return [];

    const params = new SqlParameters();
    const where = compileFilter(filter, params);
    // Memories holding all the words are few and found through the GIN index, so their list is
    // longer; the others are ordered scans that read rows until they have enough (an all-but-one
    // list of 200 read ~21,000 index rows for common words at 100k: 117 ms of a 152 ms search).
    const termListSize = String(Math.max(limit, termListLength));
    const combinedListSize = String(Math.max(limit, combinedListLength));
    const lists: string[] = [];
    // `access` (unfiltered searches; see `listPlan`): 'walk' tests rows in length order
    // (`memories_search_length`; the function form of `@@` is one GIN cannot serve), 'gin' fetches
    // every holder through the text index and sorts them (an ORDER BY the length index cannot give);
    // null leaves the choice to the planner.
    // A list of tsqueries is their union: in the index, one scan each (a BitmapOr) lets every scan
    // skip through the postings of the words it requires, where one `a & b | a & c | …` query
    // makes GIN read every posting of every word (at 1M: 9.2 → 5.4 ms, 4.5 → 1.4 ms).
    // A tsquery is written as the AND of its parts (`Conjunction`), each part its own `@@`: GIN then
    // has one scan key a part and steps through their postings together, where one `a & b & c`
    // key calls the tsquery's consistent function at every posting of the rarest word (1M, three
    // of the 30 most common words: 8.8 → 5.8 ms for the same rows). Same rows either way.
    const matchesAll = (conjunction: Conjunction) =>
      `(${conjunction.map((part) => `m.search @@ ${params.add(part)}::tsquery`).join(' AND ')})`;
    const matches = (tsquery: Conjunction | Conjunction[]) =>
      isUnion(tsquery) ? `(${tsquery.map(matchesAll).join(' OR ')})` : matchesAll(tsquery);
    const list = (tsquery: Conjunction | Conjunction[], size: string, access: ListAccess | null = null) =>
      `(SELECT m.id, m.search, m.search_length FROM ${this.memories} m
        WHERE ${access === 'walk' ? `ts_match_vq(m.search, ${params.add(tsqueryText(tsquery))}::tsquery)` : matches(tsquery)} AND ${where}
        ORDER BY ${access === 'gin' ? 'm.search_length + 0' : 'm.search_length'}, m.id LIMIT ${size})`;
    const unfiltered = where === compileFilter({}, new SqlParameters());
    // The list as read through a short memories' index (`memories_search_short`, migration 0011,
    // or a length tier): the holders of at most `cut` tokens, sorted. When there are
    // `size` of them they are the list (every longer holder comes after them); otherwise the
    // `fallback` list is read as well (a one-time filter on their count) and the union is that list.
    const shortFirst = (tsquery: Conjunction | Conjunction[], size: string, fallback: string, cut: number) =>
      `(WITH short AS MATERIALIZED (
          SELECT m.id, m.search, m.search_length FROM ${this.memories} m
          WHERE ${matches(tsquery)} AND m.search_length <= ${cut} AND ${where}
          ORDER BY m.search_length + 0, m.id LIMIT ${size})
        SELECT * FROM short
        UNION ALL
        SELECT * FROM ${fallback} AS longer WHERE (SELECT count(*) FROM short) < ${size})`;
    // An unfiltered list read the cheapest way by estimate (`listPlan`); `planned` leaves the
    // choice between the length walk and the text index to the planner unless told.
    const plannedList = (tsquery: Conjunction | Conjunction[], size: number, terms: { df: number }[], minimum: number, choose: boolean) => {
      const plan = this.planList(terms, minimum, size, statistics.documents, statistics.shortIndexes);
      const fallback = list(tsquery, String(size), choose ? plan.access : null);
      return plan.short === null ? fallback : shortFirst(tsquery, String(size), fallback, plan.short);
    };
    const quoted = present.map((term) => quoteLexeme(term.lexeme));
    // `memory_lexemes` (migration 0009) holds one row per lexeme of each live, current memory, in
    // length order, so the length-ordered lists read only rows holding their words (a user scope is
    // tested in the index; other filter conditions on the memory row each candidate joins).
    // Superseded memories are not in it: a filter that can match them (`includeSuperseded`,
    // `asOf`) takes the old walk of `memories_search_length`, which tests every row's tsvector.
    const postingsCover = statistics.postings && !filter.includeSuperseded && !filter.asOf;
    const userId = filter.scope?.userId;
    const userCondition = userId === undefined || !postingsCover ? '' : ` AND p.user_id = ${params.add(userId)}`;
    const postingsRows = (term: { lexeme: string }) =>
      `SELECT p.memory_id, p.search_length FROM ${this.postings} p WHERE p.lexeme = ${params.add(term.lexeme)}${userCondition}
       ORDER BY p.search_length, p.memory_id`;

    // The postings of every lexeme merged in length order (a Merge Append of ordered index scans):
    // a memory is listed when its `minimum`-th lexeme goes by, so the scan stops after the `size`
    // shortest such memories instead of testing every shorter memory's tsvector (length index) or
    // fetching and sorting every holder (GIN). Used when that read is bounded (`mergedReads`).
    // With no filter but a user, every posting passes, so the LIMIT goes on the postings (the
    // memories are joined for those rows only, whatever the planner thinks of the tables' sizes);
    // otherwise each row is tested against the filter on its memory before the LIMIT.
    const postingsDecide = onlyUserScope(filter);
    const fromPostings = (rows: string, size: string) =>
      postingsDecide
        ? `(SELECT m.id, m.search, m.search_length FROM (${rows} LIMIT ${size}) AS listed
            JOIN ${this.memories} m ON m.id = listed.memory_id)`
        : `(SELECT m.id, m.search, m.search_length FROM (${rows}) AS listed
            JOIN ${this.memories} m ON m.id = listed.memory_id
            WHERE ${where} ORDER BY listed.search_length, listed.memory_id LIMIT ${size})`;
    const merged = (minimum: number, size: string) =>
      fromPostings(
        `SELECT holding.memory_id, holding.search_length FROM (
           SELECT merged.memory_id, merged.search_length,
                  row_number() OVER (PARTITION BY merged.search_length, merged.memory_id) AS held
           FROM (${present.map((term) => `(${postingsRows(term)})`).join(' UNION ALL ')}) AS merged
         ) AS holding
         WHERE holding.held = ${minimum} ORDER BY holding.search_length, holding.memory_id`,
        size,
      );
    const mergeable = postingsCover && present.length <= maxListedTerms;
    const documents = statistics.documents;
    const everySize = Math.max(limit, combinedListLength);
    const mostSize = Math.max(limit, termListLength);
    const everyMerged =
      present.length >= 2 &&
      present.length <= maxListedTerms &&
      mergeable &&
      mergedReads(present, present.length, everySize, documents) <= mergedRowsLimit;
    const mostMerged =
      present.length >= 3 &&
      present.length <= 6 &&
      mergeable &&
      mergedReads(present, present.length - 1, mostSize, documents) <= mergedRowsLimit;
    // Memories holding all but one of the words, as tsqueries whose union they are: two, one for
    // each half of the words (rarest first) — all of one half and all but one of the other — so
    // the text index reads each word's postings twice, not once per left-out word (4 words: 12 →
    // 8 postings lists). Each its own index scan once the postings are long (a BitmapOr: GIN skips
    // through the postings a scan requires); one tsquery for rare words (a scan of its own costs
    // more than it saves on short postings: 100k corpus words, +0.3 ms).
    const allButOneQuery = (): Conjunction | Conjunction[] => {
      const half = Math.ceil(quoted.length / 2);
      const each = [
        [quoted.slice(0, half), quoted.slice(half)],
        [quoted.slice(half), quoted.slice(0, half)],
      ].map(([whole, most]) => {
        const some = atLeastAllButOne(most as string[]);
        return [...(whole as string[]), ...(some ? [some] : [])];
      });
      return present.reduce((sum, term) => sum + term.df, 0) >= separateScansFrom ? each : [tsqueryText(each)];
    };
    const everyPlan =
      unfiltered && !everyMerged && present.length >= 2 && present.length <= maxListedTerms
        ? this.planList(present, present.length, everySize, documents, statistics.shortIndexes)
        : null;
    const mostPlan =
      unfiltered && !mostMerged && present.length >= 3 && present.length <= 6
        ? this.planList(present, present.length - 1, mostSize, documents, statistics.shortIndexes)
        : null;
    if (everyPlan?.access === 'gin' && everyPlan.short === null && mostPlan?.access === 'gin' && mostPlan.short === null) {
      // Both lists through the text index: every memory holding all the words holds all but one,
      // so the holders of all but one (which the index fetches anyway, to sort them) give both
      // lists — the all-words scan (4–6 ms for four common words at 1M) is not run.
      lists.push(
        `(WITH holders AS MATERIALIZED (
            SELECT m.id, m.search, m.search_length FROM ${this.memories} m WHERE ${matches(allButOneQuery())} AND ${where})
          SELECT * FROM (SELECT h.id, h.search, h.search_length FROM holders h WHERE h.search @@ ${params.add(quoted.join(' & '))}::tsquery
                         ORDER BY h.search_length, h.id LIMIT ${everySize}) AS every
          UNION ALL
          SELECT * FROM (SELECT h.id, h.search, h.search_length FROM holders h ORDER BY h.search_length, h.id LIMIT ${mostSize}) AS most)`,
      );
    } else {
      if (present.length >= 2 && present.length <= maxListedTerms) {
        if (everyMerged) lists.push(merged(present.length, String(everySize)));
        else if (unfiltered) lists.push(plannedList(quoted, everySize, present, present.length, true));
        else lists.push(list(quoted, combinedListSize));
      }
      if (present.length >= 3 && present.length <= 6) {
        if (mostMerged) lists.push(merged(present.length - 1, String(mostSize)));
        else if (unfiltered) lists.push(plannedList(allButOneQuery(), mostSize, present, present.length - 1, true));
        else lists.push(list(allButOneQuery(), termListSize));
      }
    }
    // The shortest holders of each of the rarest lexemes that pass the filter: 50 postings rows
    // (unfiltered) instead of a walk of ~documents × 50 / df rows of the length index.
    for (const term of present.slice(0, maxListedTerms)) {
      if (!postingsCover) {
        // One word: the planner's choice (the length walk, or the index for a word few memories
        // hold), unless the short memories' index is cheaper.
        if (unfiltered) lists.push(plannedList([quoteLexeme(term.lexeme)], Number(termListSize), [term], 1, false));
        else lists.push(list([quoteLexeme(term.lexeme)], termListSize));
        continue;
      }
      lists.push(fromPostings(postingsRows(term), termListSize));
    }

    // A filter (a scope, a type, a where…) often leaves few memories holding any of the words:
    // then all of them are scored (exact BM25), from one GIN-and-filter bitmap scan. Only when more
    // than `filteredExactLimit` match do the bounded lists decide. Unfiltered, the lists always do
    // (with common words, most of the table matches).
    let candidateRows = `SELECT listed.id, listed.search, listed.search_length FROM (${lists.join(' UNION ALL ')}) AS listed`;
    if (!unfiltered) {
      const anyTerm = params.add(quoted.join(' | '));
      candidateRows = `WITH matching AS MATERIALIZED (
           SELECT m.id, m.search, m.search_length FROM ${this.memories} m
           WHERE m.search @@ ${anyTerm}::tsquery AND ${where} LIMIT ${filteredExactLimit + 1}
         )
         SELECT * FROM matching WHERE (SELECT count(*) FROM matching) <= ${filteredExactLimit}
         UNION ALL
         SELECT * FROM (${candidateRows}) AS bounded WHERE (SELECT count(*) FROM matching) > ${filteredExactLimit}`;
    }
    const lexemeList = params.add(lexemes);
    const idfList = params.add(idf as unknown as string[]);
    const averageLength = params.add(statistics.averageLength || 1);
    // Term frequency: positions of the lexeme, a context (weight B) position counting `contextWeight`.
    // unnest() in the select list (ProjectSet) rather than FROM (a tuplestore per candidate).
    const { rows } = await client.query<{ id: string; score: number }>(
      `WITH candidates AS (
         SELECT DISTINCT ON (listed.id) listed.id, listed.search, listed.search_length
         FROM (${candidateRows}) AS listed
         ORDER BY listed.id
       ), entries AS (
         SELECT c.id, c.search_length, unnest(c.search) AS entry FROM candidates c
       ), frequencies AS (
         SELECT id, search_length,
                (${idfList}::float8[])[array_position(${lexemeList}::text[], (entry).lexeme)] AS idf,
                (cardinality((entry).positions) - ${1 - contextWeight}::float8 * cardinality(array_positions((entry).weights, 'B'))) AS tf
         FROM entries
         WHERE (entry).lexeme = ANY(${lexemeList}::text[])
       )
       SELECT id, sum(idf * tf * ${BM25_K1 + 1}::float8 / (tf + ${BM25_K1}::float8 * (${1 - BM25_B}::float8 + ${BM25_B}::float8 * search_length / ${averageLength}::float8))) AS score
       FROM frequencies
       GROUP BY id
       ORDER BY score DESC, id
       LIMIT ${params.add(limit)}`,
      params.values,
    );
    return rows.map((row) => ({ id: row.id, score: row.score }));
  }

  /** The english-configuration lexemes of the query words (distinct, in query order); cached per word. */
  private async lexemesOf(client: Queryable, words: string[]): Promise<string[]> {
    const missing = words.filter((word) => !this.lexemes.has(word));
    if (missing.length > 0) {
      const { rows } = await client.query<{ word: string; lexemes: string[] }>(
        `SELECT word, to_jsonb(coalesce(array(SELECT lexeme FROM unnest(to_tsvector('english'::regconfig, word)) ORDER BY lexeme), '{}')) AS lexemes
         FROM unnest($1::text[]) AS word`,
        [missing],
      );
      if (this.lexemes.size > 50_000) this.lexemes.clear();
      for (const row of rows) this.lexemes.set(row.word, row.lexemes);
    }
    const found = new Set<string>();
    for (const word of words) for (const lexeme of this.lexemes.get(word) ?? []) found.add(lexeme);
    return [...found];
  }

  /**
   * A large table never ANALYZEd (just bulk-loaded; autovacuum gets to it within minutes) has no
   * pg_stats, so every lexeme would be counted. Ask for the statistics once, in the background
   * (ANALYZE reads a sample and blocks no reads or writes); later refreshes use them.
   */
  private requestAnalyze(client: Queryable): void {
    if (this.analyzing) return;
    this.analyzing = true;
    client.query(`ANALYZE ${this.memories}`).catch(() => undefined);
  }

  /**
   * Live rows and their average length; from `pg_stats` and a sample once the table is large.
   * Expired statistics of a large table (sampled: one write moves them by almost nothing) are
   * refreshed in the background, one refresh at a time, while searches go on with them: the
   * refresh (10–13 ms of server time at 1M) is on no search's path. A small table's exact
   * statistics are read before the search, as a write changes them visibly.
   */
  private async corpus(client: Queryable): Promise<CorpusStatistics> {
    const now = Date.now();
    const current = this.statistics;
    if (current && now - current.at < statisticsTtlMs) return current;
    if (current?.sampled) {
      if (this.refreshing === null)
        this.refreshing = this.readCorpus(client, now)
          .then((fresh) => {
            // Unless they were dropped meanwhile (a length tier was built: the next search reads them).
            if (this.statistics === current) this.statistics = fresh;
          })
          .catch(() => undefined)
          .finally(() => {
            this.refreshing = null;
          });
      return current;
    }
    const fresh = await this.readCorpus(client, now);
    this.statistics = fresh;
    return fresh;
  }

  /** Reads the corpus statistics (see `corpus`), and starts building missing length tiers. */
  private async readCorpus(client: Queryable, now: number): Promise<CorpusStatistics> {
    // The planner's estimate (after ANALYZE) or the statistics collector's live-row count (kept
    // as rows are written, so known before the first ANALYZE); and the length tiers there are,
    // each with its cut (from its predicate) and whether it is ready for reads.
    const { rows } = await client.query<{
      estimate: number;
      analysed: boolean;
      tiers: { name: string; cut: number | null; valid: boolean }[];
    }>(
      `SELECT greatest(c.reltuples, coalesce(s.n_live_tup, 0), 0)::float8 AS estimate, c.reltuples >= 0 AS analysed,
              (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'name', x.relname,
                        'cut', substring(pg_get_expr(i.indpred, i.indrelid) FROM 'search_length <= (\\d+)')::int,
                        'valid', i.indisvalid AND i.indisready)), '[]')
               FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
               WHERE i.indrelid = c.oid AND x.relname = ANY($2::text[])) AS tiers
       FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = to_regclass($1)`,
      [this.memories, lengthTiers.map((tier) => tier.name)],
    );
    const estimate = rows[0]?.estimate ?? 0;
    const tiers = rows[0]?.tiers ?? [];
    const cuts = [shortMemoryLength, ...tiers.flatMap((tier) => (tier.valid && tier.cut ? [tier.cut] : []))];
    const postings = await lexicalPostingsEnabled(client, this.schema);
    // Share and average length of the memories of at most each cut (a column pair a cut).
    const shortColumns = (live: string) =>
      cuts
        .map(
          (cut, index) => `avg((search_length <= ${cut})::int) FILTER (WHERE ${live})::float8 AS "share${index}",
                avg(search_length) FILTER (WHERE ${live} AND search_length <= ${cut})::float8 AS "average${index}"`,
        )
        .join(', ');
    const shortIndexes = (row: Record<string, number | null> | undefined, averageLength: number) =>
      cuts.map((cut, index) => ({
        cut,
        share: row?.[`share${index}`] ?? 0,
        lengthRatio: (row?.[`average${index}`] ?? 0) / Math.max(1, averageLength),
      }));
    let statistics: CorpusStatistics;
    if (estimate < exactBelowRows) {
      const exact = await client.query<Record<string, number | null> & { documents: number; average: number | null }>(
        `SELECT count(*)::float8 AS documents, avg(search_length)::float8 AS average, ${shortColumns('true')}
         FROM ${this.memories} WHERE deleted_at IS NULL`,
      );
      const averageLength = exact.rows[0]?.average ?? 0;
      statistics = {
        at: now,
        documents: exact.rows[0]?.documents ?? 0,
        averageLength,
        shortIndexes: shortIndexes(exact.rows[0], averageLength),
        common: null,
        sampled: false,
        postings,
      };
      // The live-row count reaches the statistics collector a moment after a bulk load commits (up
      // to seconds later), so a large table never ANALYZEd can look small here: ask for its
      // statistics as below, or every later search would keep counting every lexeme.
      if (statistics.documents >= exactBelowRows && rows[0]?.analysed === false) this.requestAnalyze(client);
    } else {
      const sampled = await client.query<Record<string, number | null> & { live: number; average: number | null }>(
        `SELECT avg((deleted_at IS NULL)::int)::float8 AS live, avg(search_length) FILTER (WHERE deleted_at IS NULL)::float8 AS average,
                ${shortColumns('deleted_at IS NULL')}
         FROM ${this.memories} TABLESAMPLE SYSTEM (${samplePercent(estimate)})`,
      );
      const common = await client.query<{ lexemes: string[] | null; frequencies: number[] | null }>(
        `SELECT to_jsonb(most_common_elems::text::text[]) AS lexemes, to_jsonb(most_common_elem_freqs) AS frequencies
         FROM pg_stats WHERE schemaname = $1 AND tablename = 'memories' AND attname = 'search'`,
        [this.schema],
      );
      const map = new Map<string, number>();
      const found = common.rows[0];
      for (const [index, lexeme] of (found?.lexemes ?? []).entries()) map.set(lexeme, found?.frequencies?.[index] ?? 0);
      if (map.size === 0) this.requestAnalyze(client);
      const live = sampled.rows[0]?.live ?? 1;
      const averageLength = sampled.rows[0]?.average ?? 0;
      statistics = {
        at: now,
        documents: Math.round(estimate * live),
        averageLength,
        shortIndexes: shortIndexes(sampled.rows[0], averageLength),
        common: map.size > 0 ? map : null,
        sampled: true,
        postings,
      };
    }
    if (
      tiers.filter((tier) => tier.valid).length < lengthTiers.length &&
      statistics.documents >= (this.options.lengthTiersFrom ?? lengthTiersFrom)
    )
      this.buildLengthTiers(client, estimate, tiers);
    return statistics;
  }

  /**
   * Builds the missing length tiers once, in the background, one after the other (CREATE INDEX
   * CONCURRENTLY: reads and writes go on; searches use a tier from the first statistics refresh
   * after it is valid). Each cut comes from one sample of the live lengths (`lengthTiers`); a tier
   * whose cut is not above the previous one's (or `shortMemoryLength`) is not built — most
   * memories are that short, and a smaller index already serves them. An index left invalid by a
   * build that was cut off (none in progress) is dropped and built again. Errors are left to the
   * next store that opens (a search never fails because an index could not be built).
   */
  private buildLengthTiers(client: Queryable, estimate: number, found: { name: string; valid: boolean }[]): void {
    if (this.tiering || this.options.buildIndexes === false) return;
    this.tiering = true;
    const schema = this.memories.slice(0, this.memories.lastIndexOf('.'));
    const build = async () => {
      const { rows } = await client.query<{ lengths: number[] }>(
        `SELECT coalesce(jsonb_agg(search_length ORDER BY search_length), '[]') AS lengths
         FROM ${this.memories} TABLESAMPLE SYSTEM (${samplePercent(estimate)}) WHERE deleted_at IS NULL`,
      );
      const lengths = rows[0]?.lengths ?? [];
      let previous = shortMemoryLength;
      for (const tier of lengthTiers) {
        // The longest length L with (memories of at most L tokens) ≤ share of the sample.
        let cut = 0;
        for (const [index, length] of lengths.entries())
          if ((index + 1) / lengths.length <= tier.share && lengths[index + 1] !== length) cut = length;
        if (cut <= previous) continue;
        previous = cut;
        const existing = found.find((one) => one.name === tier.name);
        if (existing?.valid) continue;
        if (existing) {
          const progress = await client.query<{ building: boolean }>(
            'SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index WHERE index_relid = to_regclass($1)) AS building',
            [`${schema}.${tier.name}`],
          );
          if (progress.rows[0]?.building !== false) continue;
          await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${schema}.${tier.name}`);
        }
        await client.query(lengthTierStatement(this.memories, tier.name, cut));
        // Read the statistics again on the next search, which then uses the new tier.
        this.statistics = null;
      }
    };
    build().catch(() => undefined);
  }

  /** Live memories holding each lexeme: `pg_stats` for common lexemes of a large table, else a count (capped). */
  private async documentFrequencies(client: Queryable, lexemes: string[], statistics: CorpusStatistics): Promise<Map<string, number>> {
    const now = Date.now();
    const result = new Map<string, number>();
    const missing: string[] = [];
    for (const lexeme of lexemes) {
      const share = statistics.common?.get(lexeme);
      if (share !== undefined) {
        result.set(lexeme, share * statistics.documents);
        continue;
      }
      // A lexeme no live memory held when it was counted is counted again (one index probe): a
      // memory written since, by this store or another process, holds it at once — a cached 0
      // would leave a brand-new word out of search until the statistics expire (30 s).
      const cached = this.frequencies.get(lexeme);
      if (cached && cached.documents > 0 && now - cached.at < statisticsTtlMs) result.set(lexeme, cached.documents);
      else missing.push(lexeme);
    }
    if (missing.length > 0) {
      const { rows } = await client.query<{ lexeme: string; documents: number }>(
        `SELECT wanted.lexeme, (SELECT count(*) FROM (
             ${
               statistics.postings
                 ? `SELECT 1 FROM ${this.postings} p WHERE p.lexeme = wanted.lexeme LIMIT ${countCap}`
                 : `SELECT 1 FROM ${this.memories} m WHERE m.search @@ quote_literal(wanted.lexeme)::tsquery AND m.deleted_at IS NULL LIMIT ${countCap}`
             }
           ) AS holding)::float8 AS documents
         FROM unnest($1::text[]) AS wanted(lexeme)`,
        [missing],
      );
      if (this.frequencies.size > 50_000) this.frequencies.clear();
      for (const row of rows) {
        result.set(row.lexeme, row.documents);
        this.frequencies.set(row.lexeme, { at: now, documents: row.documents });
      }
    }
    return result;
  }
}

/** True when the filter is the default one, or a user scope alone (what `memory_lexemes` tests itself). */
function onlyUserScope(filter: MemoryFilter): boolean {
  for (const [field, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    if (field !== 'scope') return false;
    for (const [scopeField, scopeValue] of Object.entries(value as Record<string, unknown>))
      if (scopeValue !== undefined && scopeField !== 'userId') return false;
  }
  return true;
}

/**
 * About how many postings rows a merged list reads: with independent lexemes (shares pᵢ of the
 * documents), the share of memories holding at least `minimum` of them is estimated (all: Π pᵢ;
 * all but one: Σᵢ Πⱼ≠ᵢ pⱼ), the list reads the shortest `size` / share memories' worth of every
 * lexeme's postings, Σ pᵢ each. Rare words (few memories hold them together) would read every
 * posting of each; then the GIN index finds the few holders faster.
 */
function mergedReads(terms: { df: number }[], minimum: number, size: number, documents: number): number {
  const shares = terms.map((term) => Math.min(1, term.df / Math.max(1, documents)));
  const all = shares.reduce((product, share) => product * share, 1);
  let holding = all;
  if (minimum < terms.length)
    for (let skipped = 0; skipped < shares.length; skipped++)
      holding +=
        shares.reduce((product, share, index) => (index === skipped ? product : product * share), 1) * (1 - (shares[skipped] ?? 0));
  const covered = Math.min(1, size / Math.max(holding * documents, 1e-9));
  return covered * documents * shares.reduce((sum, share) => sum + share, 0);
}

export type ListAccess = 'walk' | 'gin';

/** TABLESAMPLE SYSTEM percent for the corpus samples: about 10,000 rows at 1M, all of a small table. */
function samplePercent(estimate: number): string {
  return Math.max(0.1, Math.min(100, (200_000 / Math.max(1, estimate)) * 5)).toFixed(3);
}

/**
 * How an unfiltered list of the `size` shortest memories holding at least `minimum` of the terms
 * is read, by estimated server time (constants measured at 100k and 1M memories, PG 15):
 *
 * - the length walk tests about 0.45 µs a row and reads `size` / (share holding them) rows, but the
 *   shortest memories hold fewer words than the average one, so it reads more than that: about
 *   1.6× more a required word (bench corpus, 11–26 tokens a memory: 1.5–3× for two, ~5× for three
 *   of four). The planner's estimate leaves this out, and walked 127,000 rows (68 ms) for two
 *   common words at 1M where the index took 8–30 ms;
 * - the text index decodes the postings of the words (≈ 0.03 µs an item when all are required,
 *   0.06 µs for all but one, one scan per word left out) and fetches and sorts every holder (≈ 4.5 µs);
 * - `short`: the cut of a short memories' index to read first (`shortIndexes`), when twice `size`
 *   of its memories should hold the words (their share of the rows, times (their average length /
 *   the average)^minimum), and it is cheaper than both (the cheapest such index); the cheaper of
 *   the two is the fallback. Null: none.
 */
export function listPlan(
  terms: { df: number }[],
  minimum: number,
  size: number,
  documents: number,
  shortIndexes: ShortIndex[],
): { access: ListAccess; short: number | null } {
  const shares = terms.map((term) => Math.min(1, term.df / Math.max(1, documents)));
  let holding = shares.reduce((product, share) => product * share, 1);
  if (minimum < terms.length)
    for (let skipped = 0; skipped < shares.length; skipped++)
      holding +=
        shares.reduce((product, share, index) => (index === skipped ? product : product * share), 1) * (1 - (shares[skipped] ?? 0));
  const holders = holding * documents;
  const walkRows = Math.min(documents, (size * 1.6 ** minimum) / Math.max(holding, 1e-12));
  const postings = terms.reduce((sum, term) => sum + term.df, 0);
  const itemMs = minimum === terms.length ? 0.03e-3 : 0.06e-3;
  const walkMs = 0.45e-3 * walkRows;
  const indexMs = itemMs * postings + 4.5e-3 * holders;
  const access = walkMs < indexMs ? 'walk' : 'gin';
  let short: number | null = null;
  let cheapest = Math.min(walkMs, indexMs);
  for (const index of shortIndexes) {
    const shortHolders = holders * index.share * Math.min(1, index.lengthRatio) ** minimum;
    const shortMs = itemMs * postings * index.share + 4.5e-3 * shortHolders;
    if (shortHolders >= 2 * size && shortMs < cheapest) {
      short = index.cut;
      cheapest = shortMs;
    }
  }
  return { access, short };
}

/** A tsquery as the AND of its parts (tsqueries: a quoted lexeme, or a parenthesized expression). */
type Conjunction = readonly string[];

/** True for a union of conjunctions (a list of tsqueries any of which a memory may match). */
function isUnion(tsquery: Conjunction | Conjunction[]): tsquery is Conjunction[] {
  return Array.isArray(tsquery[0]);
}

/** One tsquery text: a conjunction's parts joined by `&`, a union's conjunctions (parenthesized) by `|`. */
function tsqueryText(tsquery: Conjunction | Conjunction[]): string {
  return isUnion(tsquery) ? tsquery.map((conjunction) => `(${conjunction.join(' & ')})`).join(' | ') : tsquery.join(' & ');
}

/** A tsquery true when all but at most one of the operands are in a memory (null for none or one: always true). */
function atLeastAllButOne(operands: string[]): string | null {
  if (operands.length <= 1) return null;
  return `(${operands.map((_, skipped) => `(${operands.filter((__, index) => index !== skipped).join(' & ')})`).join(' | ')})`;
}

/** A lexeme as a tsquery operand: quoted, `'` and `\` escaped. */
function quoteLexeme(lexeme: string): string {
  return `'${lexeme.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
