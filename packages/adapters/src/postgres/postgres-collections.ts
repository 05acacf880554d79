import {
  type CollectionChanges,
  type CollectionInfo,
  type CollectionItem,
  type CollectionMatch,
  type CollectionQuery,
  type CollectionSpec,
  type CollectionTarget,
  type CollectionUpsertOptions,
  checkCollectionName,
  checkIds,
  collectionConflict,
  collectionNotFound,
  type PreparedTarget,
  prepareChanges,
  prepareItems,
  prepareQuery,
  prepareTarget,
  resolveCollectionSpec,
  type StoredCollectionItem,
  type VectorCollections,
  type VectorMetric,
} from '@engram/core';
import type { Queryable } from './postgres-client.js';
import { withErrors } from './postgres-errors.js';
import { compileCondition } from './postgres-filter.js';
import type { PostgresSession } from './postgres-session.js';
import { quoteIdentifier, SqlParameters } from './postgres-sql.js';

interface CollectionRow {
  dimensions: number;
  metric: VectorMetric;
}

interface ItemRow {
  id: string;
  metadata: Record<string, unknown>;
  vector?: string;
}

/** Items per INSERT statement (each item is three array elements). */
const insertChunk = 1_000;

/** A float32 vector as Postgres array text: the shortest decimals that round-trip each float32. */
function arrayLiteral(vector: Float32Array): string {
  return `{${Array.prototype.join.call(vector, ',')}}`;
}

/** `real[]` text (`{0.1,0.2}`) as a vector; float4 output is shortest-exact, so this is lossless. */
function parseArray(text: string): Float32Array {
  const inner = text.slice(1, -1);
  return inner.length === 0 ? new Float32Array(0) : Float32Array.from(inner.split(','), Number);
}

/**
 * `VectorCollections` in the store's schema (tables from migration 0007), vectors as `real[]`.
 *
 * Queries are exact scans inside one SQL statement — the metadata filter (the same compiled
 * `Condition` as memory filters, over `jsonb`) in its WHERE, `ORDER BY score DESC, id LIMIT k` —
 * so the filter always applies before the top k. With pgvector the score is computed by its
 * distance operators on `vector::vector`; without it (a server where the extension is missing) by
 * plain SQL over `unnest(vector, query)`, slower but the same answer. There is no HNSW index on
 * collections: each has its own dimension, and an approximate index would need the iterative
 * filtered scan the memories' index uses (see `PostgresVectorIndex`).
 */
export class PostgresCollections implements VectorCollections {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'postgres';
  readonly search = 'exact' as const;

  constructor(private readonly session: () => Promise<PostgresSession>) {}

  private async run<T>(operation: string, work: (session: PostgresSession, tables: Tables) => Promise<T>): Promise<T> {
    const session = await this.session();
    return withErrors(`collections.${operation}`, session.errors, () => work(session, tables(session)));
  }

  private async describe(queryable: Queryable, tables: Tables, name: string, lock = false): Promise<CollectionRow> {
    const { rows } = await queryable.query<CollectionRow>(
      `SELECT dimensions, metric FROM ${tables.collections} WHERE name = $1${lock ? ' FOR SHARE' : ''}`,
      [name],
    );
    const row = rows[0];
    if (!row) throw collectionNotFound(name);
    return row;
  }

  async createCollection(name: string, spec: CollectionSpec): Promise<boolean> {
    checkCollectionName(name);
    const wanted = resolveCollectionSpec(spec);
    return this.run('createCollection', async (session, tables) => {
      const { rows } = await session.client.query<{ name: string }>(
        `INSERT INTO ${tables.collections} (name, dimensions, metric) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING name`,
        [name, wanted.dimensions, wanted.metric],
      );
      if (rows.length > 0) return true;
      const existing = await this.describe(session.client, tables, name);
      if (existing.dimensions === wanted.dimensions && existing.metric === wanted.metric) return false;
      throw collectionConflict(name, existing, wanted);
    });
  }

  async listCollections(): Promise<string[]> {
    return this.run('listCollections', async (session, tables) => {
      const { rows } = await session.client.query<{ name: string }>(`SELECT name FROM ${tables.collections} ORDER BY name COLLATE "C"`);
      return rows.map((row) => row.name);
    });
  }

