import { createHash } from 'node:crypto';
import { type Embedder, Memory, type MemoryRecord, type MemoryStore, type Scope } from '@engram/core';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import {
  BaseStore,
  type GetOperation,
  InvalidNamespaceError,
  type Item,
  type ListNamespacesOperation,
  type MatchCondition,
  type Operation,
  type OperationResults,
  type PutOperation,
  type SearchItem,
  type SearchOperation,
  validateNamespace,
} from '@langchain/langgraph-checkpoint';
import { indexedTexts } from './item-text.js';
import { isEngramEmbedder, langchainEmbedder } from './langchain-embedder.js';
import { filterToWhere } from './store-filter.js';

export interface EngramStoreIndexConfig {
  /**
   * Paths of the value whose text search ranks (`title`, `chapters[*].content`, `$` for the whole
   * value). Default `['$']`. A put may override them with its `index` argument, or pass `false`.
   */
  fields?: string[];
  /**
   * The embedding model, only with `store` (with `memory`, the Memory's embedder is used): a
   * LangChain `Embeddings` (then `dims` is required) or an Engram `Embedder`.
   */
  embed?: EmbeddingsInterface | Embedder;
  /** Vector length of a LangChain `embed`. */
  dims?: number;
}

export interface EngramStoreTtlConfig {
  /** Minutes an item lives after it is written when its put gives no `ttl`. Default: forever. */
  defaultTtl?: number;
  /** Reads (get, search) restart an item's TTL. Default true. */
  refreshOnRead?: boolean;
  /** `start()` deletes expired items this often. Default: no sweeper (expired items are hidden from reads anyway). */
  sweepIntervalMinutes?: number;
}

interface CommonOptions {
  index?: EngramStoreIndexConfig;
  /**
   * The Engram scope of every item (`userId`, `agentId`). Default `{ agentId: 'langgraph' }`. The
   * store keeps `runId` for itself: each item is its own run, so identical values never merge.
   */
  scope?: Omit<Scope, 'runId'>;
  ttl?: EngramStoreTtlConfig;
  /** Clock in epoch milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

export type EngramStoreOptions =
  | (CommonOptions & { memory: Memory; store?: never })
  | (CommonOptions & { store: MemoryStore; memory?: never; index: EngramStoreIndexConfig & { embed: EmbeddingsInterface | Embedder } });

/** Extra options of a put: `ttl` in minutes (`null` = never expires, overriding `defaultTtl`). */
export interface PutOptions {
  ttl?: number | null;
}

export type EngramPutOperation = PutOperation & PutOptions;

/** What the store keeps in a memory's metadata next to the value. */
interface ItemMetadata {
  namespace: string[];
  depth: number;
  key: string;
  /** False when the put indexed no text (`index: false`, or no text at the fields): query search lists it unranked. */
  indexed: boolean;
  updatedAt: number;
  ttlMinutes?: number;
  expiresAt?: number;
}

const MAX_PAGE = 1000;
/**
 * Every item carries it, and every read filters on it: other memories of the same Memory and
 * scope (written by an agent, the MCP server, the CLI) are never taken for items.
 */
const ITEM_TAG = 'langgraph-item';
const MINUTE = 60_000;

/**
 * A LangGraph.js `BaseStore` over an Engram `Memory`: items live as memories (value in metadata,
 * indexed fields as content), so the store runs on whatever the Memory runs on (SQLite, Postgres),
 * and `search` with a `query` is Engram's hybrid lexical + vector retrieval with 0–1 scores.
 */
export class EngramStore extends BaseStore {
  readonly memory: Memory;
  private readonly ownsMemory: boolean;
  private readonly fields: string[];
  private readonly scope: Scope;
  private readonly ttl: Required<Pick<EngramStoreTtlConfig, 'refreshOnRead'>> & EngramStoreTtlConfig;
  private readonly now: () => number;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(options: EngramStoreOptions) {
    super();
    if (options.memory) {
      if (options.index?.embed) {
        throw new TypeError(
          'EngramStore: `index.embed` is for a store built from `store`; with `memory`, pass the embedder to `new Memory({ embedder })`',
        );
      }
      this.memory = options.memory;
      this.ownsMemory = false;
    } else if (options.store) {
      const embed = options.index?.embed;
      if (!embed) throw new TypeError('EngramStore: give `memory`, or `store` with `index.embed`');
      let embedder: Embedder;
      if (isEngramEmbedder(embed)) embedder = embed;
      else {
        if (options.index.dims === undefined) throw new TypeError('EngramStore: `index.dims` is required with a LangChain `index.embed`');
        embedder = langchainEmbedder(embed, { dimensions: options.index.dims });
      }
      this.memory = new Memory({ store: options.store, embedder, logger: false });
      this.ownsMemory = true;
    } else {
      throw new TypeError('EngramStore: give `memory` (an Engram Memory) or `store` with `index.embed`');
    }
    this.fields = options.index?.fields ?? ['$'];
    this.scope = { ...(options.scope ?? { agentId: 'langgraph' }) };
    if ('runId' in this.scope) throw new TypeError('EngramStore: `scope.runId` is reserved (each item is stored as its own run)');
    const ttl = options.ttl ?? {};
    for (const name of ['defaultTtl', 'sweepIntervalMinutes'] as const) {
      const minutes = ttl[name];
      if (minutes !== undefined && !(Number.isFinite(minutes) && minutes > 0)) {
        throw new TypeError(`EngramStore: \`ttl.${name}\` must be a positive number of minutes`);
      }
    }
    this.ttl = { ...ttl, refreshOnRead: ttl.refreshOnRead ?? true };
    this.now = options.now ?? Date.now;
  }

