import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import { ValidationError } from '../model/errors.js';

export interface DedupOptions {
  /**
   * Also treat semantically near-identical memories (cosine similarity ≥ threshold) in the same
   * scope as duplicates. Off by default. Skipped for memories that carry a `conversationId`
   * (a conversation legitimately repeats itself).
   */
  semantic?: boolean;
  /** Similarity at or above which a memory is a near duplicate. Default 0.95. */
  threshold?: number;
  /** Only memories created within this window count. Default 24 hours. */
  windowMs?: number;
}

export type ResolvedDedupOptions = Required<DedupOptions>;

export function resolveDedupOptions(options: DedupOptions | undefined): ResolvedDedupOptions {
  const resolved = {
    semantic: options?.semantic ?? false,
    threshold: options?.threshold ?? 0.95,
    windowMs: options?.windowMs ?? 86_400_000,
  };
  if (!(resolved.threshold > 0 && resolved.threshold <= 1)) {
    throw new ValidationError([{ field: 'dedup.threshold', message: 'must be in (0, 1]' }]);
  }
  return resolved;
}

/** The stored memory in the same scope, created within the window, at least `threshold` similar; or undefined. */
export async function findNearDuplicate(
  store: MemoryStore,
  vectors: VectorIndex,
  record: MemoryRecord,
  vector: Float32Array,
  options: ResolvedDedupOptions,
  now: number,
): Promise<MemoryRecord | undefined> {
  const [best] = await vectors.search(vector, 1, {
    scope: record.scope,
    after: new Date(now - options.windowMs),
  });
  if (!best || best.similarity < options.threshold) return undefined;
  const [existing] = await store.get([best.id]);
  return existing;
}
