import { AdapterError, type MemoryFilter, ValidationError, type VectorIndex, type VectorItem, type VectorMatch } from '@engram/core';
import type { CatchUp } from './sqlite-change-log.js';
import { compileFilter } from './sqlite-filter.js';
import { ResidualFilter } from './sqlite-residual-filter.js';
import { withRetry } from './sqlite-retry.js';
import { idsOfRowids } from './sqlite-row-ids.js';
import type { SqliteSession } from './sqlite-session.js';
import type { IdColumn, SlotColumns } from './sqlite-slot-columns.js';
import { defaultFloatCacheBytes, VectorCache } from './sqlite-vector-cache.js';
import { codeLayout, codeVersion, VectorCoder } from './sqlite-vector-codes.js';
import { type SlotFilter, slotFilter } from './sqlite-vector-filter.js';
import { type CodeArena, planeCount, popcount32 } from './sqlite-vector-kernel.js';
import { encodeStoredVector, storedCosine, vectorNorm } from './sqlite-vector-storage.js';

/** The largest k one search answers (the contract's callers ask for tens). */
export const maxNeighbours = 4096;

/** How a store's vector search trades exactness for speed; see `SqliteVectorIndex`. */
export type VectorSearchMode = 'approximate' | 'exact';

/**
 * How many candidates survive the Hamming stage and the estimate stage (see `SqliteVectorIndex`):
 * the largest of a minimum, a multiple of k and (Hamming) a share of the vectors searched.
 * Chosen on the bench's ANN suite: recall@10 ≥ 0.95 up to 1M hash-embedded texts.
 */
function stageSizes(searched: number, k: number): { first: number; second: number } {
  return { first: Math.max(2000, 64 * k, Math.ceil(searched / 200)), second: Math.max(100, 5 * k) };
}

interface VectorsMeta {
  dimensions: number;
  metric: 'cosine';
  /** The code layout the stored codes were written with; null until they are (re)built. */
  codes: { version: number; bytes: number } | null;
}

/** What a connection knows about the store's vectors once they are set up. */
interface VectorState {
  dimensions: number;
  coder: VectorCoder;
  cache: VectorCache;
}

const states = new WeakMap<SqliteSession, VectorState>();
/** Connections whose vector mirror a search loaded (`catchUpVectorCache` keeps only those current). */
const searchedSessions = new WeakSet<SqliteSession>();

/**
 * The store's own vector index: int8-quantised vectors in `memory_embeddings`, and for each a
 * 1,024-bit (or longer) binary code (see `sqlite-vector-codes.ts`), computed from the stored
 * vector, that this connection mirrors in memory with the filterable fields of its memory
 * (`VectorCache`, persisted beside the file as a snapshot).
 *
 * A search:
 * 1. selects the vectors the filter allows, in memory (scope, conversation, types, time window,
 *   supersession, `asOf`), or for an `ids` list with one SQL query;
 * 2. if more than max(2,000, 64k, n/200) of those n remain, keeps that many by Hamming distance
 *   between codes (a WebAssembly scan: ~0.3 ms per 100k codes);
 * 3. if more than max(100, 5k) remain, keeps that many by an asymmetric estimate (the exact
 *   query against each code's signs);
 * 4. ranks what is left by cosine similarity between the float query and the stored vectors (int8
 *   with a per-vector scale, `sqlite-vector-storage.ts`: 388 bytes a 384-d vector), and returns the best k.
 * A filter part the cache cannot decide (tags, `where`) is checked in SQL on the candidates,
 * best first, until enough pass; when too few do, it is evaluated on every row and the search
 * runs over those. Either way the result is the best vectors *that match*, never "top k, then
 * filter".
 *
 * So a search is exact whenever at most max(100, 5k) vectors match the filter, and otherwise
 * approximate (recall measured by `npm run bench -- --suite ann`; see bench/README.md).
 * `vectorSearch: 'exact'` skips stages 2–3 and compares every matching vector exactly.
 * Similarities are always cosine similarities to the stored (int8) vectors: within ~1e-4 of the
 * float32 figure for embedding-like vectors.
 */
export class SqliteVectorIndex implements VectorIndex {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sqlite';

  constructor(
    private readonly session: () => Promise<SqliteSession>,
    private readonly mode: VectorSearchMode = 'approximate',
    private readonly cacheBytes = defaultFloatCacheBytes,
    /** Called on each search (the store starts its idle catch-up, see `SqliteStore`). */
    private readonly searched: () => void = () => {},
  ) {}

