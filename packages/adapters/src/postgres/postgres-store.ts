import {
  AdapterError,
  type ChangeLogPage,
  type ChangeOptions,
  checkOperations,
  createdHistoryEntry,
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
  type RecordPatch,
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
import { type PGliteLike, type PgPoolLike, type PostgresClient, pgClient, pgliteClient, type Queryable } from './postgres-client.js';
import { PostgresCollections } from './postgres-collections.js';
import { type ErrorContext, withErrors } from './postgres-errors.js';
import { compileFilter } from './postgres-filter.js';
import { appendHistory, appendRelationChanges, RELATION_EVENTS, readChangesSince, readHistory } from './postgres-history.js';
import { enableLexicalPostings, lockNamespace, migrateToLatest } from './postgres-migrations.js';
import { insertColumns, insertRow, insertValues, type MemoryRow, memoryColumns, rowToRecord } from './postgres-records.js';
import { relationsOf, removeRelations, upsertRelation } from './postgres-relations.js';
import { PostgresSession, type VectorSupport, vectorLiteral } from './postgres-session.js';
import { isSimpleIdentifier, quoteIdentifier, SqlParameters } from './postgres-sql.js';
import { readStatistics } from './postgres-statistics.js';
import { checkVector, PostgresVectorIndex } from './postgres-vector-index.js';

export interface PostgresStoreOptions {
  /** A connection string, e.g. 'postgres://user:password@host:5432/database'. The store opens (and closes) its own pool. */
  connectionString?: string;
  /** A `pg.Pool` to use instead. The store never ends it: its owner does. */
  pool?: PgPoolLike;
  /**
   * A PGlite instance (`@electric-sql/pglite`): Postgres in process, for tests and embedded use.
   * Load pgvector to get vectors: `new PGlite({ extensions: { vector } })`. Never closed by the store.
   */
  pglite?: PGliteLike;
  /** Schema holding the store's tables; created on first use. Lower-case letters, digits, `_`. Default 'engram'. */
  schema?: string;
  /**
   * pgvector: 'auto' (default) uses it when the extension is installed or can be created, and
   * otherwise reports `capabilities.vectors: false` (search is lexical unless Memory is given a
   * separate VectorIndex such as Qdrant); true requires it (open fails without it); false never uses it.
   */
  vectors?: 'auto' | boolean;
  /** Connections in the pool the store opens from `connectionString`. Default 10. */
  poolSize?: number;
  /** Server-side `statement_timeout` of the connections the store opens, in ms (0: none). Default 30000. */
  statementTimeoutMs?: number;
  /** How long to wait for a free pooled connection (or a new one), in ms. Default 10000. */
  connectionTimeoutMs?: number;
  /**
   * How long an idle connection of the pool the store opens is kept, in ms (0: until `close()`).
   * Default 300000 (5 minutes), not pg's 10 s: each new connection is a new server process whose
   * first searches fault in the pages of shared memory they touch (at 1M memories its first ~40
   * searches took 20–60 ms more), so a pool that drops its connections between bursts of
   * searches pays that again and again. Idle connections never keep the Node process alive.
   */
  idleTimeoutMs?: number;
  /** `application_name` of the store's connections (shows in pg_stat_activity). Default 'engram'. */
  applicationName?: string;
  /**
   * Keep a lexeme → memory table ordered by memory length (`memory_lexemes`), so lexical search
   * reads exactly its candidate rows: at 1M memories half (rare words) to three quarters (common
   * words) of the server CPU of a search, at
   * about twice the server CPU of a batched add and ~3 KB more a memory. `true` turns it on for
   * the database on open (filled once, in one transaction; it then stays on for every process
   * writing that schema); omitted or false leaves the database as it is. Default off.
   */
  lexicalPostings?: boolean;
}

/**
 * A `MemoryStore` in PostgreSQL, for many agent processes or machines sharing one memory:
 * tsvector + GIN lexical search, JSONB metadata filters, and pgvector (HNSW) vectors written in
 * the same transaction as their records when the extension is available.
 *
 *   const store = postgresStore({ connectionString: process.env.DATABASE_URL });
 *   const memory = new Memory({ store, embedder });
 *
 * Nothing connects until `open()` (which the first call also triggers). The first open creates
 * the schema (concurrent first starts are serialised by an advisory lock).
 */
export function postgresStore(options: PostgresStoreOptions): MemoryStore {
  const sources = (['connectionString', 'pool', 'pglite'] as const).filter((source) => options[source] !== undefined);
  if (sources.length !== 1) {
    throw new ValidationError([
      {
        field: sources.length === 0 ? 'connectionString' : (sources[1] as string),
        message:
          sources.length === 0
            ? 'is required: pass postgresStore({ connectionString: process.env.DATABASE_URL }) (or a pg Pool as `pool`, or a PGlite instance as `pglite`)'
            : `give exactly one of connectionString, pool and pglite (got ${sources.join(' and ')})`,
      },
    ]);
  }
  if (options.lexicalPostings !== undefined && typeof options.lexicalPostings !== 'boolean') {
    throw new ValidationError([
      { field: 'lexicalPostings', message: `must be true or false, got ${JSON.stringify(options.lexicalPostings)}` },
    ]);
  }
  const schema = options.schema ?? 'engram';
  if (!isSimpleIdentifier(schema)) {
    throw new ValidationError([
      {
        field: 'schema',
        message: `must be a lower-case SQL identifier (letters, digits, _; at most 63 characters), got ${JSON.stringify(schema)}`,
      },
    ]);
  }
  const vectors = options.vectors ?? 'auto';
  if (vectors !== 'auto' && typeof vectors !== 'boolean') {
    throw new ValidationError([{ field: 'vectors', message: "must be 'auto', true or false" }]);
  }
  const positive = (
    field: 'poolSize' | 'statementTimeoutMs' | 'connectionTimeoutMs' | 'idleTimeoutMs',
    value: number | undefined,
    fallback: number,
    allowZero: boolean,
  ) => {
    const resolved = value ?? fallback;
    if (!Number.isFinite(resolved) || resolved < 0 || (!allowZero && resolved === 0) || !Number.isInteger(resolved)) {
      throw new ValidationError([{ field, message: `must be a ${allowZero ? 'non-negative' : 'positive'} integer (got ${value})` }]);
    }
    return resolved;
  };
  return new PostgresStore({
    ...options,
    schema,
    vectors,
    poolSize: positive('poolSize', options.poolSize, 10, false),
    statementTimeoutMs: positive('statementTimeoutMs', options.statementTimeoutMs, 30_000, true),
    connectionTimeoutMs: positive('connectionTimeoutMs', options.connectionTimeoutMs, 10_000, true),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, 300_000, true),
  });
}

