import type { LanguageModel, LanguageModelResponse } from '../contracts/language-model.js';
import type { MemoryRecord, Scope } from '../contracts/model.js';
import { EngramError, ModelError, ValidationError } from '../model/errors.js';
import { extractionPrompt, reconcilePrompt } from './extraction-prompts.js';
import {
  type ExtractedFact,
  FACTS_JSON_SCHEMA,
  FACTS_SCHEMA_NAME,
  factsSchema,
  RECONCILE_JSON_SCHEMA,
  RECONCILE_SCHEMA_NAME,
  type ReconcileOperationName,
  reconcileSchema,
} from './extraction-schemas.js';

/** One turn of a conversation handed to `add(messages, { infer: true })`. */
export interface ConversationMessage {
  role: 'user' | 'assistant' | 'system' | 'tool';
  content: string;
  /** The caller's id for the message: recorded as provenance on what is learned from it. */
  id?: string;
  createdAt?: Date | string;
}

export interface InferOptions {
  /** Must be true: extract facts with the model and reconcile them with what is stored. */
  infer: true;
  scope?: Scope;
  conversationId?: string;
  /** Extra guidance for both calls ("only remember facts about the user's codebase"). */
  instructions?: string;
  /** Return the plan without writing anything. */
  dryRun?: boolean;
  /**
   * When the model fails (error, timeout, an answer that is not the JSON asked for): 'store-raw'
   * (default) stores the messages verbatim as one observation and warns, so nothing is lost;
   * 'throw' writes nothing and throws the `ModelError`.
   */
  onFailure?: 'throw' | 'store-raw';
  /** Tags added to every memory written. */
  tags?: string[];
  /** Metadata merged into every memory written (provenance goes under `metadata.inference`). */
  metadata?: Record<string, unknown>;
  signal?: AbortSignal;
}

/** Settings of the pipeline, given once to `new Memory({ inference })`. */
export interface InferenceOptions {
  /**
   * A stored memory is "related" to a fact when their embeddings' cosine similarity reaches this
   * (without vectors: when it matches lexically). No related memory for any fact: the reconcile
   * call is skipped and every fact is added. Default 0.3.
   */
  relatedThreshold?: number;
  /** Related memories looked up per fact (the model sees their union). Default 5. */
  maxRelated?: number;
}

export type InferStatus = 'created' | 'updated' | 'superseded' | 'unchanged';

export interface InferredMemory {
  memory: MemoryRecord;
  status: InferStatus;
  /** Index of the fact in `plan.facts`; absent for the raw fallback. */
  fact?: number;
  /** For 'updated': the memory before; for 'superseded': the memory it replaced. */
  previous?: MemoryRecord;
}

export interface PlannedOperation {
  op: ReconcileOperationName;
  fact: number;
  /** The alias the model used (m1…), or null. */
  target: string | null;
  /** The id the alias stands for. */
  targetId: string | null;
  /** For update: the merged content. */
  content: string | null;
  reason: string;
}

export interface InferencePlan {
  facts: Array<{ content: string; type: string | null; tags: string[]; importance: number | null }>;
  /** The stored memories shown to the model, with their aliases. */
  related: Array<{ alias: string; id: string; content: string }>;
  operations: PlannedOperation[];
  /** Operations Engram refused (an alias the model was not given, a second operation for a fact…). */
  rejected: Array<{ operation: unknown; reason: string }>;
  /** False when the reconcile call was skipped (nothing related stored). */
  reconciled: boolean;
}

export interface InferenceUsage {
  inputTokens: number;
  outputTokens: number;
  /** Model calls made: 0, 1 (nothing extracted, or nothing related) or 2. */
  calls: number;
}

export interface InferResult {
  results: InferredMemory[];
  plan: InferencePlan;
  usage: InferenceUsage;
  warnings: string[];
}

export interface RelatedMemory {
  memory: MemoryRecord;
  /** Cosine similarity to the fact, or null without vectors. */
  similarity: number | null;
  /** Whether it matched the fact lexically. */
  lexical: boolean;
}