  async open(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions <= 0 || dimensions > 8192) {
      throw new ValidationError([{ field: 'dimensions', message: `must be an integer from 1 to 8192 (got ${dimensions})` }]);
    }
    const session = await this.session();
    await withRetry('vectors.open', () => {
      let meta = readMeta(session);
      if (meta === null || (meta.dimensions === dimensions && meta.codes?.version !== codeVersion)) {
        session.write(() => {
          const current = readMeta(session);
          if (current === null)
            writeMeta(session, { dimensions, metric: 'cosine', codes: { version: codeVersion, bytes: codeLayout(dimensions).bytes } });
          else if (current.dimensions === dimensions && current.codes?.version !== codeVersion) rebuildCodes(session, dimensions);
        });
        meta = readMeta(session);
      }
      if (meta?.dimensions !== dimensions) {
        throw new AdapterError(
          'sqlite',
          'vectors.open',
          new Error(`${session.location} holds ${meta?.dimensions}-dimensional vectors, not ${dimensions}`),
          'Open the store with the embedder it was built with, or re-embed it in place ' +
            '(`engram reembed --embedder <id> --path <store>`)',
        );
      }
    });
  }

  /**
   * Replaces the vectors of existing live memories (a re-index). Ids that are unknown or deleted
   * are skipped: this index lives inside the store, and its filterable fields come from the
   * memory rows, so a vector without a memory has nothing to be found by.
   */
  async upsert(items: VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    const session = await this.session();
    await withRetry('vectors.upsert', () => {
      const state = requireVectors(session);
      for (const item of items) checkVector(item.vector, state.dimensions, `vector of ${item.id}`);
      const stored = items.map((item) => encodeVector(session, item.vector));
      const find = session.statement('SELECT rowid FROM memories WHERE id = ? AND deleted_at IS NULL');
      session.write(() => {
        items.forEach((item, index) => {
          const row = find.get(item.id) as { rowid: number } | undefined;
          if (row) writeVector(session, row.rowid, stored[index] as Uint8Array);
        });
      });
    });
  }

  /** The k (at most 4096) most similar live vectors that match the filter. */
  async search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]> {
    const session = await this.session();
    this.searched();
    // A new connection's first search: the mirror's codes arrive from the snapshot on the thread
    // pool (started here, or earlier by a lexical search); wait for them rather than read them here.
    const loading = startLoadingVectors(session);
    if (loading) await loading;
    return withRetry('vectors.search', () => session.read(() => this.searchNow(session, vector, k, filter)));
  }

  /** `search` once the mirror is loaded, in one read transaction. */
  private searchNow(session: SqliteSession, vector: Float32Array, k: number, filter: MemoryFilter | undefined): VectorMatch[] {
    const state = vectorState(session);
    if (state === null) return [];
    checkVector(vector, state.dimensions, 'query vector');
    const limit = Math.min(Math.floor(k), maxNeighbours);
    if (!(limit > 0)) return [];
    if (this.mode === 'exact') return exactSearch(session, vector, limit, filter);
    const { cache } = state;
    cache.floatBudget = this.cacheBytes;
    cache.sync(session);
    searchedSessions.add(session);
    // A mirror just loaded from the rows is persisted for the next process, after this search.
    if (cache.lacksSnapshot) {
      setImmediate(() => {
        if (session.db.open && states.get(session) === state) cache.saveSnapshot(session);
      });
    }

    // 1. The slots the in-memory fields allow: a list, or every slot the mask lets through.
    const plan = slotFilter(filter, cache);
    if (plan.kind === 'none') return [];
    let base: Candidates;
    if (plan.kind === 'sql') base = { slots: sqlMatches(session, cache, filter), flags: 0 };
    else if (plan.kind === 'slots') base = { slots: listSlots(cache, plan), flags: plan.flags };
    else base = { slots: null, flags: plan.flags };
    if (base.slots?.length === 0) return [];

    // What the cache cannot decide (tags, `where`) is checked in SQL on the best candidates
    // first; when too few of them match, the filter is selective: evaluate it on every row.
    if (plan.kind !== 'sql' && plan.residual && filter) {
      const residual = new ResidualFilter(session, filter);
      const matched = postFilter(state, vector, base, residual, stageSizes(base.slots?.length ?? cache.size, limit));
      if (matched) return exactNearest(session, cache, matched, vector, limit);
      const rowids = residual.matchingRowids();
      base = { slots: rowids ? slotsOfRowids(cache, plan, rowids) : sqlMatches(session, cache, filter), flags: 0 };
      if (base.slots?.length === 0) return [];
    }

    // 2.–3. Narrow by Hamming distance, then by the asymmetric estimate; 4. rank exactly.
    const { first, second } = stageSizes(base.slots?.length ?? cache.size, limit);
    return exactNearest(session, cache, narrow(state, vector, base, first, second), vector, limit);
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const session = await this.session();
    await withRetry('vectors.delete', () => {
      if (vectorState(session) === null) return;
      session.write(() => {
        for (const id of ids) {
          const row = session.statement('SELECT rowid FROM memories WHERE id = ?').get(id) as { rowid: number } | undefined;
          if (row) removeVector(session, row.rowid);
        }
      });
    });
  }

  async count(): Promise<number> {
    const session = await this.session();
    return withRetry('vectors.count', () => {
      if (vectorState(session) === null) return 0;
      return (session.statement('SELECT count(*) AS total FROM memory_embeddings').get() as { total: number }).total;
    });
  }
}

