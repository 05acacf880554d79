import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { PostgresClient, Queryable } from './postgres-client.js';
import { transactionDialect } from './postgres-kysely.js';
import { quoteIdentifier } from './postgres-sql.js';

/** Kysely's bookkeeping tables (inside the store's schema). */
export const migrationTableName = 'engram_migration';
const migrationLockTableName = 'engram_migration_lock';

/**
 * Advisory-lock namespace (the first key of the two-key form) for everything the store
 * serialises across processes; the second key is a hash of what is locked.
 */
export const lockNamespace = 0x656e67; // 'eng'

/** Memories of at most this many tokens are also in `memories_search_short` (migration 0011); never change it. */
export const shortMemoryLength = 12;

/** Characters of content that go into the full-text index (keeps any tsvector under its 1 MB limit). */
export const indexedContentChars = 100_000;

/**
 * The schema, as ordered migrations of plain SQL run by Kysely's `Migrator`. Never edit a
 * released migration: add a new one. Every name is qualified with the store's schema.
 *
 * - `memories`: one row per record. Dates are `timestamptz` (millisecond values); tags are
 *   `text[]` (GIN: `&&`, `@>`); metadata is `jsonb` (GIN `jsonb_path_ops` for equality
 *   conditions); `scope_key` is core's `scopeKey(scope)` so "same scope" is one indexed
 *   equality; `search` is the `tsvector` of content and tags (weight A) and of the optional
 *   `context` (weight B), kept by a trigger; `id` sorts
 *   byte-wise (COLLATE "C") like JavaScript strings, whatever the database's collation.
 * - `memory_relations`: typed edges; `memory_history`: the change log (`changes` is `json`, so
 *   it reads back exactly as written); `engram_meta`: the embedder and schema facts.
 * - The vector column (`embedding vector(d)`, HNSW index) is added later, by
 *   `vectors.open(dimensions)`, once the dimension is known and only when pgvector is there.
 */
