import {
  type CollectionChanges,
  type CollectionInfo,
  type CollectionItem,
  type CollectionMatch,
  type CollectionQuery,
  type CollectionSpec,
  type CollectionTarget,
  type CollectionUpsertOptions,
  type Condition,
  checkCollectionName,
  checkIds,
  collectionConflict,
  collectionNotFound,
  collectionScore,
  type PreparedTarget,
  prepareChanges,
  prepareItems,
  prepareQuery,
  prepareTarget,
  resolveCollectionSpec,
  type StoredCollectionItem,
  TopMatches,
  type VectorCollections,
  type VectorMetric,
} from '@engram/core';
import { compileCondition, type SqlParameter } from './sqlite-filter.js';
import { withRetry } from './sqlite-retry.js';
import type { SqliteSession } from './sqlite-session.js';

interface CollectionRow {
  dimensions: number;
  metric: VectorMetric;
}

interface ItemRow {
  id: string;
  vector: Buffer;
  metadata: string;
}

/** At most this many ids per statement (SQLite binds up to 32,766 parameters; ids go as one JSON array anyway). */
const idChunk = 5_000;

function blob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** A float32 blob as a vector (copied when the driver's buffer is not 4-byte aligned). */
function fromBlob(value: Buffer): Float32Array {
  if (value.byteOffset % 4 === 0) return new Float32Array(value.buffer, value.byteOffset, value.byteLength / 4);
  return new Float32Array(new Uint8Array(value).buffer);
}

/**
 * `VectorCollections` in the store's SQLite file (tables from migration 0009).
 *
 * Queries are exact, in one statement: the metadata filter (the same compiled `Condition` SQL as
 * memory filters, over the JSON text column), the score from sqlite-vec's distance functions
 * (cosine, Euclidean), `ORDER BY score DESC, id LIMIT k`. The inner product, which sqlite-vec does
 * not compute, is scored in the process over the rows that pass the filter. Either way it reads
 * every vector of the collection that passes the filter — right for the tens of thousands of
 * chunks a RAG index holds; there is no approximate index. Writes are single `BEGIN IMMEDIATE`
 * transactions, validated inside them before anything is written.
 */
export class SqliteCollections implements VectorCollections {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'sqlite';
  readonly search = 'exact' as const;

  constructor(private readonly session: () => Promise<SqliteSession>) {}

  private async run<T>(operation: string, work: (session: SqliteSession) => T): Promise<T> {
    const session = await this.session();
    return withRetry(`collections.${operation}`, () => work(session));
  }

  private describe(session: SqliteSession, name: string): CollectionRow {
    const row = session.statement('SELECT dimensions, metric FROM vector_collections WHERE name = ?').get(name) as
      | CollectionRow
      | undefined;
    if (!row) throw collectionNotFound(name);
    return row;
  }

  async createCollection(name: string, spec: CollectionSpec): Promise<boolean> {
    checkCollectionName(name);
    const wanted = resolveCollectionSpec(spec);
    return this.run('createCollection', (session) =>
      session.write(() => {
        const existing = session.statement('SELECT dimensions, metric FROM vector_collections WHERE name = ?').get(name) as
          | CollectionRow
          | undefined;
        if (existing) {
          if (existing.dimensions === wanted.dimensions && existing.metric === wanted.metric) return false;
          throw collectionConflict(name, existing, wanted);
        }
        session
          .statement('INSERT INTO vector_collections (name, dimensions, metric, created_at) VALUES (?, ?, ?, ?)')
          .run(name, wanted.dimensions, wanted.metric, Date.now());
        return true;
      }),
    );
  }

  async listCollections(): Promise<string[]> {
    return this.run('listCollections', (session) =>
      (session.statement('SELECT name FROM vector_collections ORDER BY name').all() as Array<{ name: string }>).map((row) => row.name),
    );
  }

  async describeCollection(name: string): Promise<CollectionInfo> {
    checkCollectionName(name);
    return this.run('describeCollection', (session) => {
      const { dimensions, metric } = this.describe(session, name);
      const { count } = session.statement('SELECT count(*) AS count FROM vector_collection_items WHERE collection = ?').get(name) as {
        count: number;
      };
      return { name, dimensions, metric, count };
    });
  }

  async deleteCollection(name: string): Promise<boolean> {
    checkCollectionName(name);
    return this.run('deleteCollection', (session) =>
      session.write(() => {
        // Explicit, not left to ON DELETE CASCADE: a database the caller opened may have foreign keys off.
        session.statement('DELETE FROM vector_collection_items WHERE collection = ?').run(name);
        return session.statement('DELETE FROM vector_collections WHERE name = ?').run(name).changes > 0;
      }),
    );
  }

  async upsert(name: string, items: readonly CollectionItem[], options: CollectionUpsertOptions = {}): Promise<void> {
    checkCollectionName(name);
    await this.run('upsert', (session) =>
      // Checked inside the write lock, so the shape cannot change between the check and the write.
      session.write(() => {
        const { dimensions } = this.describe(session, name);
        const prepared = prepareItems(items, dimensions);
        if (options.replace !== undefined) {
          const replace = compileCondition(options.replace, 'metadata');
          session.statement(`DELETE FROM vector_collection_items WHERE collection = ? AND ${replace.sql}`).run(name, ...replace.params);
        }
        const write = session.statement(
          `INSERT INTO vector_collection_items (collection, id, vector, metadata) VALUES (?, ?, ?, ?)
           ON CONFLICT (collection, id) DO UPDATE SET vector = excluded.vector, metadata = excluded.metadata`,
        );
        for (const item of prepared) write.run(name, item.id, blob(item.vector), item.metadata);
      }),
    );
  }

  async query(name: string, query: CollectionQuery): Promise<CollectionMatch[]> {
    checkCollectionName(name);
    return this.run('query', (session) => {
      const { dimensions, metric } = this.describe(session, name);
      const prepared = prepareQuery(query, dimensions);
      const where = prepared.filter ? compileCondition(prepared.filter, 'metadata') : { sql: '1', params: [] as SqlParameter[] };
      const score = nativeScore(metric);
      if (score) {
        // sqlite-vec computes the distance in C, inside the same statement as the filter and the LIMIT.
        const rows = session
          .statement(
            `SELECT id, metadata${prepared.includeVectors ? ', vector' : ''}, ${score} AS score FROM vector_collection_items
             WHERE collection = ? AND ${where.sql} ORDER BY score DESC, id LIMIT ?`,
          )
          .all(blob(prepared.vector), name, ...where.params, prepared.topK) as Array<ItemRow & { score: number }>;
        return rows.map((row) => ({ ...toItem(row, prepared.includeVectors), score: row.score }));
      }
      const top = new TopMatches<{ id: string; score: number }>(prepared.topK);
      const rows = session
        .statement(`SELECT id, vector FROM vector_collection_items WHERE collection = ? AND ${where.sql}`)
        .iterate(name, ...where.params) as IterableIterator<Pick<ItemRow, 'id' | 'vector'>>;
      for (const row of rows) top.offer({ id: row.id, score: collectionScore(metric, prepared.vector, fromBlob(row.vector)) });
      const best = top.result();
      const found = new Map(
        this.read(
          session,
          name,
          best.map((match) => match.id),
        ).map((row) => [row.id, row]),
      );
      return best.flatMap(({ id, score }) => {
        const row = found.get(id);
        return row ? [{ ...toItem(row, prepared.includeVectors), score }] : [];
      });
    });
  }

  async get(name: string, ids: readonly string[], options: { includeVectors?: boolean } = {}): Promise<StoredCollectionItem[]> {
    checkCollectionName(name);
    const wanted = checkIds(ids);
    return this.run('get', (session) => {
      this.describe(session, name);
      const found = new Map(this.read(session, name, wanted).map((row) => [row.id, row]));
      return wanted.flatMap((id) => {
        const row = found.get(id);
        return row ? [toItem(row, options.includeVectors === true)] : [];
      });
    });
  }

  async update(name: string, target: CollectionTarget, changes: CollectionChanges): Promise<number> {
    checkCollectionName(name);
    return this.run('update', (session) =>
      session.write(() => {
        const { dimensions } = this.describe(session, name);
        const prepared = prepareChanges(changes, dimensions);
        const assignments: string[] = [];
        const values: SqlParameter[] = [];
        if (prepared.vector) {
          assignments.push('vector = ?');
          values.push(blob(prepared.vector));
        }
        if (prepared.metadata !== undefined) {
          assignments.push('metadata = ?');
          values.push(prepared.metadata);
        }
        let changed = 0;
        for (const part of this.selection(prepareTarget(target))) {
          changed += session
            .statement(`UPDATE vector_collection_items SET ${assignments.join(', ')} WHERE collection = ? AND ${part.sql}`)
            .run(...values, name, ...part.params).changes;
        }
        return changed;
      }),
    );
  }

  async delete(name: string, target: CollectionTarget): Promise<number> {
    checkCollectionName(name);
    return this.run('delete', (session) =>
      session.write(() => {
        this.describe(session, name);
        let deleted = 0;
        for (const part of this.selection(prepareTarget(target))) {
          deleted += session
            .statement(`DELETE FROM vector_collection_items WHERE collection = ? AND ${part.sql}`)
            .run(name, ...part.params).changes;
        }
        return deleted;
      }),
    );
  }

  /** WHERE fragments (after `collection = ?`) selecting the target, ids in chunks. */
  private selection(target: PreparedTarget): Array<{ sql: string; params: SqlParameter[] }> {
    if ('filter' in target) return [compileCondition(target.filter as Condition, 'metadata')];
    const parts: Array<{ sql: string; params: SqlParameter[] }> = [];
    for (let start = 0; start < target.ids.length; start += idChunk) {
      parts.push({ sql: 'id IN (SELECT value FROM json_each(?))', params: [JSON.stringify(target.ids.slice(start, start + idChunk))] });
    }
    return parts;
  }

  private read(session: SqliteSession, name: string, ids: string[]): ItemRow[] {
    const rows: ItemRow[] = [];
    for (let start = 0; start < ids.length; start += idChunk) {
      rows.push(
        ...(session
          .statement(
            'SELECT id, vector, metadata FROM vector_collection_items WHERE collection = ? AND id IN (SELECT value FROM json_each(?))',
          )
          .all(name, JSON.stringify(ids.slice(start, start + idChunk))) as ItemRow[]),
      );
    }
    return rows;
  }
}

/**
 * The score as SQL over sqlite-vec's distance functions (the query vector is the first parameter),
 * or null for the inner product, which sqlite-vec does not compute: those queries score each
 * vector that passes the filter in the process instead. A zero vector has no cosine: sqlite-vec
 * answers NULL, the contract 0.
 */
function nativeScore(metric: VectorMetric): string | null {
  if (metric === 'cosine') return 'coalesce(1 - vec_distance_cosine(vector, ?), 0)';
  if (metric === 'euclidean') return '1 / (1 + vec_distance_l2(vector, ?))';
  return null;
}

function toItem(row: ItemRow, includeVectors: boolean): StoredCollectionItem {
  return {
    id: row.id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    ...(includeVectors ? { vector: Float32Array.from(fromBlob(row.vector)) } : {}),
  };
}
