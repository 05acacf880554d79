import type { MemoryStore } from '../contracts/memory-store.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { Embedding } from '../embedding/embedding.js';
import type { EventHub } from '../events/event-hub.js';
import { EngramError } from '../model/errors.js';
import { ErasureLog, type ErasureOrigin, erasureLogStore } from './erasure-log.js';
import { ReplicaWriter } from './replica-writer.js';
import { PUSHED_ERASURES_META, SyncClient, type SyncRoundResult, type SyncStatus } from './sync-client.js';
import type { ResolvedSyncOptions } from './sync-options.js';
import { SyncServer } from './sync-server.js';
import type { SyncChangesPage, SyncPushResult } from './sync-wire.js';

export interface SyncContext {
  store: MemoryStore;
  open: () => Promise<VectorIndex | undefined>;
  embedding: Embedding;
  events: EventHub;
  /** Set when this Memory is a replica (`new Memory({ sync })`). */
  options: ResolvedSyncOptions | undefined;
  now: () => number;
  /** Erases these ids the way `forget` does (Memory's eraser); answers those that existed. */
  erase: (ids: string[]) => Promise<string[]>;
  /** How long the erasure log keeps an entry (`retention.erasureLogDays`). */
  erasureLogDays: number;
}

/** The erasure log is compacted at most this often by one process. */
const COMPACT_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The meta value set once a store has served a replica: from then on its erasures are logged for replicas. */
export const SERVED_META = 'sync:served';

/**
 * `memory.sync`: a replica's background sync with a server (`status`, `now`), and the server's
 * side of the protocol (`changes`, `receive`), which the REST routes call on a tenant's memory.
 */
export class Sync {
  private readonly client: SyncClient | undefined;
  private readonly server: SyncServer;
  private readonly erasures: ErasureLog;
  private served = false;
  /** When this process last compacted the erasure log. */
  private compactedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly context: SyncContext) {
    const writer = new ReplicaWriter(context);
    const { store } = context;
    this.erasures = new ErasureLog(() => erasureLogStore(store));
    const erase = async (ids: string[]) => {
      // Logged first (every id, known here or not: a tombstone keeps a later pull or push from
      // bringing it back), then erased; the log is not pushed back ('sync').
      await this.erasures.append(ids, 'sync', new Date(context.now()));
      return context.erase(ids);
    };
    const compact = () => this.compactErasures();
    this.server = new SyncServer({ store, open: context.open, writer, now: context.now, erasures: this.erasures, erase, compact });
    this.client = context.options
      ? new SyncClient({
          store: context.store,
          open: context.open,
          writer,
          events: context.events,
          options: context.options,
          now: context.now,
          erasures: this.erasures,
          erase,
          eraseLogged: (ids) => context.erase(ids),
          compact,
        })
      : undefined;
  }

  /** True when this Memory syncs with a server. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  private requireClient(): SyncClient {
    if (!this.client) {
      throw new EngramError(
        'UNSUPPORTED',
        'This Memory does not sync: pass new Memory({ sync: { url, apiKey } }) (ENGRAM_SYNC_URL / ENGRAM_SYNC_KEY for the CLI and MCP server).',
      );
    }
    return this.client;
  }

  /** `{ pending, lastPushAt, lastPullAt, lastError, … }`; reads the local store only. */
  async status(): Promise<SyncStatus> {
    return this.requireClient().status();
  }

  /** Pushes local changes and pulls the server's now; resolves when done, rejects with the failure. */
  async now(): Promise<SyncRoundResult> {
    return this.requireClient().run();
  }

  /**
   * For short-lived processes (the CLI, hooks) before they close: when local changes are pending,
   * one round, waited for at most `timeoutMs` (default 2000). Never throws; true when nothing is
   * left to push. What it did not push stays queued in the store for the next process that syncs.
   * Without sync, resolves true at once.
   */
  async flush(options: { timeoutMs?: number } = {}): Promise<boolean> {
    if (!this.client) return true;
    if ((await this.client.status()).pending === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), options.timeoutMs ?? 2000);
    });
    try {
      return await Promise.race([
        this.client.run().then(
          () => true,
          () => false,
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts background rounds (Memory does on open). */
  start(): void {
    this.client?.start();
  }

  /** Stops background rounds, waiting for one in flight (Memory does on close). */
  async stop(): Promise<void> {
    await this.client?.stop();
  }

  /**
   * Called by the eraser before it removes anything: a store that syncs (a replica, or one that has
   * served replicas) logs a local erasure so it travels — a replica pushes it, a server serves it to
   * every replica's next pull. Erasures sync applies itself were logged by it already.
   */
  async beforeErase(ids: string[], origin: ErasureOrigin): Promise<void> {
    if (origin !== 'local') return;
    const { store } = this.context;
    if (!store.getMeta || !store.setMeta || !store.appendErasures) return;
    if (!this.client && !this.served) {
      this.served = (await store.getMeta(SERVED_META)) !== null;
      if (!this.served) return;
    }
    await this.erasures.append(ids, 'local', new Date(this.context.now()));
  }

  // ------------------------------------------------------------- server side

  /** A page of this store's changes after `since`, each memory as it is now (GET /api/sync/changes). */
  async changes(options: { since: number; limit?: number; erasedSince?: number }): Promise<SyncChangesPage> {
    await this.markServed();
    return this.server.changes(options.since, options.limit ?? 500, options.erasedSince);
  }

  /** Applies a replica's pushed erasures, then its operations in order, each once (POST /api/sync/push). */
  async receive(push: unknown): Promise<SyncPushResult> {
    await this.markServed();
    return this.server.apply(push);
  }

  /**
   * Drops erasure-log entries older than `retention.erasureLogDays` (at most once an hour per
   * process). A replica keeps its own erasures until the server has taken them (its erasure push
   * mark); a replica whose erasure cursor falls behind what a server dropped resyncs in full.
   */
  private async compactErasures(): Promise<void> {
    const now = this.context.now();
    if (now - this.compactedAt < COMPACT_EVERY_MS) return;
    this.compactedAt = now;
    const { store } = this.context;
    const through = this.client ? Number((await store.getMeta?.(PUSHED_ERASURES_META)) ?? 0) : Number.MAX_SAFE_INTEGER;
    await this.erasures.compact(through, new Date(now - this.context.erasureLogDays * DAY_MS));
  }

  private async markServed(): Promise<void> {
    if (this.served) return;
    await this.context.open();
    const { store } = this.context;
    if (!store.getMeta || !store.setMeta) return;
    if ((await store.getMeta(SERVED_META)) === null) await store.setMeta(SERVED_META, new Date(this.context.now()).toISOString());
    this.served = true;
  }
}
