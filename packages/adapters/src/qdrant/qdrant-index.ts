import {
  AdapterError,
  EngramError,
  type MemoryFilter,
  matchesFilter,
  ValidationError,
  type VectorIndex,
  type VectorItem,
  type VectorMatch,
} from '@engram/core';
import type { QdrantClient, Schemas } from '@qdrant/js-client-rest';
import { toQdrantFilter } from './qdrant-filter.js';
import { pointId } from './qdrant-ids.js';
import { fromPayload, type QdrantPayload, toPayload } from './qdrant-payload.js';

export interface QdrantIndexOptions {
  /** Qdrant's REST URL, e.g. 'http://localhost:6333' or a Qdrant Cloud cluster URL. */
  url?: string;
  /** API key (Qdrant Cloud, or a server started with one). */
  apiKey?: string;
  /** A configured `QdrantClient` to use instead of `url` / `apiKey`. */
  client?: QdrantClient;
  /** Collection name; created on first `open` with its payload indexes. Default 'engram'. */
  collection?: string;
  /** Keep vectors and payloads on disk (memory-mapped) instead of in RAM, for large collections. Default false. */
  onDisk?: boolean;
  /**
   * Compress vectors in RAM: 'scalar' (int8, ~4x smaller, small recall loss), 'binary' (~32x,
   * for high-dimensional embedders), or a Qdrant `quantization_config`. Default: none.
   */
  quantization?: 'scalar' | 'binary' | Schemas['QuantizationConfig'];
  /** Points per upsert request. Default 256. */
  batchSize?: number;
  /** Request timeout in ms. Default 30000. */
  timeoutMs?: number;
}

/** Payload fields that get an index, so filtered search stays fast (and filter-aware) at scale. */
const payloadIndexes: Array<[string, Schemas['PayloadSchemaType']]> = [
  ['user_id', 'keyword'],
  ['agent_id', 'keyword'],
  ['run_id', 'keyword'],
  ['conversation_id', 'keyword'],
  ['type', 'keyword'],
  ['subtype', 'keyword'],
  ['tags', 'keyword'],
  ['created_at', 'integer'],
  ['valid_to', 'integer'],
  ['superseded', 'bool'],
  ['meta_keys', 'keyword'],
];

/**
 * A `VectorIndex` in Qdrant: vectors beyond one machine, paired with a SQL store that keeps the
 * records (the store is the source of truth; `reindex` rebuilds the collection from it).
 *
 *   const memory = new Memory({ store: postgresStore({ connectionString }), vectors: qdrantIndex({ url }), embedder });
 *
 * Filters are pushed down as Qdrant payload filters, so a search returns the k best points that
 * match. The few Engram conditions Qdrant cannot express exactly (substring `contains`, string
 * `gt`/`lt`) are narrowed in Qdrant and checked on the payload afterwards, fetching more until
 * k matches are found (see `toQdrantFilter`).
 */
export function qdrantIndex(options: QdrantIndexOptions = {}): VectorIndex {
  if (!options.client && !options.url) {
    throw new ValidationError([
      { field: 'url', message: "is required: pass qdrantIndex({ url: 'http://localhost:6333' }) (or a QdrantClient as `client`)" },
    ]);
  }
  const collection = options.collection ?? 'engram';
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(collection)) {
    throw new ValidationError([{ field: 'collection', message: `must be letters, digits, _ or - (got ${JSON.stringify(collection)})` }]);
  }
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new ValidationError([{ field: 'batchSize', message: `must be a positive integer (got ${options.batchSize})` }]);
  }
  return new QdrantIndex({ ...options, collection, batchSize });
}

class QdrantIndex implements VectorIndex {
  readonly specificationVersion = 'v1' as const;
  readonly name = 'qdrant';
  private client: QdrantClient | null;
  private dimensions: number | null = null;
  private readonly location: string;

  constructor(private readonly options: QdrantIndexOptions & { collection: string; batchSize: number }) {
    this.client = options.client ?? null;
    this.location = `${options.url ?? 'the given Qdrant client'} (collection ${options.collection})`;
  }

  private async connect(): Promise<QdrantClient> {
    if (this.client) return this.client;
    let module: typeof import('@qdrant/js-client-rest');
    try {
      module = await import('@qdrant/js-client-rest');
    } catch (error) {
      throw new EngramError(
        'ADAPTER_ERROR',
        'The Qdrant index needs the "@qdrant/js-client-rest" package: run `npm install @qdrant/js-client-rest`',
        {
          cause: error,
        },
      );
    }
    this.client = new module.QdrantClient({
      url: this.options.url,
      ...(this.options.apiKey !== undefined ? { apiKey: this.options.apiKey } : {}),
      timeout: this.options.timeoutMs ?? 30_000,
      checkCompatibility: false,
    });
    return this.client;
  }

  private async run<T>(operation: string, work: (client: QdrantClient) => Promise<T>): Promise<T> {
    try {
      return await work(await this.connect());
    } catch (error) {
      if (EngramError.isInstance(error)) throw error;
      throw new AdapterError('qdrant', operation, error, hint(error, this.location));
    }
  }