  override async put(namespace: string[], key: string, value: Record<string, unknown>, index?: false | string[], options?: PutOptions) {
    validateNamespace(namespace);
    const operation: EngramPutOperation = { namespace, key, value, ...(index === undefined ? {} : { index }) };
    if (options?.ttl !== undefined) operation.ttl = options.ttl;
    await this.batch([operation]);
  }

  async batch<Op extends Operation[]>(operations: Op): Promise<OperationResults<Op>> {
    // Validate everything before writing anything.
    for (const [position, operation] of operations.entries()) checkOperation(operation, position);
    const results: unknown[] = new Array(operations.length);

    // Writes first (the last write of a key wins), puts in one transaction; then the reads see them.
    const writes = new Map<string, EngramPutOperation>();
    operations.forEach((operation, position) => {
      if ('value' in operation) {
        writes.delete(itemId(operation.namespace, operation.key));
        writes.set(itemId(operation.namespace, operation.key), operation as EngramPutOperation);
        results[position] = undefined;
      }
    });
    await this.applyWrites([...writes.values()]);

    for (const [position, operation] of operations.entries()) {
      if ('value' in operation) continue;
      if ('namespacePrefix' in operation) results[position] = await this.searchOperation(operation);
      else if ('key' in operation) results[position] = await this.getOperation(operation);
      else results[position] = await this.listNamespacesOperation(operation as ListNamespacesOperation);
    }
    return results as OperationResults<Op>;
  }

  /** Deletes the items whose TTL has passed; returns how many. `start()` runs it on a timer. */
  async sweepExpiredItems(): Promise<number> {
    let swept = 0;
    for (const record of await this.listAll({ 'langgraph.expiresAt': { lte: this.now() } }, Number.POSITIVE_INFINITY, [ITEM_TAG])) {
      if (await this.memory.delete(record.id)) swept++;
    }
    return swept;
  }

  override start(): void {
    const minutes = this.ttl.sweepIntervalMinutes;
    if (minutes === undefined || this.sweeper) return;
    this.sweeper = setInterval(() => {
      this.sweepExpiredItems().catch(() => {
        // A failed sweep is retried at the next tick; reads hide expired items meanwhile.
      });
    }, minutes * MINUTE);
    this.sweeper.unref?.();
  }

  override async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    if (this.ownsMemory && !this.closed) {
      this.closed = true;
      await this.memory.close();
    }
  }

  // ------------------------------------------------------------------ writes

  private async applyWrites(writes: EngramPutOperation[]): Promise<void> {
    const puts = writes.filter((write) => write.value !== null);
    const deletes = writes.filter((write) => write.value === null);
    if (puts.length > 0) {
      const now = this.now();
      await this.memory.addMany(
        puts.map((put) => {
          const ttl = put.ttl === undefined ? this.ttl.defaultTtl : (put.ttl ?? undefined);
          const metadata: ItemMetadata = {
            namespace: put.namespace,
            depth: put.namespace.length,
            key: put.key,
            indexed: false,
            updatedAt: now,
            ...(ttl === undefined ? {} : { ttlMinutes: ttl, expiresAt: now + ttl * MINUTE }),
          };
          const texts = put.index === false ? [] : indexedTexts(put.value, put.index ?? this.fields);
          metadata.indexed = texts.length > 0;
          // Unindexed items still need text: their namespace and key, which no value query resembles.
          const content = texts.length > 0 ? texts.join('\n') : [...put.namespace, put.key].join(' / ');
          const id = itemId(put.namespace, put.key);
          return {
            content,
            tags: [ITEM_TAG, ...namespaceTags(put.namespace)],
            key: id,
            scope: { ...this.scope, runId: id },
            metadata: { langgraph: metadata, value: put.value },
            source: 'langgraph',
          };
        }),
      );
    }
    for (const write of deletes) {
      const record = await this.findItem(write.namespace, write.key);
      if (record) await this.memory.delete(record.id);
    }
  }