/** Candidate slots: a list, or (`slots: null`) every slot whose mask has no bit of `flags`. */
interface Candidates {
  slots: Int32Array | null;
  flags: number;
}

/** The slots that pass `filter`'s in-memory part. */
function listSlots(cache: VectorCache, filter: Extract<SlotFilter, { kind: 'slots' }>): Int32Array {
  const { flags, equal, test } = filter;
  const mask = cache.mask;
  const out = new Int32Array(cache.slotCount);
  // The first equality (usually the scope) decides most slots, so it is checked inline.
  const first = equal[0];
  const firstColumn = first?.column;
  const firstId = first?.id;
  let listed = 0;
  slots: for (let slot = 0; slot < cache.slotCount; slot++) {
    if (firstColumn !== undefined && firstColumn[slot] !== firstId) continue;
    if (((mask[slot] as number) & flags) !== 0) continue;
    for (let index = 1; index < equal.length; index++) {
      const { column, id } = equal[index] as { column: IdColumn; id: number };
      if (column[slot] !== id) continue slots;
    }
    if (test !== undefined && !test(slot)) continue;
    out[listed++] = slot;
  }
  return out.subarray(0, listed);
}

/** The slots of `rowids` (ascending) that the mirror holds and that pass `plan`, in that order. */
function slotsOfRowids(cache: VectorCache, plan: Extract<SlotFilter, { kind: 'mask' | 'slots' }>, rowids: readonly number[]): Int32Array {
  const { mask } = cache;
  const { flags } = plan;
  const equal = plan.kind === 'slots' ? plan.equal : [];
  const test = plan.kind === 'slots' ? plan.test : undefined;
  const out = new Int32Array(rowids.length);
  let listed = 0;
  slots: for (const rowid of rowids) {
    const slot = cache.slotOfRowid(rowid);
    if (slot === undefined || ((mask[slot] as number) & flags) !== 0) continue;
    for (const { column, id } of equal) if (column[slot] !== id) continue slots;
    if (test !== undefined && !test(slot)) continue;
    out[listed++] = slot;
  }
  return out.subarray(0, listed);
}

/** The slots of the rows that match the whole filter, evaluated by SQL over `memories`. */
function sqlMatches(session: SqliteSession, cache: VectorCache, filter: MemoryFilter | undefined): Int32Array {
  const where = compileFilter(filter);
  const rowids = session
    .statement(`SELECT m.rowid FROM memories m WHERE ${where.sql}`)
    .pluck()
    .all(...where.params) as number[];
  const out = new Int32Array(rowids.length);
  let listed = 0;
  for (const rowid of rowids) {
    const slot = cache.slotOfRowid(rowid);
    if (slot !== undefined) out[listed++] = slot;
  }
  return out.subarray(0, listed);
}

/**
 * Stages 2 and 3: at most `firstCut` candidates by Hamming distance, then at most `secondCut`
 * of those by the asymmetric estimate. Fewer candidates than a cut skip that stage.
 */
function narrow(state: VectorState, vector: Float32Array, base: Candidates, firstCut: number, secondCut: number): Int32Array {
  const { cache, coder } = state;
  const arena = cache.codes;
  let candidates: Int32Array;
  if (base.slots && base.slots.length <= firstCut) candidates = base.slots;
  else {
    coder.queryHammingCode(vector, arena.query);
    if (base.slots) {
      arena.slots.set(base.slots);
      arena.scanSlots(base.slots.length);
      candidates = nearest(arena.distances, base.slots.length, arena.histogram, firstCut, arena.slots);
    } else {
      arena.scanAll(cache.slotCount, base.flags);
      candidates = nearest(arena.distances, cache.slotCount, arena.histogram, firstCut, null);
    }
  }
  if (candidates.length <= secondCut) return candidates;
  return highest(candidates, estimates(candidates, arena, coder, vector), secondCut);
}

/**
 * For filters with a part only SQL can decide: ranks a generous pool of candidates (twice the
 * first cut, by Hamming distance then estimate) and keeps, best first, those that pass the rest
 * of the filter (`ResidualFilter`: tags and `where`) — checked a chunk at a time.
 * Returns null when the pool holds fewer than `second` matches: the filter is selective enough
 * that evaluating it on every row (and searching those) is both cheaper and exact.
 */
function postFilter(
  state: VectorState,
  vector: Float32Array,
  base: Candidates,
  residual: ResidualFilter,
  cuts: { first: number; second: number },
): Int32Array | null {
  const { cache, coder } = state;
  const arena = cache.codes;
  const pool = narrow(state, vector, base, cuts.first * 2, Number.POSITIVE_INFINITY);
  const order = byScore(pool, estimates(pool, arena, coder, vector));
  const kept = new Int32Array(cuts.second);
  let found = 0;
  let chunk = cuts.second * 2;
  for (let start = 0; start < order.length && found < cuts.second; start += chunk) {
    const slots = order.subarray(start, start + chunk);
    const passing = residual.passing(Array.from(slots, (slot) => cache.rowids[slot] as number));
    for (const slot of slots) {
      if (found < cuts.second && passing.has(cache.rowids[slot] as number)) kept[found++] = slot;
    }
    // Size the next chunk for what is still missing at the pass rate seen so far.
    const rate = Math.max(found / (start + slots.length), 0.01);
    chunk = Math.min(4096, Math.ceil(((cuts.second - found) / rate) * 1.2));
  }
  return found === cuts.second ? kept : null;
}

