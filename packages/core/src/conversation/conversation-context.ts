import * as z from 'zod';
import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryFilter, MemoryRecord } from '../contracts/model.js';
import { isEnvelope } from '../encryption/envelope.js';
import { scopeKey } from '../filter/filter.js';
import { scopeSchema } from '../model/schema.js';

/**
 * Conversation-aware lexical context: a memory in a conversation (`conversationId`) is found by
 * the words of the turns just before it, which Engram looks up itself at write time.
 */
export interface ConversationContextOptions {
  /**
   * How many preceding turns of the same conversation (same scope and `conversationId`) become a
   * new memory's context. Default 2 (measured on LoCoMo: see docs/conversation-context.md).
   * 0 turns the feature off, like `conversationContext: false`.
   */
  turns?: number;
}

const MAX_TURNS = 20;
const PAGE = 500;

/** What `memory.reindexContext(options)` accepts. */
export const reindexContextSchema = z
  .object({
    scope: scopeSchema.optional(),
    conversationId: z.string().trim().min(1, 'must not be empty').optional(),
    /** The window for this run (default: the Memory's `conversationContext.turns`); 0 removes derived contexts. */
    turns: z.number().int('must be a whole number').min(0, 'must be at least 0').max(MAX_TURNS, `must be at most ${MAX_TURNS}`).optional(),
  })
  .strict();

export interface ResolvedConversationContextOptions {
  /** 0 when off. */
  turns: number;
}

/** The window chosen by measurement (LoCoMo, tuning conversations): 2 preceding turns. */
export const DEFAULT_CONVERSATION_CONTEXT_TURNS = 2;
/** A derived context keeps at most this many characters: the nearest text, whole turns first. */
export const MAX_DERIVED_CONTEXT_CHARS = 4000;

export function resolveConversationContextOptions(
  options: ConversationContextOptions | false | undefined,
): ResolvedConversationContextOptions {
  if (options === false) return { turns: 0 };
  if (options === undefined) return { turns: DEFAULT_CONVERSATION_CONTEXT_TURNS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error('conversationContext must be false or an object such as { turns: 2 }');
  }
  const turns = options.turns ?? DEFAULT_CONVERSATION_CONTEXT_TURNS;
  if (!Number.isInteger(turns) || turns < 0 || turns > MAX_TURNS) {
    throw new Error(`conversationContext.turns must be a whole number from 0 to ${MAX_TURNS} (got ${String(turns)})`);
  }
  return { turns };
}