type ResolvedOptions = PostgresStoreOptions & {
  schema: string;
  vectors: 'auto' | boolean;
  poolSize: number;
  statementTimeoutMs: number;
  connectionTimeoutMs: number;
  idleTimeoutMs: number;
};

/** Operations that may change what lexical search counts (live rows, their text). */
const textChanging = new Set(['write', 'update', 'delete', 'setDerivedContexts', 'rewrapContent', 'purge']);

/** What a keyed write compares to decide between 'updated' and 'duplicate'. */
type KeyedRow = MemoryRow & { same_metadata: boolean };

class PostgresStore implements MemoryStore {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'postgres';
  readonly location: string;

  private session: PostgresSession | null = null;
  private opening: Promise<void> | null = null;
  private closed = false;
  private flags: StoreCapabilities;
  private readonly vectorIndex: PostgresVectorIndex;
  private readonly errors: ErrorContext;
  readonly collections: PostgresCollections;

  constructor(private readonly options: ResolvedOptions) {
    this.location = describeLocation(options);
    this.errors = {
      location: this.location,
      statementTimeoutMs: options.connectionString !== undefined ? options.statementTimeoutMs : undefined,
      poolSize: options.connectionString !== undefined ? options.poolSize : undefined,
    };
    this.vectorIndex = new PostgresVectorIndex(() => this.ready());
    this.collections = new PostgresCollections(() => this.ready());
    // Until open() has looked for pgvector, only an explicit `vectors: true` promises vectors.
    this.flags = Object.freeze({ lexical: 'bm25', vectors: options.vectors === true, multiProcess: options.pglite === undefined });
  }

  get capabilities(): StoreCapabilities {
    return this.flags;
  }