  // ------------------------------------------------------------------ reads

  private async findItem(namespace: string[], key: string): Promise<MemoryRecord | undefined> {
    const id = itemId(namespace, key);
    const { items } = await this.memory.list({ scope: { ...this.scope, runId: id }, limit: 1 });
    return items[0];
  }

  private isExpired(record: MemoryRecord): boolean {
    const expiresAt = itemMetadata(record).expiresAt;
    return expiresAt !== undefined && expiresAt <= this.now();
  }

  private async getOperation(operation: GetOperation): Promise<Item | null> {
    const record = await this.findItem(operation.namespace, operation.key);
    if (!record || this.isExpired(record)) return null;
    await this.refresh([record]);
    return toItem(record);
  }

  private liveWhere(): Record<string, unknown> {
    return { or: [{ 'langgraph.expiresAt': { exists: false } }, { 'langgraph.expiresAt': { gt: this.now() } }] };
  }

  private async searchOperation(operation: SearchOperation): Promise<SearchItem[]> {
    const offset = operation.offset ?? 0;
    const limit = operation.limit ?? 10;
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidNamespaceError('search: `offset` must be an integer of 0 or more');
    if (!Number.isInteger(limit) || limit < 0) throw new InvalidNamespaceError('search: `limit` must be an integer of 0 or more');
    if (limit === 0) return [];
    const where = { ...filterToWhere(operation.filter), and: [this.liveWhere()] };
    const tags = [ITEM_TAG, ...namespaceTags(operation.namespacePrefix)];
    const wanted = offset + limit;
    let found: Array<{ record: MemoryRecord; score?: number }>;
    if (operation.query !== undefined && operation.query.trim() !== '') {
      const ranked = { ...where, 'langgraph.indexed': true };
      const hits = await this.memory.search(operation.query, {
        scope: this.scope,
        tags: { all: tags },
        where: ranked,
        limit: Math.min(wanted, MAX_PAGE),
      });
      found = hits.map((hit) => ({ record: hit.memory, score: hit.score }));
      // Unindexed items and those the query does not reach still count, unranked after the ranked
      // ones (as InMemoryStore does).
      if (found.length < wanted) {
        const seen = new Set(found.map((hit) => hit.record.id));
        for (const record of await this.listAll(where, wanted, tags)) {
          if (found.length >= wanted) break;
          if (!seen.has(record.id)) found.push({ record });
        }
      }
    } else {
      found = (await this.listAll(where, wanted, tags)).map((record) => ({ record }));
    }
    const page = found.slice(offset, wanted);
    await this.refresh(page.map((hit) => hit.record));
    return page.map(({ record, score }) => ({ ...toItem(record), ...(score === undefined ? {} : { score }) }));
  }

  private async listNamespacesOperation(operation: ListNamespacesOperation): Promise<string[][]> {
    const conditions = operation.matchConditions ?? [];
    // Prefix segments other than '*' are pushed down (as tags); the rest is matched here.
    const pushed = conditions
      .filter((condition) => condition.matchType === 'prefix')
      .flatMap((condition) => condition.path.flatMap((segment, index) => (segment === '*' ? [] : [namespaceTag(index, segment)])));
    const namespaces = new Map<string, string[]>();
    // One distinct-values query (not a read of every item): each stored namespace once.
    const stored = (await this.memory.distinct('langgraph.namespace', {
      scope: this.scope,
      where: this.liveWhere(),
      tags: { all: [ITEM_TAG, ...pushed] },
    })) as string[][];
    for (let namespace of stored) {
      if (!conditions.every((condition) => matches(condition, namespace))) continue;
      if (operation.maxDepth !== undefined) namespace = namespace.slice(0, operation.maxDepth);
      namespaces.set(JSON.stringify(namespace), namespace);
    }
    const sorted = [...namespaces.values()].sort((a, b) => a.join(':').localeCompare(b.join(':')));
    const offset = operation.offset ?? 0;
    return sorted.slice(offset, offset + (operation.limit ?? sorted.length));
  }

