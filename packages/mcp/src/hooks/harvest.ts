import type { InferenceUsage, Memory, Scope } from '@engram/core';
import { projectTag } from './project.js';
import { extractSessionNotes, type TranscriptMessage } from './transcript.js';

/** Largest part of a transcript (latest first) sent to the model in one harvest, in characters. */
export const MAX_HARVEST_CHARACTERS = 48_000;

export interface HarvestOptions {
  /** Project name: tagged `project:<name>` and recorded in metadata. */
  project: string;
  scope?: Scope;
  /** The Claude Code session id: the conversation id, and the key of heuristic session records. */
  sessionId?: string;
  /** Work out what would be stored, write nothing. */
  dryRun?: boolean;
  /** With a model: only the latest exchange (from the last user message on), as the Stop hook does after each reply. */
  latestExchange?: boolean;
  /** Where the record came from, in metadata.source. Default 'engram-harvest'. */
  source?: string;
  signal?: AbortSignal;
}

export interface HarvestItem {
  /** created, updated, superseded, unchanged (written) or add, update, supersede, none (dry run). */
  action: string;
  type: string;
  content: string;
  /** The memory written or changed (absent in a dry run that adds). */
  id?: string;
}

export interface HarvestResult {
  /** 'model' when the Memory has a language model, else 'heuristics' (keyword rules). */
  method: 'model' | 'heuristics';
  items: HarvestItem[];
  warnings: string[];
  usage?: InferenceUsage;
}

/** The tail of the conversation that fits the model budget, oldest first. */
function budgeted(messages: TranscriptMessage[], latestExchange: boolean): TranscriptMessage[] {
  let start = 0;
  if (latestExchange) {
    const lastUser = messages.map((message) => message.role).lastIndexOf('user');
    start = Math.max(0, lastUser);
  }
  const kept: TranscriptMessage[] = [];
  let size = 0;
  for (let index = messages.length - 1; index >= start; index--) {
    const message = messages[index] as TranscriptMessage;
    size += message.text.length;
    if (size > MAX_HARVEST_CHARACTERS && kept.length > 0) break;
    kept.unshift(message);
  }
  return kept;
}

/**
 * What a coding session taught, stored as memories. With a model (`memory.model`): facts are
 * extracted and reconciled with what is stored (`add(messages, { infer: true })`). Without one:
 * keyword rules pick decision and learning statements into one record per kind and session.
 */
export async function harvestTranscript(memory: Memory, messages: TranscriptMessage[], options: HarvestOptions): Promise<HarvestResult> {
  const tag = projectTag(options.project);
  const source = options.source ?? 'engram-harvest';
  if (memory.model) {
    const conversation = budgeted(messages, options.latestExchange ?? false).map((message) => ({
      role: message.role,
      content: message.text,
    }));
    if (conversation.length === 0) return { method: 'model', items: [], warnings: [] };
    const result = await memory.add(conversation, {
      infer: true,
      ...(options.scope ? { scope: options.scope } : {}),
      ...(options.sessionId ? { conversationId: options.sessionId } : {}),
      tags: ['claude-code', tag],
      metadata: { source, project: options.project, ...(options.sessionId ? { session_id: options.sessionId } : {}) },
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const items: HarvestItem[] = options.dryRun
      ? result.plan.operations.map((operation) => {
          const fact = result.plan.facts[operation.fact];
          return {
            action: operation.op,
            type: fact?.type ?? 'observation',
            content: fact?.content ?? '',
            ...(operation.targetId ? { id: operation.targetId } : {}),
          };
        })
      : result.results.map((item) => ({
          action: item.status,
          type: item.memory.subtype ? `${item.memory.type}/${item.memory.subtype}` : item.memory.type,
          content: item.memory.content,
          id: item.memory.id,
        }));
    return { method: 'model', items, warnings: result.warnings, usage: result.usage };
  }

  const notes = extractSessionNotes(messages);
  const date = new Date().toISOString().slice(0, 10);
  const items: HarvestItem[] = [];
  const kinds = [
    { type: 'decision', noun: 'decisions', list: notes.decisions },
    { type: 'learning', noun: 'learnings', list: notes.learnings },
  ] as const;
  for (const kind of kinds) {
    if (kind.list.length === 0) continue;
    const content = `Claude Code session in ${options.project} (${date}), ${kind.noun}:\n${kind.list.map((item) => `- ${item}`).join('\n')}`;
    if (options.dryRun) {
      items.push({ action: 'add', type: kind.type, content });
      continue;
    }
    const { memory: record, status } = await memory.add({
      content,
      type: kind.type,
      tags: ['claude-code', 'session', tag],
      metadata: { source, project: options.project, ...(options.sessionId ? { session_id: options.sessionId } : {}) },
      importance: 0.6,
      ...(options.scope ? { scope: options.scope } : {}),
      // Stop fires after every reply: one record per session and kind, updated each time.
      ...(options.sessionId ? { key: `claude-code:${options.sessionId}:${kind.noun}`, conversationId: options.sessionId } : {}),
    });
    items.push({ action: status, type: kind.type, content, id: record.id });
  }
  return { method: 'heuristics', items, warnings: [] };
}