/**
 * Where `nearest` and `highest` write the slots they select (a view answered, valid until their
 * next call): a fresh typed array each search was a zero-filled allocation outside the heap.
 */
let nearestScratch = new Int32Array(0);
let highestScratch = new Int32Array(0);

/**
 * The `count` entries of `distances` with the smallest values (the histogram counts them by
 * value), as slots: `slots[position]` when a slot list was scanned, else the position itself.
 * Masked entries (`maskedDistance`) never count. Ties at the cut-off go to the earliest slots.
 */
export function nearest(
  distances: Uint16Array,
  length: number,
  histogram: Uint32Array,
  count: number,
  slots: Int32Array | null,
): Int32Array {
  let threshold = 0;
  let below = 0;
  while (threshold < histogram.length && below + (histogram[threshold] as number) < count) below += histogram[threshold++] as number;
  let room = Math.min(count, below + (threshold < histogram.length ? (histogram[threshold] as number) : 0)) - below;
  // One spare entry: each position is written before it is known to count.
  if (nearestScratch.length <= below + room) nearestScratch = new Int32Array(Math.max(below + room + 1, 4096));
  const selected = nearestScratch;
  let next = 0;
  // Below the threshold counts, decided without a branch (distances and the threshold are small
  // non-negative integers: the sign bit of their difference); a tie at the threshold, rare, counts
  // while there is room (earliest first). A masked distance is never below nor equal to it (the
  // threshold is at most the code's bit count). Three quarters of the positions are above it, at
  // random: a branch on each mispredicted a quarter of the time.
  if (slots) {
    for (let position = 0; position < length; position++) {
      const distance = distances[position] as number;
      selected[next] = slots[position] as number;
      if (distance === threshold) {
        if (room > 0) {
          room -= 1;
          next += 1;
        }
      } else next += (distance - threshold) >>> 31;
    }
  } else {
    for (let position = 0; position < length; position++) {
      const distance = distances[position] as number;
      selected[next] = position;
      if (distance === threshold) {
        if (room > 0) {
          room -= 1;
          next += 1;
        }
      } else next += (distance - threshold) >>> 31;
    }
  }
  return selected.subarray(0, next);
}

/**
 * Scratch for the estimate stage, reused from search to search (searches run one at a time on
 * the thread, and each consumes its estimates before the next begins): fresh arrays per search
 * were garbage the collector had to chase at hundreds of searches a second.
 */
let estimateScratch = new Float64Array(0);
let selectionScratch = new Float64Array(0);

/**
 * Each candidate's asymmetric estimate (see `VectorCoder.queryPlanes`): higher is closer. The
 * answer is a view of a shared buffer, valid until the next call. In WebAssembly when the arena
 * has it (the same integers and the same two products: the same bits; the kernel took 73–109 µs for
 * 2,560 candidates where the lookup-table kernel before it took 148–154).
 */
function estimates(candidates: Int32Array, arena: CodeArena, coder: VectorCoder, vector: Float32Array): Float64Array {
  if (arena.estimatePlanes && arena.estimateBounds) {
    const { planes, bounds } = coder.queryPlanes(vector, arena.estimatePlanes, arena.estimateBounds);
    const scores = arena.estimate(candidates);
    if (scores) return scores;
    return estimatesInJavaScript(candidates, arena, planes, bounds);
  }
  const { planes, bounds } = coder.queryPlanes(vector);
  return estimatesInJavaScript(candidates, arena, planes, bounds);
}

/**
 * The estimate stage in JavaScript (no WebAssembly, or more candidates than the arena takes):
 * lo × popcount(code) + step × Σ_k 2^k × popcount(code AND plane k), as the kernel computes it.
 */
export function estimatesInJavaScript(candidates: Int32Array, arena: CodeArena, planes: Uint8Array, bounds: Float64Array): Float64Array {
  if (estimateScratch.length < candidates.length) estimateScratch = new Float64Array(Math.max(candidates.length, 4096));
  const scores = estimateScratch.subarray(0, candidates.length);
  const prefixStride = arena.hammingBytes / 4;
  const suffixStride = (arena.stride - arena.hammingBytes) / 4;
  const codeWords = prefixStride + suffixStride;
  const planeWords = new Uint32Array(planes.buffer, planes.byteOffset, planeCount * codeWords);
  const lo = bounds[0] as number;
  const step = bounds[1] as number;
  const { prefixWords, suffixWords } = arena;
  for (let position = 0; position < candidates.length; position++) {
    const slot = candidates[position] as number;
    let ones = 0;
    let levels = 0;
    for (let word = 0; word < codeWords; word++) {
      const value = (
        word < prefixStride ? prefixWords[slot * prefixStride + word] : suffixWords[slot * suffixStride + word - prefixStride]
      ) as number;
      ones += popcount32(value);
      for (let plane = 0; plane < planeCount; plane++) {
        levels += popcount32(value & (planeWords[plane * codeWords + word] as number)) * 2 ** plane;
      }
    }
    scores[position] = lo * ones + step * levels;
  }
  return scores;
}