  get vectors(): PostgresVectorIndex | undefined {
    return this.flags.vectors ? this.vectorIndex : undefined;
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
    const client = await this.createClient();
    try {
      await withErrors('open', this.errors, () => migrateToLatest(client, this.options.schema));
      if (this.options.lexicalPostings === true)
        await withErrors('open', this.errors, () => enableLexicalPostings(client, this.options.schema));
      const support = await withErrors('open', this.errors, () => detectVectors(client, this.options.vectors));
      if (this.options.vectors === true && !support.found) {
        throw new AdapterError(
          'postgres',
          'open',
          new Error(`pgvector is not available in ${this.location}: ${support.reason}`),
          'Install pgvector on the server and run CREATE EXTENSION vector as a superuser, or pass vectors: false ' +
            "(search is then lexical, or give Memory a separate VectorIndex such as qdrantIndex from '@engram/adapters/qdrant')",
        );
      }
      this.session = new PostgresSession(
        client,
        this.options.schema,
        this.errors,
        support.found ? support.support : null,
        this.options.pglite === undefined,
      );
      this.flags = Object.freeze({ ...this.flags, vectors: support.found });
      this.closed = false;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  private async createClient(): Promise<PostgresClient> {
    if (this.options.pglite) return pgliteClient(this.options.pglite);
    if (this.options.pool) return pgClient(this.options.pool, false);
    const pg = await loadPg();
    const pool = new pg.Pool({
      connectionString: this.options.connectionString,
      max: this.options.poolSize,
      connectionTimeoutMillis: this.options.connectionTimeoutMs,
      // pg reads 0 as "never close an idle connection"; idle connections let the process exit.
      idleTimeoutMillis: this.options.idleTimeoutMs,
      allowExitOnIdle: true,
      application_name: this.options.applicationName ?? 'engram',
      ...(this.options.statementTimeoutMs > 0 ? { statement_timeout: this.options.statementTimeoutMs } : {}),
    });
    // An idle connection dropped by the server must not crash the process; the next query
    // reconnects (or fails with an AdapterError the caller sees).
    pool.on('error', () => undefined);
    return pgClient(pool as unknown as PgPoolLike, true);
  }

  async close(): Promise<void> {
    await this.opening?.catch(() => undefined);
    const session = this.session;
    this.session = null;
    this.closed = true;
    await session?.client.close();
  }

  /** The open session; opens on first use. */
  private async ready(): Promise<PostgresSession> {
    if (this.session) return this.session;
    if (this.closed) {
      throw new EngramError(
        'CLOSED',
        `The Postgres store at ${this.location} is closed. Call open() again (or create a new store) to use it.`,
      );
    }
    await this.open();
    return this.session as unknown as PostgresSession;
  }

  private async run<T>(operation: string, work: (session: PostgresSession) => Promise<T>): Promise<T> {
    const session = await this.ready();
    if (!textChanging.has(operation)) return withErrors(operation, session.errors, () => work(session));
    try {
      return await withErrors(operation, session.errors, () => work(session));
    } finally {
      // Lexical statistics cached by this store no longer hold: its next search recounts.
      session.lexical.invalidate();
    }
  }

  // ------------------------------------------------------------------ embedder

  async getEmbedder(): Promise<EmbedderInfo | null> {
    return this.run('getEmbedder', async (session) => {
      const { rows } = await session.client.query<{ value: EmbedderInfo }>(`SELECT value FROM ${session.meta} WHERE key = 'embedder'`);
      const info = rows[0]?.value;
      return info ? { id: info.id, dimensions: info.dimensions } : null;
    });
  }

  async setEmbedder(info: EmbedderInfo): Promise<void> {
    await this.run('setEmbedder', async (session) => {
      await session.client.query(
        `INSERT INTO ${session.meta} (key, value) VALUES ('embedder', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [JSON.stringify({ id: info.id, dimensions: info.dimensions })],
      );
    });
  }

  // ------------------------------------------------------------------ writes

  async write(items: StoreWrite[]): Promise<StoreWriteResult[]> {
    if (items.length === 0) return [];
    return this.run('write', async (session) => {
      // Check every vector before the transaction, so a bad item leaves nothing half-written.
      if (items.some((item) => item.vector)) {
        const dimensions = await session.requireVectorColumn();
        for (const item of items) if (item.vector) checkVector(item.vector, dimensions, `vector of ${item.record.id}`);
      }
      return session.client.transaction(async (transaction) => {
        // Serialise writers of the same scopes across processes: the duplicate and key checks
        // below then see every committed write (READ COMMITTED reads the latest commits per
        // statement). One statement; sorted, so two batches never wait on each other in opposite orders.
        const scopes = [...new Set(items.map((item) => `${session.schema}:${scopeKey(item.record.scope)}`))].sort();
        await transaction.query(
          `SELECT pg_advisory_xact_lock($1::int, hashtext(locked.name))
           FROM (SELECT name FROM unnest($2::text[]) AS name ORDER BY name COLLATE "C") AS locked`,
          [lockNamespace, scopes],
        );
        const results: StoreWriteResult[] = [];
        const history: HistoryEntry[] = [];
        // Runs of unkeyed items are written together (one lookup, one multi-row INSERT); a keyed
        // item may update an existing record, so it is written on its own, in order.
        let run: StoreWrite[] = [];
        const flush = async () => {
          if (run.length > 0) results.push(...(await this.insertMany(session, transaction, run, history)));
          run = [];
        };
        for (const item of items) {
          if (item.record.key === null) {
            run.push(item);
            continue;
          }
          await flush();
          results.push(await this.writeOne(session, transaction, item, history));
        }
        await flush();
        await appendHistory(transaction, session.history, history);
        return results;
      });
    });
  }

  /**
   * Unkeyed records in two statements, with the result a loop of `writeOne` would give: a record
   * whose content is already live in its scope returns the oldest such record ('duplicate'); of
   * several in the batch with the same content, the first is inserted and the others return it.
   */
  private async insertMany(
    session: PostgresSession,
    transaction: Queryable,
    items: StoreWrite[],
    history: HistoryEntry[],
  ): Promise<StoreWriteResult[]> {
    const pairKey = (scope: string, hash: string) => `${scope}\u0000${hash}`;
    const keys = items.map(({ record }) => scopeKey(record.scope));
    const wanted = new Map<string, [string, string]>();
    items.forEach(({ record }, index) => {
      wanted.set(pairKey(keys[index] as string, record.contentHash), [keys[index] as string, record.contentHash]);
    });
    const pairs = [...wanted.values()];
    const { rows: existing } = await transaction.query<MemoryRow & { found_scope: string }>(
      // One index probe per (scope, content) pair (LATERAL … LIMIT 1): a plain join of the pairs
      // was planned as a hash join over a scan of the whole table (~100 ms a batch at 30k rows).
      `SELECT ${memoryColumns()}, m.scope_key AS found_scope
       FROM unnest($1::text[], $2::text[]) AS wanted(scope_key, content_hash)
       CROSS JOIN LATERAL (
         SELECT * FROM ${session.memories} AS live
         WHERE live.scope_key = wanted.scope_key AND live.content_hash = wanted.content_hash AND live.deleted_at IS NULL
         ORDER BY live.created_at, live.id LIMIT 1
       ) AS m`,
      [pairs.map(([scope]) => scope), pairs.map(([, hash]) => hash)],
    );
    const stored = new Map<string, MemoryRecord>();
    for (const row of existing) stored.set(pairKey(row.found_scope, row.content_hash), rowToRecord(row));
    const results: StoreWriteResult[] = [];
    const fresh: StoreWrite[] = [];
    items.forEach((item, index) => {
      const pair = pairKey(keys[index] as string, item.record.contentHash);
      const earlier = stored.get(pair);
      if (earlier) {
        results.push({ status: 'duplicate', record: earlier });
        return;
      }
      stored.set(pair, item.record);
      fresh.push(item);
      history.push(createdHistoryEntry(item.record, item.reason ?? null));
      results.push({ status: 'created', record: item.record });
    });
    if (fresh.length > 0) {
      const withVectors = fresh.some((item) => item.vector);
      const columns = [...insertColumns, ...(withVectors ? ['embedding'] : [])].join(', ');
      const rows = fresh.map(({ record, vector }) => ({ ...insertRow(record), ...(vector ? { embedding: vectorLiteral(vector) } : {}) }));
      await transaction.query(
        `INSERT INTO ${session.memories} (${columns})
         SELECT ${columns} FROM json_populate_recordset(NULL::${session.memories}, $1::json)`,
        [JSON.stringify(rows)],
      );
    }
    return results;
  }

  private async writeOne(
    session: PostgresSession,
    transaction: Queryable,
    { record, vector, reason }: StoreWrite,
    history: HistoryEntry[],
  ): Promise<StoreWriteResult> {
    const scope = scopeKey(record.scope);
    if (record.key !== null) {
      const params = new SqlParameters();
      const { rows } = await transaction.query<KeyedRow>(
        `SELECT ${memoryColumns()}, m.metadata = ${params.json(record.metadata)} AS same_metadata
         FROM ${session.memories} m
         WHERE m.scope_key = ${params.add(scope)} AND m.key = ${params.add(record.key)} AND m.deleted_at IS NULL
         FOR UPDATE`,
        params.values,
      );
      const keyed = rows[0];
      if (keyed) return this.updateKeyed(session, transaction, keyed, record, vector, history, reason ?? null);
    }
    // One round trip: the oldest live record with the same hash in the scope, or else the insert.
    // A keyed write is an upsert by key: never deduped by content onto another record.
    const params = new SqlParameters();
    const { columns, values } = insertValues(record, params);
    if (vector) {
      columns.push('embedding');
      values.push(`${params.add(vectorLiteral(vector))}::${session.vectorType()}`);
    }
    const { rows } = await transaction.query<MemoryRow & { duplicate: boolean }>(
      `WITH existing AS (
         SELECT ${memoryColumns()} FROM ${session.memories} m
         WHERE ${record.key === null} AND m.scope_key = ${params.add(scope)} AND m.content_hash = ${params.add(record.contentHash)}
           AND m.deleted_at IS NULL
         ORDER BY m.created_at, m.id LIMIT 1
       ), inserted AS (
         INSERT INTO ${session.memories} AS m (${columns.join(', ')})
         SELECT ${values.join(', ')} WHERE NOT EXISTS (SELECT 1 FROM existing)
         RETURNING ${memoryColumns()}
       )
       SELECT true AS duplicate, * FROM existing UNION ALL SELECT false AS duplicate, * FROM inserted`,
      params.values,
    );
    const row = rows[0] as MemoryRow & { duplicate: boolean };
    const stored = rowToRecord(row);
    if (row.duplicate) return { status: 'duplicate', record: stored };
    history.push(createdHistoryEntry(stored, reason ?? null));
    return { status: 'created', record: stored };
  }

  /** A write whose key matches a live record in the same scope: update that record in place. */
  private async updateKeyed(
    session: PostgresSession,
    transaction: Queryable,
    row: KeyedRow,
    record: MemoryRecord,
    vector: Float32Array | undefined,
    history: HistoryEntry[],
    reason: string | null,
  ): Promise<StoreWriteResult> {
    const before = rowToRecord(row);
    const unchanged =
      row.content_hash === record.contentHash &&
      row.context === (record.context ?? null) &&
      row.context_source === (record.context !== undefined ? (record.contextSource ?? null) : null) &&
      row.type === record.type &&
      row.subtype === record.subtype &&
      row.importance === record.importance &&
      JSON.stringify(row.tags) === JSON.stringify(record.tags) &&
      row.same_metadata;
    if (unchanged) return { status: 'duplicate', record: before };

    const params = new SqlParameters();
    const assignments = [
      `content = ${params.add(record.content)}`,
      `context = ${params.add(record.context ?? null)}`,
      `context_source = ${params.add(record.context !== undefined ? (record.contextSource ?? null) : null)}`,
      `content_hash = ${params.add(record.contentHash)}`,
      `type = ${params.add(record.type)}`,
      `subtype = ${params.add(record.subtype)}`,
      `tags = ${params.textArray(record.tags)}`,
      `metadata = ${params.json(record.metadata)}`,
      `importance = ${params.add(record.importance)}::float8`,
      `updated_at = ${params.time(record.updatedAt)}`,
    ];
    const embedding = await this.embeddingAssignment(session, transaction, params, row.content_hash, record.contentHash, vector);
    if (embedding) assignments.push(embedding);
    const after = await this.applyUpdate(session, transaction, row.id, assignments, params);
    history.push(historyEntry('updated', before, after, record.updatedAt, reason));
    return { status: 'updated', record: after };
  }

  async update(id: string, patch: RecordPatch, vector?: Float32Array, options?: { reason?: string }): Promise<MemoryRecord | null> {
    return this.run('update', async (session) => {
      if (vector) checkVector(vector, await session.requireVectorColumn(), `vector of ${id}`);
      return session.client.transaction(async (transaction) => {
        const history: HistoryEntry[] = [];
        const after = await this.updateIn(session, transaction, id, patch, vector, options?.reason, history);
        await appendHistory(transaction, session.history, history);
        return after;
      });
    });
  }

  /** `update` inside the caller's transaction; its history entry goes to `history`. */
  private async updateIn(
    session: PostgresSession,
    transaction: Queryable,
    id: string,
    patch: RecordPatch,
    vector: Float32Array | undefined,
    reason: string | undefined,
    history: HistoryEntry[],
  ): Promise<MemoryRecord | null> {
    const { rows } = await transaction.query<MemoryRow>(
      `SELECT ${memoryColumns()} FROM ${session.memories} m WHERE m.id = $1 AND m.deleted_at IS NULL FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row) return null;
    const params = new SqlParameters();
    const assignments: string[] = [];
    if (patch.content !== undefined) assignments.push(`content = ${params.add(patch.content)}`);
    if (patch.contentHash !== undefined) assignments.push(`content_hash = ${params.add(patch.contentHash)}`);
    if (patch.type !== undefined) assignments.push(`type = ${params.add(patch.type)}`);
    if (patch.subtype !== undefined) assignments.push(`subtype = ${params.add(patch.subtype)}`);
    if (patch.tags !== undefined) assignments.push(`tags = ${params.textArray(patch.tags)}`);
    if (patch.metadata !== undefined) assignments.push(`metadata = ${params.json(patch.metadata)}`);
    if (patch.importance !== undefined) assignments.push(`importance = ${params.add(patch.importance)}::float8`);
    if (patch.validTo !== undefined) assignments.push(`valid_to = ${params.time(patch.validTo)}`);
    if (patch.supersededBy !== undefined) assignments.push(`superseded_by = ${params.add(patch.supersededBy)}`);
    assignments.push(`updated_at = ${params.time(patch.updatedAt)}`);
    const embedding = await this.embeddingAssignment(
      session,
      transaction,
      params,
      row.content_hash,
      patch.contentHash ?? row.content_hash,
      vector,
    );
    if (embedding) assignments.push(embedding);
    const before = rowToRecord(row);
    const after = await this.applyUpdate(session, transaction, id, assignments, params);
    history.push(historyEntry(updateEvent(before, after), before, after, patch.updatedAt, reason ?? null));
    return after;
  }

  async apply(operations: StoreOperation[]): Promise<StoreOperationResult[]> {
    checkOperations(operations);
    if (operations.length === 0) return [];
    return this.run('apply', async (session) => {
      const vectors = operationVectors(operations);
      if (vectors.length > 0) {
        const dimensions = await session.requireVectorColumn();
        for (const { vector, field } of vectors) checkVector(vector, dimensions, field);
      }
      return session.client.transaction(async (transaction) => {
        // The scope locks `write` takes, for every write of the batch, taken up front and sorted.
        const scopes = operations.flatMap((operation) =>
          operation.kind === 'write' ? operation.items.map((item) => scopeKey(item.record.scope)) : [],
        );
        for (const scope of [...new Set(scopes)].sort()) {
          await transaction.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockNamespace, `${session.schema}:${scope}`]);
        }
        const resolved = new OperationIds();
        const history: HistoryEntry[] = [];
        const results: StoreOperationResult[] = [];
        for (const operation of operations) {
          switch (operation.kind) {
            case 'write': {
              const written: StoreWriteResult[] = [];
              for (const item of operation.items) written.push(await this.writeOne(session, transaction, item, history));
              resolved.noteWrites(operation.items, written);
              results.push({ kind: 'write', results: written });
              break;
            }
            case 'update': {
              const id = resolved.id(operation.id);
              const record = await this.updateIn(
                session,
                transaction,
                id,
                resolved.patch(operation.patch),
                operation.vector,
                operation.reason,
                history,
              );
              if (!record && operation.required) throw missingRecord(id);
              results.push({ kind: 'update', record });
              break;
            }
            case 'delete': {
              const id = resolved.id(operation.id);
              const deleted = await this.deleteIn(session, transaction, id, operation.at, history, operation.reason ?? null);
              if (!deleted && operation.required) throw missingRecord(id);
              results.push({ kind: 'delete', deleted });
              break;
            }
            case 'upsertRelation': {
              const result = await upsertRelation(transaction, session.relations, resolved.relation(operation.relation));
              // The change log keeps the batch's order: the history so far first, then the edge.
              await appendHistory(transaction, session.history, history.splice(0));
              await appendRelationChanges(
                transaction,
                session.history,
                'relation:added',
                [result.relation],
                result.relation.updatedAt,
                operation.reason ?? null,
              );
              results.push({ kind: 'upsertRelation', ...result });
              break;
            }
            case 'setMeta': {
              await this.setMetaIn(transaction, session, operation.name, operation.value);
              results.push({ kind: 'setMeta' });
              break;
            }
            case 'removeRelations': {
              const removed = await removeRelations(
                transaction,
                session.relations,
                resolved.id(operation.sourceId),
                resolved.id(operation.targetId),
                operation.type,
              );
              await appendHistory(transaction, session.history, history.splice(0));
              await appendRelationChanges(transaction, session.history, 'relation:removed', removed, new Date(), operation.reason ?? null);
              results.push({ kind: 'removeRelations', removed });
              break;
            }
          }
        }
        await appendHistory(transaction, session.history, history);
        return results;
      });
    });
  }

  /**
   * Keeps a row's vector true to its content: a given vector replaces it; new content without a
   * vector drops the old one, which described the old text and would otherwise match wrongly.
   */
  private async embeddingAssignment(
    session: PostgresSession,
    transaction: Queryable,
    params: SqlParameters,
    oldHash: string,
    newHash: string,
    vector: Float32Array | undefined,
  ): Promise<string | null> {
    if (vector) return `embedding = ${params.add(vectorLiteral(vector))}::${session.vectorType()}`;
    if (newHash !== oldHash && (await session.vectorDimensions(transaction)) !== null) return 'embedding = NULL';
    return null;
  }

  private async applyUpdate(
    session: PostgresSession,
    transaction: Queryable,
    id: string,
    assignments: string[],
    params: SqlParameters,
  ): Promise<MemoryRecord> {
    const { rows } = await transaction.query<MemoryRow>(
      `UPDATE ${session.memories} AS m SET ${assignments.join(', ')} WHERE m.id = ${params.add(id)} RETURNING ${memoryColumns()}`,
      params.values,
    );
    return rowToRecord(rows[0] as MemoryRow);
  }

  async delete(id: string, at: Date, options?: ChangeOptions): Promise<boolean> {
    return this.run('delete', (session) =>
      session.client.transaction(async (transaction) => {
        const history: HistoryEntry[] = [];
        const deleted = await this.deleteIn(session, transaction, id, at, history, options?.reason ?? null);
        await appendHistory(transaction, session.history, history);
        return deleted;
      }),
    );
  }

  /** `delete` inside the caller's transaction; its history entry goes to `history`. */
  private async deleteIn(
    session: PostgresSession,
    transaction: Queryable,
    id: string,
    at: Date,
    history: HistoryEntry[],
    reason: string | null = null,
  ): Promise<boolean> {
    const { rows } = await transaction.query<MemoryRow>(
      `SELECT ${memoryColumns()} FROM ${session.memories} m WHERE m.id = $1 AND m.deleted_at IS NULL FOR UPDATE`,
      [id],
    );
    const row = rows[0];
    if (!row) return false;
    const params = new SqlParameters();
    const time = params.time(at);
    const assignments = [`deleted_at = ${time}`, `updated_at = ${time}`];
    // The vector goes with the record; the text index drops it (partial index on live rows).
    if ((await session.vectorDimensions(transaction)) !== null) assignments.push('embedding = NULL');
    const before = rowToRecord(row);
    const after = await this.applyUpdate(session, transaction, id, assignments, params);
    history.push(historyEntry('deleted', before, after, at, reason));
    return true;
  }

  async setDerivedContexts(items: Array<{ id: string; context: string | null }>): Promise<number> {
    if (items.length === 0) return 0;
    const updates = items.map(({ id, context }) => ({ id, context: context?.trim() ? context : null }));
    return this.run('setDerivedContexts', async (session) => {
      // One statement; only rows with no context or a derived one change (a caller's context is
      // never touched), locked in id order so concurrent batches cannot deadlock. The text-index
      // trigger re-indexes the context; updated_at and history are left alone.
      const { rows } = await session.client.query<{ id: string }>(
        `UPDATE ${session.memories} AS m
         SET context = wanted.context,
             context_source = CASE WHEN wanted.context IS NULL THEN NULL ELSE 'conversation' END
         FROM (
           SELECT item.id, item.context FROM ${session.memories} AS locked
           JOIN json_to_recordset($1::json) AS item(id text, context text) ON item.id = locked.id
           WHERE locked.deleted_at IS NULL
             AND (locked.context IS NULL OR locked.context_source = 'conversation')
             AND locked.context IS DISTINCT FROM item.context
           ORDER BY locked.id FOR UPDATE OF locked
         ) AS wanted
         WHERE m.id = wanted.id
         RETURNING m.id`,
        [JSON.stringify(updates)],
      );
      return rows.length;
    });
  }

  async rewrapContent(id: string, texts: { content?: string; context?: string; metadata?: Record<string, unknown> }): Promise<boolean> {
    return this.run('rewrapContent', async (session) => {
      const { rows } = await session.client.query<{ id: string }>(
        `UPDATE ${session.memories}
         SET content = COALESCE($2, content), context = COALESCE($3, context), metadata = COALESCE($4::jsonb, metadata)
         WHERE id = $1 RETURNING id`,
        [id, texts.content ?? null, texts.context ?? null, texts.metadata !== undefined ? JSON.stringify(texts.metadata) : null],
      );
      return rows.length > 0;
    });
  }

  async purge(ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const removed = await this.run('purge', (session) =>
      session.client.transaction(async (transaction) => {
        // History first: deleting a row first would make the created-entry trigger (0013) copy it
        // into an entry about to be deleted.
        await transaction.query(`DELETE FROM ${session.history} WHERE memory_id = ANY($1::text[])`, [ids]);
        const { rows } = await transaction.query<{ id: string }>(
          `DELETE FROM ${session.memories} WHERE id = ANY($1::text[]) RETURNING id`,
          [ids],
        );
        // Graph changes are filed under the edge's source: those naming an erased target go too.
        await transaction.query(
          `DELETE FROM ${session.history} WHERE event IN ${RELATION_EVENTS} AND changes->>'targetId' = ANY($1::text[])`,
          [ids],
        );
        await transaction.query(`DELETE FROM ${session.relations} WHERE source_id = ANY($1::text[]) OR target_id = ANY($1::text[])`, [ids]);
        return rows.length;
      }),
    );
    // Plain VACUUM (no exclusive lock) makes the dead row versions' space reusable; it cannot run
    // inside a transaction. Best effort: autovacuum does the same later.
    await this.run('purge', async (session) => {
      for (const table of [session.memories, session.history, session.relations]) {
        await session.client.query(`VACUUM ${table}`).catch(() => undefined);
      }
    });
    return removed;
  }

  async recordAccess(ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    await this.run('recordAccess', async (session) => {
      // One statement for the batch. It sets neither content nor tags, so the text-index
      // trigger does not fire; rows are locked in id order, so concurrent batches cannot deadlock.
      await session.client.query(
        `UPDATE ${session.memories} AS m SET access_count = m.access_count + access.n, last_accessed_at = $2::timestamptz
         FROM (
           SELECT hit.id, hit.n FROM ${session.memories} AS locked
           JOIN json_to_recordset($1::json) AS hit(id text, n int) ON hit.id = locked.id
           WHERE locked.deleted_at IS NULL ORDER BY locked.id FOR UPDATE OF locked
         ) AS access
         WHERE m.id = access.id`,
        [JSON.stringify([...counts].map(([id, n]) => ({ id, n }))), at.toISOString()],
      );
    });
  }

  async recordDecayScores(scores: Array<{ id: string; score: number }>): Promise<void> {
    if (scores.length === 0) return;
    await this.run('recordDecayScores', async (session) => {
      // One statement per batch, rows locked in id order like recordAccess; no trigger re-indexes text.
      await session.client.query(
        `UPDATE ${session.memories} AS m SET decay_score = score.value
         FROM (
           SELECT hit.id, hit.value FROM ${session.memories} AS locked
           JOIN json_to_recordset($1::json) AS hit(id text, value float8) ON hit.id = locked.id
           WHERE locked.deleted_at IS NULL ORDER BY locked.id FOR UPDATE OF locked
         ) AS score
         WHERE m.id = score.id`,
        [JSON.stringify(scores.map(({ id, score }) => ({ id, value: score })))],
      );
    });
  }

  // ------------------------------------------------------------------ graph and history

  async upsertRelation(relation: Relation, options?: ChangeOptions): Promise<{ relation: Relation; created: boolean }> {
    return this.run('upsertRelation', (session) =>
      session.client.transaction(async (transaction) => {
        const result = await upsertRelation(transaction, session.relations, relation);
        const edge = result.relation;
        await appendRelationChanges(transaction, session.history, 'relation:added', [edge], edge.updatedAt, options?.reason ?? null);
        return result;
      }),
    );
  }

  async removeRelations(sourceId: string, targetId: string, type?: string, options?: ChangeOptions): Promise<Relation[]> {
    return this.run('removeRelations', (session) =>
      session.client.transaction(async (transaction) => {
        const removed = await removeRelations(transaction, session.relations, sourceId, targetId, type);
        await appendRelationChanges(transaction, session.history, 'relation:removed', removed, new Date(), options?.reason ?? null);
        return removed;
      }),
    );
  }

  async getMeta(name: string): Promise<string | null> {
    return this.run('getMeta', async (session) => {
      const { rows } = await session.client.query<{ value: string }>(`SELECT value #>> '{}' AS value FROM ${session.meta} WHERE key = $1`, [
        `capability:${name}`,
      ]);
      return rows[0]?.value ?? null;
    });
  }

  async setMeta(name: string, value: string): Promise<void> {
    await this.run('setMeta', (session) => this.setMetaIn(session.client, session, name, value));
  }

  /** `setMeta` on the caller's connection (inside its transaction, for `apply`). */
  private async setMetaIn(client: Queryable, session: PostgresSession, name: string, value: string): Promise<void> {
    await client.query(
      `INSERT INTO ${session.meta} (key, value) VALUES ($1, to_jsonb($2::text)) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [`capability:${name}`, value],
    );
  }

  async appendErasures(entries: Array<{ ids: string[]; origin: ErasureOrigin }>, at: Date): Promise<number[]> {
    if (entries.length === 0) return [];
    return this.run('appendErasures', (session) =>
      session.client.transaction(async (transaction) => {
        // Moving the head locks its row until commit: a concurrent append waits here and numbers
        // after this one, so no number is visible before the ones below it.
        const { rows } = await transaction.query<{ head: string }>(
          `INSERT INTO ${session.meta} AS m (key, value) VALUES ('erasure-head', to_jsonb($1::bigint))
           ON CONFLICT (key) DO UPDATE SET value = to_jsonb((m.value #>> '{}')::bigint + $1::bigint)
           RETURNING m.value #>> '{}' AS head`,
          [entries.length],
        );
        const first = Number((rows[0] as { head: string }).head) - entries.length + 1;
        const numbers = entries.map((_, index) => first + index);
        await transaction.query(
          `INSERT INTO ${session.erasures} (seq, ids, origin, created_at)
           SELECT seq, ids::jsonb, origin, $4::timestamptz FROM unnest($1::bigint[], $2::text[], $3::text[]) AS e(seq, ids, origin)`,
          [numbers.map(String), entries.map((entry) => JSON.stringify(entry.ids)), entries.map((entry) => entry.origin), at.toISOString()],
        );
        return numbers;
      }),
    );
  }

  async erasuresAfter(after: number, limit: number): Promise<ErasureLogPage> {
    return this.run('erasuresAfter', async (session) => {
      // One statement, one snapshot: the head, the horizon and the entries agree.
      const { rows } = await session.client.query<{
        head: string | null;
        first: string | null;
        entries: Array<{ seq: number; ids: string[]; origin: ErasureOrigin; at: string }>;
      }>(
        `SELECT (SELECT value #>> '{}' FROM ${session.meta} WHERE key = 'erasure-head') AS head,
           (SELECT min(seq)::text FROM ${session.erasures}) AS first,
           coalesce((SELECT json_agg(json_build_object('seq', e.seq, 'ids', e.ids, 'origin', e.origin, 'at', e.created_at) ORDER BY e.seq)
             FROM (SELECT * FROM ${session.erasures} WHERE seq > $1 ORDER BY seq LIMIT $2) AS e), '[]'::json) AS entries`,
        [after, limit],
      );
      const row = rows[0] as {
        head: string | null;
        first: string | null;
        entries: Array<{ seq: number; ids: string[]; origin: ErasureOrigin; at: string }>;
      };
      const head = Number(row.head ?? 0);
      return {
        head,
        horizon: row.first === null ? head : Number(row.first) - 1,
        entries: row.entries.map((entry) => ({ seq: Number(entry.seq), ids: entry.ids, origin: entry.origin, at: new Date(entry.at) })),
      };
    });
  }

  async compactErasures(through: number, before: Date): Promise<number> {
    return this.run('compactErasures', async (session) => {
      // The first entry that must stay bounds the prefix removed.
      const { rowCount } = await session.client.query(
        `DELETE FROM ${session.erasures} WHERE seq <= least($1::bigint,
           coalesce((SELECT min(seq) - 1 FROM ${session.erasures} WHERE created_at >= $2::timestamptz), $1::bigint))`,
        [through, before.toISOString()],
      );
      return rowCount ?? 0;
    });
  }

  async relationsOf(ids: string[], options: { direction: 'out' | 'in' | 'both'; types?: string[] }): Promise<Relation[]> {
    if (ids.length === 0) return [];
    return this.run('relationsOf', (session) => relationsOf(session.client, session.relations, ids, options));
  }

  async history(id: string): Promise<HistoryEntry[]> {
    return this.run('history', (session) => readHistory(session.client, session.history, session.memories, id));
  }

  async changesSince(after: number | null, limit: number): Promise<ChangeLogPage> {
    return this.run('changesSince', (session) => readChangesSince(session.client, session.history, session.memories, after, limit));
  }

  // ------------------------------------------------------------------ reads

  async get(ids: string[]): Promise<MemoryRecord[]> {
    if (ids.length === 0) return [];
    return this.run('get', async (session) => {
      const params = new SqlParameters();
      const { rows } = await session.client.query<MemoryRow>(
        `SELECT ${memoryColumns()} FROM ${session.memories} m WHERE m.id = ANY(${params.textArray(ids)}) AND m.deleted_at IS NULL`,
        params.values,
      );
      return rows.map(rowToRecord);
    });
  }

  async findByHashes(scope: Scope, hashes: string[]): Promise<MemoryRecord[]> {
    if (hashes.length === 0) return [];
    return this.run('findByHashes', async (session) => {
      // One index probe per distinct hash (LATERAL, fenced by OFFSET 0). A plain `content_hash =
      // ANY(…)` was planned as a scan of every live row of the scope with the hashes as a filter
      // (1,200 rows read per call at 24k memories over 20 users; ~20 calls per addMany batch).
      const { rows } = await session.client.query<MemoryRow>(
        `SELECT ${memoryColumns()}
         FROM (SELECT DISTINCT hash FROM unnest($2::text[]) AS hash) AS wanted
         CROSS JOIN LATERAL (
           SELECT * FROM ${session.memories} AS live
           WHERE live.scope_key = $1 AND live.content_hash = wanted.hash AND live.deleted_at IS NULL OFFSET 0
         ) AS m`,
        [scopeKey(scope), hashes],
      );
      return rows.map(rowToRecord);
    });
  }

  async findByHashesInScopes(groups: Array<{ scope: Scope; hashes: string[] }>): Promise<MemoryRecord[][]> {
    const answers: MemoryRecord[][] = groups.map(() => []);
    const positions: string[] = [];
    const keys: string[] = [];
    const hashes: string[] = [];
    groups.forEach((group, position) => {
      const key = scopeKey(group.scope);
      for (const hash of group.hashes) {
        positions.push(String(position));
        keys.push(key);
        hashes.push(hash);
      }
    });
    if (hashes.length === 0) return answers;
    return this.run('findByHashes', async (session) => {
      // findByHashes' probes for every group in one statement: `addMany` over 20 users was 20
      // round trips (~0.4 ms of Node CPU and ~0.9 ms of wall time each on the bench machine).
      const { rows } = await session.client.query<MemoryRow & { group_position: number }>(
        `SELECT ${memoryColumns()}, wanted.position AS group_position
         FROM (SELECT DISTINCT position, scope_key, hash FROM unnest($1::int[], $2::text[], $3::text[]) AS pair(position, scope_key, hash)) AS wanted
         CROSS JOIN LATERAL (
           SELECT * FROM ${session.memories} AS live
           WHERE live.scope_key = wanted.scope_key AND live.content_hash = wanted.hash AND live.deleted_at IS NULL OFFSET 0
         ) AS m`,
        [positions, keys, hashes],
      );
      for (const row of rows) answers[row.group_position]?.push(rowToRecord(row));
      return answers;
    });
  }

  async list(filter: MemoryFilter, options: StoreListOptions): Promise<StoreListPage> {
    const position = options.cursor !== undefined ? decodeCursor(options.cursor) : undefined;
    const limit = Math.floor(options.limit);
    if (!(limit > 0)) return { items: [], nextCursor: null };
    return this.run('list', async (session) => {
      const params = new SqlParameters();
      const where = compileFilter(filter, params, { includeDeleted: options.includeDeleted === true });
      const keyset = position
        ? ` AND (m.created_at, m.id) < (${params.time(new Date(position.createdAt))}, ${params.add(position.id)}::text)`
        : '';
      const { rows } = await session.client.query<MemoryRow>(
        `SELECT ${memoryColumns()} FROM ${session.memories} m WHERE ${where}${keyset}
         ORDER BY m.created_at DESC, m.id DESC LIMIT ${params.add(limit + 1)}`,
        params.values,
      );
      const items = rows.slice(0, limit).map(rowToRecord);
      const last = items.at(-1);
      const nextCursor = rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.getTime(), id: last.id }) : null;
      return { items, nextCursor };
    });
  }

  async count(filter: MemoryFilter): Promise<number> {
    return this.run('count', async (session) => {
      const params = new SqlParameters();
      const where = compileFilter(filter, params);
      const { rows } = await session.client.query<{ total: number }>(
        `SELECT count(*) AS total FROM ${session.memories} m WHERE ${where}`,
        params.values,
      );
      return Number(rows[0]?.total ?? 0);
    });
  }

  async statistics(filter: MemoryFilter, options: StoreStatisticsOptions): Promise<StoreStatistics> {
    return this.run('statistics', (session) => readStatistics(session, session.client, filter, options));
  }

  async distinctMetadata(path: readonly string[], filter: MemoryFilter): Promise<unknown[]> {
    return this.run('distinctMetadata', async (session) => {
      const params = new SqlParameters();
      const where = compileFilter(filter, params);
      // `->` with text keys walks object keys only (an array yields NULL), as Condition paths do;
      // a JSON null stays a jsonb 'null', not SQL NULL.
      const field = `m.metadata${path.map((segment) => ` -> ${params.add(segment)}::text`).join('')}`;
      const { rows } = await session.client.query<{ value: unknown }>(
        `SELECT DISTINCT ${field} AS value FROM ${session.memories} m WHERE ${where} AND ${field} IS NOT NULL`,
        params.values,
      );
      return rows.map((row) => row.value);
    });
  }

  async lexicalSearch(query: string, filter: MemoryFilter, limit: number): Promise<LexicalMatch[]> {
    const count = Math.floor(limit);
    if (!(count > 0)) return [];
    return this.run('lexicalSearch', (session) => session.lexical.search(session.client, query, filter, count));
  }
}