  async open(dimensions: number): Promise<void> {
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new ValidationError([{ field: 'dimensions', message: `must be a positive integer (got ${dimensions})` }]);
    }
    const { collection } = this.options;
    await this.run('open', async (client) => {
      if (!(await client.collectionExists(collection)).exists) {
        try {
          await client.createCollection(collection, {
            vectors: { size: dimensions, distance: 'Cosine', ...(this.options.onDisk ? { on_disk: true } : {}) },
            ...(this.options.onDisk ? { on_disk_payload: true } : {}),
            ...(this.options.quantization ? { quantization_config: quantizationConfig(this.options.quantization) } : {}),
          });
        } catch (error) {
          // Another process created it meanwhile: fine, as long as it is there now.
          if (!(await client.collectionExists(collection)).exists) throw error;
        }
      }
      const info = await client.getCollection(collection);
      const stored = vectorSize(info);
      if (stored !== dimensions) {
        throw new AdapterError(
          'qdrant',
          'open',
          new Error(
            `collection ${collection} at ${this.location} holds ${stored ?? 'named or unknown'}-dimensional vectors, not ${dimensions}`,
          ),
          'Use the embedder the collection was built with, or another `collection` and run reindex to fill it',
        );
      }
      for (const [field, schema] of payloadIndexes) {
        if (!info.payload_schema[field])
          await client.createPayloadIndex(collection, { field_name: field, field_schema: schema, wait: true });
      }
      this.dimensions = dimensions;
    });
  }

  private requireOpen(): number {
    if (this.dimensions === null) {
      throw new AdapterError(
        'qdrant',
        'vectors',
        new Error('the index is not open'),
        'Call open(dimensions) first (Memory does this on open)',
      );
    }
    return this.dimensions;
  }

  async upsert(items: VectorItem[]): Promise<void> {
    if (items.length === 0) return;
    const dimensions = this.requireOpen();
    for (const item of items) checkVector(item.vector, dimensions, `vector of ${item.id}`);
    await this.run('upsert', async (client) => {
      for (let start = 0; start < items.length; start += this.options.batchSize) {
        const points = items.slice(start, start + this.options.batchSize).map((item) => ({
          id: pointId(item.id),
          vector: Array.from(item.vector),
          payload: toPayload(item.id, item.payload) as unknown as Record<string, unknown>,
        }));
        await client.upsert(this.options.collection, { wait: true, points });
      }
    });
  }

  async search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]> {
    const dimensions = this.requireOpen();
    checkVector(vector, dimensions, 'query vector');
    const limit = Math.floor(k);
    const translation = toQdrantFilter(filter);
    if (!(limit > 0) || translation.matchesNothing) return [];
    return this.run('search', async (client) => {
      const query = Array.from(vector);
      // Exact translation: one request. Otherwise the Qdrant filter is a superset: check each
      // point on its payload and fetch a larger page until k pass or the candidates run out.
      let page = translation.exact ? limit : Math.max(limit * 4, 32);
      for (;;) {
        const { points } = await client.query(this.options.collection, {
          query,
          limit: page,
          ...(translation.filter ? { filter: translation.filter as Schemas['Filter'] } : {}),
          with_payload: translation.exact ? ['engram_id'] : true,
        });
        const matches: VectorMatch[] = [];
        for (const point of points) {
          const payload = point.payload as unknown as QdrantPayload;
          if (!translation.exact && !matchesFilter(fromPayload(payload), filter)) continue;
          matches.push({ id: payload.engram_id, similarity: point.score });
        }
        if (translation.exact || matches.length >= limit || points.length < page) return matches.slice(0, limit);
        page *= 4;
      }
    });
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run('delete', async (client) => {
      for (let start = 0; start < ids.length; start += this.options.batchSize) {
        await client.delete(this.options.collection, { wait: true, points: ids.slice(start, start + this.options.batchSize).map(pointId) });
      }
    });
  }

  async count(): Promise<number> {
    return this.run('count', async (client) => (await client.count(this.options.collection, { exact: true })).count);
  }
}

function quantizationConfig(quantization: NonNullable<QdrantIndexOptions['quantization']>): Schemas['QuantizationConfig'] {
  if (quantization === 'scalar') return { scalar: { type: 'int8', always_ram: true } };
  if (quantization === 'binary') return { binary: { always_ram: true } };
  return quantization;
}

function vectorSize(info: Schemas['CollectionInfo']): number | null {
  const vectors = info.config.params.vectors;
  return vectors && typeof (vectors as { size?: unknown }).size === 'number' ? (vectors as { size: number }).size : null;
}

function checkVector(vector: Float32Array, dimensions: number, field: string): void {
  if (!(vector instanceof Float32Array)) throw new ValidationError([{ field, message: 'must be a Float32Array' }]);
  if (vector.length !== dimensions) {
    throw new ValidationError([
      { field, message: `has ${vector.length} dimensions; this collection holds ${dimensions}-dimensional vectors` },
    ]);
  }
}

function hint(error: unknown, location: string): string | undefined {
  const message = error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}` : String(error);
  const status = /Unexpected Response: (\d{3})/.exec(message)?.[1];
  if (status === '401' || status === '403') return `Qdrant refused the request: check apiKey for ${location}`;
  if (status === '404') return `The collection at ${location} does not exist: call open(dimensions) first (Memory does), or check the name`;
  if (/ECONNREFUSED|ENOTFOUND|fetch failed|ETIMEDOUT|EAI_AGAIN/i.test(message)) return `Is Qdrant running and reachable at ${location}?`;
  if (/timed? ?out/i.test(message)) return 'The request timed out: raise timeoutMs, or check the Qdrant server load';
  return undefined;
}
