import type { MemoryFilter } from '../contracts/model.js';
import type { VectorIndex, VectorItem, VectorMatch, VectorPayload } from '../contracts/vector-index.js';
import { matchesFilter } from '../filter/filter.js';
import { EngramError, ValidationError } from '../model/errors.js';

/** Cosine similarity of two vectors of the same length. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index] as number;
    const y = b[index] as number;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}

export interface InMemoryVectorIndexOptions {
  /**
   * Where payloads come from. By default the index keeps the payload given to `upsert`; the
   * in-memory store passes a lookup so filters always see the live record.
   */
  lookup?: (id: string) => (VectorPayload & { deletedAt?: Date | null }) | undefined;
}

/** The in-memory index, with synchronous forms the in-memory store uses inside its transactions. */
export interface InMemoryVectorIndex extends VectorIndex {
  readonly size: number;
  /** `upsert`, done before it returns. */
  upsertNow(items: VectorItem[]): void;
  /** `delete`, done before it returns. */
  deleteNow(ids: string[]): void;
  /** Remembers the vectors held now; the function returned puts them back (a rollback). */
  checkpoint(): () => void;
}

/** Exact (brute-force) vector search in process memory: the reference `VectorIndex`. */
export function inMemoryVectorIndex(options: InMemoryVectorIndexOptions = {}): InMemoryVectorIndex {
  const vectors = new Map<string, { vector: Float32Array; payload: VectorPayload }>();
  let dimensions: number | null = null;

  const check = (vector: Float32Array, field: string) => {
    if (dimensions === null) throw new EngramError('ADAPTER_ERROR', 'memory vector index used before open(dimensions)');
    if (vector.length !== dimensions) {
      throw new ValidationError([{ field, message: `has ${vector.length} dimensions; this index holds ${dimensions}` }]);
    }
  };

  const upsertNow = (items: VectorItem[]) => {
    for (const item of items) check(item.vector, `vector of ${item.id}`);
    for (const item of items) vectors.set(item.id, { vector: Float32Array.from(item.vector), payload: item.payload });
  };
  const deleteNow = (ids: string[]) => {
    for (const id of ids) vectors.delete(id);
  };

  return {
    specificationVersion: 'v1',
    name: 'memory',
    get size() {
      return vectors.size;
    },
    async open(size) {
      if (dimensions !== null && dimensions !== size) {
        throw new ValidationError([{ field: 'dimensions', message: `this index holds ${dimensions}-dimensional vectors, not ${size}` }]);
      }
      dimensions = size;
    },
    upsertNow,
    deleteNow,
    checkpoint() {
      const saved = new Map(vectors);
      return () => {
        vectors.clear();
        for (const [id, entry] of saved) vectors.set(id, entry);
      };
    },
    async upsert(items: VectorItem[]) {
      upsertNow(items);
    },
    async search(vector: Float32Array, k: number, filter?: MemoryFilter): Promise<VectorMatch[]> {
      check(vector, 'query vector');
      const matches: VectorMatch[] = [];
      for (const [id, entry] of vectors) {
        const payload = options.lookup ? options.lookup(id) : entry.payload;
        if (!payload || !matchesFilter({ ...payload, id }, filter)) continue;
        matches.push({ id, similarity: cosineSimilarity(vector, entry.vector) });
      }
      matches.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1));
      return matches.slice(0, k);
    },
    async delete(ids) {
      deleteNow(ids);
    },
    async count() {
      return vectors.size;
    },
  };
}
