import { type LexicalMatch, type MemoryFilter, queryTerms, termFrequencies } from '@engram/core';
import { Bm25Index } from './sqlite-bm25.js';
import { readLogChanges, readLogHead } from './sqlite-change-log.js';
import { compileFilter } from './sqlite-filter.js';
import type { SqliteSession } from './sqlite-session.js';
import { SlotColumns, slotFieldColumns } from './sqlite-slot-columns.js';
import { type SlotFields, type SlotFilter, slotFilter } from './sqlite-vector-filter.js';
import { slotDead, slotSuperseded } from './sqlite-vector-kernel.js';

/** One row of the load query: rowid, content, tags (JSON), context, then `slotFieldColumns`. */
type LoadedRow = [rowid: number, content: string, tags: string, context: string | null, ...fields: unknown[]];

const loadColumns = `m.rowid, m.content, m.tags, m.context, ${slotFieldColumns}`;
const loadAllSql = `SELECT ${loadColumns} FROM memories m WHERE m.deleted_at IS NULL ORDER BY m.rowid`;
const loadOneSql = `SELECT ${loadColumns} FROM memories m WHERE m.rowid = ? AND m.deleted_at IS NULL`;

const initialCapacity = 1024;

/**
 * This connection's lexical index: BM25 over the content, tags and context of every live memory
 * (`Bm25Index`), with the filterable fields of each (`SlotFields`), so a filtered search ranks
 * only the memories the filter lets through and stops as soon as the top k are certain.
 *
 * Like the vector codes' mirror (`VectorCache`), it follows `memory_vector_log`, which triggers
 * append to whenever a memory is written, changed or deleted by any process: before each search
 * it reads the log's head (one indexed read) and re-indexes just the changed rows. A changed row
 * is removed and indexed again under a new slot; `compact` renumbers once removed slots hold
 * half the postings.
 *
 * Scores are those of the in-memory reference store (`termFrequencies`, BM25 k1 1.2, b 0.75).
 */
export class LexicalIndex implements SlotFields {
  private readonly index = new Bm25Index();
  private readonly columns = new SlotColumns(initialCapacity);
  private slotMask = new Uint8Array(initialCapacity);
  private readonly slotOf = new Map<number, number>();
  private appliedSeq = -1;

  constructor(private readonly contextWeight: number) {}

  get user(): Int32Array {
    return this.columns.user;
  }
  get agent(): Int32Array {
    return this.columns.agent;
  }
  get run(): Int32Array {
    return this.columns.run;
  }
  get conversation(): Int32Array {
    return this.columns.conversation;
  }
  get type(): Int32Array {
    return this.columns.type;
  }
  get subtype(): Int32Array {
    return this.columns.subtype;
  }
  get createdAt(): Float64Array {
    return this.columns.createdAt;
  }
  get validTo(): Float64Array {
    return this.columns.validTo;
  }
  get mask(): Uint8Array {
    return this.slotMask;
  }

  idOf(value: string): number | undefined {
    return this.columns.idOf(value);
  }

  /** Live memories indexed. */
  get size(): number {
    return this.index.size;
  }

  /** Brings the index up to date with the database. */
  sync(session: SqliteSession): void {
    if (readLogHead(session) === this.appliedSeq) return;
    // One read transaction: the log, its head and the rows are one snapshot.
    session.db
      .transaction(() => {
        const changes = readLogChanges(session, this.appliedSeq, this.index.size);
        if (changes.kind === 'reload') return this.reload(session, changes.head);
        const one = session.statement(loadOneSql).raw(true);
        for (const rowid of changes.rowids) {
          this.remove(rowid);
          const row = one.get(rowid) as LoadedRow | undefined;
          if (row) this.put(row);
        }
        this.appliedSeq = changes.head;
        if (this.index.wantsCompaction) this.compact();
      })
      .deferred();
  }

  /**
   * The `limit` best memories for `query` among those that match `filter`, best first. The
   * filter's scope, conversation, types, time window and supersession are decided in memory
   * while ranking; tags, `where` and `ids` (which only SQL can decide) are checked on the best
   * candidates, or — when they are selective — evaluated in SQL first.
   */
  search(session: SqliteSession, query: string, filter: MemoryFilter, limit: number): LexicalMatch[] {
    const terms = queryTerms(query);
    if (terms.length === 0 || !(limit >= 1)) return [];
    this.sync(session);
    const plan = slotFilter(filter, this);
    if (plan.kind === 'none') return [];
    if (plan.kind === 'sql') return this.withIds(session, this.searchAllowed(session, terms, filter, limit, acceptAll));
    const accept = acceptor(plan, this.slotMask);
    if (!plan.residual) return this.withIds(session, this.index.search(terms, limit, accept));

    // Tags or `where`: rank a pool in memory, keep those SQL passes; if the pool runs out first,
    // the filter is selective, and evaluating it on every row first is cheaper and exact.
    const pool = Math.max(limit * 4, 100);
    const ranked = this.index.search(terms, pool, accept);
    const passing = this.passing(
      session,
      ranked.map((match) => this.columns.rowids[match.slot] as number),
      filter,
    );
    const kept = ranked.filter((match) => passing.has(this.columns.rowids[match.slot] as number));
    if (kept.length >= limit || ranked.length < pool) return this.withIds(session, kept.slice(0, limit));
    return this.withIds(session, this.searchAllowed(session, terms, filter, limit, accept));
  }