/** The `count` candidates with the highest scores (in slot order; ties go to the earliest). */
function highest(candidates: Int32Array, scores: Float64Array, count: number): Int32Array {
  // The count-th highest score, found by selection: a full sort of the scores cost 3x as much.
  if (selectionScratch.length < scores.length) selectionScratch = new Float64Array(Math.max(scores.length, 4096));
  const copy = selectionScratch.subarray(0, scores.length);
  copy.set(scores);
  const threshold = kthSmallest(copy, candidates.length - count);
  let room = count;
  // An index loop: `for … of` over a Float64Array made a heap number of each score.
  for (let position = 0; position < scores.length; position++) if ((scores[position] as number) > threshold) room -= 1;
  if (highestScratch.length < count) highestScratch = new Int32Array(Math.max(count, 1024));
  const selected = highestScratch.subarray(0, count);
  let next = 0;
  for (let position = 0; position < candidates.length; position++) {
    const score = scores[position] as number;
    if (score > threshold || (score === threshold && room-- > 0)) selected[next++] = candidates[position] as number;
  }
  return selected;
}

/**
 * The value at position `rank` (0-based) of `values` sorted ascending: Hoare's quickselect,
 * which reorders `values` (pass a copy). Values must not be NaN.
 */
export function kthSmallest(values: Float64Array, rank: number): number {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const pivot = values[(left + right) >> 1] as number;
    let low = left;
    let high = right;
    while (low <= high) {
      while ((values[low] as number) < pivot) low++;
      while ((values[high] as number) > pivot) high--;
      if (low <= high) {
        const swap = values[low] as number;
        values[low] = values[high] as number;
        values[high] = swap;
        low++;
        high--;
      }
    }
    if (rank <= high) right = high;
    else if (rank >= low) left = low;
    else return values[rank] as number;
  }
  return values[rank] as number;
}

/** All candidates, highest score first (a native numeric sort, then positions by score). */
function byScore(candidates: Int32Array, scores: Float64Array): Int32Array {
  const positions = new Map<number, number[]>();
  scores.forEach((score, position) => {
    const list = positions.get(score);
    if (list) list.push(position);
    else positions.set(score, [position]);
  });
  const sorted = scores.slice().sort();
  const out = new Int32Array(candidates.length);
  let next = 0;
  for (let index = sorted.length - 1; index >= 0; ) {
    const list = positions.get(sorted[index] as number) as number[];
    for (const position of list) out[next++] = candidates[position] as number;
    index -= list.length;
  }
  return out;
}

/**
 * Exact cosine similarity between the query and each candidate's stored vector (int8, see
 * `sqlite-vector-storage.ts`; only the candidates' rows are read), and the best `limit` with
 * their memory ids.
 */
function exactNearest(
  session: SqliteSession,
  cache: VectorCache,
  candidates: Int32Array,
  query: Float32Array,
  limit: number,
): VectorMatch[] {
  if (cache.floats && cache.norms)
    return withIds(session, nearestInMemory(cache.floats, cache.norms, cache.rowids, candidates, query, limit));
  const rowids = Array.from(candidates, (slot) => cache.rowids[slot] as number);
  const rows = session
    .statement('SELECT rowid, vector FROM memory_embeddings WHERE rowid IN (SELECT value FROM json_each(?))')
    .raw(true)
    .all(JSON.stringify(rowids)) as Array<[number, Buffer]>;
  return withIds(session, ranked(rows, query, limit));
}

/** Stored vectors ranked by cosine similarity to the query, best first (ties: lower rowid), the best `limit`. */
function ranked(rows: Iterable<[number, Buffer]>, query: Float32Array, limit: number): Array<{ rowid: number; similarity: number }> {
  const queryNorm = vectorNorm(query);
  const scored: Array<{ rowid: number; similarity: number }> = [];
  for (const [rowid, blob] of rows) scored.push({ rowid, similarity: storedCosine(blob, query, queryNorm) ?? 0 });
  scored.sort((a, b) => b.similarity - a.similarity || a.rowid - b.rowid);
  return scored.slice(0, limit);
}

/** Scratch for the exact stage, reused from search to search (see `estimateScratch`). */
let dotScratch = new Float64Array(0);
let orderScratch = new Uint32Array(0);
let nonZeroScratch = new Int32Array(0);