  async describeCollection(name: string): Promise<CollectionInfo> {
    checkCollectionName(name);
    return this.run('describeCollection', async (session, tables) => {
      const { dimensions, metric } = await this.describe(session.client, tables, name);
      const { rows } = await session.client.query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${tables.items} WHERE collection = $1`,
        [name],
      );
      return { name, dimensions, metric, count: rows[0]?.count ?? 0 };
    });
  }

  async deleteCollection(name: string): Promise<boolean> {
    checkCollectionName(name);
    return this.run('deleteCollection', async (session, tables) => {
      // The items go with it (ON DELETE CASCADE), in the same statement.
      const result = await session.client.query(`DELETE FROM ${tables.collections} WHERE name = $1`, [name]);
      return result.rowCount > 0;
    });
  }

  async upsert(name: string, items: readonly CollectionItem[], options: CollectionUpsertOptions = {}): Promise<void> {
    checkCollectionName(name);
    await this.run('upsert', (session, tables) =>
      session.client.transaction(async (transaction) => {
        // FOR SHARE: the collection cannot be deleted or replaced until this write commits.
        const { dimensions } = await this.describe(transaction, tables, name, true);
        const prepared = prepareItems(items, dimensions);
        if (options.replace !== undefined) {
          const params = new SqlParameters();
          const collection = params.add(name);
          const condition = compileCondition(options.replace, 'metadata', params);
          await transaction.query(`DELETE FROM ${tables.items} WHERE collection = ${collection} AND ${condition}`, params.values);
        }
        for (let start = 0; start < prepared.length; start += insertChunk) {
          const chunk = prepared.slice(start, start + insertChunk);
          await transaction.query(
            `INSERT INTO ${tables.items} (collection, id, vector, metadata)
             SELECT $1, item.id, item.vector::real[], item.metadata::jsonb
             FROM unnest($2::text[], $3::text[], $4::text[]) AS item (id, vector, metadata)
             ON CONFLICT (collection, id) DO UPDATE SET vector = excluded.vector, metadata = excluded.metadata`,
            [name, chunk.map((item) => item.id), chunk.map((item) => arrayLiteral(item.vector)), chunk.map((item) => item.metadata)],
          );
        }
      }),
    );
  }

  async query(name: string, query: CollectionQuery): Promise<CollectionMatch[]> {
    checkCollectionName(name);
    return this.run('query', async (session, tables) => {
      const { dimensions, metric } = await this.describe(session.client, tables, name);
      const prepared = prepareQuery(query, dimensions);
      const params = new SqlParameters();
      const collection = params.add(name);
      const filter = prepared.filter ? compileCondition(prepared.filter, 'i.metadata', params) : 'true';
      const score = scoreSql(session, metric, params, prepared.vector);
      const limit = params.add(prepared.topK);
      const { rows } = await session.client.query<ItemRow & { score: number }>(
        `SELECT i.id, i.metadata, ${prepared.includeVectors ? 'i.vector::text AS vector, ' : ''}${score.expression} AS score
         FROM ${tables.items} i${score.from}
         WHERE i.collection = ${collection} AND ${filter}
         ORDER BY score DESC, i.id COLLATE "C"
         LIMIT ${limit}`,
        params.values,
      );
      return rows.map((row) => ({ ...toItem(row), score: Number(row.score) }));
    });
  }

  async get(name: string, ids: readonly string[], options: { includeVectors?: boolean } = {}): Promise<StoredCollectionItem[]> {
    checkCollectionName(name);
    const wanted = checkIds(ids);
    return this.run('get', async (session, tables) => {
      await this.describe(session.client, tables, name);
      const { rows } = await session.client.query<ItemRow>(
        `SELECT id, metadata${options.includeVectors ? ', vector::text AS vector' : ''} FROM ${tables.items}
         WHERE collection = $1 AND id = ANY($2::text[])`,
        [name, wanted],
      );
      const found = new Map(rows.map((row) => [row.id, row]));
      return wanted.flatMap((id) => {
        const row = found.get(id);
        return row ? [toItem(row)] : [];
      });
    });
  }

  async update(name: string, target: CollectionTarget, changes: CollectionChanges): Promise<number> {
    checkCollectionName(name);
    return this.run('update', (session, tables) =>
      session.client.transaction(async (transaction) => {
        const { dimensions } = await this.describe(transaction, tables, name, true);
        const prepared = prepareChanges(changes, dimensions);
        const params = new SqlParameters();
        const assignments: string[] = [];
        if (prepared.vector) assignments.push(`vector = ${params.add(arrayLiteral(prepared.vector))}::real[]`);
        if (prepared.metadata !== undefined) assignments.push(`metadata = ${params.add(prepared.metadata)}::jsonb`);
        const collection = params.add(name);
        const selection = selectionSql(prepareTarget(target), params);
        const result = await transaction.query(
          `UPDATE ${tables.items} SET ${assignments.join(', ')} WHERE collection = ${collection} AND ${selection}`,
          params.values,
        );
        return result.rowCount;
      }),
    );
  }

  async delete(name: string, target: CollectionTarget): Promise<number> {
    checkCollectionName(name);
    const prepared = prepareTarget(target);
    return this.run('delete', async (session, tables) => {
      await this.describe(session.client, tables, name);
      const params = new SqlParameters();
      const collection = params.add(name);
      const selection = selectionSql(prepared, params);
      const result = await session.client.query(
        `DELETE FROM ${tables.items} WHERE collection = ${collection} AND ${selection}`,
        params.values,
      );
      return result.rowCount;
    });
  }
}

interface Tables {
  collections: string;
  items: string;
}

function tables(session: PostgresSession): Tables {
  const schema = quoteIdentifier(session.schema);
  return { collections: `${schema}.vector_collections`, items: `${schema}.vector_collection_items` };
}

function selectionSql(target: PreparedTarget, params: SqlParameters): string {
  if ('filter' in target) return compileCondition(target.filter, 'metadata', params);
  return `id = ANY(${params.textArray(target.ids)})`;
}

/**
 * The score of `i.vector` against the query (higher is more similar, as `VectorMetric` defines
 * it): pgvector's operators when the store uses pgvector, else plain SQL over the two arrays.
 */
function scoreSql(
  session: PostgresSession,
  metric: VectorMetric,
  params: SqlParameters,
  query: Float32Array,
): { expression: string; from: string } {
  if (session.vectorSupport) {
    const schema = session.vectorSupport.schema;
    const target = `${params.add(`[${Array.prototype.join.call(query, ',')}]`)}::${schema}.vector`;
    const item = `i.vector::${schema}.vector`;
    if (metric === 'dotproduct') return { expression: `-(${item} OPERATOR(${schema}.<#>) ${target})`, from: '' };
    if (metric === 'euclidean') return { expression: `1 / (1 + (${item} OPERATOR(${schema}.<->) ${target}))`, from: '' };
    // A zero vector has no direction: pgvector answers NaN, the contract 0.
    const distance = `(${item} OPERATOR(${schema}.<=>) ${target})`;
    return { expression: `CASE WHEN ${distance} = 'NaN'::float8 THEN 0 ELSE 1 - ${distance} END`, from: '' };
  }
  const target = `${params.add(arrayLiteral(query))}::float8[]`;
  const sums =
    metric === 'cosine'
      ? `CASE WHEN sum(a * a) = 0 OR sum(b * b) = 0 THEN 0 ELSE sum(a * b) / (sqrt(sum(a * a)) * sqrt(sum(b * b))) END`
      : metric === 'euclidean'
        ? `1 / (1 + sqrt(sum((a - b) * (a - b))))`
        : `sum(a * b)`;
  return {
    expression: 'scored.score',
    from: `, LATERAL (SELECT ${sums} AS score FROM unnest(i.vector::float8[], ${target}) AS pair (a, b)) scored`,
  };
}

function toItem(row: ItemRow): StoredCollectionItem {
  return {
    id: row.id,
    metadata: row.metadata,
    ...(row.vector !== undefined && row.vector !== null ? { vector: parseArray(row.vector) } : {}),
  };
}