/** Finds pgvector: installed, or creatable by this user. */
async function detectVectors(
  client: PostgresClient,
  mode: 'auto' | boolean,
): Promise<{ found: true; support: VectorSupport } | { found: false; reason: string }> {
  if (mode === false) return { found: false, reason: 'disabled (vectors: false)' };
  const installed = async () => {
    const { rows } = await client.query<{ version: string; schema: string }>(
      `SELECT e.extversion AS version, n.nspname AS schema FROM pg_extension e
       JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'`,
    );
    return rows[0];
  };
  let extension = await installed();
  if (!extension) {
    const available = await client.query('SELECT 1 FROM pg_available_extensions WHERE name = $1', ['vector']);
    if (available.rows.length === 0) return { found: false, reason: 'the pgvector extension is not installed on the server' };
    try {
      await client.transaction(async (transaction) => {
        await transaction.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockNamespace, 'extension:vector']);
        await transaction.query('CREATE EXTENSION IF NOT EXISTS vector');
      });
    } catch (error) {
      return { found: false, reason: `CREATE EXTENSION vector failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    extension = await installed();
    if (!extension) return { found: false, reason: 'CREATE EXTENSION vector did not install it' };
  }
  const [major = 0, minor = 0] = extension.version.split('.').map(Number);
  return {
    found: true,
    support: { schema: quoteIdentifier(extension.schema), version: extension.version, iterativeScan: major > 0 || minor >= 8 },
  };
}

/** Where the data lives, for messages: the connection string without its password. */
function describeLocation(options: PostgresStoreOptions & { schema: string }): string {
  if (options.pglite) return `PGlite (schema ${options.schema})`;
  if (options.pool) return `a pg pool (schema ${options.schema})`;
  try {
    const url = new URL(options.connectionString as string);
    if (url.password) url.password = '***';
    return `${url.toString()} (schema ${options.schema})`;
  } catch {
    return `a Postgres connection string (schema ${options.schema})`;
  }
}

interface PgModule {
  Pool: new (config: Record<string, unknown>) => PgPoolLike & { on(event: 'error', listener: (error: Error) => void): unknown };
}

async function loadPg(): Promise<PgModule> {
  try {
    const module = (await import('pg')) as unknown as { default?: PgModule } & PgModule;
    return module.default ?? module;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error('The Postgres store needs the "pg" package: run `npm install pg kysely`', { cause: error });
    }
    throw error;
  }
}