/** The exact stage on the float vectors the cache mirrors (small stores). */
function nearestInMemory(
  floats: Float32Array,
  norms: Float64Array,
  rowids: Float64Array,
  candidates: Int32Array,
  query: Float32Array,
  limit: number,
): Array<{ rowid: number; similarity: number }> {
  const dimensions = query.length;
  let queryNorm = 0;
  for (let index = 0; index < dimensions; index++) queryNorm += (query[index] as number) ** 2;
  queryNorm = Math.sqrt(queryNorm);
  const count = candidates.length;
  if (dotScratch.length < count) {
    dotScratch = new Float64Array(Math.max(count, 1024));
    orderScratch = new Uint32Array(Math.max(count, 1024));
  }
  if (nonZeroScratch.length < dimensions) nonZeroScratch = new Int32Array(dimensions);
  let nonZero = 0;
  for (let index = 0; index < dimensions; index++) if ((query[index] as number) !== 0) nonZeroScratch[nonZero++] = index;
  // A query with few non-zero components (a hash embedder's: ~30 of 384) is dotted on those
  // only, with the same bits (see `sparseDotProducts`).
  const similarities =
    nonZero * 2 <= dimensions
      ? sparseDotProducts(floats, candidates, query, nonZeroScratch.subarray(0, nonZero), dotScratch)
      : dotProducts(floats, candidates, query, dotScratch);
  for (let position = 0; position < count; position++) {
    const norm = norms[candidates[position] as number] as number;
    // A zero vector has no direction: similarity 0 (as the SQL path's NULL distance).
    similarities[position] = norm === 0 || queryNorm === 0 ? 0 : (similarities[position] as number) / (norm * queryNorm);
  }
  // The best `limit`, best first (ties: lower rowid), kept in order by insertion: what a sort
  // of all of them would put first (the order is total: rowids differ), without one comparator
  // call per comparison (a sort of 200 cost more than the 200 dot products). Objects only for
  // the `limit` answered.
  const order = orderScratch;
  let kept = 0;
  const wanted = Math.min(limit, count);
  for (let position = 0; position < count; position++) {
    const similarity = similarities[position] as number;
    const rowid = rowids[candidates[position] as number] as number;
    let at = kept;
    while (at > 0) {
      const other = order[at - 1] as number;
      const otherSimilarity = similarities[other] as number;
      if (otherSimilarity > similarity || (otherSimilarity === similarity && (rowids[candidates[other] as number] as number) < rowid))
        break;
      at -= 1;
    }
    if (at >= wanted) continue;
    for (let move = Math.min(kept, wanted - 1); move > at; move--) order[move] = order[move - 1] as number;
    order[at] = position;
    if (kept < wanted) kept += 1;
  }
  const best: Array<{ rowid: number; similarity: number }> = new Array(wanted);
  for (let rank = 0; rank < best.length; rank++) {
    const position = order[rank] as number;
    best[rank] = { rowid: rowids[candidates[position] as number] as number, similarity: similarities[position] as number };
  }
  return best;
}

/**
 * Σ floats[slot · dimensions + i] · query[i] for each candidate slot, into `out`, each sum in
 * index order (the same bits as one candidate at a time). Four candidates share a pass over the
 * query: their four sums are independent chains the processor overlaps, where one sum waits on
 * each addition's latency (half the CPU, measured at 384 dimensions).
 */
export function dotProducts(floats: Float32Array, candidates: Int32Array, query: Float32Array, out: Float64Array): Float64Array {
  const dimensions = query.length;
  const count = candidates.length;
  let position = 0;
  for (; position + 4 <= count; position += 4) {
    const first = (candidates[position] as number) * dimensions;
    const second = (candidates[position + 1] as number) * dimensions;
    const third = (candidates[position + 2] as number) * dimensions;
    const fourth = (candidates[position + 3] as number) * dimensions;
    let firstSum = 0;
    let secondSum = 0;
    let thirdSum = 0;
    let fourthSum = 0;
    for (let index = 0; index < dimensions; index++) {
      const value = query[index] as number;
      firstSum += (floats[first + index] as number) * value;
      secondSum += (floats[second + index] as number) * value;
      thirdSum += (floats[third + index] as number) * value;
      fourthSum += (floats[fourth + index] as number) * value;
    }
    out[position] = firstSum;
    out[position + 1] = secondSum;
    out[position + 2] = thirdSum;
    out[position + 3] = fourthSum;
  }
  for (; position < count; position++) {
    const base = (candidates[position] as number) * dimensions;
    let sum = 0;
    for (let index = 0; index < dimensions; index++) sum += (floats[base + index] as number) * (query[index] as number);
    out[position] = sum;
  }
  return out;
}

/**
 * `dotProducts` over the query's non-zero components only (`nonZero`: their indices, ascending):
 * the same bits. A skipped product is ±0, and adding ±0 leaves a sum unchanged — the sum starts
 * at +0 and can never become −0 (an exact cancellation rounds to +0), and every value is finite.
 * A hash embedder's query has ~30 non-zero components of 384: a twelfth of the work.
 */
