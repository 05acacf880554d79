import type { MemoryStore, StoreStatistics } from '../contracts/memory-store.js';
import type { HistoryEntry, MemoryRecord } from '../contracts/model.js';
import { buildFilter } from '../filter/build-filter.js';
import { metadataAt } from '../filter/filter.js';
import { ValidationError } from '../model/errors.js';
import type { Ontology } from '../model/ontology.js';
import { type CountFilter, countFilterSchema, type ListOptions, listOptionsSchema, validate, validateId } from '../model/schema.js';
import type { AccessRecorder } from './access-recorder.js';
import { frequentTags, scanStatistics } from './statistics.js';

export interface ListResult {
  items: MemoryRecord[];
  nextCursor: string | null;
}

export interface ReaderContext {
  store: MemoryStore;
  /** Opens the store (once). */
  open: () => Promise<unknown>;
  ontology: Ontology;
  access: AccessRecorder;
  now: () => number;
  /** Metadata fields sensitive memories store encrypted: `where` refuses them. */
  sealedMetadataFields?: ReadonlySet<string> | undefined;
}

/** Reads by id and by filter: `get`, `list`, `count`, `history`. Reads see pending access statistics. */
export class Reader {
  constructor(private readonly context: ReaderContext) {}

  async get(id: string): Promise<MemoryRecord | null> {
    const memoryId = validateId(id);
    await this.context.open();
    const [record] = await this.context.store.get([memoryId]);
    return record ? this.context.access.overlay(record) : null;
  }

  async list(options: ListOptions = {}): Promise<ListResult> {
    const parsed = validate(listOptionsSchema, options, 'options');
    const filter = buildFilter(parsed, this.context);
    await this.context.open();
    const page = await this.context.store.list(filter, {
      limit: parsed.limit ?? 50,
      ...(parsed.cursor !== undefined ? { cursor: parsed.cursor } : {}),
      ...(parsed.includeDeleted ? { includeDeleted: true } : {}),
    });
    const access = this.context.access;
    return access.pendingCount === 0 ? page : { ...page, items: page.items.map((record) => access.overlay(record)) };
  }

  async count(filter: CountFilter = {}): Promise<number> {
    const parsed = validate(countFilterSchema, filter, 'filter');
    const memoryFilter = buildFilter(parsed, this.context);
    await this.context.open();
    return this.context.store.count(memoryFilter);
  }

  async distinct(field: string, filter: CountFilter = {}): Promise<unknown[]> {
    if (typeof field !== 'string' || field.split('.').some((segment) => segment.length === 0 || segment.length > 128)) {
      throw new ValidationError([
        { field: 'field', message: `must be a dot-separated metadata path such as 'project.stage' (got ${JSON.stringify(field)})` },
      ]);
    }
    const path = field.split('.');
    const parsed = validate(countFilterSchema, filter, 'filter');
    const memoryFilter = buildFilter(parsed, this.context);
    await this.context.open();
    const { store } = this.context;
    if (store.distinctMetadata) return store.distinctMetadata(path, memoryFilter);
    // Fallback for stores without the optimisation: read every matching record once.
    const values = new Map<string, unknown>();
    let cursor: string | undefined;
    do {
      const page = await store.list(memoryFilter, { limit: 1000, ...(cursor !== undefined ? { cursor } : {}) });
      for (const record of page.items) {
        const value = metadataAt(record.metadata, path);
        if (value !== undefined) values.set(JSON.stringify(value), value);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return [...values.values()];
  }

  /**
   * Counts over the live memories matching the filter: by type, subtype, user, agent and tag, per
   * day since `createdSince`, superseded ones, and relations leaving them. One set of aggregate
   * queries on stores with `statistics` (SQLite, Postgres), a scan otherwise.
   */
  async statistics(filter: CountFilter = {}, options: { createdSince?: Date; tagLimit?: number } = {}): Promise<StoreStatistics> {
    const parsed = validate(countFilterSchema, filter, 'filter');
    const createdSince = options.createdSince ?? new Date(0);
    if (!(createdSince instanceof Date) || Number.isNaN(createdSince.getTime())) {
      throw new ValidationError([{ field: 'options.createdSince', message: 'must be a valid Date' }]);
    }
    const tagLimit = options.tagLimit ?? 20;
    if (!Number.isInteger(tagLimit) || tagLimit < 1 || tagLimit > 10_000) {
      throw new ValidationError([{ field: 'options.tagLimit', message: `must be an integer from 1 to 10000 (got ${String(tagLimit)})` }]);
    }
    const memoryFilter = buildFilter(parsed, this.context);
    await this.context.open();
    const { store } = this.context;
    const statistics = store.statistics
      ? await store.statistics(memoryFilter, { createdSince, tagLimit })
      : await scanStatistics(store, memoryFilter, { createdSince, tagLimit });
    return { ...statistics, tags: frequentTags(statistics.tags, tagLimit) };
  }

  async history(id: string): Promise<HistoryEntry[]> {
    const memoryId = validateId(id);
    await this.context.open();
    // Empty for an unknown id: after `forget`, an erased memory must be indistinguishable from one
    // that never existed.
    return this.context.store.history(memoryId);
  }
}