export function migrations(schema: string): Record<string, Migration> {
  const s = quoteIdentifier(schema);
  return {
    '0001-initial': sqlMigration([
      `CREATE TABLE ${s}.memories (
        id text COLLATE "C" PRIMARY KEY,
        content text NOT NULL,
        context text,
        content_hash text NOT NULL,
        type text NOT NULL,
        subtype text,
        tags text[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}',
        user_id text,
        agent_id text,
        run_id text,
        scope_key text NOT NULL,
        conversation_id text,
        importance double precision NOT NULL,
        quality double precision,
        access_count integer NOT NULL DEFAULT 0,
        last_accessed_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        valid_from timestamptz,
        valid_to timestamptz,
        superseded_by text,
        deleted_at timestamptz,
        key text,
        source text,
        confidence double precision,
        emotion text,
        emotional_valence double precision,
        emotional_arousal double precision,
        episode_id text,
        sequence_number double precision,
        preceding_memory_id text,
        source_type text,
        credibility double precision,
        search tsvector NOT NULL
      )`,
      // Exact-duplicate check on write: live rows by (scope, hash).
      `CREATE INDEX memories_scope_hash ON ${s}.memories (scope_key, content_hash) WHERE deleted_at IS NULL`,
      // Idempotent upserts: at most one live row per (scope, key), enforced for every process.
      `CREATE UNIQUE INDEX memories_scope_key ON ${s}.memories (scope_key, key) WHERE deleted_at IS NULL AND key IS NOT NULL`,
      // Newest-first listing with a keyset cursor, time windows, the common scope filter.
      `CREATE INDEX memories_created ON ${s}.memories (created_at, id)`,
      `CREATE INDEX memories_user ON ${s}.memories (user_id, created_at)`,
      `CREATE INDEX memories_conversation ON ${s}.memories (conversation_id) WHERE conversation_id IS NOT NULL`,
      `CREATE INDEX memories_tags ON ${s}.memories USING gin (tags)`,
      `CREATE INDEX memories_metadata ON ${s}.memories USING gin (metadata jsonb_path_ops)`,
      // Tombstones leave the text index; every query's filter says `deleted_at IS NULL`.
      `CREATE INDEX memories_search ON ${s}.memories USING gin (search) WHERE deleted_at IS NULL`,
      // The text index follows content, tags (weight A) and context (weight B) for every writer;
      // access statistics never touch it.
      `CREATE FUNCTION ${s}.memories_search_document() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
      BEGIN
        NEW.search := setweight(to_tsvector('english'::regconfig, left(NEW.content, ${indexedContentChars}) || ' ' || array_to_string(NEW.tags, ' ')), 'A')
          || setweight(to_tsvector('english'::regconfig, left(coalesce(NEW.context, ''), ${indexedContentChars})), 'B');
        RETURN NEW;
      END $$`,
      `CREATE TRIGGER memories_search_insert BEFORE INSERT ON ${s}.memories
        FOR EACH ROW EXECUTE FUNCTION ${s}.memories_search_document()`,
      `CREATE TRIGGER memories_search_update BEFORE UPDATE OF content, tags, context ON ${s}.memories
        FOR EACH ROW WHEN (OLD.content IS DISTINCT FROM NEW.content OR OLD.tags IS DISTINCT FROM NEW.tags OR OLD.context IS DISTINCT FROM NEW.context)
        EXECUTE FUNCTION ${s}.memories_search_document()`,

      // Edges keyed by (source, target, type). No foreign keys: edges outlive the memories at
      // their ends (core decides what a traversal may cross).
      `CREATE TABLE ${s}.memory_relations (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source_id text NOT NULL,
        target_id text NOT NULL,
        type text NOT NULL,
        weight double precision NOT NULL,
        confidence double precision NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        inferred boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (source_id, target_id, type)
      )`,
      `CREATE INDEX memory_relations_target ON ${s}.memory_relations (target_id, type)`,

      // Append-only change log; `seq` orders the entries of one memory.
      `CREATE TABLE ${s}.memory_history (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        memory_id text NOT NULL,
        event text NOT NULL,
        at timestamptz NOT NULL,
        changes json NOT NULL,
        reason text
      )`,
      `CREATE INDEX memory_history_memory ON ${s}.memory_history (memory_id, seq)`,

      `CREATE TABLE ${s}.engram_meta (key text PRIMARY KEY, value jsonb NOT NULL)`,
      `INSERT INTO ${s}.engram_meta (key, value) VALUES ('schema', '{"store":"engram-postgres","version":1}')`,
    ]),
    // 'conversation' when core derived the memory's context from its conversation (issue 15).
    '0002-context-source': sqlMigration([`ALTER TABLE ${s}.memories ADD COLUMN context_source text`]),
    // The consolidation decay score (`MemoryRecord.decayScore`); the text-index trigger does not watch it.
    '0003-decay-score': sqlMigration([`ALTER TABLE ${s}.memories ADD COLUMN decay_score float8`]),
    // BM25 on Postgres (issue 18): each memory's length in tokens (the last position of its
    // tsvector: stop words count, as in SQLite's BM25), kept by the text-index trigger, and a
    // btree over live, current rows by length, so "the shortest memories holding these words" (the
    // best BM25 candidates when the words are common) is an ordered index scan, not a sort of every match.
    '0005-bm25-length': sqlMigration([
      `ALTER TABLE ${s}.memories ADD COLUMN search_length integer`,
      `CREATE FUNCTION ${s}.search_length(document tsvector) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
        SET search_path = pg_catalog AS $$
        SELECT coalesce(max(position), 0)::integer FROM unnest(document) AS entry, unnest(entry.positions) AS position
      $$`,
      `CREATE OR REPLACE FUNCTION ${s}.memories_search_document() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$
      BEGIN
        NEW.search := setweight(to_tsvector('english'::regconfig, left(NEW.content, ${indexedContentChars}) || ' ' || array_to_string(NEW.tags, ' ')), 'A')
          || setweight(to_tsvector('english'::regconfig, left(coalesce(NEW.context, ''), ${indexedContentChars})), 'B');
        NEW.search_length := ${s}.search_length(NEW.search);
        RETURN NEW;
      END $$`,
      `UPDATE ${s}.memories SET search_length = ${s}.search_length(search)`,
      // The tsvector and user are included so the ordered scan tests the words (and the usual
      // user scope) in the index alone, without visiting the table.
      `CREATE INDEX memories_search_length ON ${s}.memories (search_length, id) INCLUDE (search, user_id)
        WHERE deleted_at IS NULL AND superseded_by IS NULL`,
    ]),
    // Raw-vector collections (`store.collections`, see postgres-collections.ts): vectors as real[]
    // so the tables exist with or without pgvector (which, when present, scores them in SQL).
    '0007-vector-collections': sqlMigration([
      `CREATE TABLE ${s}.vector_collections (
        name text PRIMARY KEY,
        dimensions integer NOT NULL,
        metric text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE TABLE ${s}.vector_collection_items (
        collection text NOT NULL REFERENCES ${s}.vector_collections (name) ON DELETE CASCADE,
        id text NOT NULL,
        vector real[] NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (collection, id)
      )`,
    ]),
    // Issue 18, batched add: the length is the largest of each lexeme's last position (positions are
    // sorted within a lexeme) instead of a max over every position; with no `SET search_path` (the
    // body names pg_catalog itself) the call skips a configuration save and restore. Same values;
    // ~10 µs less a row in the insert trigger (a third of its time besides to_tsvector).
    '0008-search-length-last-positions': sqlMigration([
      `CREATE OR REPLACE FUNCTION ${s}.search_length(document tsvector) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(pg_catalog.max(entry.positions[pg_catalog.cardinality(entry.positions)]), 0)::integer
        FROM pg_catalog.unnest(document) AS entry
      $$`,
    ]),
    // Issue 18, lexical search at 1M (opt-in: `postgresStore({ lexicalPostings: true })`, see
    // enableLexicalPostings): one row per (lexeme, live current memory), ordered by the memory's
    // length, so "the 50 shortest memories holding this lexeme" reads exactly those index rows
    // instead of walking `memories_search_length` until 50 of them hold it (~documents × 50 / df
    // rows: 30,000 for a lexeme in 0.2 % of 1M memories). The user is included so one-user lists
    // are tested in the index. Kept by triggers in the write transaction: one statement-level
    // insert per INSERT statement (a whole `addMany` batch), and row-level triggers only when an
    // update or delete changes what is listed (text, length, user, deleted, superseded) — access
    // statistics and decay scores never fire them. ~18 rows a memory double the server CPU of a
    // batched add, so the triggers are created disabled and the table empty: nothing changes for a
    // database until a store opens it with the option, which fills the table and enables them.
    '0009-lexical-postings': sqlMigration([
      `CREATE TABLE ${s}.memory_lexemes (
        lexeme text COLLATE "C" NOT NULL,
        search_length integer NOT NULL,
        memory_id text COLLATE "C" NOT NULL,
        user_id text
      )`,
      `ALTER TABLE ${s}.memory_lexemes ADD CONSTRAINT memory_lexemes_pkey PRIMARY KEY (lexeme, search_length, memory_id) INCLUDE (user_id)`,
      `CREATE FUNCTION ${s}.memory_lexemes_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.memory_lexemes (lexeme, search_length, memory_id, user_id)
          SELECT lexeme, coalesce(inserted.search_length, 0), inserted.id, inserted.user_id
          FROM inserted, pg_catalog.unnest(pg_catalog.tsvector_to_array(inserted.search)) AS lexeme
          WHERE inserted.deleted_at IS NULL AND inserted.superseded_by IS NULL;
        RETURN NULL;
      END $$`,
      `CREATE TRIGGER memory_lexemes_insert AFTER INSERT ON ${s}.memories
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ${s}.memory_lexemes_insert()`,
      // OLD's rows leave the list and NEW's enter it (an update or a delete; either side may be unlisted).
      `CREATE FUNCTION ${s}.memory_lexemes_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL AND OLD.superseded_by IS NULL THEN
          DELETE FROM ${s}.memory_lexemes
          WHERE lexeme = ANY(pg_catalog.tsvector_to_array(OLD.search)) AND search_length = coalesce(OLD.search_length, 0) AND memory_id = OLD.id;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NULL AND NEW.superseded_by IS NULL THEN
          INSERT INTO ${s}.memory_lexemes (lexeme, search_length, memory_id, user_id)
            SELECT lexeme, coalesce(NEW.search_length, 0), NEW.id, NEW.user_id
            FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(NEW.search)) AS lexeme;
        END IF;
        RETURN NULL;
      END $$`,
      `CREATE TRIGGER memory_lexemes_update AFTER UPDATE ON ${s}.memories FOR EACH ROW
        WHEN (OLD.search IS DISTINCT FROM NEW.search OR OLD.search_length IS DISTINCT FROM NEW.search_length
          OR OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.id IS DISTINCT FROM NEW.id
          OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) OR (OLD.superseded_by IS NULL) <> (NEW.superseded_by IS NULL))
        EXECUTE FUNCTION ${s}.memory_lexemes_change()`,
      `CREATE TRIGGER memory_lexemes_delete AFTER DELETE ON ${s}.memories FOR EACH ROW
        WHEN (OLD.deleted_at IS NULL AND OLD.superseded_by IS NULL)
        EXECUTE FUNCTION ${s}.memory_lexemes_change()`,
      `ALTER TABLE ${s}.memories DISABLE TRIGGER memory_lexemes_insert`,
      `ALTER TABLE ${s}.memories DISABLE TRIGGER memory_lexemes_update`,
      `ALTER TABLE ${s}.memories DISABLE TRIGGER memory_lexemes_delete`,
    ]),
    // Lexical search reads a lexeme's document frequency from `pg_stats` when ANALYZE lists it
    // among the column's most common elements, and otherwise counts its rows (up to 2,000 heap
    // rows through the text index: 5–13 ms at 1M memories, paid by every search with a word not
    // seen in the last 30 s). The default statistics target keeps 1,000 elements from a 30,000-row
    // sample; 300 keeps up to 3,000 from 90,000 rows (ANALYZE of 1M memories 0.8 → 1.9 s, in
    // autovacuum's background), which lists every word of the bench corpus that is in ≥ 0.25 % of
    // memories: corpus-word searches at 1M, first sight of each word, 21–23 → 16–17 ms backend CPU.
    // An existing store's column is analysed now (it gets the longer list at once); an empty table
    // is left never-analysed, which is how lexical search knows to ask for ANALYZE after a bulk load.
    '0010-search-statistics': sqlMigration([
      `ALTER TABLE ${s}.memories ALTER COLUMN search SET STATISTICS 300`,
      `DO $$ BEGIN IF EXISTS (SELECT 1 FROM ${s}.memories) THEN ANALYZE ${s}.memories (search); END IF; END $$`,
    ]),
    // BM25 ranks short memories first, so every candidate list of lexical search is "the shortest
    // memories holding these words". For a rare word the walk of `memories_search_length` reads
    // ~documents × 50 / df rows before it has 50 (14,000–24,000 rows, 5–16 ms at 1M). This text
    // index holds only the memories of at most `shortMemoryLength` (12) tokens: when enough of a
    // word's holders are that short, its shortest 50 are among them (0.25 ms for 223 holders at
    // 1M). A write of a short memory adds its words to a second GIN index; longer ones do not.
    '0011-short-memories-search': sqlMigration([
      'SET LOCAL statement_timeout = 0',
      `CREATE INDEX memories_search_short ON ${s}.memories USING gin (search)
        WHERE deleted_at IS NULL AND search_length <= ${shortMemoryLength}`,
    ]),
    // Sync's erasure log in a table of its own (it was meta values `capability:sync:erasure:<n>`,
    // whose head was read and then written outside any transaction: two processes erasing at once
    // could both take the same number). An append takes its numbers by moving `erasure-head` in
    // the same transaction as its rows (the row lock queues concurrent appenders, so numbers become
    // visible in order). Existing entries move over with their numbers.
    '0012-erasure-log': sqlMigration([
      `CREATE TABLE ${s}.sync_erasures (
        seq bigint PRIMARY KEY,
        ids jsonb NOT NULL,
        origin text NOT NULL,
        created_at timestamptz NOT NULL
      )`,
      `INSERT INTO ${s}.sync_erasures (seq, ids, origin, created_at)
        SELECT substr(key, 25)::bigint, (value #>> '{}')::jsonb -> 'ids', (value #>> '{}')::jsonb ->> 'origin', now()
        FROM ${s}.engram_meta WHERE key ~ '^capability:sync:erasure:[0-9]+$'`,
      `INSERT INTO ${s}.engram_meta (key, value)
        SELECT 'erasure-head', to_jsonb((value #>> '{}')::bigint) FROM ${s}.engram_meta WHERE key = 'capability:sync:erasure:head'`,
      `DELETE FROM ${s}.engram_meta WHERE key LIKE 'capability:sync:erasure:%'`,
    ]),
    // Hygiene: a `created` history entry stores no copy of the record (~700 bytes a memory and
    // the JSON encoding of every insert) while the memory row holds it: `changes` is null and
    // reads take the changes from the row (postgres-history.ts). Before a recorded column of the
    // row changes, or the row is deleted, a trigger copies the row as it was into the entry, so
    // whoever writes — the store, a raw UPDATE, a later migration — history keeps the version
    // that was created. Existing entries keep their copy. The row's columns are listed as of this
    // migration (a later column must not change what 0013 does to an older schema).
    '0013-history-created-rows': sqlMigration([
      `ALTER TABLE ${s}.memory_history ALTER COLUMN changes DROP NOT NULL`,
      `CREATE FUNCTION ${s}.memory_history_keep_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE ${s}.memory_history
        SET changes = pg_catalog.json_build_object('engram:row', (SELECT pg_catalog.to_json(r) FROM (SELECT ${createdRowColumns}) AS r))
        WHERE memory_id = OLD.id AND changes IS NULL;
        RETURN NULL;
      END $$`,
      `CREATE TRIGGER memory_history_created_kept AFTER UPDATE ON ${s}.memories FOR EACH ROW
        WHEN ((${recordedColumnsAt0013.map((column) => `OLD.${column}`).join(', ')})
          IS DISTINCT FROM (${recordedColumnsAt0013.map((column) => `NEW.${column}`).join(', ')}))
        EXECUTE FUNCTION ${s}.memory_history_keep_created()`,
      `CREATE TRIGGER memory_history_created_kept_on_delete AFTER DELETE ON ${s}.memories FOR EACH ROW
        EXECUTE FUNCTION ${s}.memory_history_keep_created()`,
    ]),
    // Issue 18, batched add: the text-index trigger was a quarter of the server CPU of an INSERT,
    // and half of that was not the text search itself. Same document and length, cheaper (a batch of
    // 1,000 at 60k memories: INSERT and history insert ~10 % less backend CPU, A/B on one server):
    // - no `SET search_path` (every name is qualified with pg_catalog instead): the setting was
    //   saved, changed and restored for every row;
    // - the context part is computed only when there is a context (for NULL it was the empty
    //   document, and `document || ''` is `document`, lexemes, positions and weights alike);
    // - the length without the SQL function `search_length` (an executor start and an unnest of
    //   every lexeme, a row): `||` appends its right operand after the last position of its left,
    //   so a marker lexeme appended at position 1 lands at (length + 1). Its position is read from
    //   the text form. The marker is upper-case: every lexeme of to_tsvector('english', …) is
    //   lower-case, so it never merges with a word of the memory. Positions stop at 16,383: a
    //   marker there may follow a length of 16,382 or 16,383, and only then is `search_length` called.
    '0014-search-document-without-calls': sqlMigration([
      `CREATE OR REPLACE FUNCTION ${s}.memories_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        marked text;
        marker_position integer;
      BEGIN
        NEW.search := pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig,
          pg_catalog.left(NEW.content, ${indexedContentChars}) OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(NEW.tags, ' ')), 'A');
        IF NEW.context IS NOT NULL THEN
          NEW.search := NEW.search OPERATOR(pg_catalog.||) pg_catalog.setweight(
            pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, pg_catalog.left(NEW.context, ${indexedContentChars})), 'B');
        END IF;
        marked := (NEW.search OPERATOR(pg_catalog.||) '${searchLengthMarker}:1'::pg_catalog.tsvector)::pg_catalog.text;
        marker_position := pg_catalog.split_part(
          pg_catalog.substr(marked, pg_catalog.strpos(marked, '''${searchLengthMarker}'':') OPERATOR(pg_catalog.+) ${searchLengthMarker.length + 3}), ' ', 1)::pg_catalog.int4;
        IF marker_position OPERATOR(pg_catalog.<) 16383 THEN
          NEW.search_length := marker_position OPERATOR(pg_catalog.-) 1;
        ELSE
          NEW.search_length := ${s}.search_length(NEW.search);
        END IF;
        RETURN NEW;
      END $$`,
    ]),
  };
}

