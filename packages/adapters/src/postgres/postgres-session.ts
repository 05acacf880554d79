import { AdapterError } from '@engram/core';
import type { PostgresClient, Queryable } from './postgres-client.js';
import type { ErrorContext } from './postgres-errors.js';
import { PostgresLexicalSearch } from './postgres-lexical.js';
import { quoteIdentifier } from './postgres-sql.js';

/** pgvector as found in the database. */
export interface VectorSupport {
  /** Schema the extension lives in (quoted), to qualify its type, operators and operator classes. */
  schema: string;
  version: string;
  /** pgvector ≥ 0.8: HNSW scans continue until enough rows pass the filter (`hnsw.iterative_scan`). */
  iterativeScan: boolean;
}

/** Largest dimension pgvector's HNSW index accepts for `vector`; larger vectors are searched exactly. */
export const maxIndexedDimensions = 2000;

/** Largest dimension of a pgvector `vector`. */
export const maxDimensions = 16000;

/** One open store: its client, qualified table names and what is known about vectors. */
export class PostgresSession {
  readonly memories: string;
  readonly relations: string;
  readonly history: string;
  readonly meta: string;
  /** Sync's erasure log (migration 0012). */
  readonly erasures: string;
  /** BM25 search with its cached statistics (dropped on every write through this store). */
  readonly lexical: PostgresLexicalSearch;
  /** The embedding column's dimension once known to exist (it is never dropped), else null. */
  private dimensions: number | null = null;

  constructor(
    readonly client: PostgresClient,
    readonly schema: string,
    readonly errors: ErrorContext,
    /** Null when vectors are off or pgvector is missing. */
    readonly vectorSupport: VectorSupport | null,
    /** Whether lexical search may build its data-chosen index in the background (a server, not PGlite). */
    buildIndexes = true,
  ) {
    const s = quoteIdentifier(schema);
    this.memories = `${s}.memories`;
    this.relations = `${s}.memory_relations`;
    this.history = `${s}.memory_history`;
    this.meta = `${s}.engram_meta`;
    this.erasures = `${s}.sync_erasures`;
    this.lexical = new PostgresLexicalSearch(this.memories, schema, `${s}.memory_lexemes`, undefined, { buildIndexes });
  }

  /** `vector(d)` qualified with the extension's schema; throws when pgvector is not in use. */
  vectorType(): string {
    return `${this.requireVectors().schema}.vector`;
  }

  /** The cosine-distance operator, qualified (it resolves without pgvector on the search_path). */
  cosineDistance(): string {
    return `OPERATOR(${this.requireVectors().schema}.<=>)`;
  }

  requireVectors(): VectorSupport {
    if (!this.vectorSupport) {
      throw new AdapterError(
        'postgres',
        'vectors',
        new Error('pgvector is not in use by this store'),
        'Install pgvector (CREATE EXTENSION vector), or pass a separate VectorIndex to Memory',
      );
    }
    return this.vectorSupport;
  }

  /** The embedding column's dimension, or null before any `vectors.open(dimensions)` (cached once it exists). */
  async vectorDimensions(queryable: Queryable = this.client): Promise<number | null> {
    if (this.dimensions !== null || !this.vectorSupport) return this.dimensions;
    const { rows } = await queryable.query<{ dimensions: number }>(
      `SELECT a.atttypmod AS dimensions FROM pg_attribute a
       WHERE a.attrelid = to_regclass($1) AND a.attname = 'embedding' AND NOT a.attisdropped`,
      [this.memories],
    );
    const found = rows[0]?.dimensions;
    if (found !== undefined && found > 0) this.dimensions = found;
    return this.dimensions;
  }

  /** Like `vectorDimensions`, for writes: a vector cannot be stored before the column exists. */
  async requireVectorColumn(queryable: Queryable = this.client): Promise<number> {
    const dimensions = await this.vectorDimensions(queryable);
    if (dimensions === null) {
      throw new AdapterError(
        'postgres',
        'vectors',
        new Error('no vector column yet'),
        'Call store.vectors.open(dimensions) once before writing vectors (Memory does this on open)',
      );
    }
    return dimensions;
  }
}

/** pgvector's text form of a vector: '[0.1,0.2,…]' (shortest round-trip decimals of the float32 values). */
export function vectorLiteral(vector: Float32Array): string {
  return `[${Array.prototype.join.call(vector, ',')}]`;
}
