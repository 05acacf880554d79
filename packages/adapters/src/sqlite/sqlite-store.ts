import {
  AdapterError,
  type BackupOptions,
  type BackupResult,
  type ChangeLogPage,
  type ChangeOptions,
  checkOperations,
  createdHistoryEntry,
  DEFAULT_CONTEXT_WEIGHT,
  decodeCursor,
  type EmbedderInfo,
  EngramError,
  type ErasureLogPage,
  type ErasureOrigin,
  encodeCursor,
  type HistoryEntry,
  historyEntry,
  type LexicalMatch,
  type MemoryFilter,
  type MemoryRecord,
  type MemoryStore,
  missingRecord,
  OperationIds,
  operationVectors,
  type RankingRecord,
  type RecordPatch,
  type ReembedOptions,
  type ReembedResult,
  type Relation,
  type Scope,
  type StoreCapabilities,
  type StoreListOptions,
  type StoreListPage,
  type StoreOperation,
  type StoreOperationResult,
  type StoreStatistics,
  type StoreStatisticsOptions,
  type StoreWrite,
  type StoreWriteResult,
  scopeKey,
  updateEvent,
  ValidationError,
} from '@engram/core';
import type BetterSqlite3 from 'better-sqlite3';
import { backupDatabase } from './sqlite-backup.js';
import { recordErasure } from './sqlite-change-log.js';
import { type CheckpointReport, WalCheckpointer } from './sqlite-checkpointer.js';
import { SqliteCollections } from './sqlite-collections.js';
import { openConnection } from './sqlite-connection.js';
import { compileFilter, jsonPath, type SqlParameter } from './sqlite-filter.js';
import { appendHistory, appendRelationChange, RELATION_EVENTS, readChangesSince, readHistory } from './sqlite-history.js';
import { LexicalIndex } from './sqlite-lexical-index.js';
import { schemaIsCurrent } from './sqlite-migration-names.js';
import { readRankingFields } from './sqlite-ranking-cache.js';
import { reclaimSpace } from './sqlite-reclaim.js';
import {
  hashedRowidsSql,
  hashPrefix,
  insertMemorySql,
  insertParameters,
  type MemoryRow,
  memoryColumns,
  readMemoryRows,
  rowToRecord,
  storedRecord,
  withContextSource,
} from './sqlite-records.js';
import { reembedSqlite } from './sqlite-reembed.js';
import { relationsOf, removeRelations, upsertRelation } from './sqlite-relations.js';
import { isBusyError, withRetry } from './sqlite-retry.js';
import { SqliteSession } from './sqlite-session.js';
import { removeSnapshots, removeStaleSnapshotFiles } from './sqlite-snapshot.js';
import { readStatistics } from './sqlite-statistics.js';
import {
  catchUpVectorCache,
  checkVector,
  encodeVector,
  persistVectorSnapshot,
  removeVector,
  requireVectorTable,
  SqliteVectorIndex,
  startLoadingVectors,
  syncVectorCache,
  type VectorSearchMode,
  vectorSnapshotDue,
  writeVector,
} from './sqlite-vector-index.js';

export interface SqliteStoreOptions {
  /**
   * The database file (parent directories are created on open), or ':memory:' for a private
   * in-memory database. Give exactly one of `path` and `database`.
   */
  path?: string;
  /**
   * An open better-sqlite3 database to use instead of a path. The store configures it (WAL,
   * busy timeout, sqlite-vec) and migrates it, but never closes it: its owner does.
   */
  database?: BetterSqlite3.Database;
  /** How long a writer waits for another process's write lock before retrying, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * How much a word in a memory's `context` counts in lexical search next to one in its content
   * or tags (a BM25 field weight), from 0 to 1. Default 0.5 (`DEFAULT_CONTEXT_WEIGHT`).
   */
  contextWeight?: number;
  /**
   * 'approximate' (default): vector search narrows the candidates with binary codes before
   * comparing float vectors exactly, and is exact whenever few vectors match the filter (see
   * `SqliteVectorIndex`). 'exact': every vector that matches the filter is compared exactly —
   * slower on large stores; for evaluation, or when recall must be 1.
   */
  vectorSearch?: VectorSearchMode;
  /**
   * How many bytes of float vectors each connection may also keep in memory, so that vector
   * search compares them without reading rows. Default 64 MiB (up to about 30k 384-d vectors); beyond
   * it they stay on disk. The binary codes search scans (128 bytes a 384-d vector) are always
   * in memory.
   */
  vectorCacheBytes?: number;
  /**
   * Told of the work `close()` does before it returns, each step as it starts and once it is done:
   * catching the indexes up with this connection's last writes, and persisting the lexical index
   * and the vector mirror as snapshots for the next process. A snapshot is written when the index
   * changed by 5 % (at least 1,000 memories) since the last one, so after a bulk load close takes
   * seconds at 1M memories (the snapshots are ~300 MB), and ~20–40 ms otherwise. See
   * docs/adapters/sqlite.md ("Closing after a bulk load").
   */
  onClose?: (step: SqliteCloseStep) => void;
}

/** A step of `SqliteStore.close()` (see `SqliteStoreOptions.onClose`). */
export interface SqliteCloseStep {
  /**
   * 'catch-up': indexing the memories written since the indexes last followed the writes;
   * 'lexical-snapshot' / 'vector-snapshot': writing that index's snapshot beside the file.
   */
  step: 'catch-up' | 'lexical-snapshot' | 'vector-snapshot';
  /** false as the step starts; true once it is done, with `ms`. */
  done: boolean;
  /** The memories caught up, or those the snapshot holds. */
  memories: number;
  /** How long the step took (when done). */
  ms?: number;
}

/**
 * A `MemoryStore` in one SQLite file: records, BM25 lexical search and vectors,
 * written together in one transaction. Several processes may share the file.
 *
 *   const store = sqliteStore({ path: '.engram/memory.db' });
 *
 * Nothing happens until `open()` (which the first call also triggers).
 */