  /** Ranks only the memories SQL finds for the complete filter (and `accept` lets through). */
  private searchAllowed(session: SqliteSession, terms: string[], filter: MemoryFilter, limit: number, accept: (slot: number) => boolean) {
    const where = compileFilter(filter);
    const rowids = session
      .statement(`SELECT m.rowid FROM memories m WHERE ${where.sql}`)
      .pluck()
      .all(...where.params) as number[];
    const allowed = new Uint8Array(this.index.slotLimit);
    for (const rowid of rowids) {
      const slot = this.slotOf.get(rowid);
      if (slot !== undefined) allowed[slot] = 1;
    }
    return this.index.search(terms, limit, (slot) => allowed[slot] === 1 && accept(slot));
  }

  private passing(session: SqliteSession, rowids: number[], filter: MemoryFilter): Set<number> {
    if (rowids.length === 0) return new Set();
    const where = compileFilter(filter);
    return new Set(
      session
        .statement(`SELECT m.rowid FROM memories m WHERE m.rowid IN (SELECT value FROM json_each(?)) AND ${where.sql}`)
        .pluck()
        .all(JSON.stringify(rowids), ...where.params) as number[],
    );
  }

  private withIds(session: SqliteSession, matches: Array<{ slot: number; score: number }>): LexicalMatch[] {
    if (matches.length === 0) return [];
    const rowids = matches.map((match) => this.columns.rowids[match.slot] as number);
    // Not `.raw()`: the mode sticks to the session's cached statement, which others share.
    const rows = session
      .statement('SELECT rowid, id FROM memories WHERE rowid IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(rowids)) as Array<{ rowid: number; id: string }>;
    const ids = new Map(rows.map((row) => [row.rowid, row.id]));
    return matches.flatMap((match, index) => {
      const id = ids.get(rowids[index] as number);
      return id === undefined ? [] : [{ id, score: match.score }];
    });
  }

  private reload(session: SqliteSession, head: number): void {
    for (const rowid of [...this.slotOf.keys()]) this.remove(rowid);
    this.compact();
    const rows = session.statement(loadAllSql).raw(true).iterate() as IterableIterator<LoadedRow>;
    for (const row of rows) this.put(row);
    this.appliedSeq = head;
  }

  private put(row: LoadedRow): void {
    const [rowid, content, tags, context] = row;
    const slot = this.index.slotLimit;
    if (slot >= this.columns.capacity) {
      const capacity = this.columns.capacity * 2;
      this.columns.grow(capacity, slot);
      const mask = new Uint8Array(capacity);
      mask.set(this.slotMask.subarray(0, slot));
      this.slotMask = mask;
    }
    this.columns.set(slot, rowid, row, 4);
    this.slotMask[slot] = row[11] ? slotSuperseded : 0;
    const { frequencies, length } = termFrequencies(content, JSON.parse(tags) as string[], context, this.contextWeight);
    this.index.add(slot, frequencies, length);
    this.slotOf.set(rowid, slot);
  }

  private remove(rowid: number): void {
    const slot = this.slotOf.get(rowid);
    if (slot === undefined) return;
    this.slotOf.delete(rowid);
    this.index.remove(slot);
    this.slotMask[slot] = slotDead;
  }

  private compact(): void {
    const renumbered = this.index.compact();
    for (let slot = 0; slot < renumbered.length; slot++) {
      const to = renumbered[slot] as number;
      if (to < 0 || to === slot) continue;
      this.columns.move(slot, to);
      this.slotMask[to] = this.slotMask[slot] as number;
      this.slotOf.set(this.columns.rowids[to] as number, to);
    }
  }
}

const acceptAll = () => true;

/** The in-memory part of a filter as a test of one slot. */
function acceptor(plan: Extract<SlotFilter, { kind: 'mask' | 'slots' }>, mask: Uint8Array): (slot: number) => boolean {
  const { flags } = plan;
  if (plan.kind === 'mask') return (slot) => ((mask[slot] as number) & flags) === 0;
  const { equal, test } = plan;
  const first = equal[0];
  if (equal.length === 1 && first && test === undefined) {
    const { column, id } = first;
    return (slot) => column[slot] === id && ((mask[slot] as number) & flags) === 0;
  }
  return (slot) => {
    if (((mask[slot] as number) & flags) !== 0) return false;
    for (const { column, id } of equal) if (column[slot] !== id) return false;
    return test === undefined || test(slot);
  };
}
