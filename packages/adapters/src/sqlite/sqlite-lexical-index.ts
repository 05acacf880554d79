import { type LexicalMatch, type MemoryFilter, queryTerms, searchTerm, words } from '@engram/core';
import { type Bm25Header, Bm25Index } from './sqlite-bm25.js';
import { type CatchUp, readLogChanges, readLogHead } from './sqlite-change-log.js';
import { compileFilter } from './sqlite-filter.js';
import { ResidualFilter } from './sqlite-residual-filter.js';
import { idsOfRowids } from './sqlite-row-ids.js';
import type { SqliteSession } from './sqlite-session.js';
import { SlotColumns, SlotFieldsView, slotFieldColumns } from './sqlite-slot-columns.js';
import { readSnapshot, type SnapshotFile, saveSnapshot, type Typed } from './sqlite-snapshot.js';
import { type SlotFields, type SlotFilter, slotFilter } from './sqlite-vector-filter.js';
import { vectorMirrorColumns } from './sqlite-vector-index.js';
import { slotDead, slotSuperseded } from './sqlite-vector-kernel.js';

/** One row of the load query: rowid, content, tags (JSON), context, then `slotFieldColumns`. */
type LoadedRow = [rowid: number, content: string, tags: string, context: string | null, ...fields: unknown[]];

const loadColumns = `m.rowid, m.content, m.tags, m.context, ${slotFieldColumns}`;
const loadAllSql = `SELECT ${loadColumns} FROM memories m WHERE m.deleted_at IS NULL ORDER BY m.rowid`;
const loadOneSql = `SELECT ${loadColumns} FROM memories m WHERE m.rowid = ? AND m.deleted_at IS NULL`;

const initialCapacity = 1024;

/** Bump when tokenisation or the snapshot layout changes: older snapshots are then rebuilt. */
const snapshotVersion = 3;
/** Smaller indexes are rebuilt from the rows on open (a few milliseconds), never persisted. */
const snapshotMinimum = 2000;

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
 * Building it means reading and tokenising every memory (~15 µs each), so an index of 2,000
 * memories or more is persisted (`saveSnapshot`, as `lexical`): after a full build, and on close when 5 % (at least 1,000) of its memories
 * changed since. A new connection loads the snapshot in one read and applies the log entries
 * after it; a snapshot the log no longer covers, of another version or context weight, is rebuilt.
 *
 * Scores are those of the in-memory reference store (`termFrequencies`, BM25 k1 1.2, b 0.6).
 */
export class LexicalIndex extends SlotFieldsView implements SlotFields {
  private index = new Bm25Index();
  private columns = new SlotColumns(initialCapacity);
  private slotMask = new Uint8Array(initialCapacity);
  /** rowid → slot; null after a snapshot load until first needed (~10 ms per 100k to build). */
  private slotMap: Map<number, number> | null = new Map();
  /** While `slotMap` is null: the largest rowid with a slot, once computed (see `hasNoSlot`). */
  private rowidCeiling: number | null = null;
  private appliedSeq = -1;
  private triedSnapshot = false;
  /** Lower-cased word → term id in `index` (skips stemming words seen before). */
  private wordIds = new Map<string, number>();
  /** Scratch space of `put`: the current memory's distinct term ids and frequencies. */
  private termScratch = new Int32Array(256);
  private frequencyScratch = new Float32Array(256);
  private seenIn = new Int32Array(1024);
  private seenAt = new Int32Array(1024);
  /** Rows re-indexed since the persisted snapshot matched this index (−1: no snapshot is current). */
  private changesSinceSnapshot = -1;

  constructor(private readonly contextWeight: number) {
    super();
  }

  protected get columnsNow(): SlotColumns {
    return this.columns;
  }

  get mask(): Uint8Array {
    return this.slotMask;
  }

  private get slotOf(): Map<number, number> {
    if (this.slotMap === null) this.slotMap = this.liveSlotMap(this.index.slotLimit, slotDead);
    return this.slotMap;
  }

