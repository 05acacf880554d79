import * as z from 'zod';
import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import type { VectorIndex } from '../contracts/vector-index.js';
import type { EventHub } from '../events/event-hub.js';
import { EngramError, ValidationError } from '../model/errors.js';
import { scopeSchema, validate } from '../model/schema.js';
import { compactScope } from '../model/scope.js';

/** What `forget` erases: every memory of a scope, or these ids. */
export type ForgetInput = { scope: Scope; ids?: never } | { ids: string[]; scope?: never };

export interface ForgetResult {
  /** How many memories (live, superseded or soft-deleted) were erased. */
  forgotten: number;
  /** Their ids (nothing else about them is kept anywhere). */
  ids: string[];
}

export interface RetentionOptions {
  /**
   * Soft-deleted memories (tombstones) are erased for good — with their history, edges and
   * vectors — once deleted for this many days. Checked when the store opens and by
   * `memory.purgeDeleted()`. Default: tombstones are kept.
   */
  deletedDays?: number;
  /**
   * Sync's erasure log (the ids of erased memories, kept so an erasure reaches every replica and
   * is never undone) drops entries older than this many days. A replica that has not pulled for
   * longer resyncs in full on its next pull (it reads every change again and erases what the
   * server no longer holds). Default 90.
   */
  erasureLogDays?: number;
}

/** How long sync's erasure log keeps an entry by default (`retention.erasureLogDays`). */
export const DEFAULT_ERASURE_LOG_DAYS = 90;

export interface ResolvedRetentionOptions {
  deletedDays: number | null;
  erasureLogDays: number;
}

export function resolveRetentionOptions(options: RetentionOptions | undefined): ResolvedRetentionOptions {
  if (options === undefined) return { deletedDays: null, erasureLogDays: DEFAULT_ERASURE_LOG_DAYS };
  const parsed = validate(
    z
      .object({
        deletedDays: z.number().min(0, 'must be 0 or more days').optional(),
        erasureLogDays: z.number().min(0, 'must be 0 or more days').optional(),
      })
      .strict(),
    options,
    'retention',
  );
  return { deletedDays: parsed.deletedDays ?? null, erasureLogDays: parsed.erasureLogDays ?? DEFAULT_ERASURE_LOG_DAYS };
}

const forgetScopeSchema = z.object({ scope: scopeSchema }).strict();
const forgetIdsSchema = z
  .object({
    ids: z
      .array(z.string().trim().min(1, 'must not be empty').max(256))
      .min(1, 'must list at least one id')
      .max(100_000, 'at most 100,000 ids per call'),
  })
  .strict();

export interface EraserContext {
  store: MemoryStore;
  /** Opens the store (once); answers the vector index in use, if any. */
  open: () => Promise<VectorIndex | undefined>;
  events: EventHub;
  retention: ResolvedRetentionOptions;
  /** Called after an erasure: caches that may hold erased text drop it (query vectors). */
  onErased: () => void;
  /**
   * Called with the ids about to be erased, before anything is removed (sync records them in its
   * erasure log so the erasure travels; 'sync' when sync itself erases what another side erased).
   */
  beforeErase?: (ids: string[], origin: 'local' | 'sync') => Promise<void>;
  now: () => number;
}

const PAGE = 1000;
const DAY_MS = 86_400_000;

/**
 * Right to erasure: `forget` hard-deletes memories and everything derived from them (the store's
 * `purge`, plus a separate vector index); `purgeDeleted` applies the tombstone retention.
 */
export class Eraser {
  constructor(private readonly context: EraserContext) {}