export function sparseDotProducts(
  floats: Float32Array,
  candidates: Int32Array,
  query: Float32Array,
  nonZero: Int32Array,
  out: Float64Array,
): Float64Array {
  const dimensions = query.length;
  const count = candidates.length;
  const terms = nonZero.length;
  let position = 0;
  for (; position + 4 <= count; position += 4) {
    const first = (candidates[position] as number) * dimensions;
    const second = (candidates[position + 1] as number) * dimensions;
    const third = (candidates[position + 2] as number) * dimensions;
    const fourth = (candidates[position + 3] as number) * dimensions;
    let firstSum = 0;
    let secondSum = 0;
    let thirdSum = 0;
    let fourthSum = 0;
    for (let term = 0; term < terms; term++) {
      const index = nonZero[term] as number;
      const value = query[index] as number;
      firstSum += (floats[first + index] as number) * value;
      secondSum += (floats[second + index] as number) * value;
      thirdSum += (floats[third + index] as number) * value;
      fourthSum += (floats[fourth + index] as number) * value;
    }
    out[position] = firstSum;
    out[position + 1] = secondSum;
    out[position + 2] = thirdSum;
    out[position + 3] = fourthSum;
  }
  for (; position < count; position++) {
    const base = (candidates[position] as number) * dimensions;
    let sum = 0;
    for (let term = 0; term < terms; term++) {
      const index = nonZero[term] as number;
      sum += (floats[base + index] as number) * (query[index] as number);
    }
    out[position] = sum;
  }
  return out;
}

/** `vectorSearch: 'exact'`: one pass over every stored vector that matches the filter. */
function exactSearch(session: SqliteSession, query: Float32Array, limit: number, filter: MemoryFilter | undefined): VectorMatch[] {
  const where = compileFilter(filter);
  const rows = session
    .statement(`SELECT e.rowid, e.vector FROM memory_embeddings e JOIN memories m ON m.rowid = e.rowid WHERE ${where.sql}`)
    .raw(true)
    .iterate(...where.params) as IterableIterator<[number, Buffer]>;
  return withIds(session, ranked(rows, query, limit));
}

/** The memory ids of ranked rows, in order. */
function withIds(session: SqliteSession, best: Array<{ rowid: number; similarity: number }>): VectorMatch[] {
  const ids = idsOfRowids(
    session,
    best.map((match) => match.rowid),
  );
  const matches: VectorMatch[] = [];
  for (let index = 0; index < best.length; index++) {
    const id = ids[index];
    if (id !== undefined) matches.push({ id, similarity: (best[index] as { similarity: number }).similarity });
  }
  return matches;
}

// ------------------------------------------------------------------ shared with the store's writes

function readMeta(session: SqliteSession): VectorsMeta | null {
  const row = session.statement("SELECT value FROM engram_meta WHERE key = 'vectors'").get() as { value: string } | undefined;
  if (!row) return null;
  const meta = JSON.parse(row.value) as Partial<VectorsMeta>;
  return { dimensions: Number(meta.dimensions), metric: 'cosine', codes: meta.codes ?? null };
}

function writeMeta(session: SqliteSession, meta: VectorsMeta): void {
  session.statement("INSERT OR REPLACE INTO engram_meta (key, value) VALUES ('vectors', ?)").run(JSON.stringify(meta));
}

/**
 * Records the code layout of `dimensions` (in the open write transaction). Codes are computed
 * from the stored vectors by each connection's mirror, and a snapshot of another code version is
 * not used, so a new layout needs nothing rewritten.
 */
function rebuildCodes(session: SqliteSession, dimensions: number): void {
  writeMeta(session, { dimensions, metric: 'cosine', codes: { version: codeVersion, bytes: codeLayout(dimensions).bytes } });
}

/** The connection's vector state, or null before any `open(dimensions)` (cached once set up). */
function vectorState(session: SqliteSession): VectorState | null {
  let state = states.get(session);
  if (state) return state;
  const meta = readMeta(session);
  if (meta === null || meta.codes?.version !== codeVersion) return null;
  const coder = new VectorCoder(meta.dimensions);
  state = { dimensions: meta.dimensions, coder, cache: new VectorCache(coder) };
  states.set(session, state);
  return state;
}

/**
 * Starts loading this connection's vector mirror from its snapshot, the codes on the thread pool
 * (`VectorCache.startLoading`), unless it was loaded or tried already; returns what settles when
 * the codes are in place, or null. Called by a search, so that a hybrid search's lexical half
 * runs while they arrive; never by open or a write (a process that only writes, such as a CLI
 * `add`, reads no codes it would not use). Never throws: a failure here is met again by `sync`.
 */
export function startLoadingVectors(session: SqliteSession): Promise<void> | null {
  try {
    const cache = vectorState(session)?.cache;
    cache?.startLoading(session);
    return cache?.loading ?? null;
  } catch {
    return null;
  }
}