export function sqliteStore(options: SqliteStoreOptions): MemoryStore {
  const hasPath = options.path !== undefined;
  const hasDatabase = options.database !== undefined;
  if (hasPath === hasDatabase) {
    throw new ValidationError([
      {
        field: hasPath ? 'database' : 'path',
        message: hasPath
          ? 'give either path or database, not both'
          : "is required: pass sqliteStore({ path: './memory.db' }) (or an open better-sqlite3 database as `database`)",
      },
    ]);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new ValidationError([
      { field: 'busyTimeoutMs', message: `must be a non-negative number of milliseconds (got ${busyTimeoutMs})` },
    ]);
  }
  if (options.vectorCacheBytes !== undefined && !(Number.isFinite(options.vectorCacheBytes) && options.vectorCacheBytes >= 0)) {
    throw new ValidationError([
      { field: 'vectorCacheBytes', message: `must be a non-negative number of bytes (got ${options.vectorCacheBytes})` },
    ]);
  }
  if (options.vectorSearch !== undefined && options.vectorSearch !== 'approximate' && options.vectorSearch !== 'exact') {
    throw new ValidationError([
      { field: 'vectorSearch', message: `must be 'approximate' or 'exact' (got ${String(options.vectorSearch)})` },
    ]);
  }
  const contextWeight = options.contextWeight ?? DEFAULT_CONTEXT_WEIGHT;
  if (!(contextWeight >= 0 && contextWeight <= 1)) {
    throw new ValidationError([{ field: 'contextWeight', message: `must be a number from 0 to 1 (got ${contextWeight})` }]);
  }
  return new SqliteStore({ ...options, busyTimeoutMs, contextWeight });
}

/**
 * How a writing connection's indexes follow its writes (see `SqliteStore.followWrites`): once it
 * wrote `after` memories, each write that brings what it wrote since the indexes were last current
 * to `every`, or that finds them still behind, catches them up by at most `entries` change-log
 * entries (or four a memory the write wrote, when more: a batch catches up its own memories and
 * as many again of any backlog). A memory written is two entries (row and vector), so a single
 * `add` re-indexes at most ~64 memories: ~3.5–4 ms of CPU at 10k, where one catch-up of the whole
 * backlog was 10,000 memories at once (~1 s). Small steps, often: the CPU is the same, but a step
 * is a stall for every request a server has in flight (steps of 512 entries, 11–15 ms, were a
 * REST add p99 of 30–38 ms at 16 connections; 128 entries, 13–16 ms). See bench/README.md ("A
 * writer's catch-up, in steps").
 */
export interface SqliteFollowLimits {
  after: number;
  every: number;
  entries: number;
}

export const SQLITE_FOLLOW_LIMITS: Readonly<SqliteFollowLimits> = Object.freeze({ after: 10_000, every: 64, entries: 128 });

/** One step of a writer's catch-up: the memories each index re-indexed (or loaded), and whether both are current. */
export interface SqliteFollowStep {
  lexical: number;
  vectors: number;
  current: boolean;
}

/**
 * Not part of the public options: tests lower the limits (`follow`) and watch each step
 * (`onFollowStep`) through `sqliteStore({ ...options, ...testing })`.
 */
interface SqliteFollowTesting {
  follow?: SqliteFollowLimits;
  onFollowStep?: (step: SqliteFollowStep) => void;
  /** Told what each of the checkpointer thread's checkpoints did (see `WalCheckpointer`). */
  onCheckpoint?: (report: CheckpointReport) => void;
}

const capabilities: StoreCapabilities = Object.freeze({ lexical: 'bm25', vectors: true, multiProcess: true });

const selectMemory = `SELECT ${memoryColumns()} FROM memories`;

/**
 * How many entries the recent exact-duplicate table (migration 0016) collects before a writer
 * folds them into the large one, and how many memories a connection writes between two counts.
 * At 1M memories a fold of 32,768 rewrites most of the large table's ~7,000 pages once: ~0.2 pages
 * a memory, plus the recent table's share (a few hundred pages), against one page a memory before.
 */
const recentHashLimit = 32_768;
const hashCheckEvery = 1_000;
/** How often an idle connection checks for other processes' writes, and how long without a call counts as idle. */
const idleCatchUpEveryMs = 250;
const idleCatchUpAfterMs = 100;

/** One `write` call waiting to share a transaction (see `SqliteStore.write`). */
interface QueuedWrite {
  items: StoreWrite[];
  resolve: (results: StoreWriteResult[]) => void;
  reject: (error: unknown) => void;
}

class SqliteStore implements MemoryStore {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sqlite';
  readonly capabilities = capabilities;
  readonly vectors: SqliteVectorIndex;
  readonly collections: SqliteCollections;
  readonly location: string;

  private session: SqliteSession | null = null;
  private owned = false;
  private opening: Promise<void> | null = null;
  private closed = false;

  private readonly contextWeight: number;
  /** This connection's BM25 index (built on the first lexical search, or while bulk writing). */
  private lexical: LexicalIndex | null = null;
  /** Memories this connection wrote since its indexes were last current with the change log. */
  private unfollowedWrites = 0;
  /** Whether this connection's indexes follow its writes (it wrote `follow.after` memories or more). */
  private following = false;
  /** Whether the last step of the writer's catch-up left entries for the next write (see `followWrites`). */
  private behind = false;
  private readonly follow: SqliteFollowLimits;
  private readonly onFollowStep: SqliteFollowTesting['onFollowStep'];
  /** Memories this connection wrote since it last counted the recent exact-duplicate entries (see `foldRecentHashesWhenDue`). */
  private writesSinceHashCheck = 0;
  /** When the last call began (`performance.now()`), and the idle catch-up's timer (see `catchUpWhenIdle`). */
  private lastUse = 0;
  private idleTimer: ReturnType<typeof setInterval> | null = null;
  /** Copies the write-ahead log into the file from a thread of its own once this connection writes (file stores only). */
  private checkpointer: WalCheckpointer | null = null;
  /** `write` calls waiting for the next turn of the event loop, to share one transaction. */
  private queuedWrites: QueuedWrite[] = [];
  /** Settles when the queued writes have been written (or have failed). */
  private queuedWritesDone: Promise<void> = Promise.resolve();