  /** Memories matching `where` and carrying every tag, newest first, at most `max`. */
  private async listAll(where: Record<string, unknown>, max: number, tags: string[]): Promise<MemoryRecord[]> {
    const records: MemoryRecord[] = [];
    let cursor: string | undefined;
    while (records.length < max) {
      const page = await this.memory.list({
        scope: this.scope,
        where,
        tags: { all: tags },
        limit: Math.min(MAX_PAGE, max - records.length),
        ...(cursor === undefined ? {} : { cursor }),
      });
      records.push(...page.items);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    return records;
  }

  /**
   * Restarts the TTL of items read, when `refreshOnRead` is on. Each restart is a write (and an
   * Engram history entry), so an item read again within a tenth of its TTL is not rewritten: a hot
   * item costs at most ten writes per TTL period, and expires at most a tenth of it early.
   */
  private async refresh(records: MemoryRecord[]): Promise<void> {
    if (!this.ttl.refreshOnRead) return;
    const now = this.now();
    for (const record of records) {
      const metadata = itemMetadata(record);
      if (metadata.ttlMinutes === undefined) continue;
      const expiresAt = now + metadata.ttlMinutes * MINUTE;
      if (expiresAt - (metadata.expiresAt ?? 0) < (metadata.ttlMinutes * MINUTE) / 10) continue;
      await this.memory.update(record.id, { metadata: { ...record.metadata, langgraph: { ...metadata, expiresAt } } });
    }
  }
}

/** One stored item's identity: namespace and key, hashed to fit Engram's key and scope fields. */
function itemId(namespace: string[], key: string): string {
  return `lg-${createHash('sha256')
    .update(JSON.stringify([namespace, key]))
    .digest('hex')}`;
}

function itemMetadata(record: MemoryRecord): ItemMetadata {
  return record.metadata.langgraph as ItemMetadata;
}

function toItem(record: MemoryRecord): Item {
  const metadata = itemMetadata(record);
  return {
    namespace: metadata.namespace,
    key: metadata.key,
    value: record.metadata.value as Record<string, unknown>,
    createdAt: record.createdAt,
    updatedAt: new Date(metadata.updatedAt),
  };
}

/**
 * One tag per namespace segment and position (`lg<position>-<hash of the segment>`): tags are
 * indexed by every Engram store, so a namespace prefix narrows candidates before anything else;
 * the hash keeps case-sensitive segments apart (Engram lower-cases tags).
 */
function namespaceTag(position: number, segment: string): string {
  return `lg${position}-${createHash('sha256').update(segment).digest('hex').slice(0, 24)}`;
}

function namespaceTags(namespace: string[]): string[] {
  return namespace.map((segment, position) => namespaceTag(position, segment));
}

function matches(condition: MatchCondition, namespace: string[]): boolean {
  const { path } = condition;
  if (path.length > namespace.length) return false;
  const start = condition.matchType === 'prefix' ? 0 : namespace.length - path.length;
  return path.every((segment, index) => segment === '*' || namespace[start + index] === segment);
}

function checkOperation(operation: Operation, position: number): void {
  const where = `operation ${position}`;
  if ('namespacePrefix' in operation) {
    if (operation.namespacePrefix.length > 0) validateNamespace(operation.namespacePrefix, { allowReservedRoot: true });
    return;
  }
  if ('namespace' in operation) {
    validateNamespace(operation.namespace, { allowReservedRoot: true });
    if (typeof operation.key !== 'string')
      throw new InvalidNamespaceError(`${where}: the key must be a string (got ${typeof operation.key})`);
    if ('value' in operation) {
      const put = operation as EngramPutOperation;
      if (put.value !== null && (typeof put.value !== 'object' || Array.isArray(put.value))) {
        throw new InvalidNamespaceError(`${where}: the value must be a plain object, or null to delete`);
      }
      if (put.ttl !== undefined && put.ttl !== null && !(Number.isFinite(put.ttl) && put.ttl > 0)) {
        throw new InvalidNamespaceError(`${where}: ttl must be a positive number of minutes, or null for no expiry`);
      }
    }
    return;
  }
  const list = operation as ListNamespacesOperation;
  for (const condition of list.matchConditions ?? []) {
    if (condition.matchType !== 'prefix' && condition.matchType !== 'suffix') {
      throw new InvalidNamespaceError(`${where}: unknown matchType "${String(condition.matchType)}" (use prefix or suffix)`);
    }
    for (const segment of condition.path) {
      if (typeof segment !== 'string' || segment === '')
        throw new InvalidNamespaceError(`${where}: namespace path segments must be non-empty strings`);
    }
  }
  if (list.maxDepth !== undefined && !(Number.isInteger(list.maxDepth) && list.maxDepth > 0)) {
    throw new InvalidNamespaceError(`${where}: maxDepth must be a positive integer`);
  }
}