  async forget(input: ForgetInput): Promise<ForgetResult> {
    if (input === null || typeof input !== 'object' || ('scope' in input && 'ids' in input) || !('scope' in input || 'ids' in input)) {
      throw new ValidationError([
        { field: 'input', message: 'pass { scope: { userId, agentId, runId } } or { ids: [...] } (one of them)' },
      ]);
    }
    const parsed = 'scope' in input ? validate(forgetScopeSchema, input, 'input') : validate(forgetIdsSchema, input, 'input');
    let ids: string[];
    let vectorIndex: VectorIndex | undefined;
    if ('scope' in parsed) {
      const scope = compactScope(parsed.scope);
      if (Object.keys(scope).length === 0) {
        throw new ValidationError([
          {
            field: 'input.scope',
            message: 'names no userId, agentId or runId: forgetting everything is not a scope (delete the store file instead)',
          },
        ]);
      }
      vectorIndex = await this.context.open();
      ids = (await this.collect(() => true, { scope })).map((record) => record.id);
    } else {
      vectorIndex = await this.context.open();
      ids = [...new Set(parsed.ids)];
    }
    const forgotten = await this.erase(ids, 'forget', vectorIndex);
    return { forgotten: forgotten.length, ids: forgotten };
  }

  /**
   * Erases these ids (any state) the way `forget` does, for sync applying another side's erasure;
   * answers the ids that existed here.
   */
  async eraseIds(ids: string[], origin: 'local' | 'sync'): Promise<string[]> {
    const vectorIndex = await this.context.open();
    return this.erase([...new Set(ids)], 'forget', vectorIndex, origin);
  }

  /** Erases tombstones deleted more than `olderThanDays` (default: the retention option) days ago. */
  async purgeDeleted(options: { olderThanDays?: number } = {}): Promise<ForgetResult> {
    const parsed = validate(z.object({ olderThanDays: z.number().min(0).optional() }).strict(), options, 'options');
    const days = parsed.olderThanDays ?? this.context.retention.deletedDays;
    if (days === null) {
      throw new ValidationError([
        { field: 'options.olderThanDays', message: 'is required when no retention.deletedDays option was given to new Memory()' },
      ]);
    }
    return this.purgeTombstones(await this.context.open(), days);
  }

  /** The retention option, applied while the store opens (so it takes the vector index, not `open`). */
  async applyRetention(vectorIndex: VectorIndex | undefined): Promise<void> {
    const days = this.context.retention.deletedDays;
    if (days !== null) await this.purgeTombstones(vectorIndex, days);
  }

  private async purgeTombstones(vectorIndex: VectorIndex | undefined, days: number): Promise<ForgetResult> {
    const cutoff = this.context.now() - days * DAY_MS;
    const ids = (await this.collect((record) => record.deletedAt !== null && record.deletedAt.getTime() <= cutoff, {})).map(
      (record) => record.id,
    );
    const forgotten = await this.erase(ids, 'retention', vectorIndex);
    return { forgotten: forgotten.length, ids: forgotten };
  }

  /** Every record (soft-deleted and superseded included) of the scope that passes `keep`. */
  private async collect(keep: (record: MemoryRecord) => boolean, filter: { scope?: Scope }): Promise<MemoryRecord[]> {
    const found: MemoryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.context.store.list(
        { ...filter, includeSuperseded: true },
        { limit: PAGE, includeDeleted: true, ...(cursor ? { cursor } : {}) },
      );
      for (const record of page.items) if (keep(record)) found.push(record);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return found;
  }

  private async erase(
    ids: string[],
    reason: 'forget' | 'retention',
    vectorIndex: VectorIndex | undefined,
    origin: 'local' | 'sync' = 'local',
  ): Promise<string[]> {
    const { store, events } = this.context;
    if (!store.purge) {
      throw new EngramError(
        'UNSUPPORTED',
        `The ${store.name} store cannot erase (it has no purge method): use the sqlite, postgres or in-memory store, or add purge() to this adapter.`,
      );
    }
    if (ids.length === 0) return [];
    // Which of them exist (in any state), so the answer lists what was really erased.
    const existing = new Set<string>();
    for (let start = 0; start < ids.length; start += PAGE) {
      const chunk = ids.slice(start, start + PAGE);
      const page = await store.list({ ids: chunk, includeSuperseded: true }, { limit: chunk.length, includeDeleted: true });
      for (const record of page.items) existing.add(record.id);
    }
    const erased = ids.filter((id) => existing.has(id));
    if (erased.length === 0) return [];
    await this.context.beforeErase?.(erased, origin);
    if (vectorIndex && vectorIndex !== store.vectors) await vectorIndex.delete(erased);
    await store.purge(erased);
    this.context.onErased();
    events.emit('memory:forgotten', { ids: erased, reason });
    return erased;
  }
}
