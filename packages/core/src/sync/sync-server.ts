import type { ChangeLogEntry, MemoryStore, StoreWriteResult } from '../contracts/memory-store.js';
import type { MemoryRecord, Relation } from '../contracts/model.js';
import { EngramError, ValidationError } from '../model/errors.js';
import { validate } from '../model/schema.js';
import type { ErasureLog } from './erasure-log.js';
import type { Along, ReplicaWriter } from './replica-writer.js';
import { syncPushSchema } from './sync-schemas.js';
import {
  recordFromWire,
  recordToWire,
  relationFromWire,
  relationToWire,
  type SyncChange,
  type SyncChangesPage,
  type SyncErasureResult,
  type SyncOperation,
  type SyncOperationResult,
  type SyncPushResult,
} from './sync-wire.js';

/**
 * How long a missing sequence number holds the cursor back, from when this server first saw it
 * missing: on Postgres a number is taken when a row is written, not when its transaction commits,
 * so a slower transaction may still fill the gap. Older gaps are rolled-back transactions (or
 * erased entries), stepped over. The largest number of missing entries tracked.
 */
const GAP_PATIENCE_MS = 10_000;
const MAX_TRACKED_GAPS = 10_000;

export interface SyncServerContext {
  store: MemoryStore;
  open: () => Promise<unknown>;
  writer: ReplicaWriter;
  now: () => number;
  erasures: ErasureLog;
  /** Logs (as 'sync') and erases these ids in this store the way `forget` does; answers those that existed. */
  erase: (ids: string[]) => Promise<string[]>;
  /** Drops erasure-log entries past the retention (at most once an hour). */
  compact: () => Promise<void>;
}

/** Erased ids served per pull page (about: whole erasure-log entries travel). */
const ERASED_PER_PAGE = 5000;

function requireLog(store: MemoryStore): Required<Pick<MemoryStore, 'changesSince' | 'getMeta' | 'setMeta'>> {
  if (!store.changesSince || !store.getMeta || !store.setMeta) {
    throw new EngramError(
      'UNSUPPORTED',
      `The ${store.name} store has no change log (changesSince, getMeta, setMeta): sync needs SQLite, Postgres or the in-memory store.`,
    );
  }
  return store as Required<Pick<MemoryStore, 'changesSince' | 'getMeta' | 'setMeta'>>;
}

/**
 * The server side of sync: pages of the change log as the current state of each memory changed
 * (`changes`), and replicas' operations applied in the order they arrive (`apply`). See
 * docs/sync.md for the conflict policy.
 */
export class SyncServer {
  /** Missing sequence numbers → when this process first saw them missing. */
  private readonly gaps = new Map<number, number>();

  constructor(private readonly context: SyncServerContext) {}

  /** True when the numbers between `from` and `to` (exclusive) have all been missing long enough. */
  private gapIsOld(from: number, to: number, now: number): boolean {
    let old = true;
    for (let seq = from + 1; seq < to; seq++) {
      let since = this.gaps.get(seq);
      if (since === undefined) {
        if (this.gaps.size >= MAX_TRACKED_GAPS) this.gaps.delete(this.gaps.keys().next().value as number);
        since = now;
        this.gaps.set(seq, since);
      }
      if (now - since < GAP_PATIENCE_MS) old = false;
    }
    if (old) for (let seq = from + 1; seq < to; seq++) this.gaps.delete(seq);
    return old;
  }