/**
 * Brings this connection's vector mirror up to date with the change log (loading it the first
 * time); with `limit`, at most that many log entries (see `VectorCache.sync`).
 */
export function syncVectorCache(session: SqliteSession, floatBudget = defaultFloatCacheBytes, limit = Number.POSITIVE_INFINITY): CatchUp {
  const cache = vectorState(session)?.cache;
  if (!cache) return { rows: 0, current: true };
  cache.floatBudget = floatBudget;
  return cache.sync(session, limit);
}

/**
 * Brings this connection's vector mirror up to date if a search loaded it (never loads it: a
 * connection that only writes keeps no mirror). For the store's idle catch-up.
 */
export function catchUpVectorCache(session: SqliteSession, floatBudget = defaultFloatCacheBytes): void {
  if (!searchedSessions.has(session)) return;
  syncVectorCache(session, floatBudget);
}

/** The vectors this connection's mirror would persist on close (`persistVectorSnapshot`), or null when none is due. */
export function vectorSnapshotDue(session: SqliteSession): number | null {
  const cache = states.get(session)?.cache;
  return cache?.wantsSnapshot ? cache.size : null;
}

/** Persists this connection's vector mirror if that would save the next process work (on close). */
export function persistVectorSnapshot(session: SqliteSession): void {
  const state = states.get(session);
  if (state?.cache.wantsSnapshot) state.cache.saveSnapshot(session);
  state?.cache.releaseSnapshotFile();
}

/**
 * The vector mirror's filterable fields, for the lexical index to share when its snapshot holds
 * the same ones (`SlotColumns.sameColumns`); null when the mirror is not set up. The caller
 * calls `releaseOrigin` on them once it has compared.
 */
export function vectorMirrorColumns(session: SqliteSession): SlotColumns | null {
  return states.get(session)?.cache.snapshotColumns ?? null;
}

/** This connection's float mirror (`VectorCache.floats`), or null when it keeps none: for tests. */
export function vectorMirrorFloats(session: SqliteSession): Float32Array | null {
  return states.get(session)?.cache.floats ?? null;
}

/** Like `vectorState`, for writes: a vector cannot be stored before the index is set up. */
function requireVectors(session: SqliteSession): VectorState {
  const state = vectorState(session);
  if (state === null) {
    throw new AdapterError(
      'sqlite',
      'vectors',
      new Error('no vector index yet'),
      'Call store.vectors.open(dimensions) once before writing vectors (Memory does this on open)',
    );
  }
  return state;
}

/** The dimension vectors must have, for writes (throws before `open(dimensions)`). */
export function requireVectorTable(session: SqliteSession): number {
  return requireVectors(session).dimensions;
}

/** The stored (int8) form of a vector, computed before the write transaction to keep it short. */
export function encodeVector(session: SqliteSession, vector: Float32Array): Uint8Array {
  requireVectors(session);
  return encodeStoredVector(vector);
}

/** Stores (or replaces) the vector of a memory row, in its stored form (`encodeVector`). */
export function writeVector(session: SqliteSession, rowid: number | bigint, stored: Uint8Array): void {
  session
    .statement('INSERT INTO memory_embeddings (rowid, vector) VALUES (?, ?) ON CONFLICT (rowid) DO UPDATE SET vector = excluded.vector')
    .run(rowid, stored);
}

/** Drops the vector of a memory row, if it has one. */
export function removeVector(session: SqliteSession, rowid: number | bigint): void {
  session.statement('DELETE FROM memory_embeddings WHERE rowid = ?').run(rowid);
}

export function checkVector(vector: Float32Array, dimensions: number, field: string): void {
  if (!(vector instanceof Float32Array)) {
    throw new ValidationError([{ field, message: 'must be a Float32Array' }]);
  }
  if (vector.length !== dimensions) {
    throw new ValidationError([{ field, message: `has ${vector.length} dimensions; this store holds ${dimensions}-dimensional vectors` }]);
  }
  // Stored vectors are quantised to their largest component: NaN or ±Infinity has no such form.
  // A loop, not `findIndex`: its callback made a heap number of each component.
  let bad = -1;
  for (let index = 0; index < vector.length; index++) {
    if (!Number.isFinite(vector[index] as number)) {
      bad = index;
      break;
    }
  }
  if (bad >= 0) {
    throw new ValidationError([
      { field, message: `has a non-finite value (${vector[bad]}) at index ${bad}; every component must be a finite number` },
    ]);
  }
}

/**
 * After `memory_embeddings` was replaced by vectors of another embedder (re-embedding), in the
 * open write transaction: records the code layout for `dimensions` and the vector meta, and
 * forgets this connection's cached state (its layout may have changed).
 */
export function switchVectors(session: SqliteSession, dimensions: number): void {
  rebuildCodes(session, dimensions);
  states.get(session)?.cache.releaseSnapshotFile();
  states.delete(session);
}