  constructor(private readonly options: SqliteStoreOptions & { busyTimeoutMs: number; contextWeight: number }) {
    this.contextWeight = options.contextWeight;
    const testing = options as SqliteFollowTesting;
    this.follow = testing.follow ?? SQLITE_FOLLOW_LIMITS;
    this.onFollowStep = testing.onFollowStep;
    this.location = options.path ?? options.database?.name ?? 'a better-sqlite3 database';
    this.vectors = new SqliteVectorIndex(
      () => this.ready(),
      options.vectorSearch ?? 'approximate',
      options.vectorCacheBytes,
      () => this.startIdleCatchUp(),
    );
    this.collections = new SqliteCollections(() => this.ready());
  }

  // ------------------------------------------------------------------ lifecycle

  open(): Promise<void> {
    if (this.session) return Promise.resolve();
    this.opening ??= this.connect().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async connect(): Promise<void> {
    const connection = await withRetry('open', () =>
      openConnection({ path: this.options.path, database: this.options.database, busyTimeoutMs: this.options.busyTimeoutMs }),
    );
    try {
      // Kysely (and the migrations) load only when there is something to migrate.
      if (!(await withRetry('open', () => schemaIsCurrent(connection.db)))) {
        const { migrateToLatest } = await import('./sqlite-migrations.js');
        await withRetry('open', () => migrateToLatest(connection.db));
      }
    } catch (error) {
      if (connection.owned) connection.db.close();
      throw error;
    }
    this.session = new SqliteSession(connection.db, this.location);
    if (!connection.db.memory) {
      removeStaleSnapshotFiles(connection.db.name);
      const checkpointer = new WalCheckpointer(connection.db, (this.options as SqliteFollowTesting).onCheckpoint);
      this.session.afterWrite = () => checkpointer.noteWrite();
      this.checkpointer = checkpointer;
    }
    this.owned = connection.owned;
    this.closed = false;
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    // Writes already called finish first (they wait for the next turn of the event loop).
    await this.queuedWritesDone;
    const session = this.session;
    if (session) {
      // A bulk writer leaves indexes for the next process: it caught up as it wrote, so the rest is cheap.
      if (this.following && (this.unfollowedWrites > 0 || this.behind)) {
        this.closeStep('catch-up', this.unfollowedWrites, () => this.followWrites(session));
      }
      const lexical = this.lexical;
      if (lexical?.wantsSnapshot) this.closeStep('lexical-snapshot', lexical.size, () => lexical.saveSnapshot(session));
      const vectors = vectorSnapshotDue(session);
      if (vectors !== null) this.closeStep('vector-snapshot', vectors, () => persistVectorSnapshot(session));
      else persistVectorSnapshot(session);
    }
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    await this.checkpointer?.stop();
    this.checkpointer = null;
    this.lexical?.close();
    this.session = null;
    this.lexical = null;
    this.following = false;
    this.behind = false;
    this.unfollowedWrites = 0;
    this.closed = true;
    if (!session || !this.owned) return;
    try {
      // Lets SQLite refresh planner statistics it found stale during this connection; cheap.
      session.db.pragma('optimize');
    } catch {
      // Best effort: a busy or read-only file must not prevent closing.
    }
    session.db.close();
  }

  /** Runs one step of `close`, telling `onClose` as it starts and when it is done. */
  private closeStep(step: SqliteCloseStep['step'], memories: number, work: () => void): void {
    const report = this.options.onClose;
    report?.({ step, done: false, memories });
    const started = performance.now();
    work();
    report?.({ step, done: true, memories, ms: Math.round(performance.now() - started) });
  }

  /** The open session; opens on first use. */
  private async ready(): Promise<SqliteSession> {
    this.lastUse = performance.now();
    if (this.session) return this.session;
    if (this.closed) {
      throw new EngramError(
        'CLOSED',
        `The SQLite store at ${this.location} is closed. Call open() again (or create a new store) to use it.`,
      );
    }
    await this.open();
    return this.session as unknown as SqliteSession;
  }

  // ------------------------------------------------------------------ embedder

  async getEmbedder(): Promise<EmbedderInfo | null> {
    const session = await this.ready();
    return withRetry('getEmbedder', () => {
      const row = session.statement("SELECT value FROM engram_meta WHERE key = 'embedder'").get() as { value: string } | undefined;
      if (!row) return null;
      const info = JSON.parse(row.value) as EmbedderInfo;
      return { id: info.id, dimensions: info.dimensions };
    });
  }

  async setEmbedder(info: EmbedderInfo): Promise<void> {
    const session = await this.ready();
    await withRetry('setEmbedder', () => {
      const value = JSON.stringify({ id: info.id, dimensions: info.dimensions });
      session.write(() => session.statement("INSERT OR REPLACE INTO engram_meta (key, value) VALUES ('embedder', ?)").run(value));
    });
  }

  // ------------------------------------------------------------------ writes

  /**
   * Writes `items` in one transaction with every other `write` called in the same turn of the
   * event loop (group commit): a server's concurrent adds share one lock acquisition and one
   * commit instead of taking turns with another process for the lock once each. The calls run in
   * the order they were made, so each sees the ones before it, as if written one after another;
   * each gets its own results. If the shared transaction fails, each call is written again on its
   * own, so an error reaches only the call that caused it (a lock held past the busy timeout
   * fails every call of the group instead: trying each again would wait that long once per call).
   */
  write(items: StoreWrite[]): Promise<StoreWriteResult[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queuedWrites.push({ items, resolve, reject });
      if (this.queuedWrites.length > 1) return;
      // After the group before (still retrying a busy lock, perhaps): groups keep their order, and
      // `close` waits for every one.
      const before = this.queuedWritesDone;
      this.queuedWritesDone = new Promise<void>((done) => setImmediate(() => void before.then(() => this.writeQueued()).finally(done)));
    });
  }

  private async writeQueued(): Promise<void> {
    const group = this.queuedWrites;
    this.queuedWrites = [];
    let session: SqliteSession;
    try {
      session = await this.ready();
    } catch (error) {
      for (const call of group) call.reject(error);
      return;
    }
    if (group.length === 1) {
      const [only] = group as [QueuedWrite];
      await this.writeNow(session, only.items).then(only.resolve, only.reject);
      return;
    }
    let results: StoreWriteResult[];
    try {
      results = await this.writeNow(
        session,
        group.flatMap((call) => call.items),
      );
    } catch (error) {
      if (AdapterError.isInstance(error) && isBusyError(error.cause)) {
        for (const call of group) call.reject(error);
        return;
      }
      for (const call of group) await this.writeNow(session, call.items).then(call.resolve, call.reject);
      return;
    }
    let offset = 0;
    for (const call of group) {
      call.resolve(results.slice(offset, offset + call.items.length));
      offset += call.items.length;
    }
  }

  private writeNow(session: SqliteSession, items: StoreWrite[]): Promise<StoreWriteResult[]> {
    return withRetry('write', () => {
      // Check every vector before the transaction, so a bad item leaves nothing half-written,
      // and encode them there too, so the write lock is held for writing only.
      if (items.some((item) => item.vector)) {
        const dimensions = requireVectorTable(session);
        for (const item of items) if (item.vector) checkVector(item.vector, dimensions, `vector of ${item.record.id}`);
      }
      const codes = items.map((item) => (item.vector ? encodeVector(session, item.vector) : undefined));
      // One transaction for the whole batch: each item sees the ones before it (duplicates,
      // keys), and record, tags, FTS (triggers) and vector land together or not at all.
      const results = session.write(() => {
        const written = items.map((item, index) => this.writeOne(session, item, codes[index]));
        this.foldRecentHashesWhenDue(session, items.length);
        return written;
      });
      this.unfollowedWrites += items.length;
      this.followWhenDue(session, items.length);
      return results;
    });
  }

  /**
   * After a write of `written` memories: one step of the writer's catch-up when it is due (see
   * `SqliteFollowLimits`), bounded so that no write waits for a whole backlog.
   */
  private followWhenDue(session: SqliteSession, written: number): void {
    const { after, every, entries } = this.follow;
    // A connection whose searches loaded the lexical index follows its writes from the first: its
    // next search would catch up with all of them at once (~45 µs a memory at 10k: a server that
    // took 10,000 adds between searches stalled ~0.45 s on the next one, or, past 10,000 writes,
    // caught up with the whole backlog in consecutive steps).
    const following = this.following || this.lexical !== null;
    if (following ? !this.behind && this.unfollowedWrites < every : this.unfollowedWrites < after) return;
    this.followWrites(session, Math.max(entries, 4 * written));
  }

  /**
   * Brings this connection's lexical index and vector mirror up to date with the change log
   * (building them the first time), by at most `limit` entries: the rest is the next write's
   * (`behind`). A connection that writes many memories follows them this way, so that on close it
   * persists both as snapshots: without them the next process would rebuild them from every row
   * (~30 s at 1M memories). Catching up costs ~15–90 µs a memory. A bounded step never reloads
   * because many rows changed (a reload re-reads every row: 0.8–1.7 s at 10k memories under
   * load); it reloads only an index that cannot catch up (never loaded and no snapshot, or the
   * log no longer covers it). `close` catches up the rest at once.
   */
  private followWrites(session: SqliteSession, limit = Number.POSITIVE_INFINITY): void {
    this.following = true;
    this.lexical ??= new LexicalIndex(this.contextWeight);
    const lexical = this.lexical.sync(session, limit);
    const vectors = syncVectorCache(session, this.options.vectorCacheBytes, limit);
    this.behind = !(lexical.current && vectors.current);
    if (!this.behind) this.unfollowedWrites = 0;
    this.onFollowStep?.({ lexical: lexical.rows, vectors: vectors.rows, current: !this.behind });
  }

  /** Starts `catchUpWhenIdle`'s timer: on a connection's first search, lexical or vector. */
  private startIdleCatchUp(): void {
    if (this.session) this.idleTimer ??= setInterval(() => this.catchUpWhenIdle(), idleCatchUpEveryMs).unref();
  }

  /**
   * Inside a write transaction that wrote `count` memories: once this connection has written
   * `hashCheckEvery` since it last looked, moves the recent exact-duplicate entries into the large
   * table when there are `recentHashLimit` of them (migration 0016). One sorted insert writes each
   * page of the large table at most once for all of them, where inserting each new memory's entry
   * there wrote one random page a memory.
   */
  private foldRecentHashesWhenDue(session: SqliteSession, count: number): void {
    this.writesSinceHashCheck += count;
    if (this.writesSinceHashCheck < hashCheckEvery) return;
    this.writesSinceHashCheck = 0;
    const recent = session.statement('SELECT count(*) FROM memory_hashes_recent').pluck().get() as number;
    if (recent < recentHashLimit) return;
    session.statement('INSERT OR IGNORE INTO memory_hashes SELECT scope_key, hash_prefix, memory_rowid FROM memory_hashes_recent').run();
    session.statement('DELETE FROM memory_hashes_recent').run();
  }

  /**
   * While the connection is idle (no call for `idleCatchUpAfterMs`), brings the indexes its
   * searches loaded up to date with what other processes wrote, so the next search does not wait
   * for a burst of their writes to be indexed (~15 µs a memory: a 2-second burst of another
   * worker's adds was a stall of tens of ms on the next request). Costs one statement per index
   * when nothing changed. Then copies what the write-ahead log holds into the file (a passive
   * checkpoint: it waits for no one and no one waits for it; ~20 µs when there is nothing to
   * copy), so the 1,000-page automatic checkpoint seldom falls inside a write a request waits on.
   * A failure (a busy file) is left to the next search, which catches up anyway.
   */
  private catchUpWhenIdle(): void {
    const session = this.session;
    if (!session || !session.db.open || session.db.inTransaction) return;
    if (performance.now() - this.lastUse < idleCatchUpAfterMs) return;
    try {
      this.lexical?.sync(session);
      catchUpVectorCache(session, this.options.vectorCacheBytes);
      if (!session.db.memory) session.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // The next search catches up (and reports what fails then).
    }
  }

  private writeOne(session: SqliteSession, { record, vector, reason }: StoreWrite, code: Uint8Array | undefined): StoreWriteResult {
    const scope = scopeKey(record.scope);
    if (record.key !== null) {
      const keyed = session.statement(`${selectMemory} WHERE scope_key = ? AND key = ? AND deleted_at IS NULL`).get(scope, record.key) as
        | MemoryRow
        | undefined;
      if (keyed) return this.updateKeyed(session, keyed, record, vector, code, reason ?? null);
    }
    // A keyed write is an upsert by key: never deduped by content onto another record.
    if (record.key === null) {
      const duplicate = session
        .statement(
          `${selectMemory} WHERE rowid IN (${hashedRowidsSql(`= ${hashPrefix('?')}`)}) AND content_hash = ? AND deleted_at IS NULL ORDER BY rowid LIMIT 1`,
        )
        .get(scope, record.contentHash, scope, record.contentHash, record.contentHash) as MemoryRow | undefined;
      if (duplicate) return { status: 'duplicate', record: rowToRecord(duplicate) };
    }

    const parameters = insertParameters(record);
    const { lastInsertRowid } = session.statement(insertMemorySql).run(parameters);
    if (record.tags.length > 0) {
      const tag = session.statement('INSERT OR IGNORE INTO memory_tags (tag, memory_rowid) VALUES (?, ?)');
      for (const value of record.tags) tag.run(value, lastInsertRowid);
    }
    // A record imported as already deleted keeps no vector, as a soft delete drops it.
    if (vector && code && parameters.deleted_at === null) writeVector(session, lastInsertRowid, code);
    const stored = storedRecord(parameters);
    appendHistory(session, createdHistoryEntry(stored, reason ?? null));
    return { status: 'created', record: stored };
  }

  /** A write whose key matches a live record in the same scope: update that record in place. */
  private updateKeyed(
    session: SqliteSession,
    row: MemoryRow,
    record: MemoryRecord,
    vector: Float32Array | undefined,
    code: Uint8Array | undefined,
    reason: string | null,
  ): StoreWriteResult {
    const tags = JSON.stringify(record.tags);
    const metadata = JSON.stringify(record.metadata);
    const context = record.context ?? null;
    const attributes = withContextSource(row.attributes, context !== null ? record.contextSource : undefined);
    const unchanged =
      row.content_hash === record.contentHash &&
      row.context === context &&
      row.attributes === attributes &&
      row.type === record.type &&
      row.subtype === record.subtype &&
      row.importance === record.importance &&
      row.tags === tags &&
      row.metadata === metadata;
    const before = rowToRecord(row);
    if (unchanged) return { status: 'duplicate', record: before };

    const changes = new ColumnChanges();
    // Only changed text is written: the FTS triggers fire on `UPDATE OF content, tags, context`.
    if (row.content !== record.content) changes.set('content', record.content);
    if (row.tags !== tags) changes.set('tags', tags);
    if (row.context !== context) changes.set('context', context);
    if (row.attributes !== attributes) changes.set('attributes', attributes);
    changes.set('content_hash', record.contentHash);
    changes.set('type', record.type);
    changes.set('subtype', record.subtype);
    changes.set('metadata', metadata);
    changes.set('importance', record.importance);
    changes.set('updated_at', record.updatedAt.getTime());
    changes.apply(session, row.rowid);
    this.syncVector(session, row, record.contentHash, vector, code);
    const after = this.reread(session, row.rowid);
    appendHistory(session, historyEntry('updated', before, after, record.updatedAt, reason));
    return { status: 'updated', record: after };
  }

  async update(id: string, patch: RecordPatch, vector?: Float32Array, options?: { reason?: string }): Promise<MemoryRecord | null> {
    const session = await this.ready();
    return withRetry('update', () => {
      if (vector) checkVector(vector, requireVectorTable(session), `vector of ${id}`);
      const code = vector ? encodeVector(session, vector) : undefined;
      return session.write(() => this.updateOne(session, id, patch, vector, code, options?.reason));
    });
  }

  /** `update` inside the caller's transaction. */
  private updateOne(
    session: SqliteSession,
    id: string,
    patch: RecordPatch,
    vector: Float32Array | undefined,
    code: Uint8Array | undefined,
    reason: string | undefined,
  ): MemoryRecord | null {
    const row = session.statement(`${selectMemory} WHERE id = ? AND deleted_at IS NULL`).get(id) as MemoryRow | undefined;
    if (!row) return null;
    const changes = new ColumnChanges();
    if (patch.content !== undefined && patch.content !== row.content) changes.set('content', patch.content);
    if (patch.contentHash !== undefined) changes.set('content_hash', patch.contentHash);
    if (patch.type !== undefined) changes.set('type', patch.type);
    if (patch.subtype !== undefined) changes.set('subtype', patch.subtype);
    if (patch.tags !== undefined) {
      const tags = JSON.stringify(patch.tags);
      if (tags !== row.tags) changes.set('tags', tags);
    }
    if (patch.metadata !== undefined) changes.set('metadata', JSON.stringify(patch.metadata));
    if (patch.importance !== undefined) changes.set('importance', patch.importance);
    if (patch.validTo !== undefined) changes.set('valid_to', patch.validTo ? patch.validTo.getTime() : null);
    if (patch.supersededBy !== undefined) changes.set('superseded_by', patch.supersededBy);
    changes.set('updated_at', patch.updatedAt.getTime());
    changes.apply(session, row.rowid);
    const before = rowToRecord(row);
    const after = this.reread(session, row.rowid);
    this.syncVector(session, row, patch.contentHash ?? row.content_hash, vector, code);
    appendHistory(session, historyEntry(updateEvent(before, after), before, after, patch.updatedAt, reason ?? null));
    return after;
  }

  async apply(operations: StoreOperation[]): Promise<StoreOperationResult[]> {
    checkOperations(operations);
    if (operations.length === 0) return [];
    const session = await this.ready();
    return withRetry('apply', () => {
      // Every vector is checked and encoded before the transaction, as in `write`.
      const vectors = operationVectors(operations);
      if (vectors.length > 0) {
        const dimensions = requireVectorTable(session);
        for (const { vector, field } of vectors) checkVector(vector, dimensions, field);
      }
      const codes = new Map<Float32Array, Uint8Array>(vectors.map(({ vector }) => [vector, encodeVector(session, vector)]));
      // One synchronous transaction: nothing else on this connection runs inside it, and a throw
      // anywhere (a required id missing, a constraint) rolls every operation back.
      return session.write(() => {
        const resolved = new OperationIds();
        return operations.map((operation): StoreOperationResult => {
          switch (operation.kind) {
            case 'write': {
              const results = operation.items.map((item) => this.writeOne(session, item, item.vector && codes.get(item.vector)));
              this.foldRecentHashesWhenDue(session, operation.items.length);
              resolved.noteWrites(operation.items, results);
              return { kind: 'write', results };
            }
            case 'update': {
              const id = resolved.id(operation.id);
              const { vector } = operation;
              const record = this.updateOne(
                session,
                id,
                resolved.patch(operation.patch),
                vector,
                vector && codes.get(vector),
                operation.reason,
              );
              if (!record && operation.required) throw missingRecord(id);
              return { kind: 'update', record };
            }
            case 'delete': {
              const id = resolved.id(operation.id);
              const deleted = this.deleteOne(session, id, operation.at, operation.reason ?? null);
              if (!deleted && operation.required) throw missingRecord(id);
              return { kind: 'delete', deleted };
            }
            case 'upsertRelation': {
              const result = upsertRelation(session, resolved.relation(operation.relation));
              appendRelationChange(session, 'relation:added', result.relation, result.relation.updatedAt, operation.reason ?? null);
              return { kind: 'upsertRelation', ...result };
            }
            case 'setMeta':
              this.setMetaIn(session, operation.name, operation.value);
              return { kind: 'setMeta' };
          }
          const removed = removeRelations(session, resolved.id(operation.sourceId), resolved.id(operation.targetId), operation.type);
          const at = new Date();
          for (const relation of removed) appendRelationChange(session, 'relation:removed', relation, at, operation.reason ?? null);
          return { kind: 'removeRelations', removed };
        });
      });
    });
  }

  /**
   * Keeps a row's vector true to its content: a given vector replaces it; new content without a
   * vector drops the old one, which described the old text and would otherwise match wrongly.
   */
  private syncVector(
    session: SqliteSession,
    row: MemoryRow,
    newHash: string,
    vector: Float32Array | undefined,
    code: Uint8Array | undefined,
  ): void {
    if (vector && code) writeVector(session, row.rowid, code);
    else if (newHash !== row.content_hash) removeVector(session, row.rowid);
  }

  private reread(session: SqliteSession, rowid: number): MemoryRecord {
    return rowToRecord(session.statement(`${selectMemory} WHERE rowid = ?`).get(rowid) as MemoryRow);
  }

  async delete(id: string, at: Date, options?: ChangeOptions): Promise<boolean> {
    const session = await this.ready();
    return withRetry('delete', () => session.write(() => this.deleteOne(session, id, at, options?.reason ?? null)));
  }

  /** `delete` inside the caller's transaction. */
  private deleteOne(session: SqliteSession, id: string, at: Date, reason: string | null = null): boolean {
    const time = at.getTime();
    const row = session.statement(`${selectMemory} WHERE id = ? AND deleted_at IS NULL`).get(id) as MemoryRow | undefined;
    if (!row) return false;
    // The triggers drop the FTS row and the vector in the same transaction.
    session.statement('UPDATE memories SET deleted_at = ?, updated_at = ? WHERE rowid = ?').run(time, time, row.rowid);
    appendHistory(session, historyEntry('deleted', rowToRecord(row), this.reread(session, row.rowid), at, reason));
    return true;
  }

  // ------------------------------------------------------------------ graph and history

  async upsertRelation(relation: Relation, options?: ChangeOptions): Promise<{ relation: Relation; created: boolean }> {
    const session = await this.ready();
    return withRetry('upsertRelation', () =>
      session.write(() => {
        const result = upsertRelation(session, relation);
        appendRelationChange(session, 'relation:added', result.relation, result.relation.updatedAt, options?.reason ?? null);
        return result;
      }),
    );
  }

  async removeRelations(sourceId: string, targetId: string, type?: string, options?: ChangeOptions): Promise<Relation[]> {
    const session = await this.ready();
    return withRetry('removeRelations', () =>
      session.write(() => {
        const removed = removeRelations(session, sourceId, targetId, type);
        const at = new Date();
        for (const relation of removed) appendRelationChange(session, 'relation:removed', relation, at, options?.reason ?? null);
        return removed;
      }),
    );
  }

  async getMeta(name: string): Promise<string | null> {
    const session = await this.ready();
    return withRetry('getMeta', () => {
      const value = session.statement('SELECT value FROM engram_meta WHERE key = ?').pluck().get(`capability:${name}`) as
        | string
        | undefined;
      return value ?? null;
    });
  }

  async setMeta(name: string, value: string): Promise<void> {
    const session = await this.ready();
    await withRetry('setMeta', () => {
      session.write(() => this.setMetaIn(session, name, value));
    });
  }

  /** `setMeta` inside the caller's transaction. */
  private setMetaIn(session: SqliteSession, name: string, value: string): void {
    session
      .statement('INSERT INTO engram_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(`capability:${name}`, value);
  }

  async appendErasures(entries: Array<{ ids: string[]; origin: ErasureOrigin }>, at: Date): Promise<number[]> {
    if (entries.length === 0) return [];
    const session = await this.ready();
    return withRetry('appendErasures', () =>
      // One write transaction (BEGIN IMMEDIATE): the head is read and moved under the write lock.
      session.write(() => {
        const head = Number(session.statement("SELECT value FROM engram_meta WHERE key = 'erasure-head'").pluck().get() ?? 0);
        const insert = session.statement('INSERT INTO sync_erasures (seq, ids, origin, created_at) VALUES (?, ?, ?, ?)');
        const numbers = entries.map((entry, index) => {
          insert.run(head + index + 1, JSON.stringify(entry.ids), entry.origin, at.getTime());
          return head + index + 1;
        });
        session
          .statement(
            "INSERT INTO engram_meta (key, value) VALUES ('erasure-head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          )
          .run(String(head + entries.length));
        return numbers;
      }),
    );
  }

  async erasuresAfter(after: number, limit: number): Promise<ErasureLogPage> {
    const session = await this.ready();
    return withRetry('erasuresAfter', () =>
      // One read transaction: the head, the horizon and the entries agree.
      session.db.transaction(() => {
        const head = Number(session.statement("SELECT value FROM engram_meta WHERE key = 'erasure-head'").pluck().get() ?? 0);
        const first = session.statement('SELECT min(seq) FROM sync_erasures').pluck().get() as number | null;
        const rows = session
          .statement('SELECT seq, ids, origin, created_at FROM sync_erasures WHERE seq > ? ORDER BY seq LIMIT ?')
          .all(after, limit) as Array<{ seq: number; ids: string; origin: ErasureOrigin; created_at: number }>;
        return {
          head,
          horizon: first === null ? head : first - 1,
          entries: rows.map((row) => ({
            seq: row.seq,
            ids: JSON.parse(row.ids) as string[],
            origin: row.origin,
            at: new Date(row.created_at),
          })),
        };
      })(),
    );
  }

  async compactErasures(through: number, before: Date): Promise<number> {
    const session = await this.ready();
    return withRetry('compactErasures', () =>
      session.write(() => {
        // The first entry that must stay bounds the prefix removed.
        const keep = session.statement('SELECT min(seq) FROM sync_erasures WHERE created_at >= ?').pluck().get(before.getTime()) as
          | number
          | null;
        const last = keep === null ? through : Math.min(through, keep - 1);
        return session.statement('DELETE FROM sync_erasures WHERE seq <= ?').run(last).changes;
      }),
    );
  }

  async relationsOf(ids: string[], options: { direction: 'out' | 'in' | 'both'; types?: string[] }): Promise<Relation[]> {
    const session = await this.ready();
    return withRetry('relationsOf', () => relationsOf(session, ids, options));
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const session = await this.ready();
    return withRetry('history', () => readHistory(session, id));
  }

  async changesSince(after: number | null, limit: number): Promise<ChangeLogPage> {
    const session = await this.ready();
    return withRetry('changesSince', () => readChangesSince(session, after, limit));
  }

  async setDerivedContexts(items: Array<{ id: string; context: string | null }>): Promise<number> {
    if (items.length === 0) return 0;
    const session = await this.ready();
    return withRetry('setDerivedContexts', () =>
      session.write(() => {
        let changed = 0;
        for (const { id, context } of items) {
          const row = session.statement(`${selectMemory} WHERE id = ? AND deleted_at IS NULL`).get(id) as MemoryRow | undefined;
          if (!row) continue;
          const derived = row.context === null || rowToRecord(row).contextSource === 'conversation';
          const text = context?.trim() ? context : null;
          if (!derived || row.context === text) continue;
          // Only the context and its marker change: the text triggers re-index it, nothing else moves.
          session
            .statement('UPDATE memories SET context = ?, attributes = ? WHERE rowid = ?')
            .run(text, withContextSource(row.attributes, text !== null ? 'conversation' : undefined), row.rowid);
          changed += 1;
        }
        return changed;
      }),
    );
  }

  async reembed(
    target: EmbedderInfo,
    embed: (texts: string[]) => Promise<Float32Array[]>,
    options?: ReembedOptions,
  ): Promise<ReembedResult> {
    const session = await this.ready();
    return reembedSqlite(session, target, embed, options);
  }

  async rewrapContent(id: string, texts: { content?: string; context?: string; metadata?: Record<string, unknown> }): Promise<boolean> {
    const session = await this.ready();
    return withRetry('rewrapContent', () =>
      session.write(() => {
        const assignments: string[] = [];
        const values: string[] = [];
        if (texts.content !== undefined) {
          assignments.push('content = ?');
          values.push(texts.content);
        }
        if (texts.context !== undefined) {
          assignments.push('context = ?');
          values.push(texts.context);
        }
        if (texts.metadata !== undefined) {
          assignments.push('metadata = ?');
          values.push(JSON.stringify(texts.metadata));
        }
        if (assignments.length === 0) return session.statement('SELECT 1 FROM memories WHERE id = ?').get(id) !== undefined;
        return session.db.prepare(`UPDATE memories SET ${assignments.join(', ')} WHERE id = ?`).run(...values, id).changes > 0;
      }),
    );
  }

  async backup(destination: string, options?: BackupOptions): Promise<BackupResult> {
    const session = await this.ready();
    return backupDatabase(session.db, destination, options);
  }

  async purge(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const session = await this.ready();
    const removed = withRetry('purge', () =>
      session.write(() => {
        // secure_delete: freed pages are overwritten with zeros, so the text is gone from the file
        // even before the VACUUM below (which may find the database busy).
        session.db.pragma('secure_delete = ON');
        let count = 0;
        for (let start = 0; start < ids.length; start += 500) {
          const chunk = ids.slice(start, start + 500);
          const marks = chunk.map(() => '?').join(', ');
          const rowids = session.db
            .prepare(`SELECT rowid FROM memories WHERE id IN (${marks})`)
            .pluck()
            .all(...chunk) as number[];
          if (rowids.length > 0) {
            const rowMarks = rowids.map(() => '?').join(', ');
            session.db.prepare(`DELETE FROM memory_tags WHERE memory_rowid IN (${rowMarks})`).run(...rowids);
            // Triggers drop the vector and code and append the rowids to the change log.
            count += session.db.prepare(`DELETE FROM memories WHERE rowid IN (${rowMarks})`).run(...rowids).changes;
          }
          session.db.prepare(`DELETE FROM memory_history WHERE memory_id IN (${marks})`).run(...chunk);
          // Graph changes are filed under the edge's source: those naming an erased target go too.
          session.db
            .prepare(`DELETE FROM memory_history WHERE event IN ${RELATION_EVENTS} AND json_extract(changes, '$.targetId') IN (${marks})`)
            .run(...chunk);
          session.db
            .prepare(`DELETE FROM memory_relations WHERE source_id IN (${marks}) OR target_id IN (${marks})`)
            .run(...chunk, ...chunk);
        }
        recordErasure(session);
        return count;
      }),
    );
    // This connection's mirrors reload from the rows on their next use (readLogChanges), and
    // snapshots written before the erasure are deleted (and this index lets go of its file).
    this.lexical?.close();
    this.lexical = null;
    removeSnapshots(session);
    reclaimSpace(session);
    return removed;
  }

  async recordAccess(ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    const session = await this.ready();
    await withRetry('recordAccess', () => {
      // One statement for the batch, into the narrow `memory_access` table (0013): a few pages,
      // where updating `memories` rewrote each memory's page; no trigger watches it.
      session.write(() =>
        session
          .statement(
            `INSERT INTO memory_access (memory_rowid, count, last_accessed_at)
             SELECT memories.rowid, access.n, ?
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS n FROM json_each(?)) AS access
             JOIN memories ON memories.id = access.id
             WHERE memories.deleted_at IS NULL
             ORDER BY memories.rowid
             ON CONFLICT (memory_rowid) DO UPDATE SET count = count + excluded.count, last_accessed_at = excluded.last_accessed_at`,
          )
          .run(at.getTime(), JSON.stringify([...counts])),
      );
    });
  }

  async recordDecayScores(scores: Array<{ id: string; score: number }>): Promise<void> {
    if (scores.length === 0) return;
    const session = await this.ready();
    await withRetry('recordDecayScores', () => {
      // One statement per batch; no trigger watches decay_score, so nothing is re-indexed.
      session.write(() =>
        session
          .statement(
            `UPDATE memories SET decay_score = score.value
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS value FROM json_each(?)) AS score
             WHERE memories.id = score.id AND memories.deleted_at IS NULL`,
          )
          .run(JSON.stringify(scores.map(({ id, score }) => [id, score]))),
      );
    });
  }

  // ------------------------------------------------------------------ reads

  async get(ids: string[]): Promise<MemoryRecord[]> {
    if (ids.length === 0) return [];
    const session = await this.ready();
    return withRetry('get', () => {
      const statement = session.statement(`${selectMemory} WHERE id IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`);
      return readMemoryRows(statement, JSON.stringify(ids)).map(rowToRecord);
    });
  }

  async getRankingFields(ids: string[]): Promise<RankingRecord[]> {
    if (ids.length === 0) return [];
    const session = await this.ready();
    return withRetry('getRankingFields', () => session.read(() => readRankingFields(session, ids)));
  }

  async findByHashes(scope: Scope, hashes: string[]): Promise<MemoryRecord[]> {
    if (hashes.length === 0) return [];
    const session = await this.ready();
    return withRetry('findByHashes', () => {
      const key = scopeKey(scope);
      const list = JSON.stringify(hashes);
      const rows = session
        .statement(
          `${selectMemory} WHERE rowid IN (${hashedRowidsSql(`IN (SELECT ${hashPrefix('value')} FROM json_each(?))`)})
           AND content_hash IN (SELECT value FROM json_each(?)) AND deleted_at IS NULL`,
        )
        .all(key, list, key, list, list) as MemoryRow[];
      return rows.map(rowToRecord);
    });
  }

  async list(filter: MemoryFilter, options: StoreListOptions): Promise<StoreListPage> {
    const position = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    const limit = Math.floor(options.limit);
    if (!(limit > 0)) return { items: [], nextCursor: null };
    const session = await this.ready();
    return withRetry('list', () => {
      const where = compileFilter(filter, { includeDeleted: options.includeDeleted === true });
      const params: SqlParameter[] = [...where.params];
      let keyset = '';
      if (position) {
        keyset = ' AND (m.created_at < ? OR (m.created_at = ? AND m.id < ?))';
        params.push(position.createdAt, position.createdAt, position.id);
      }
      const statement = session.statement(
        `SELECT ${memoryColumns('m')} FROM memories m WHERE ${where.sql}${keyset}
           ORDER BY m.created_at DESC, m.id DESC LIMIT ?`,
      );
      const rows = readMemoryRows(statement, ...params, limit + 1);
      const items = rows.slice(0, limit).map(rowToRecord);
      const last = items.at(-1);
      const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null;
      return { items, nextCursor };
    });
  }

  async count(filter: MemoryFilter): Promise<number> {
    const session = await this.ready();
    return withRetry('count', () => {
      const where = compileFilter(filter);
      const row = session.statement(`SELECT count(*) AS total FROM memories m WHERE ${where.sql}`).get(...where.params) as {
        total: number;
      };
      return row.total;
    });
  }

  async statistics(filter: MemoryFilter, options: StoreStatisticsOptions): Promise<StoreStatistics> {
    const session = await this.ready();
    return withRetry('statistics', () => readStatistics(session, filter, options));
  }

  async distinctMetadata(path: readonly string[], filter: MemoryFilter): Promise<unknown[]> {
    const session = await this.ready();
    return withRetry('distinctMetadata', () => {
      const where = compileFilter(filter);
      // `->` answers the JSON text of the value (SQL NULL when the path is absent), so strings,
      // numbers and arrays stay apart and come back with their types.
      const rows = session
        .statement(
          `SELECT DISTINCT value FROM (SELECT m.metadata -> ? AS value FROM memories m WHERE ${where.sql}) WHERE value IS NOT NULL`,
        )
        .pluck()
        .all(jsonPath(path), ...where.params) as string[];
      return rows.map((text) => JSON.parse(text) as unknown);
    });
  }

  async lexicalSearch(query: string, filter: MemoryFilter, limit: number): Promise<LexicalMatch[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return [];
    const session = await this.ready();
    // A hybrid search's vector half needs the vector mirror: its codes load meanwhile (a new connection).
    startLoadingVectors(session);
    return withRetry('lexicalSearch', () => {
      if (!this.lexical) this.lexical = new LexicalIndex(this.contextWeight);
      const lexical = this.lexical;
      const matches = session.read(() => lexical.search(session, query, filter, count));
      this.startIdleCatchUp();
      // A freshly built index is persisted for the next process, after this answer is returned.
      if (lexical.lacksSnapshot) {
        setImmediate(() => {
          if (this.session === session && this.lexical === lexical) lexical.saveSnapshot(session);
        });
      }
      return matches;
    });
  }
}

/** The SET list of an UPDATE on one memory row. */
class ColumnChanges {
  private readonly columns: string[] = [];
  private readonly values: SqlParameter[] = [];

  set(column: string, value: SqlParameter): void {
    this.columns.push(column);
    this.values.push(value);
  }

  apply(session: SqliteSession, rowid: number): void {
    if (this.columns.length === 0) return;
    const assignments = this.columns.map((column) => `${column} = ?`).join(', ');
    session.statement(`UPDATE memories SET ${assignments} WHERE rowid = ?`).run(...this.values, rowid);
  }
}