/** The lexeme 0014's trigger appends to read a document's length (upper-case: never a lexeme of to_tsvector). */
const searchLengthMarker = 'ENGRAMLENGTH';

/**
 * Columns of `memories` a history entry records (all but access statistics, the decay score,
 * `updated_at` and `content_hash`: see core's `diffRecords`), as of migration 0013.
 */
const recordedColumnsAt0013 = [
  'id',
  'content',
  'context',
  'context_source',
  'type',
  'subtype',
  'tags',
  'metadata',
  'user_id',
  'agent_id',
  'run_id',
  'conversation_id',
  'importance',
  'quality',
  'created_at',
  'valid_from',
  'valid_to',
  'superseded_by',
  'deleted_at',
  'key',
  'source',
  'confidence',
  'emotion',
  'emotional_valence',
  'emotional_arousal',
  'episode_id',
  'sequence_number',
  'preceding_memory_id',
  'source_type',
  'credibility',
];

/**
 * The OLD row in the form `postgres-records.ts` reads (`MemoryRow`: dates as epoch milliseconds,
 * tags as JSON), every column as of migration 0013.
 */
const createdRowColumns = [
  ...[
    'id',
    'content',
    'context',
    'context_source',
    'content_hash',
    'type',
    'subtype',
    'metadata',
    'user_id',
    'agent_id',
    'run_id',
    'conversation_id',
    'importance',
    'quality',
    'access_count',
    'superseded_by',
    'key',
    'source',
    'confidence',
    'emotion',
    'emotional_valence',
    'emotional_arousal',
    'episode_id',
    'sequence_number',
    'preceding_memory_id',
    'source_type',
    'credibility',
    'decay_score',
  ].map((column) => `OLD.${column} AS ${column}`),
  'pg_catalog.to_jsonb(OLD.tags) AS tags',
  ...['last_accessed_at', 'created_at', 'updated_at', 'valid_from', 'valid_to', 'deleted_at'].map(
    (column) => `(pg_catalog.date_part('epoch', OLD.${column}) * 1000)::float8 AS ${column}`,
  ),
].join(', ');