  /**
   * Whether `rowid` surely has no slot, told without building the slot map while it is not built
   * (after a snapshot load): a row newer than every indexed one, as a writer's inserts are.
   */
  private hasNoSlot(rowid: number): boolean {
    if (this.slotMap !== null) return false;
    this.rowidCeiling ??= this.largestRowid(this.index.slotLimit);
    return rowid > this.rowidCeiling;
  }

  /** Live memories indexed. */
  get size(): number {
    return this.index.size;
  }

  /** Whether this index was built from the rows and no snapshot of it has been written yet. */
  get lacksSnapshot(): boolean {
    return this.appliedSeq >= 0 && this.index.size >= snapshotMinimum && this.changesSinceSnapshot < 0;
  }

  /** Whether persisting this index would save a later connection work (see the class comment). */
  get wantsSnapshot(): boolean {
    if (this.appliedSeq < 0 || this.index.size < snapshotMinimum) return false;
    return this.changesSinceSnapshot < 0 || this.changesSinceSnapshot >= Math.max(1000, this.index.size / 20);
  }

  /** Releases the snapshot file the index reads postings from; the index is not used afterwards. */
  close(): void {
    this.index.close();
  }

  /**
   * Brings the index up to date with the database; with `limit`, applies at most that many log
   * entries (one step of a writer's catch-up: see `readLogChanges`) unless it must reload.
   */
  sync(session: SqliteSession, limit = Number.POSITIVE_INFINITY): CatchUp {
    if (!this.triedSnapshot) {
      this.triedSnapshot = true;
      this.loadSnapshot(session);
    }
    if (readLogHead(session) === this.appliedSeq) return { rows: 0, current: true };
    // One read transaction: the log, its head and the rows are one snapshot.
    return session.db
      .transaction((): CatchUp => {
        const changes = readLogChanges(session, this.appliedSeq, this.index.size, limit);
        if (changes.kind === 'reload') {
          this.reload(session, changes.head);
          return { rows: this.index.size, current: true };
        }
        const one = session.statement(loadOneSql).raw(true);
        for (const rowid of changes.rowids) {
          this.remove(rowid);
          const row = one.get(rowid) as LoadedRow | undefined;
          if (row) this.put(row);
        }
        if (this.changesSinceSnapshot >= 0) this.changesSinceSnapshot += changes.rowids.length;
        this.appliedSeq = changes.head;
        if (this.index.wantsCompaction) this.compact();
        return { rows: changes.rowids.length, current: changes.complete };
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
    const residual = new ResidualFilter(session, filter);
    const passing = residual.passing(ranked.map((match) => this.columns.rowids[match.slot] as number));
    const kept = ranked.filter((match) => passing.has(this.columns.rowids[match.slot] as number));
    if (kept.length >= limit || ranked.length < pool) return this.withIds(session, kept.slice(0, limit));
    return this.withIds(session, this.searchAllowed(session, terms, filter, limit, accept, residual));
  }

  /**
   * Ranks only the memories that match the complete filter (and `accept` lets through): those the
   * residual part finds (the mirror's part is `accept`'s), or what SQL finds for the whole filter.
   */
  private searchAllowed(
    session: SqliteSession,
    terms: string[],
    filter: MemoryFilter,
    limit: number,
    accept: (slot: number) => boolean,
    residual?: ResidualFilter,
  ) {
    let rowids = residual?.matchingRowids() ?? null;
    if (rowids === null) {
      const where = compileFilter(filter);
      rowids = session
        .statement(`SELECT m.rowid FROM memories m WHERE ${where.sql}`)
        .pluck()
        .all(...where.params) as number[];
    }
    const allowed = new Uint8Array(this.index.slotLimit);
    for (const rowid of rowids) {
      const slot = this.slotOf.get(rowid);
      if (slot !== undefined) allowed[slot] = 1;
    }
    return this.index.search(terms, limit, (slot) => allowed[slot] === 1 && accept(slot));
  }

  private withIds(session: SqliteSession, matches: Array<{ slot: number; score: number }>): LexicalMatch[] {
    if (matches.length === 0) return [];
    const ids = idsOfRowids(
      session,
      matches.map((match) => this.columns.rowids[match.slot] as number),
    );
    const found: LexicalMatch[] = [];
    for (let index = 0; index < matches.length; index++) {
      const id = ids[index];
      if (id !== undefined) found.push({ id, score: (matches[index] as { score: number }).score });
    }
    return found;
  }

  private reload(session: SqliteSession, head: number): void {
    // A fresh index: nothing of the old one (nor its snapshot file, after an erasure) is kept.
    this.index.close();
    this.index = new Bm25Index();
    this.wordIds.clear();
    this.columns = new SlotColumns(initialCapacity);
    this.slotMask = new Uint8Array(initialCapacity);
    this.slotMap = new Map();
    const rows = session.statement(loadAllSql).raw(true).iterate() as IterableIterator<LoadedRow>;
    for (const row of rows) this.put(row);
    this.appliedSeq = head;
    this.changesSinceSnapshot = -1;
  }

  /**
   * Persists this index (replacing any earlier snapshot) when `wantsSnapshot`. Never waits for
   * another process's write lock and never fails: a snapshot only saves work.
   */
  saveSnapshot(session: SqliteSession): void {
    if (!this.wantsSnapshot) return;
    if (this.index.removedCount > 0) this.compact();
    const slots = this.index.slotLimit;
    const bm25 = this.index.exportState();
    const columns = this.columns.exportState(slots);
    const arrays: Record<string, Int32Array | Float32Array | Float64Array | Uint8Array> = { mask: this.slotMask.slice(0, slots) };
    for (const [name, array] of Object.entries(bm25.arrays)) arrays[`bm25.${name}`] = array;
    for (const [name, array] of Object.entries(columns.arrays)) arrays[`column.${name}`] = array;
    const meta = { version: snapshotVersion, seq: this.appliedSeq, contextWeight: this.contextWeight };
    // Written or not (busy, read-only), not tried again before as many changes again.
    saveSnapshot(session, 'lexical', meta, { bm25: bm25.header, strings: columns.strings }, arrays);
    this.changesSinceSnapshot = 0;
  }

  /** Loads the persisted snapshot when the log still covers it (see the class comment). */
  private loadSnapshot(session: SqliteSession): void {
    try {
      session.db
        .transaction(() => {
          const snapshot = readSnapshot(
            session,
            'lexical',
            (meta) => meta.version === snapshotVersion && meta.contextWeight === this.contextWeight,
          );
          if (snapshot === null) return;
          const { meta, header, file } = snapshot;
          const { bm25, strings } = header as { bm25: Bm25Header; strings: string[] };
          let index: Bm25Index;
          let columns: SlotColumns;
          let mask: Uint8Array<ArrayBuffer>;
          let capacity = initialCapacity;
          while (capacity < bm25.nextSlot) capacity *= 2;
          try {
            // After a bulk load the vector mirror holds the same fields in the same slots: share
            // them (copy-on-write) when its snapshot's columns are this one's, byte for byte.
            const mirrored = vectorMirrorColumns(session);
            if (mirrored?.sameColumns(file, 'column.', strings, capacity)) columns = mirrored.share();
            else columns = SlotColumns.fromSnapshot(strings, file, 'column.', capacity);
            mirrored?.releaseOrigin();
            mask = new Uint8Array(capacity);
            file.readInto('mask', mask.subarray(0, file.length('mask')));
            // The index keeps the file open and reads each term's postings when first needed.
            index = Bm25Index.fromSource(bm25, prefixed(file, 'bm25.'));
          } catch (error) {
            file.close();
            throw error;
          }
          this.index.close();
          this.index = index;
          this.wordIds.clear();
          this.columns = columns;
          this.slotMask = mask;
          this.slotMap = null;
          this.rowidCeiling = null;
          this.appliedSeq = meta.seq;
          this.changesSinceSnapshot = 0;
        })
        .deferred();
    } catch {
      // A damaged snapshot: build from the rows.
      this.index.close();
      this.index = new Bm25Index();
      this.wordIds.clear();
      this.columns = new SlotColumns(initialCapacity);
      this.slotMask = new Uint8Array(initialCapacity);
      this.slotMap = new Map();
      this.appliedSeq = -1;
    }
  }

  private put(row: LoadedRow): void {
    const [rowid, content, tags, context] = row;
    const slot = this.index.slotLimit;
    this.columns = this.columns.writable();
    if (slot >= this.columns.capacity) {
      const capacity = this.columns.capacity * 2;
      this.columns.grow(capacity, slot);
      const mask = new Uint8Array(capacity);
      mask.set(this.slotMask.subarray(0, slot));
      this.slotMask = mask;
    }
    this.columns.set(slot, rowid, row, 4);
    this.slotMask[slot] = row[11] ? slotSuperseded : 0;
    // The terms of content, tags (weight 1) and context (`contextWeight`), as `termFrequencies`
    // counts them, without a Map per memory.
    this.distinct = 0;
    this.stamp += 1;
    let length = this.countWords(content, 1);
    // Tags are a JSON array of strings: its words are the tags' words unless a tag needed escapes.
    if (tags.includes('\\')) for (const tag of JSON.parse(tags) as string[]) length += this.countWords(tag, 1);
    else length += this.countWords(tags, 1);
    if (context) length += this.countWords(context, this.contextWeight);
    this.index.addTerms(slot, this.termScratch, this.frequencyScratch, this.distinct, length);
    // An unbuilt map will include this slot when it is built (it scans every slot).
    if (this.slotMap === null) this.rowidCeiling = Math.max(this.rowidCeiling ?? this.largestRowid(slot), rowid);
    else this.slotMap.set(rowid, slot);
  }

  private distinct = 0;
  private stamp = 0;

  /** Adds the words of `text` to the scratch term list of the memory being put; returns how many. */
  private countWords(text: string, weight: number): number {
    const found = words(text);
    const stamp = this.stamp;
    for (const word of found) {
      let id = this.wordIds.get(word);
      if (id === undefined) {
        id = this.index.termIdOf(searchTerm(word));
        this.wordIds.set(word, id);
      }
      if (id >= this.seenIn.length) {
        let capacity = this.seenIn.length * 2;
        while (capacity <= id) capacity *= 2;
        const seenIn = new Int32Array(capacity);
        seenIn.set(this.seenIn);
        this.seenIn = seenIn;
        const seenAt = new Int32Array(capacity);
        seenAt.set(this.seenAt);
        this.seenAt = seenAt;
      }
      if (this.seenIn[id] === stamp) {
        const at = this.seenAt[id] as number;
        this.frequencyScratch[at] = (this.frequencyScratch[at] as number) + weight;
        continue;
      }
      if (this.distinct === this.termScratch.length) {
        const terms = new Int32Array(this.distinct * 2);
        terms.set(this.termScratch);
        this.termScratch = terms;
        const frequencies = new Float32Array(this.distinct * 2);
        frequencies.set(this.frequencyScratch);
        this.frequencyScratch = frequencies;
      }
      this.seenIn[id] = stamp;
      this.seenAt[id] = this.distinct;
      this.termScratch[this.distinct] = id;
      this.frequencyScratch[this.distinct++] = weight;
    }
    return found.length;
  }

  private remove(rowid: number): void {
    if (this.hasNoSlot(rowid)) return;
    const slot = this.slotOf.get(rowid);
    if (slot === undefined) return;
    this.slotOf.delete(rowid);
    this.index.remove(slot);
    this.slotMask[slot] = slotDead;
  }

  private compact(): void {
    this.columns = this.columns.writable();
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

/** The arrays of `file` whose names start with `prefix`, under their names without it. */
function prefixed(file: SnapshotFile, prefix: string) {
  return {
    length: (name: string) => file.length(`${prefix}${name}`),
    // Bm25Index's arrays were saved as Int32/Float32/Float64/Uint8 arrays: reads give those back.
    read: (name: string, from?: number, to?: number) => file.read(`${prefix}${name}`, from, to) as Exclude<Typed, Uint16Array>,
    readInto: (name: string, target: Int32Array | Float32Array) => file.readInto(`${prefix}${name}`, target),
    close: () => file.close(),
  };
}

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