export interface NewMemory {
  content: string;
  type?: string;
  tags?: string[];
  importance?: number;
  metadata: Record<string, unknown>;
  scope: Scope;
  conversationId?: string;
  source: string;
}

export interface AddOutcome {
  memory: MemoryRecord;
  status: 'created' | 'duplicate' | 'updated';
  warnings?: string[];
}

/** A plan's writes, for `InferenceHost.apply`. */
export interface PlanChanges {
  adds: NewMemory[];
  updates: Array<{ id: string; patch: { content: string; metadata: Record<string, unknown> }; reason: string }>;
  /** `add`: the position in `adds` of the winner. */
  supersessions: Array<{ add: number; loserId: string; reason: string }>;
}

export interface PlanOutcome {
  /** By position in `adds`. */
  added: AddOutcome[];
  /** By position in `updates`: the memory after the update. */
  updated: MemoryRecord[];
  /** By position in `supersessions`: the loser after it, or null when the add was that very memory (nothing to do). */
  superseded: Array<MemoryRecord | null>;
}

/**
 * What the pipeline needs from a Memory: a small surface so it depends on no store internals.
 * `add` must write all its memories atomically (one store write).
 */
export interface InferenceHost {
  model: LanguageModel;
  /** Base types and their subtypes, shown to the model. */
  types: Record<string, readonly string[]>;
  related(query: string, scope: Scope, limit: number): Promise<RelatedMemory[]>;
  add(memories: NewMemory[]): Promise<AddOutcome[]>;
  /**
   * Applies a plan's changes in one store transaction — all of them or none: the new memories
   * (one write), the updates, then each supersession (the loser superseded by the memory its
   * `add` resolved to: contradicts edge, history reason).
   */
  apply(changes: PlanChanges): Promise<PlanOutcome>;
  now(): number;
}

const ROLES = new Set(['user', 'assistant', 'system', 'tool']);
export const DEFAULT_RELATED_THRESHOLD = 0.3;
export const DEFAULT_MAX_RELATED = 5;

/** Checks `new Memory({ inference })`; errors name the field. */
export function resolveInferenceOptions(options: InferenceOptions | undefined): Required<InferenceOptions> {
  const relatedThreshold = options?.relatedThreshold ?? DEFAULT_RELATED_THRESHOLD;
  const maxRelated = options?.maxRelated ?? DEFAULT_MAX_RELATED;
  if (typeof relatedThreshold !== 'number' || !(relatedThreshold > 0 && relatedThreshold <= 1)) {
    throw new ValidationError([{ field: 'inference.relatedThreshold', message: `must be in (0, 1], got ${String(relatedThreshold)}` }]);
  }
  if (!Number.isInteger(maxRelated) || maxRelated < 1 || maxRelated > 50) {
    throw new ValidationError([{ field: 'inference.maxRelated', message: `must be an integer from 1 to 50, got ${String(maxRelated)}` }]);
  }
  return { relatedThreshold, maxRelated };
}

/** Checks and normalises `messages` (a string is one user message). */
export function normaliseMessages(messages: unknown): ConversationMessage[] {
  const list = typeof messages === 'string' ? [{ role: 'user', content: messages }] : messages;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ValidationError([{ field: 'messages', message: 'must be a string or a non-empty array of { role, content }' }]);
  }
  return list.map((message: unknown, index) => {
    const field = `messages.${index}`;
    if (!message || typeof message !== 'object') throw new ValidationError([{ field, message: 'must be an object { role, content }' }]);
    const { role, content, id, createdAt } = message as Record<string, unknown>;
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw new ValidationError([
        { field: `${field}.role`, message: `must be one of user, assistant, system, tool; got ${JSON.stringify(role)}` },
      ]);
    }
    if (typeof content !== 'string') throw new ValidationError([{ field: `${field}.content`, message: 'must be a string' }]);
    if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > 256)) {
      throw new ValidationError([{ field: `${field}.id`, message: 'must be a non-empty string of at most 256 characters' }]);
    }
    let date: Date | undefined;
    if (createdAt !== undefined) {
      date = createdAt instanceof Date ? createdAt : typeof createdAt === 'string' ? new Date(createdAt) : undefined;
      if (!date || Number.isNaN(date.getTime())) {
        throw new ValidationError([{ field: `${field}.createdAt`, message: 'must be a Date or an ISO 8601 string' }]);
      }
    }
    return {
      role: role as ConversationMessage['role'],
      content,
      ...(typeof id === 'string' ? { id } : {}),
      ...(date ? { createdAt: date } : {}),
    };
  });
}