/** Whether `memory_lexemes` is kept (its insert trigger enabled) in this schema. */
export async function lexicalPostingsEnabled(client: Queryable, schema: string): Promise<boolean> {
  const { rows } = await client.query<{ enabled: boolean }>(
    `SELECT t.tgenabled <> 'D' AS enabled FROM pg_trigger t
     WHERE t.tgrelid = to_regclass($1) AND t.tgname = 'memory_lexemes_insert'`,
    [`${quoteIdentifier(schema)}.memories`],
  );
  return rows[0]?.enabled === true;
}

/**
 * Turns on `memory_lexemes` for a schema (once; a no-op when it is on): fills it from the live,
 * current memories and enables its triggers, in one transaction under the migration lock, so no
 * write lands between the fill and the triggers (writers wait on the table lock). At 1M memories
 * the fill takes about a minute and the table is ~3 GB (index included). It stays on for every
 * process writing the database.
 */
export async function enableLexicalPostings(client: PostgresClient, schema: string): Promise<boolean> {
  if (await lexicalPostingsEnabled(client, schema)) return false;
  const s = quoteIdentifier(schema);
  return client.transaction(async (transaction) => {
    await transaction.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockNamespace, `migrate:${schema}`]);
    if (await lexicalPostingsEnabled(transaction, schema)) return false;
    // The fill may outlast the store's statement_timeout (about a minute at 1M memories).
    await transaction.query('SET LOCAL statement_timeout = 0');
    // SHARE ROW EXCLUSIVE: reads go on, writes wait until the triggers are on.
    await transaction.query(`LOCK TABLE ${s}.memories IN SHARE ROW EXCLUSIVE MODE`);
    await transaction.query(`TRUNCATE ${s}.memory_lexemes`);
    // The index is built once after the fill (a sorted bulk build) rather than row by row: at 1M
    // memories (18M rows, an index larger than shared_buffers) 52 s instead of more than 5 minutes.
    await transaction.query(`ALTER TABLE ${s}.memory_lexemes DROP CONSTRAINT memory_lexemes_pkey`);
    await transaction.query(
      `INSERT INTO ${s}.memory_lexemes (lexeme, search_length, memory_id, user_id)
       SELECT lexeme, coalesce(m.search_length, 0), m.id, m.user_id
       FROM ${s}.memories m, unnest(tsvector_to_array(m.search)) AS lexeme
       WHERE m.deleted_at IS NULL AND m.superseded_by IS NULL`,
    );
    await transaction.query(
      `ALTER TABLE ${s}.memory_lexemes ADD CONSTRAINT memory_lexemes_pkey PRIMARY KEY (lexeme, search_length, memory_id) INCLUDE (user_id)`,
    );
    for (const trigger of ['memory_lexemes_insert', 'memory_lexemes_update', 'memory_lexemes_delete'])
      await transaction.query(`ALTER TABLE ${s}.memories ENABLE TRIGGER ${trigger}`);
    await transaction.query(`ANALYZE ${s}.memory_lexemes`);
    return true;
  });
}

