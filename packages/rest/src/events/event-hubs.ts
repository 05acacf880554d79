import type { ChangeLogEntry, ChangeLogPage, HistoryEntry, Memory, MemoryRecord, Relation, Scope } from '@engram/core';

export type StreamEventName =
  | 'memory:added'
  | 'memory:updated'
  | 'memory:deleted'
  | 'memory:superseded'
  | 'relation:added'
  | 'relation:removed';

/** One event of GET /api/events. */
export interface StreamEvent {
  /** `<seq>` for writes read from the store's change log, `<seq>.<n>` for events only this process saw. */
  id: string;
  name: StreamEventName;
  data: Record<string, unknown>;
  /** Scope and tags of the memory concerned (for subscribers' filters); null when unknown. */
  scope: Scope | null;
  tags: string[] | null;
}

export interface EventFilter {
  userId?: string;
  agentId?: string;
  runId?: string;
  /** The event's memory carries at least one of them. */
  tags?: string[];
}

export interface EventHubOptions {
  /** How often the store's change log is read for other processes' writes, in ms. Default 250. */
  pollMs?: number;
  /** Events kept per tenant and process for Last-Event-ID resume. Default 1000. */
  ringSize?: number;
  log?: (message: string) => void;
}

type Listener = (event: StreamEvent) => void;

const PAGE = 500;
/** How long a gap in the change log is waited for, and the largest gap tracked. */
const GAP_PATIENCE_MS = 10_000;
const MAX_GAP = 1000;
const EVENT_OF_HISTORY: Record<HistoryEntry['event'], StreamEventName> = {
  created: 'memory:added',
  updated: 'memory:updated',
  superseded: 'memory:superseded',
  deleted: 'memory:deleted',
};

function parseId(id: string): [number, number] | null {
  const match = /^(\d{1,15})(?:\.(\d{1,15}))?$/.exec(id.trim());
  return match ? [Number(match[1]), Number(match[2] ?? 0)] : null;
}

function after(a: [number, number], b: [number, number]): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

export function matchesFilter(event: StreamEvent, filter: EventFilter): boolean {
  const scoped = filter.userId !== undefined || filter.agentId !== undefined || filter.runId !== undefined;
  if (scoped) {
    if (!event.scope) return false;
    if (filter.userId !== undefined && event.scope.userId !== filter.userId) return false;
    if (filter.agentId !== undefined && event.scope.agentId !== filter.agentId) return false;
    if (filter.runId !== undefined && event.scope.runId !== filter.runId) return false;
  }
  if (filter.tags && filter.tags.length > 0) {
    const wanted = filter.tags.map((tag) => tag.trim().toLowerCase());
    if (!event.tags?.some((tag) => wanted.includes(tag))) return false;
  }
  return true;
}

/**
 * The events of one tenant's memory, for SSE subscribers. With a store that has a change log
 * (`changesSince`: SQLite, Postgres), memory events are read from the log — so writes made by
 * other processes on the same store stream too, and an event's id is its log sequence number,
 * the same in every process. Relation events are in the log as well; without a log, every event
 * comes from this process's own writes. A bounded ring of recent events serves `Last-Event-ID`
 * resume; events older than the ring are re-read from the log.
 */
export class TenantEventHub {
  private readonly listeners = new Set<Listener>();
  private readonly closers = new Set<() => void>();
  private readonly ring: StreamEvent[] = [];
  private readonly known = new Map<string, { scope: Scope; tags: string[] }>();
  private cursor = 0;
  /** Sequence numbers skipped below the cursor (maybe a transaction not committed yet), with when they were first missed. */
  private readonly gaps = new Map<number, number>();
  private localCount = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private closed = false;
  private readonly pollMs: number;
  private readonly ringSize: number;
  private readonly log: (message: string) => void;
  private readonly detach: Array<() => void> = [];

  constructor(
    private readonly memory: Memory,
    options: EventHubOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 250;
    this.ringSize = options.ringSize ?? 1000;
    this.log = options.log ?? (() => {});
  }