  async changes(since: number, limit: number, erasedSince?: number): Promise<SyncChangesPage> {
    if (erasedSince !== undefined && (!Number.isInteger(erasedSince) || erasedSince < 0))
      throw new ValidationError([{ field: 'erasedSince', message: 'must be an erasure cursor (an integer, 0 for the beginning)' }]);
    if (!Number.isInteger(since) || since < 0)
      throw new ValidationError([{ field: 'since', message: 'must be a cursor (an integer, 0 for the beginning)' }]);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000)
      throw new ValidationError([{ field: 'limit', message: 'must be an integer from 1 to 5000' }]);
    await this.context.open();
    const log = requireLog(this.context.store);
    if (erasedSince !== undefined) await this.context.compact();
    const page = await log.changesSince(since, limit);
    const memoryIds = page.entries.filter((entry) => !isRelation(entry)).map((entry) => entry.memoryId);
    const states = await this.context.writer.findMany(memoryIds);
    // Read after the states: a memory whose erasure was logged meanwhile travels as erased (null),
    // and one erased later is in a later erasure page (the log is written before the bytes go).
    const erased = erasedSince === undefined ? undefined : await this.context.erasures.after(erasedSince, ERASED_PER_PAGE);
    const tombstones = await this.context.erasures.tombstoned(memoryIds);
    const changes: SyncChange[] = [];
    const sent = new Set<string>();
    let cursor = since;
    let stepping = true;
    const now = this.context.now();
    for (const entry of page.entries) {
      if (stepping) {
        if (entry.seq === cursor + 1 || entry.seq - cursor > MAX_TRACKED_GAPS || this.gapIsOld(cursor, entry.seq, now)) {
          cursor = entry.seq;
        } else stepping = false;
      }
      if (isRelation(entry)) {
        changes.push({
          seq: entry.seq,
          kind: 'relation',
          event: entry.event === 'relation:added' ? 'added' : 'removed',
          relation: relationToWire(entry.relation),
        });
        continue;
      }
      // A memory changed several times in the page travels once, as it is now.
      if (sent.has(entry.memoryId)) continue;
      sent.add(entry.memoryId);
      const state = tombstones.has(entry.memoryId) ? undefined : states.get(entry.memoryId);
      changes.push({ seq: entry.seq, kind: 'memory', id: entry.memoryId, memory: state ? recordToWire(state) : null });
    }
    const result: SyncChangesPage = { changes, cursor, head: page.head, more: page.entries.length === limit };
    if (erased !== undefined && erasedSince !== undefined) {
      const last = erased.entries.at(-1);
      result.erased = {
        ids: [...new Set(erased.entries.flatMap((entry) => entry.ids))],
        cursor: last ? last.seq : Math.max(erasedSince, erased.horizon),
        more: last !== undefined && last.seq < erased.head,
        // Entries this cursor had not reached were dropped (older than the retention): the
        // replica cannot be told what they erased, so it resyncs in full.
        ...(erasedSince < erased.horizon ? { resync: true } : {}),
      };
    }
    return result;
  }

  /** Applies a replica's operations in order; each operation id (replicaId, seq) is applied once. */
  async apply(input: unknown): Promise<SyncPushResult> {
    const push = validate(syncPushSchema, input, 'body');
    await this.context.open();
    const log = requireLog(this.context.store);
    const markName = `sync:replica:${push.replicaId}`;
    let applied = Number((await log.getMeta(markName)) ?? 0);
    const erasures = push.erasures === undefined ? undefined : await this.applyErasures(push.replicaId, push.erasures, log);
    const results: SyncOperationResult[] = [];
    const operations = push.operations as SyncOperation[];
    for (let position = 0; position < operations.length; ) {
      const operation = operations[position] as SyncOperation;
      if (operation.seq <= applied) {
        results.push({ seq: operation.seq, status: 'duplicate' });
        position += 1;
        continue;
      }
      if (operation.kind === 'create') {
        // A run of creates goes in one transaction: a create is idempotent by its id (a replay
        // finds it), so the mark after the run is enough.
        const run: Array<Extract<SyncOperation, { kind: 'create' }>> = [];
        while (position < operations.length) {
          const next = operations[position] as SyncOperation;
          if (next.kind !== 'create' || next.seq <= applied || run.length >= 1000) break;
          run.push(next);
          position += 1;
        }
        results.push(...(await this.createMany(run, log)));
        applied = (run.at(-1) as SyncOperation).seq;
        // Written after each run of creates: a retried push skips exactly what was applied.
        await log.setMeta(markName, String(applied));
      } else {
        // The mark goes into the operation's own transaction: a crash can never leave the
        // operation applied and unmarked (which a retried push would apply a second time).
        const mark: Along = [{ kind: 'setMeta', name: markName, value: String(operation.seq) }];
        const { result, marked } = await this.applyOne(operation, log, mark);
        if (!marked) await log.setMeta(markName, String(operation.seq)); // nothing was written: nothing to repeat
        results.push(result);
        applied = operation.seq;
        position += 1;
      }
    }
    return erasures === undefined ? { results } : { results, erasures };
  }

  /**
   * A replica's erasures, each once (its own mark per replica): the ids, and what a merge made of
   * them here, are erased in this store only — the tenant's store the request was routed to, as
   * for every other operation — through the same path as `forget`, and logged for other replicas.
   */
  private async applyErasures(
    replicaId: string,
    erasures: Array<{ seq: number; ids: string[] }>,
    log: Required<Pick<MemoryStore, 'getMeta' | 'setMeta'>>,
  ): Promise<SyncErasureResult[]> {
    const markName = `sync:replica-erasures:${replicaId}`;
    let applied = Number((await log.getMeta(markName)) ?? 0);
    const results: SyncErasureResult[] = [];
    for (const erasure of erasures) {
      if (erasure.seq <= applied) {
        results.push({ seq: erasure.seq, status: 'duplicate', erased: 0 });
        continue;
      }
      const ids = new Set(erasure.ids);
      for (const id of erasure.ids) ids.add(await this.alias(id, log));
      const erased = await this.context.erase([...ids]);
      results.push({ seq: erasure.seq, status: 'applied', erased: erased.length });
      applied = erasure.seq;
      await log.setMeta(markName, String(applied));
    }
    return results;
  }

  private async alias(id: string, log: Required<Pick<MemoryStore, 'getMeta'>>): Promise<string> {
    return (await log.getMeta(`sync:alias:${id}`)) ?? id;
  }

  private async createMany(
    run: Array<Extract<SyncOperation, { kind: 'create' }>>,
    log: Required<Pick<MemoryStore, 'getMeta' | 'setMeta'>>,
  ): Promise<SyncOperationResult[]> {
    const { writer } = this.context;
    const existing = await writer.findMany(run.map((operation) => operation.record.id));
    const results: SyncOperationResult[] = [];
    const fresh: Array<{ index: number; record: MemoryRecord }> = [];
    const erased = await this.context.erasures.tombstoned(run.map((operation) => operation.record.id));
    for (const operation of run) {
      const record = recordFromWire(operation.record);
      if (erased.has(record.id)) {
        results.push({ seq: operation.seq, status: 'ignored', memory: null, reason: 'erased: an erasure is never undone' });
        continue;
      }
      const known = existing.has(record.id) || (await log.getMeta(`sync:alias:${record.id}`)) !== null;
      results.push({ seq: operation.seq, status: 'applied' });
      if (known) continue;
      if (record.supersededBy !== null) record.supersededBy = await this.alias(record.supersededBy, log);
      fresh.push({ index: results.length - 1, record });
    }
    const written = await writer.insertMany(fresh.map((item) => item.record));
    for (const [position, item] of fresh.entries()) {
      const result = written[position] as StoreWriteResult;
      if (result.record.id === item.record.id) continue;
      await log.setMeta(`sync:alias:${item.record.id}`, result.record.id);
      results[item.index] = {
        seq: (run[item.index] as SyncOperation).seq,
        status: 'merged',
        memory: recordToWire(result.record),
        reason: item.record.key !== null ? 'same key in the same scope' : 'same content in the same scope',
      };
    }
    return results;
  }

  /**
   * One operation other than a run of creates; `mark` goes into the transaction of whatever it
   * writes (`marked`), or is left to the caller when it writes nothing.
   */
  private async applyOne(
    operation: SyncOperation,
    log: Required<Pick<MemoryStore, 'getMeta' | 'setMeta'>>,
    mark: Along,
  ): Promise<{ result: SyncOperationResult; marked: boolean }> {
    const { writer } = this.context;
    const at = new Date(this.context.now());
    const seq = operation.seq;
    const unmarked = (result: SyncOperationResult) => ({ result, marked: false });
    const marked = (result: SyncOperationResult) => ({ result, marked: true });
    switch (operation.kind) {
      case 'create': {
        // Creates arrive in runs (`createMany`); one alone is the same, idempotent by its id.
        return unmarked(await this.createOne(operation, log));
      }
      case 'update': {
        const current = await writer.find(await this.alias(operation.id, log));
        if (!current) return unmarked({ seq, status: 'ignored', memory: null, reason: 'unknown memory' });
        if (current.deletedAt !== null)
          return unmarked({ seq, status: 'ignored', memory: recordToWire(current), reason: 'deleted: a delete wins over an update' });
        const fields = operation.fields;
        const wanted: MemoryRecord = {
          ...current,
          ...(fields.content !== undefined ? { content: fields.content } : {}),
          ...(fields.type !== undefined ? { type: fields.type } : {}),
          ...(fields.subtype !== undefined ? { subtype: fields.subtype } : {}),
          ...(fields.tags !== undefined ? { tags: fields.tags } : {}),
          ...(fields.metadata !== undefined ? { metadata: fields.metadata } : {}),
          ...(fields.importance !== undefined ? { importance: fields.importance } : {}),
          ...(fields.supersededBy !== undefined
            ? { supersededBy: fields.supersededBy === null ? null : await this.alias(fields.supersededBy, log) }
            : {}),
          ...(fields.validTo !== undefined ? { validTo: fields.validTo === null ? null : new Date(fields.validTo) } : {}),
        };
        await writer.patch(current, wanted, undefined, mark);
        return marked({ seq, status: 'applied' });
      }
      case 'delete': {
        const current = await writer.find(await this.alias(operation.id, log));
        if (!current || current.deletedAt !== null) return unmarked({ seq, status: 'applied' });
        await writer.remove(current, at, undefined, mark);
        return marked({ seq, status: 'applied' });
      }
      case 'link':
      case 'unlink': {
        const wire = operation.relation;
        const relation: Relation = {
          ...relationFromWire(wire),
          sourceId: await this.alias(wire.sourceId, log),
          targetId: await this.alias(wire.targetId, log),
        };
        if (operation.kind === 'unlink') {
          await writer.unlink(relation, undefined, mark);
          return marked({ seq, status: 'applied' });
        }
        const ends = await writer.findMany([relation.sourceId, relation.targetId]);
        const live = [relation.sourceId, relation.targetId].every((id) => {
          const record = ends.get(id);
          return record !== undefined && record.deletedAt === null;
        });
        if (!live) return unmarked({ seq, status: 'ignored', reason: 'an end of the link is deleted or unknown' });
        await writer.link(relation, undefined, mark);
        return marked({ seq, status: 'applied' });
      }
    }
  }

  private async createOne(
    operation: Extract<SyncOperation, { kind: 'create' }>,
    log: Required<Pick<MemoryStore, 'getMeta' | 'setMeta'>>,
  ): Promise<SyncOperationResult> {
    const { writer } = this.context;
    const seq = operation.seq;
    const record = recordFromWire(operation.record);
    if ((await this.context.erasures.tombstoned([record.id])).size > 0)
      return { seq, status: 'ignored', memory: null, reason: 'erased: an erasure is never undone' };
    if (await writer.find(await this.alias(record.id, log))) return { seq, status: 'applied' };
    if (record.supersededBy !== null) record.supersededBy = await this.alias(record.supersededBy, log);
    const result = await writer.insert(record);
    if (result.record.id === record.id) return { seq, status: 'applied' };
    await log.setMeta(`sync:alias:${record.id}`, result.record.id);
    return {
      seq,
      status: 'merged',
      memory: recordToWire(result.record),
      reason: record.key !== null ? 'same key in the same scope' : 'same content in the same scope',
    };
  }
}

function isRelation(entry: ChangeLogEntry): entry is Extract<ChangeLogEntry, { relation: Relation }> {
  return entry.event === 'relation:added' || entry.event === 'relation:removed';
}