/** The conversation as the model reads it, and as the raw fallback stores it. */
export function renderTranscript(messages: readonly ConversationMessage[]): string {
  return messages
    .filter((message) => message.content.trim().length > 0)
    .map((message) => {
      const when = message.createdAt instanceof Date ? ` ${message.createdAt.toISOString()}` : '';
      return `[${message.role}${when}] ${message.content.trim()}`;
    })
    .join('\n');
}

/** Reads a model's JSON answer: tolerates a Markdown code fence around it, nothing else. */
function parseJsonAnswer(text: string, name: string, modelId: string): unknown {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text);
  const body = fenced ? (fenced[1] as string) : text;
  try {
    return JSON.parse(body);
  } catch {
    const snippet = text.trim().replace(/\s+/g, ' ');
    throw new ModelError(
      `${modelId} answered ${name} with text that is not JSON: ${JSON.stringify(snippet.length > 200 ? `${snippet.slice(0, 200)}…` : snippet)}`,
    );
  }
}

function schemaProblem(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}

/**
 * `add(messages, { infer: true })`: extract facts (one call, `engram_facts`), look up related
 * memories, reconcile (one call, `engram_reconcile`, skipped when nothing related is stored), then
 * apply the plan. Nothing is written before both calls have succeeded and the plan is checked.
 */
export async function inferMemories(
  host: InferenceHost,
  rawMessages: unknown,
  options: InferOptions,
  settings: InferenceOptions = {},
): Promise<InferResult> {
  const messages = normaliseMessages(rawMessages);
  const onFailure = options.onFailure ?? 'store-raw';
  if (onFailure !== 'throw' && onFailure !== 'store-raw') {
    throw new ValidationError([
      { field: 'options.onFailure', message: `must be 'throw' or 'store-raw', got ${JSON.stringify(onFailure)}` },
    ]);
  }
  const relatedThreshold = settings.relatedThreshold ?? DEFAULT_RELATED_THRESHOLD;
  const maxRelated = settings.maxRelated ?? DEFAULT_MAX_RELATED;
  const scope = options.scope ?? {};
  const usage: InferenceUsage = { inputTokens: 0, outputTokens: 0, calls: 0 };
  const warnings: string[] = [];
  const transcript = renderTranscript(messages);
  const emptyPlan = (): InferencePlan => ({ facts: [], related: [], operations: [], rejected: [], reconciled: false });
  if (transcript.length === 0) return { results: [], plan: emptyPlan(), usage, warnings: ['messages hold no text: nothing to learn'] };

  let plan: InferencePlan;
  let related: Map<string, MemoryRecord>;
  try {
    ({ plan, related } = await buildPlan(host, transcript, scope, options, { relatedThreshold, maxRelated }, usage));
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason ?? error;
    if (!ModelError.isInstance(error)) throw error;
    if (onFailure === 'throw') throw error;
    const warning = `${error.message} — ${options.dryRun ? 'nothing would be stored' : 'stored the messages verbatim as one observation instead'}`;
    if (options.dryRun) return { results: [], plan: emptyPlan(), usage, warnings: [warning] };
    const [raw] = await host.add([
      {
        content: transcript,
        type: 'observation/conversation',
        tags: options.tags ?? [],
        metadata: {
          ...options.metadata,
          inference: { model: host.model.id, status: 'failed', error: error.message, ...provenance(messages, options) },
        },
        scope,
        ...(options.conversationId !== undefined ? { conversationId: options.conversationId } : {}),
        source: `engram-infer:${host.model.id}`,
      },
    ]);
    const results: InferredMemory[] = raw ? [{ memory: raw.memory, status: raw.status === 'created' ? 'created' : 'unchanged' }] : [];
    return { results, plan: emptyPlan(), usage, warnings: [warning] };
  }
  if (options.dryRun) return { results: [], plan, usage, warnings };
  const results = await applyPlan(host, plan, related, messages, options, warnings);
  return { results, plan, usage, warnings };
}