/** A migration made of SQL statements, run in order on the migration transaction. */
function sqlMigration(statements: string[]): Migration {
  return {
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's Migration signature.
    async up(db: Kysely<any>) {
      const { sql } = await import('kysely');
      for (const statement of statements) await sql.raw(statement).execute(db);
    },
  };
}

/**
 * Creates the schema on first use and applies any migration this version adds, through Kysely's
 * `Migrator`, inside one transaction.
 *
 * Several processes starting at once do not race: the transaction first takes an advisory lock
 * keyed by the schema name, so one process migrates while the others wait, then find nothing
 * left to do. DDL is transactional in Postgres, so a failed migration leaves nothing behind.
 * A plain read first skips the lock entirely when the schema is already current.
 */
export async function migrateToLatest(
  client: PostgresClient,
  schema: string,
  all: Record<string, Migration> = migrations(schema),
): Promise<void> {
  if (await isUpToDate(client, schema, all)) return;
  const kysely = await loadKysely();
  await client.transaction(async (transaction) => {
    await transaction.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [lockNamespace, `migrate:${schema}`]);
    // The migration table lives in the schema, so the schema comes first.
    await transaction.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
    const db = new kysely.Kysely<unknown>({ dialect: transactionDialect(kysely, transaction) });
    const provider: MigrationProvider = { getMigrations: async () => all };
    const migrator = new kysely.Migrator({
      db,
      provider,
      migrationTableName,
      migrationLockTableName,
      migrationTableSchema: schema,
      // Already in a transaction (ours, holding the lock).
      disableTransactions: true,
      // Migrations are numbered by the branch that wrote them and never depend on one another, so
      // a schema that already has a later-numbered one still takes an earlier-numbered newcomer.
      allowUnorderedMigrations: true,
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  });
}

async function isUpToDate(client: PostgresClient, schema: string, all: Record<string, Migration>): Promise<boolean> {
  const table = `${quoteIdentifier(schema)}.${quoteIdentifier(migrationTableName)}`;
  const exists = await client.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  if (!exists.rows[0]?.found) return false;
  const applied = new Set((await client.query<{ name: string }>(`SELECT name FROM ${table}`)).rows.map((row) => row.name));
  return Object.keys(all).every((name) => applied.has(name));
}

async function loadKysely(): Promise<typeof import('kysely')> {
  try {
    return await import('kysely');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error('The Postgres store needs the "kysely" package for its migrations: run `npm install kysely pg`', { cause: error });
    }
    throw error;
  }
}
