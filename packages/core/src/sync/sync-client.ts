import type { ChangeLogEntry, MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import type { EventHub } from '../events/event-hub.js';
import { EngramError } from '../model/errors.js';
import { uuidv7 } from '../model/ids.js';
import type { ErasureLog } from './erasure-log.js';
import type { ReplicaWriter } from './replica-writer.js';
import type { ResolvedSyncOptions } from './sync-options.js';
import {
  recordFromWire,
  recordToWire,
  relationFromWire,
  relationToWire,
  SYNCED_FIELDS,
  type SyncChange,
  type SyncChangesPage,
  type SyncErasure,
  type SyncOperation,
  type SyncPushResult,
  type WireRecord,
} from './sync-wire.js';

/** The reason a replica's change log records on what it wrote from the server: never pushed back. */
export const SYNC_REASON = 'sync';

export interface SyncStatus {
  /** Local changes not yet accepted by the server. */
  pending: number;
  lastPushAt: Date | null;
  lastPullAt: Date | null;
  /** The last round's failure (cleared by a successful round), e.g. 'fetch failed'. */
  lastError: string | null;
  /** The server this replica syncs with. */
  url: string;
  /** This replica's id (kept in its store). */
  replicaId: string | null;
  /** A round is running now. */
  running: boolean;
}

export interface SyncRoundResult {
  pushed: number;
  pulled: number;
}

export interface SyncClientContext {
  store: MemoryStore;
  open: () => Promise<unknown>;
  writer: ReplicaWriter;
  events: EventHub;
  options: ResolvedSyncOptions;
  now: () => number;
  erasures: ErasureLog;
  /** Logs (as 'sync') and erases these ids locally the way `forget` does. */
  erase: (ids: string[]) => Promise<string[]>;
  /** Erases ids the erasure log already holds (a crash between logging and erasing left them). */
  eraseLogged: (ids: string[]) => Promise<string[]>;
  /** Drops erasure-log entries past the retention (at most once an hour). */
  compact: () => Promise<void>;
}

/** The meta value holding the last of this replica's erasures the server took. */
export const PUSHED_ERASURES_META = 'sync:erasures-pushed';

/**
 * Set (to when it started) while a full resync runs: the pull reads every change from cursor 0,
 * and at its end the memories the server no longer holds are erased. Survives a restart.
 */
const RESYNC_META = 'sync:resync';

/** The header a replica names its erasure cursor in (a query parameter would be refused by older servers). */
export const ERASED_SINCE_HEADER = 'x-engram-erased-since';

type Log = Required<Pick<MemoryStore, 'changesSince' | 'getMeta' | 'setMeta'>>;

const relationKey = (relation: Pick<Relation, 'sourceId' | 'targetId' | 'type'>) =>
  `${relation.sourceId}\u0000${relation.targetId}\u0000${relation.type}`;

function isRelation(entry: ChangeLogEntry): entry is Extract<ChangeLogEntry, { relation: Relation }> {
  return entry.event === 'relation:added' || entry.event === 'relation:removed';
}

/** The local writes that wake a round soon after they happen (instead of at the next interval). */
const LOCAL_WRITE_EVENTS = [
  'memory:added',
  'memory:updated',
  'memory:deleted',
  'memory:forgotten',
  'relation:added',
  'relation:removed',
] as const;

/** The server answered a sync request with an error status (the round fails; the next one retries). */
class SyncHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'SyncHttpError';
  }
}

/**
 * The replica side of sync. Every local write is already committed with its change-log entry;
 * a round pushes the entries after the replica's push mark (those it did not pull itself) as
 * operations, then pulls the server's changes after its cursor into the store. Rounds run in the
 * background (an interval, and soon after local writes) and one at a time; nothing else ever
 * waits for them. The marks live in the store (`getMeta`), so the queue survives restarts and
 * processes sharing one file share it (operation ids make a double push harmless).
 */