function sameScope(a: Scope, b: Scope): boolean {
  return (
    (a.userId ?? null) === (b.userId ?? null) && (a.agentId ?? null) === (b.agentId ?? null) && (a.runId ?? null) === (b.runId ?? null)
  );
}

function provenance(messages: readonly ConversationMessage[], options: InferOptions): Record<string, unknown> {
  const messageIds = messages.flatMap((message) => (message.id !== undefined ? [message.id] : []));
  return {
    ...(messageIds.length > 0 ? { messageIds } : {}),
    ...(options.conversationId !== undefined ? { conversationId: options.conversationId } : {}),
  };
}

async function ask<T>(
  host: InferenceHost,
  name: string,
  system: string,
  prompt: string,
  schema: Record<string, unknown>,
  validator: {
    safeParse(
      value: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
  },
  usage: InferenceUsage,
  signal: AbortSignal | undefined,
): Promise<T> {
  let answer: LanguageModelResponse | string;
  usage.calls++;
  try {
    answer = await host.model.complete({
      system,
      messages: [{ role: 'user', content: prompt }],
      json: { name, schema },
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    if (ModelError.isInstance(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelError(`${host.model.id} failed during ${name}: ${reason}`, { cause: error, retryable: !EngramError.isInstance(error) });
  }
  const text = typeof answer === 'string' ? answer : answer?.text;
  if (typeof answer === 'object' && answer?.usage) {
    usage.inputTokens += answer.usage.inputTokens;
    usage.outputTokens += answer.usage.outputTokens;
  }
  if (typeof text !== 'string') throw new ModelError(`${host.model.id} returned no text for ${name}.`);
  const parsed = validator.safeParse(parseJsonAnswer(text, name, host.model.id));
  if (!parsed.success) {
    throw new ModelError(`${host.model.id}'s ${name} answer does not follow the schema: ${schemaProblem(parsed.error)}`);
  }
  return parsed.data;
}

async function buildPlan(
  host: InferenceHost,
  transcript: string,
  scope: Scope,
  options: InferOptions,
  settings: { relatedThreshold: number; maxRelated: number },
  usage: InferenceUsage,
): Promise<{ plan: InferencePlan; related: Map<string, MemoryRecord> }> {
  const today = new Date(host.now()).toISOString().slice(0, 10);
  const extracted = await ask(
    host,
    FACTS_SCHEMA_NAME,
    extractionPrompt({ types: host.types, today, instructions: options.instructions }),
    `Conversation, oldest message first:\n${transcript}`,
    FACTS_JSON_SCHEMA,
    factsSchema,
    usage,
    options.signal,
  );
  const seen = new Set<string>();
  const facts = extracted.facts
    .filter((fact: ExtractedFact) => {
      const key = fact.content.toLowerCase().replace(/\s+/g, ' ');
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((fact) => ({
      content: fact.content,
      type: fact.type ?? null,
      tags: [...(fact.tags ?? []), ...(options.tags ?? [])],
      importance: fact.importance ?? null,
    }));
  const plan: InferencePlan = { facts, related: [], operations: [], rejected: [], reconciled: false };
  const related = new Map<string, MemoryRecord>();
  if (facts.length === 0) return { plan, related };

  // Related memories per fact, in one alias table (m1, m2… in order of first appearance).
  const aliasOf = new Map<string, string>();
  // The store's scope filter leaves a missing field unconstrained, so with one missing, memories
  // of narrower scopes compete for the first places: fetch more, keep only this exact scope.
  const complete = scope.userId !== undefined && scope.agentId !== undefined && scope.runId !== undefined;
  const fetch = complete ? settings.maxRelated : Math.min(100, settings.maxRelated * 4);
  for (const fact of facts) {
    options.signal?.throwIfAborted();
    let kept = 0;
    for (const hit of await host.related(fact.content, scope, fetch)) {
      if (kept >= settings.maxRelated) break;
      // Only memories of exactly this scope: a fact about nobody in particular must not rewrite a user's memory.
      if (!sameScope(hit.memory.scope, scope)) continue;
      kept++;
      const close = hit.similarity !== null ? hit.similarity >= settings.relatedThreshold : hit.lexical;
      if (!close || aliasOf.has(hit.memory.id)) continue;
      const alias = `m${aliasOf.size + 1}`;
      aliasOf.set(hit.memory.id, alias);
      related.set(alias, hit.memory);
      plan.related.push({ alias, id: hit.memory.id, content: hit.memory.content });
    }
  }

  if (related.size === 0) {
    plan.operations = facts.map((_, index) => ({
      op: 'add' as const,
      fact: index,
      target: null,
      targetId: null,
      content: null,
      reason: 'nothing related is stored',
    }));
    return { plan, related };
  }

  const newFacts = facts.map((fact, index) => JSON.stringify({ fact: index, content: fact.content, type: fact.type }));
  const existing = [...related].map(([alias, memory]) =>
    JSON.stringify({
      alias,
      content: memory.content,
      type: memory.subtype ? `${memory.type}/${memory.subtype}` : memory.type,
      created: memory.createdAt.toISOString().slice(0, 10),
    }),
  );
  const answer = await ask(
    host,
    RECONCILE_SCHEMA_NAME,
    reconcilePrompt({ instructions: options.instructions }),
    `NEW FACTS:\n${newFacts.join('\n')}\n\nEXISTING MEMORIES:\n${existing.join('\n')}`,
    RECONCILE_JSON_SCHEMA,
    reconcileSchema,
    usage,
    options.signal,
  );
  plan.reconciled = true;

  const decided = new Set<number>();
  const targeted = new Set<string>();
  for (const operation of answer.operations) {
    const reject = (reason: string) => plan.rejected.push({ operation, reason });
    if (operation.fact >= facts.length) {
      reject(`fact ${operation.fact} does not exist (there are ${facts.length})`);
      continue;
    }
    if (decided.has(operation.fact)) {
      reject(`fact ${operation.fact} already has an operation`);
      continue;
    }
    const target = operation.op === 'add' ? null : (operation.target ?? null);
    if (operation.op !== 'add' && operation.op !== 'none' && target === null) {
      reject(`${operation.op} needs a target alias`);
      continue;
    }
    const memory = target === null ? undefined : related.get(target);
    if (target !== null && !memory) {
      reject(`alias ${JSON.stringify(target)} was not given to the model (given: ${[...related.keys()].join(', ')})`);
      continue;
    }
    if (memory && (operation.op === 'update' || operation.op === 'supersede')) {
      if (targeted.has(memory.id)) {
        reject(`${target} is already changed by another operation`);
        continue;
      }
      targeted.add(memory.id);
    }
    decided.add(operation.fact);
    plan.operations.push({
      op: operation.op,
      fact: operation.fact,
      target,
      targetId: memory?.id ?? null,
      content: operation.op === 'update' ? (operation.content ?? null) : null,
      reason: operation.reason,
    });
  }
  // A fact the model left out, or whose operation was refused, is added: losing it would be worse.
  facts.forEach((_, index) => {
    if (decided.has(index)) return;
    plan.operations.push({
      op: 'add',
      fact: index,
      target: null,
      targetId: null,
      content: null,
      reason: plan.rejected.some((item) => (item.operation as { fact?: number }).fact === index)
        ? 'its operation was rejected'
        : 'the model gave no operation for it',
    });
  });
  plan.operations.sort((a, b) => a.fact - b.fact);
  return { plan, related };
}

async function applyPlan(
  host: InferenceHost,
  plan: InferencePlan,
  related: Map<string, MemoryRecord>,
  messages: readonly ConversationMessage[],
  options: InferOptions,
  warnings: string[],
): Promise<InferredMemory[]> {
  for (const item of plan.rejected) warnings.push(`rejected a model operation: ${item.reason}`);
  const origin = provenance(messages, options);
  const metadataFor = (operation: PlannedOperation) => ({
    ...options.metadata,
    inference: { model: host.model.id, operation: operation.op, reason: operation.reason, ...origin },
  });

  // Adds, the winners of supersessions, updates and supersessions: one store transaction.
  const writes = plan.operations.filter((operation) => operation.op === 'add' || operation.op === 'supersede');
  const updates = plan.operations.filter(
    (operation) => operation.op === 'update' && operation.target !== null && related.has(operation.target),
  );
  const supersessions = plan.operations.filter(
    (operation) => operation.op === 'supersede' && operation.target !== null && related.has(operation.target),
  );
  const reasonOf = (operation: PlannedOperation) => `${operation.reason || operation.op} (inferred by ${host.model.id})`;
  const targetOf = (operation: PlannedOperation) => related.get(operation.target as string) as MemoryRecord;
  const outcome = await host.apply({
    adds: writes.map((operation) => {
      const fact = plan.facts[operation.fact] as InferencePlan['facts'][number];
      return {
        content: fact.content,
        ...(fact.type ? { type: fact.type } : {}),
        tags: fact.tags,
        ...(fact.importance !== null ? { importance: fact.importance } : {}),
        metadata: metadataFor(operation),
        scope: options.scope ?? {},
        ...(options.conversationId !== undefined ? { conversationId: options.conversationId } : {}),
        source: `engram-infer:${host.model.id}`,
      };
    }),
    updates: updates.map((operation) => {
      const fact = plan.facts[operation.fact] as InferencePlan['facts'][number];
      const target = targetOf(operation);
      return {
        id: target.id,
        patch: { content: operation.content ?? fact.content, metadata: { ...target.metadata, ...metadataFor(operation) } },
        reason: reasonOf(operation),
      };
    }),
    supersessions: supersessions.map((operation) => ({
      add: writes.indexOf(operation),
      loserId: targetOf(operation).id,
      reason: reasonOf(operation),
    })),
  });
  for (const added of outcome.added) warnings.push(...(added.warnings ?? []));
  const writtenFor = new Map(writes.map((operation, index) => [operation, outcome.added[index]]));
  const updatedFor = new Map(updates.map((operation, index) => [operation, outcome.updated[index]]));
  const supersededFor = new Map(supersessions.map((operation, index) => [operation, outcome.superseded[index]]));
  const results: InferredMemory[] = [];
  for (const operation of plan.operations) {
    const target = operation.target === null ? undefined : related.get(operation.target);
    if (operation.op === 'add') {
      const added = writtenFor.get(operation);
      if (added) results.push({ memory: added.memory, status: added.status === 'created' ? 'created' : 'unchanged', fact: operation.fact });
    } else if (operation.op === 'none') {
      if (target) results.push({ memory: target, status: 'unchanged', fact: operation.fact });
    } else if (operation.op === 'update' && target) {
      const updated = updatedFor.get(operation);
      if (updated) results.push({ memory: updated, status: 'updated', fact: operation.fact, previous: target });
    } else if (operation.op === 'supersede' && target) {
      const added = writtenFor.get(operation);
      if (!added) continue;
      const loser = supersededFor.get(operation);
      // null: the "new" fact is word for word the memory it would replace.
      if (!loser) results.push({ memory: target, status: 'unchanged', fact: operation.fact });
      else results.push({ memory: added.memory, status: 'superseded', fact: operation.fact, previous: loser });
    }
  }
  return results;
}
