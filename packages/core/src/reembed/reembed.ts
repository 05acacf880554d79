import type { Embedder } from '../contracts/embedder.js';
import type { MemoryStore, ReembedOptions, ReembedResult } from '../contracts/memory-store.js';
import { Embedding } from '../embedding/embedding.js';
import { EngramError, ValidationError } from '../model/errors.js';

export interface ReembedStoreOptions extends ReembedOptions {
  /** The store to re-embed (opened here, closed by the caller). Its recorded embedder may differ. */
  store: MemoryStore;
  /** The new embedder: every live memory gets a vector from it. */
  embedder: Embedder;
}

/**
 * Re-embeds a whole store with another embedder (`engram reembed --embedder <id>`): resumable
 * after a crash, old vectors serve searches until one atomic switch, and the store then records
 * the new embedder, so `new Memory({ store, embedder })` with it opens without an
 * EmbedderMismatchError. Other processes using the store must reopen it after the switch.
 */
export async function reembedStore(options: ReembedStoreOptions): Promise<ReembedResult> {
  if (!options || typeof options !== 'object' || !options.store) {
    throw new ValidationError([{ field: 'store', message: 'is required: the store to re-embed' }]);
  }
  if (options.batchSize !== undefined && !(Number.isInteger(options.batchSize) && options.batchSize >= 1 && options.batchSize <= 100_000)) {
    throw new ValidationError([{ field: 'batchSize', message: 'must be an integer from 1 to 100,000' }]);
  }
  const embedding = new Embedding(options.embedder);
  const embedder = embedding.embedder;
  const { store } = options;
  await store.open();
  if (!store.reembed) {
    throw new EngramError(
      'UNSUPPORTED',
      `The ${store.name} store cannot re-embed in place: export it (engram export), then import into a new store opened with the new embedder.`,
    );
  }
  return store.reembed({ id: embedder.id, dimensions: embedder.dimensions }, (texts) => embedding.embedMany(texts), {
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