export class SyncClient {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private round: Promise<SyncRoundResult> | undefined;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private lastPushAt: Date | null = null;
  private lastPullAt: Date | null = null;
  private lastError: string | null = null;
  private replicaId: string | null = null;
  private readonly onLocalWrite = () => this.scheduleSoon();
  /** The ids of memories a full resync has seen on the server so far (see RESYNC_META). */
  private resyncSeen: Set<string> | undefined;

  constructor(private readonly context: SyncClientContext) {}

  private get log(): Log {
    const { store } = this.context;
    if (!store.changesSince || !store.getMeta || !store.setMeta) {
      throw new EngramError(
        'UNSUPPORTED',
        `The ${store.name} store has no change log (changesSince, getMeta, setMeta): sync needs SQLite, Postgres or the in-memory store.`,
      );
    }
    return store as Log;
  }

  /** Starts the background rounds (the first one right away). Does not wait for the network. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.run().catch(() => {}), this.context.options.intervalMs);
    this.timer.unref();
    const { events } = this.context;
    for (const name of LOCAL_WRITE_EVENTS) {
      events.on(name, this.onLocalWrite);
    }
    void this.run().catch(() => {});
  }

  /** Stops the rounds, aborts a request in flight and waits for the round to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    const { events } = this.context;
    for (const name of LOCAL_WRITE_EVENTS) {
      events.off(name, this.onLocalWrite);
    }
    this.abort.abort();
    await this.round?.catch(() => {});
  }

  private scheduleSoon(): void {
    const delay = this.context.options.pushDelayMs;
    if (delay === false || this.stopped || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.run().catch(() => {});
    }, delay);
    this.soon.unref();
  }

  /**
   * One round now (push, then pull), after the one running if any; resolves with what moved.
   * Rejects with the network or server error (also kept in `status().lastError` and emitted as `sync:error`).
   */
  run(): Promise<SyncRoundResult> {
    if (this.stopped) return Promise.reject(new EngramError('CLOSED', 'Sync is stopped: this Memory is closed.'));
    if (this.round) {
      // A round is running: run once more after it, so writes made meanwhile are included; the
      // answer counts what both moved.
      this.again = true;
      return this.round
        .catch(() => undefined)
        .then(async (first) => {
          const second = await (this.round ?? this.run());
          return first ? { pushed: first.pushed + second.pushed, pulled: first.pulled + second.pulled } : second;
        });
    }
    this.round = this.runRound().finally(() => {
      this.round = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.run().catch(() => {});
      }
    });
    return this.round;
  }

  async status(): Promise<SyncStatus> {
    let pending = 0;
    try {
      await this.context.open();
      pending = (await this.pendingEntries()).length + (await this.pendingErasures(Number.POSITIVE_INFINITY)).length;
      this.replicaId ??= await this.log.getMeta('sync:replica');
      // Another process (the CLI, the MCP server) may have synced this store: its times are kept there.
      const stored = async (name: string) => {
        const value = await this.log.getMeta(name);
        return value ? new Date(value) : null;
      };
      this.lastPushAt = latest(this.lastPushAt, await stored('sync:last-push-at'));
      this.lastPullAt = latest(this.lastPullAt, await stored('sync:last-pull-at'));
    } catch {
      // A closed or broken store: report what is known.
    }
    return {
      pending,
      lastPushAt: this.lastPushAt,
      lastPullAt: this.lastPullAt,
      lastError: this.lastError,
      url: this.context.options.url,
      replicaId: this.replicaId,
      running: this.round !== undefined,
    };
  }

  private async runRound(): Promise<SyncRoundResult> {
    try {
      await this.context.open();
      const pushed = await this.push();
      const pulled = await this.pull();
      this.lastError = null;
      return { pushed, pulled };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!this.stopped) {
        this.lastError = message;
        this.context.events.emit('sync:error', { error: error instanceof Error ? error : new Error(message) });
      }
      throw error;
    }
  }

  private async ensureReplicaId(): Promise<string> {
    if (this.replicaId) return this.replicaId;
    const log = this.log;
    let id = await log.getMeta('sync:replica');
    if (!id) {
      id = uuidv7(this.context.now());
      await log.setMeta('sync:replica', id);
      // Another process on the same file may have written one first: keep whichever is stored.
      id = (await log.getMeta('sync:replica')) ?? id;
    }
    this.replicaId = id;
    return id;
  }

  /** Local entries after the push mark that this replica wrote itself (not pulled). */
  private async pendingEntries(): Promise<ChangeLogEntry[]> {
    const log = this.log;
    let position = Number((await log.getMeta('sync:pushed')) ?? 0);
    const found: ChangeLogEntry[] = [];
    for (;;) {
      const page = await log.changesSince(position, 5000);
      for (const entry of page.entries) if (entry.reason !== SYNC_REASON) found.push(entry);
      if (page.entries.length < 5000) return found;
      position = (page.entries.at(-1) as ChangeLogEntry).seq;
    }
  }

  /** This replica's own erasures after its erasure push mark, in pushes of at most `maxIds` ids (one entry at least). */
  private async pendingErasures(maxIds: number): Promise<SyncErasure[]> {
    const mark = Number((await this.log.getMeta(PUSHED_ERASURES_META)) ?? 0);
    const { entries } = await this.context.erasures.after(mark, maxIds);
    return entries.filter((entry) => entry.origin === 'local').map((entry) => ({ seq: entry.seq, ids: entry.ids }));
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    const { options } = this.context;
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const send = () =>
      options.fetch(`${options.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      // A kept-alive connection the server closed just as this request went out: send it again on a
      // new one (a push is idempotent by operation id). A refused connection or a timeout is final.
      if (!isClosedConnection(error)) throw error;
      response = await send();
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        detail = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? detail;
      } catch {
        // not JSON: keep the text
      }
      throw new SyncHttpError(`${method} ${path} answered ${response.status}: ${detail}`, response.status);
    }
    return JSON.parse(text) as T;
  }

  // ---------------------------------------------------------------- push

  private async push(): Promise<number> {
    const log = this.log;
    const replicaId = await this.ensureReplicaId();
    const { batchSize } = this.context.options;
    let total = await this.pushErasures(replicaId);
    let mark = Number((await log.getMeta('sync:pushed')) ?? 0);
    for (;;) {
      const page = await log.changesSince(mark, batchSize);
      if (page.entries.length === 0) break;
      const local = page.entries.filter((entry) => entry.reason !== SYNC_REASON);
      const operations = await this.operationsOf(local);
      let answer: SyncPushResult | undefined;
      if (operations.length > 0) {
        answer = await this.request<SyncPushResult>('POST', '/api/sync/push', { replicaId, operations });
        await this.settle(operations, answer);
        total += operations.length;
      }
      mark = (page.entries.at(-1) as ChangeLogEntry).seq;
      await log.setMeta('sync:pushed', String(mark));
      if (answer) {
        const count = (status: string) => answer.results.filter((result) => result.status === status).length;
        this.context.events.emit('sync:pushed', {
          operations: operations.length,
          applied: count('applied'),
          duplicate: count('duplicate'),
          merged: count('merged'),
          ignored: count('ignored'),
        });
      }
    }
    this.lastPushAt = new Date(this.context.now());
    await log.setMeta('sync:last-push-at', this.lastPushAt.toISOString());
    return total;
  }

  /**
   * This replica's erasures go first: every operation still queued was written after them or
   * concerns other memories (an erased memory's change-log entries went with it), so a later
   * write under the same key is not merged into a memory that is about to be erased.
   */
  private async pushErasures(replicaId: string): Promise<number> {
    const log = this.log;
    let total = 0;
    for (;;) {
      const mark = Number((await log.getMeta(PUSHED_ERASURES_META)) ?? 0);
      const { entries, head } = await this.context.erasures.after(mark, 5000);
      if (mark >= head) return total;
      // At most 100 entries a push; entries pulled from the server ('sync') are not pushed back.
      const window = entries.slice(0, 100);
      const erasures: SyncErasure[] = window
        .filter((entry) => entry.origin === 'local')
        .map((entry) => ({ seq: entry.seq, ids: entry.ids }));
      if (erasures.length > 0) {
        try {
          await this.request<SyncPushResult>('POST', '/api/sync/push', { replicaId, operations: [], erasures });
        } catch (error) {
          if (error instanceof SyncHttpError && error.status === 400 && /erasures/.test(error.message)) {
            throw new SyncHttpError(
              `The server at ${this.context.options.url} does not take erasures (an Engram server older than this replica): upgrade it. ` +
                `${erasures.length} erasure(s) stay queued, and so does everything written after them. (${error.message})`,
              400,
            );
          }
          throw error;
        }
        total += erasures.length;
      }
      await log.setMeta(PUSHED_ERASURES_META, String(window.at(-1)?.seq ?? head));
    }
  }

  /** Operations for local change-log entries, built from the memories as they are now. */
  private async operationsOf(entries: ChangeLogEntry[]): Promise<SyncOperation[]> {
    const ids = entries.filter((entry) => !isRelation(entry)).map((entry) => entry.memoryId);
    const current = await this.context.writer.findMany(ids);
    const operations: SyncOperation[] = [];
    for (const entry of entries) {
      if (isRelation(entry)) {
        operations.push({
          seq: entry.seq,
          kind: entry.event === 'relation:added' ? 'link' : 'unlink',
          relation: relationToWire(entry.relation),
        });
        continue;
      }
      const record = current.get(entry.memoryId);
      if (!record) continue; // erased since: nothing to send
      if (entry.event === 'created') {
        operations.push({ seq: entry.seq, kind: 'create', record: recordToWire(record) });
      } else if (entry.event === 'deleted') {
        operations.push({ seq: entry.seq, kind: 'delete', id: record.id, at: (record.deletedAt ?? entry.at).toISOString() });
      } else {
        const wire = recordToWire(record);
        const fields: Record<string, unknown> = {};
        for (const field of SYNCED_FIELDS) if (field in entry.changes) fields[field] = wire[field];
        if (Object.keys(fields).length > 0) operations.push({ seq: entry.seq, kind: 'update', id: record.id, fields });
      }
    }
    return operations;
  }

  /** Takes the server's word where it differs: a merged create's copy gives way, an ignored update yields to a delete. */
  private async settle(operations: SyncOperation[], answer: SyncPushResult): Promise<void> {
    const { writer } = this.context;
    const bySeq = new Map(operations.map((operation) => [operation.seq, operation]));
    const erased = await this.context.erasures.tombstoned(
      (answer.results ?? []).flatMap((result) => (result.memory ? [result.memory.id] : [])),
    );
    for (const result of answer.results ?? []) {
      if ((result.status !== 'merged' && result.status !== 'ignored') || !result.memory) continue;
      if (erased.has(result.memory.id)) continue;
      const memory = recordFromWire(result.memory);
      const operation = bySeq.get(result.seq);
      if (result.status === 'merged' && operation?.kind === 'create' && operation.record.id !== memory.id) {
        const copy = await writer.find(operation.record.id);
        if (copy && copy.deletedAt === null) await writer.remove(copy, new Date(this.context.now()), SYNC_REASON);
      }
      await this.applyMemory(memory.id, memory, new Set());
    }
  }

  // ---------------------------------------------------------------- pull

  private async pull(): Promise<number> {
    const log = this.log;
    const { batchSize } = this.context.options;
    let cursor = Number((await log.getMeta('sync:pulled')) ?? 0);
    let erasedCursor = Number((await log.getMeta('sync:erasures-pulled')) ?? 0);
    if (!this.resyncSeen && (await log.getMeta(RESYNC_META))) {
      // A full resync another process (or this one before a restart) left unfinished: start it over.
      this.resyncSeen = new Set();
      cursor = 0;
    }
    let total = 0;
    for (;;) {
      const page = await this.request<SyncChangesPage>('GET', `/api/sync/changes?since=${cursor}&limit=${batchSize}`, undefined, {
        [ERASED_SINCE_HEADER]: String(erasedCursor),
      });
      // Erasures first, whatever is pending here: an erasure wins over a local change not pushed
      // yet (its change-log entries go with the memory, so it is never pushed).
      let moreErased = false;
      if (page.erased) {
        const known = await this.context.erasures.tombstoned(page.erased.ids);
        const fresh = page.erased.ids.filter((id) => !known.has(id));
        if (fresh.length > 0) await this.context.erase(fresh);
        // Logged here already (this replica's own erasure coming back): erased, unless a crash
        // came between logging and erasing — then the copy goes now.
        if (known.size > 0) await this.context.eraseLogged([...known]);
        moreErased = page.erased.more && page.erased.cursor > erasedCursor;
        erasedCursor = page.erased.cursor;
        await log.setMeta('sync:erasures-pulled', String(erasedCursor));
        total += fresh.length;
        if (page.erased.resync && !this.resyncSeen) {
          // Erasures this replica was never told of were dropped on the server (it was away
          // longer than the server's erasure-log retention): read everything again from 0.
          this.resyncSeen = new Set();
          await log.setMeta(RESYNC_META, new Date(this.context.now()).toISOString());
          cursor = 0;
          await log.setMeta('sync:pulled', '0');
          continue;
        }
      }
      for (const change of page.changes) if (change.kind === 'memory' && change.memory !== null) this.resyncSeen?.add(change.id);
      const changes = await this.withoutErased(page.changes);
      const pending = await this.pendingKeys();
      const rest = await this.insertNew(changes, pending);
      for (const change of rest) await this.applyChange(change, pending);
      total += page.changes.length;
      const advanced = page.cursor > cursor;
      cursor = page.cursor;
      await log.setMeta('sync:pulled', String(cursor));
      if (page.changes.length > 0) this.context.events.emit('sync:pulled', { changes: page.changes.length, cursor });
      if (!(page.more && advanced) && !moreErased) {
        // Every change up to the server's head has been read: a full resync can conclude.
        if (this.resyncSeen && !page.more) total += await this.finishResync(this.resyncSeen);
        break;
      }
    }
    await this.context.compact();
    this.lastPullAt = new Date(this.context.now());
    await log.setMeta('sync:last-pull-at', this.lastPullAt.toISOString());
    return total;
  }

  /**
   * The end of a full resync: the memories here that the server no longer holds (in any state)
   * and that wait for no push are erased — the erasures the replica could not be told of.
   */
  private async finishResync(seen: Set<string>): Promise<number> {
    const pending = await this.pendingKeys();
    const gone: string[] = [];
    let listCursor: string | undefined;
    do {
      const page = await this.context.store.list(
        { includeSuperseded: true },
        { limit: 1000, includeDeleted: true, ...(listCursor ? { cursor: listCursor } : {}) },
      );
      for (const record of page.items) if (!seen.has(record.id) && !pending.has(record.id)) gone.push(record.id);
      listCursor = page.nextCursor ?? undefined;
    } while (listCursor);
    if (gone.length > 0) await this.context.erase(gone);
    await this.log.setMeta(RESYNC_META, '');
    this.resyncSeen = undefined;
    return gone.length;
  }

  /**
   * Leaves out what this replica erased (its own `forget`, or an erasure it pulled) — an older
   * state of an erased memory, or a link to it, never brings it back — and erases the memories
   * the server answers null for (erased there after the page's log entries were read).
   */
  private async withoutErased(changes: SyncChange[]): Promise<SyncChange[]> {
    const ids = changes.flatMap((change) =>
      change.kind === 'memory' ? [change.id] : [change.relation.sourceId, change.relation.targetId],
    );
    const tombstones = await this.context.erasures.tombstoned(ids);
    const gone = [
      ...new Set(
        changes.flatMap((change) => (change.kind === 'memory' && change.memory === null && !tombstones.has(change.id) ? [change.id] : [])),
      ),
    ];
    if (gone.length > 0) {
      await this.context.erase(gone);
      for (const id of gone) tombstones.add(id);
    }
    return changes.filter((change) =>
      change.kind === 'memory'
        ? !tombstones.has(change.id)
        : !tombstones.has(change.relation.sourceId) && !tombstones.has(change.relation.targetId),
    );
  }

  /**
   * Memories new to this replica go in one batch (one embedding call, one transaction); answers
   * the changes left to apply one by one (updates, deletes, links, and new memories whose key or
   * content met a local copy).
   */
  private async insertNew(changes: SyncChange[], pending: Set<string>): Promise<SyncChange[]> {
    const { writer } = this.context;
    const memoryChanges = changes.filter((change): change is Extract<SyncChange, { kind: 'memory' }> => change.kind === 'memory');
    const local = await writer.findMany(memoryChanges.map((change) => change.id));
    const fresh = memoryChanges.filter(
      (change) => change.memory !== null && change.memory.deletedAt === null && !local.has(change.id) && !pending.has(change.id),
    );
    if (fresh.length === 0) return changes;
    const written = await writer.insertMany(
      fresh.map((change) => recordFromWire(change.memory as WireRecord)),
      SYNC_REASON,
    );
    const again = new Set(fresh.filter((change, position) => written[position]?.record.id !== change.id).map((change) => change.id));
    const inserted = new Set(fresh.map((change) => change.id).filter((id) => !again.has(id)));
    return changes.filter((change) => change.kind !== 'memory' || !inserted.has(change.id));
  }

  /** Memories and edges with local changes not pushed yet: a pull leaves them to the next push. */
  private async pendingKeys(): Promise<Set<string>> {
    const keys = new Set<string>();
    for (const entry of await this.pendingEntries()) keys.add(isRelation(entry) ? relationKey(entry.relation) : entry.memoryId);
    return keys;
  }

  private async applyChange(change: SyncChange, pending: Set<string>): Promise<void> {
    if (change.kind === 'relation') {
      const relation = relationFromWire(change.relation);
      if (pending.has(relationKey(relation))) return;
      const { store } = this.context;
      if (change.event === 'removed') {
        const existing = await store.relationsOf([relation.sourceId], { direction: 'out', types: [relation.type] });
        if (existing.some((edge) => edge.targetId === relation.targetId)) await this.context.writer.unlink(relation, SYNC_REASON);
        return;
      }
      const existing = (await store.relationsOf([relation.sourceId], { direction: 'out', types: [relation.type] })).find(
        (edge) => edge.targetId === relation.targetId,
      );
      if (existing && sameRelation(existing, relation)) return;
      await this.context.writer.link(relation, SYNC_REASON);
      return;
    }
    await this.applyMemory(change.id, change.memory ? recordFromWire(change.memory) : null, pending);
  }

  /** Makes the local copy of memory `id` what the server holds (unless it has local changes waiting). */
  private async applyMemory(id: string, wanted: MemoryRecord | null, pending: Set<string>): Promise<void> {
    if (pending.has(id)) return;
    const { writer } = this.context;
    const local = await writer.find(id);
    if (wanted === null || wanted.deletedAt !== null) {
      if (local && local.deletedAt === null) await writer.remove(local, wanted?.deletedAt ?? new Date(this.context.now()), SYNC_REASON);
      return;
    }
    if (!local) {
      const result = await writer.insert(wanted, SYNC_REASON);
      if (result.record.id !== wanted.id && result.status === 'duplicate') {
        // A local copy with the same content (this replica's create the server merged into
        // `wanted`): it gives way, then the server's memory takes its place.
        const twin = result.record;
        if (pending.has(twin.id)) return;
        await writer.remove(twin, new Date(this.context.now()), SYNC_REASON);
        await writer.insert(wanted, SYNC_REASON);
      }
      return;
    }
    if (local.deletedAt !== null) return; // deleted here: the delete is pushed (a delete wins)
    await writer.patch(local, wanted, SYNC_REASON);
  }
}

function isClosedConnection(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(cause?.code ?? '');
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() >= b.getTime() ? a : b;
}

function sameRelation(a: Relation, b: Relation): boolean {
  return (
    a.weight === b.weight &&
    a.confidence === b.confidence &&
    a.inferred === b.inferred &&
    JSON.stringify(a.metadata) === JSON.stringify(b.metadata) &&
    a.updatedAt.getTime() === b.updatedAt.getTime()
  );
}