/** A memory's place in its conversation: createdAt, then sequenceNumber (unnumbered last), then id (the order added). */
export function compareTurns(a: MemoryRecord, b: MemoryRecord): number {
  const byTime = a.createdAt.getTime() - b.createdAt.getTime();
  if (byTime !== 0) return byTime;
  const sequenceA = a.sequenceNumber ?? Number.POSITIVE_INFINITY;
  const sequenceB = b.sequenceNumber ?? Number.POSITIVE_INFINITY;
  if (sequenceA !== sequenceB) return sequenceA < sequenceB ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The context derived for `ordered[index]`: the `turns` turns before it, oldest first, one a line, at most MAX_DERIVED_CONTEXT_CHARS. */
export function derivedContext(
  ordered: readonly MemoryRecord[],
  index: number,
  turns: number,
  isPrivate: (record: MemoryRecord) => boolean = isSealed,
): string | undefined {
  const lines: string[] = [];
  let length = 0;
  let taken = 0;
  for (let back = 1; taken < turns && index - back >= 0; back++) {
    const turn = ordered[index - back] as MemoryRecord;
    // A sensitive turn never lends its words to another memory's (plaintext) context.
    if (isPrivate(turn)) continue;
    taken += 1;
    const text = turn.content.trim();
    const room = MAX_DERIVED_CONTEXT_CHARS - length - (lines.length > 0 ? 1 : 0);
    if (room <= 0) break;
    // The nearest turn is kept even when long: its end is what leads into this turn.
    lines.unshift(text.length > room ? text.slice(text.length - room) : text);
    length += Math.min(text.length, room) + (lines.length > 1 ? 1 : 0);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** A stored sensitive memory: its content is an encryption envelope. */
function isSealed(record: MemoryRecord): boolean {
  return isEnvelope(record.content);
}

/** True when Engram may set this memory's context: it has none, or the one it has was derived. */
export function contextIsDerivable(record: MemoryRecord): boolean {
  return record.context === undefined || record.contextSource === 'conversation';
}

export interface ConversationContextPart {
  store: MemoryStore;
  options: ResolvedConversationContextOptions;
}

/** What `prepare` found: the stored turns whose context must follow once the new ones are written. */
export interface ContextRepair {
  groups: Array<{ stored: MemoryRecord[]; incoming: MemoryRecord[] }>;
  /** Turns that must not lend their words to another memory's context (sensitive ones). */
  isPrivate: (record: MemoryRecord) => boolean;
}

export interface ReindexContextResult {
  /** Conversations (scope + conversationId) looked at. */
  conversations: number;
  /** Memories in them. */
  memories: number;
  /** Memories whose derived context was set, changed or removed. */
  updated: number;
}

/**
 * The part that derives and keeps conversation context. `prepare` gives each new conversation
 * memory without a caller `context` the preceding turns (stored ones and those of the same batch);
 * `repair` then refreshes the stored turns that a new turn landed before (out-of-order writes);
 * `reindex` re-derives every conversation's contexts (`engram reindex --context`).
 */
export class ConversationContext {
  constructor(private readonly context: ConversationContextPart) {}

  get enabled(): boolean {
    return this.context.options.turns > 0;
  }

  /** Sets `context`/`contextSource` on the records to write; answers what `repair` needs afterwards. */
  async prepare(records: MemoryRecord[], sensitiveIds: ReadonlySet<string> = new Set()): Promise<ContextRepair> {
    const isPrivate = (record: MemoryRecord) => sensitiveIds.has(record.id) || isSealed(record);
    const { turns } = this.context.options;
    const repair: ContextRepair = { groups: [], isPrivate };
    if (turns === 0) return repair;
    const groups = new Map<string, MemoryRecord[]>();
    for (const record of records) {
      if (record.conversationId === null || record.key !== null) continue;
      const key = `${scopeKey(record.scope)}\u0000${record.conversationId}`;
      const group = groups.get(key) ?? [];
      group.push(record);
      groups.set(key, group);
    }
    for (const incoming of groups.values()) {
      const first = incoming[0] as MemoryRecord;
      const earliest = Math.min(...incoming.map((record) => record.createdAt.getTime()));
      const filter: MemoryFilter = { scope: first.scope, conversationId: first.conversationId as string, includeSuperseded: true };
      const sameScope = (record: MemoryRecord) => scopeKey(record.scope) === scopeKey(first.scope);
      // The nearest turns before the earliest new one, and every stored turn from its time on (a new
      // turn may precede them: out of order): enough to place every new turn and to repair. When
      // turns arrive in order, the second list holds only turns of the same instant.
      const before = (await this.context.store.list({ ...filter, before: new Date(earliest) }, { limit: turns * 4 + 8 })).items;
      const later = await this.listAll({ ...filter, after: new Date(earliest) });
      const stored = [...before, ...later].filter(sameScope);
      const ordered = [...stored, ...incoming].sort(compareTurns);
      ordered.forEach((record, index) => {
        if (!incoming.includes(record) || record.context !== undefined) return;
        const text = derivedContext(ordered, index, turns, isPrivate);
        if (text !== undefined) {
          record.context = text;
          record.contextSource = 'conversation';
        }
      });
      if (later.length > 0) repair.groups.push({ stored, incoming });
    }
    return repair;
  }

  /** After the write: refreshes the derived context of stored turns that now follow a new turn. */
  async repair(repair: ContextRepair, written: MemoryRecord[]): Promise<void> {
    const { store, options } = this.context;
    if (repair.groups.length === 0 || !store.setDerivedContexts) return;
    const writtenIds = new Set(written.map((record) => record.id));
    const updates: Array<{ id: string; context: string | null }> = [];
    for (const group of repair.groups) {
      const incoming = group.incoming.filter((record) => writtenIds.has(record.id));
      if (incoming.length === 0) continue;
      const ordered = [...group.stored, ...incoming].sort(compareTurns);
      // Only turns after the first new one can have changed (and only they have all their predecessors loaded).
      const first = ordered.findIndex((record) => incoming.includes(record));
      ordered.forEach((record, index) => {
        if (index <= first || incoming.includes(record) || !contextIsDerivable(record) || record.key !== null) return;
        const text = derivedContext(ordered, index, options.turns, repair.isPrivate);
        if ((text ?? undefined) !== record.context) updates.push({ id: record.id, context: text ?? null });
      });
    }
    if (updates.length > 0) await store.setDerivedContexts(updates);
  }

  /**
   * Re-derives the context of every memory in a conversation (within `filter`, e.g. one scope or
   * one conversation) whose context is absent or derived; a caller's context is left alone.
   * With the feature off it removes derived contexts instead.
   */
  async reindex(filter: MemoryFilter = {}, turns = this.context.options.turns): Promise<ReindexContextResult> {
    const { store } = this.context;
    if (!store.setDerivedContexts) {
      throw new Error(`The ${store.name} store cannot set derived contexts (it has no setDerivedContexts)`);
    }
    const groups = new Map<string, MemoryRecord[]>();
    let cursor: string | undefined;
    do {
      const page = await store.list({ ...filter, includeSuperseded: true }, { limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (const record of page.items) {
        if (record.conversationId === null) continue;
        const key = `${scopeKey(record.scope)}\u0000${record.conversationId}`;
        const group = groups.get(key) ?? [];
        group.push(record);
        groups.set(key, group);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const result: ReindexContextResult = { conversations: groups.size, memories: 0, updated: 0 };
    for (const group of groups.values()) {
      const ordered = group.sort(compareTurns);
      result.memories += ordered.length;
      const updates: Array<{ id: string; context: string | null }> = [];
      ordered.forEach((record, index) => {
        if (!contextIsDerivable(record) || record.key !== null) return;
        const text = turns > 0 ? derivedContext(ordered, index, turns) : undefined;
        if (text !== record.context) updates.push({ id: record.id, context: text ?? null });
      });
      for (let start = 0; start < updates.length; start += PAGE) {
        result.updated += await store.setDerivedContexts(updates.slice(start, start + PAGE));
      }
    }
    return result;
  }

  private async listAll(filter: MemoryFilter): Promise<MemoryRecord[]> {
    const items: MemoryRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.context.store.list(filter, { limit: PAGE, ...(cursor ? { cursor } : {}) });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }
}