  private get changeLog(): ((after: number | null, limit: number) => Promise<ChangeLogPage>) | undefined {
    const store = this.memory.store;
    return typeof store.changesSince === 'function' ? store.changesSince.bind(store) : undefined;
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      await this.memory.ready();
      const log = this.changeLog;
      if (log) this.cursor = (await log(null, 0)).head;
      const listen = <Name extends Parameters<Memory['on']>[0]>(name: Name, handler: Parameters<Memory['on']>[1]) => {
        this.memory.on(name, handler as never);
        this.detach.push(() => this.memory.off(name, handler as never));
      };
      if (log) {
        // A local write shows up in the log at once: read it now rather than at the next tick.
        for (const name of [
          'memory:added',
          'memory:updated',
          'memory:deleted',
          'memory:superseded',
          'relation:added',
          'relation:removed',
        ] as const) {
          listen(name, (() => this.schedule()) as never);
        }
        this.timer = setInterval(() => this.schedule(), this.pollMs);
        this.timer.unref();
      } else {
        listen('relation:added', (({ relation }: { relation: Relation }) => this.local('relation:added', relation)) as never);
        listen('relation:removed', (({ relation }: { relation: Relation }) => this.local('relation:removed', relation)) as never);
        listen('memory:added', (({ memory }: { memory: MemoryRecord }) => this.localMemory('memory:added', memory, {})) as never);
        listen('memory:updated', (({ memory }: { memory: MemoryRecord }) => this.localMemory('memory:updated', memory, {})) as never);
        listen('memory:deleted', (({ memory }: { memory: MemoryRecord }) => this.localMemory('memory:deleted', memory, {})) as never);
        listen('memory:superseded', (({ winner, loser }: { winner: MemoryRecord; loser: MemoryRecord }) =>
          this.localMemory('memory:superseded', loser, { winnerId: winner.id })) as never);
      }
    })();
    return this.started;
  }

  /** Runs `task` after everything queued before it: events leave in the order they happened. */
  private enqueue(task: () => Promise<void> | void): Promise<void> {
    this.chain = this.chain.then(task).catch((error: unknown) => this.log(`event stream: ${(error as Error).message}`));
    return this.chain;
  }

  private schedule(): void {
    if (this.closed) return;
    void this.enqueue(() => this.poll());
  }

  private async poll(): Promise<void> {
    const log = this.changeLog;
    if (!log || this.closed) return;
    // Postgres numbers entries when they are written, not when they commit: a transaction that
    // commits late fills a gap below the cursor. Gaps are re-read for a while (a rolled-back
    // transaction leaves one for good); SQLite writes one at a time, so it never has any.
    const now = Date.now();
    for (const [seq, since] of this.gaps) if (now - since > GAP_PATIENCE_MS) this.gaps.delete(seq);
    let position = this.gaps.size > 0 ? Math.min(this.cursor, Math.min(...this.gaps.keys()) - 1) : this.cursor;
    for (;;) {
      const page = await log(position, PAGE);
      for (const entry of page.entries) {
        if (entry.seq <= this.cursor && !this.gaps.delete(entry.seq)) continue;
        if (entry.seq > this.cursor + 1 && entry.seq - this.cursor <= MAX_GAP) {
          for (let missing = this.cursor + 1; missing < entry.seq; missing++) this.gaps.set(missing, now);
        }
        const event = await this.fromHistory(entry);
        if (entry.seq > this.cursor) {
          this.cursor = entry.seq;
          this.localCount = 0;
        }
        this.publish(event);
      }
      if (page.entries.length < PAGE) break;
      position = (page.entries[page.entries.length - 1] as { seq: number }).seq;
    }
  }

  private async fromHistory(entry: ChangeLogEntry): Promise<StreamEvent> {
    if (entry.event === 'relation:added' || entry.event === 'relation:removed') {
      const source = this.known.get(entry.relation.sourceId) ?? (await this.lookup(entry.relation.sourceId));
      return {
        id: String(entry.seq),
        name: entry.event,
        data: { relation: entry.relation },
        scope: source?.scope ?? null,
        tags: source?.tags ?? null,
      };
    }
    const record = entry.event === 'deleted' ? null : await this.memory.get(entry.memoryId).catch(() => null);
    if (record) this.remember(record);
    const facts = this.known.get(entry.memoryId) ?? null;
    const data: Record<string, unknown> = { id: entry.memoryId, memory: record, at: entry.at };
    if (entry.event === 'superseded') data.winnerId = (entry.changes.supersededBy?.to as string | undefined) ?? null;
    if (entry.reason !== null) data.reason = entry.reason;
    return { id: String(entry.seq), name: EVENT_OF_HISTORY[entry.event], data, scope: facts?.scope ?? null, tags: facts?.tags ?? null };
  }

  private remember(record: MemoryRecord): void {
    this.known.delete(record.id);
    this.known.set(record.id, { scope: record.scope, tags: record.tags });
    if (this.known.size > 10_000) this.known.delete(this.known.keys().next().value as string);
  }

  private localMemory(name: StreamEventName, record: MemoryRecord, extra: Record<string, unknown>): void {
    this.remember(record);
    void this.enqueue(() => {
      const live = name === 'memory:deleted' ? null : record;
      this.publish({
        id: `${this.cursor}.${++this.localCount}`,
        name,
        data: { id: record.id, memory: live, ...extra },
        scope: record.scope,
        tags: record.tags,
      });
    });
  }

  private local(name: StreamEventName, relation: Relation): void {
    void this.enqueue(async () => {
      // Memory writes that came before this relation go out first.
      await this.poll();
      const source = this.known.get(relation.sourceId) ?? (await this.lookup(relation.sourceId));
      this.publish({
        id: `${this.cursor}.${++this.localCount}`,
        name,
        data: { relation },
        scope: source?.scope ?? null,
        tags: source?.tags ?? null,
      });
    });
  }

  private async lookup(id: string): Promise<{ scope: Scope; tags: string[] } | undefined> {
    const record = await this.memory.get(id).catch(() => null);
    if (!record) return undefined;
    this.remember(record);
    return { scope: record.scope, tags: record.tags };
  }

  private publish(event: StreamEvent): void {
    this.ring.push(event);
    if (this.ring.length > this.ringSize) this.ring.shift();
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Starts delivering events to `listener`. With `lastEventId`, first replays what came after it:
   * memory events from the change log (when the store has one), the rest from the ring.
   */
  async subscribe(listener: Listener, lastEventId?: string, onClose?: () => void): Promise<() => void> {
    await this.start();
    let unsubscribe = () => {};
    await this.enqueue(async () => {
      const since = lastEventId !== undefined ? parseId(lastEventId) : null;
      if (since) {
        const replay: StreamEvent[] = [];
        const log = this.changeLog;
        const seen = new Set<string>();
        if (log && since[0] < this.cursor) {
          let position = since[0];
          while (position < this.cursor) {
            const page = await log(position, PAGE);
            for (const entry of page.entries) {
              if (entry.seq > this.cursor) break;
              const ringed = this.ring.find((event) => event.id === String(entry.seq));
              replay.push(ringed ?? (await this.fromHistory(entry)));
              seen.add(String(entry.seq));
            }
            if (page.entries.length < PAGE) break;
            position = (page.entries[page.entries.length - 1] as { seq: number }).seq;
          }
        }
        for (const event of this.ring) {
          const position = parseId(event.id) as [number, number];
          if (!seen.has(event.id) && after(position, since) && (!log || event.id.includes('.'))) replay.push(event);
        }
        replay.sort((a, b) => {
          const x = parseId(a.id) as [number, number];
          const y = parseId(b.id) as [number, number];
          return x[0] - y[0] || x[1] - y[1];
        });
        for (const event of replay) listener(event);
      }
      this.listeners.add(listener);
      if (onClose) this.closers.add(onClose);
      unsubscribe = () => {
        this.listeners.delete(listener);
        if (onClose) this.closers.delete(onClose);
      };
    });
    return unsubscribe;
  }

  /** Reads the change log now (tests; a server that just wrote). */
  flush(): Promise<void> {
    return this.enqueue(() => this.poll());
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const detach of this.detach) detach();
    this.listeners.clear();
    for (const closer of this.closers) closer();
    this.closers.clear();
  }
}

/** One hub per tenant memory, created on the first subscription. */
export class EventHubs {
  private readonly hubs = new Map<Memory, TenantEventHub>();

  constructor(private readonly options: EventHubOptions = {}) {}

  for(memory: Memory): TenantEventHub {
    let hub = this.hubs.get(memory);
    if (!hub) {
      hub = new TenantEventHub(memory, this.options);
      this.hubs.set(memory, hub);
    }
    return hub;
  }

  close(): void {
    for (const hub of this.hubs.values()) hub.close();
    this.hubs.clear();
  }
}
