import type { MemoryStore } from '../contracts/memory-store.js';
import type { MemoryRecord } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import type { Searcher } from '../retrieval/searcher.js';
import { type Graph, liveMemory } from './graph.js';
import type { RelationTypes } from './relation-types.js';

export interface LinkSuggestion {
  sourceId: string;
  targetId: string;
  type: string;
  /** 0–1: how sure the heuristic is. */
  confidence: number;
  /** Human-readable reasons, e.g. 'similar content (relevance 0.81)', 'learning → error suggests fixes'. */
  reasons: string[];
  /** The other memory (not the one suggestions were asked for). */
  memory: MemoryRecord;
}

/**
 * Which relationship a pair of base types suggests, read as "a <type> b". Only pairs with a clear
 * reading are listed; anything else is `related`.
 */
const TYPE_PAIRS: Record<string, string> = {
  'learning>error': 'fixes',
  'decision>error': 'fixes',
  'learning>decision': 'supports',
  'observation>decision': 'supports',
  'error>pattern': 'supports',
  'observation>error': 'causes',
  'decision>pattern': 'fixes',
};

interface Candidate {
  memory: MemoryRecord;
  score: number;
  explanation?: { relevance: number } | undefined;
}

function tagOverlap(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return a.filter((tag) => other.has(tag));
}

/**
 * Guesses links for `memory` among search candidates (already excluding itself and memories it is
 * linked to): content similarity, shared tags, the ontology type pair and temporal order.
 */
export function suggestLinks(memory: MemoryRecord, candidates: Candidate[], relationTypes: RelationTypes): LinkSuggestion[] {
  const suggestions: LinkSuggestion[] = [];
  for (const candidate of candidates) {
    const other = candidate.memory;
    const relevance = candidate.explanation?.relevance ?? candidate.score;
    const reasons: string[] = [`similar content (relevance ${relevance.toFixed(2)})`];
    const shared = tagOverlap(memory.tags, other.tags);
    const tagScore = shared.length === 0 ? 0 : shared.length / new Set([...memory.tags, ...other.tags]).size;
    if (shared.length > 0) reasons.push(`shares tags: ${shared.join(', ')}`);

    let type = 'related';
    let source = memory;
    let target = other;
    let typePrior = 0.5;
    const forward = TYPE_PAIRS[`${memory.type}>${other.type}`];
    const backward = TYPE_PAIRS[`${other.type}>${memory.type}`];
    if (forward && relationTypes.names.includes(forward)) {
      type = forward;
      typePrior = 1;
      reasons.push(`${memory.type} → ${other.type} suggests ${forward}`);
    } else if (backward && relationTypes.names.includes(backward)) {
      type = backward;
      source = other;
      target = memory;
      typePrior = 1;
      reasons.push(`${other.type} → ${memory.type} suggests ${backward}`);
    } else {
      const sameThread =
        (memory.conversationId !== null && memory.conversationId === other.conversationId) ||
        (memory.episodeId !== null && memory.episodeId === other.episodeId);
      if (sameThread && memory.createdAt.getTime() !== other.createdAt.getTime()) {
        type = 'follows';
        typePrior = 0.8;
        [source, target] = memory.createdAt > other.createdAt ? [memory, other] : [other, memory];
        reasons.push('same conversation or episode, later one follows the earlier');
      }
    }
    if (type === 'causes' && source.createdAt > target.createdAt) {
      // A cause comes first: a later observation cannot have caused an earlier error.
      type = 'related';
      typePrior = 0.5;
      reasons.push('but the observation is later than the error, so only related');
    }
    const confidence = Math.min(1, 0.6 * relevance + 0.25 * tagScore + 0.15 * typePrior);
    const [sourceId, targetId] = relationTypes.orient(source.id, target.id, type);
    suggestions.push({ sourceId, targetId, type, confidence, reasons, memory: other });
  }
  return suggestions.sort((a, b) => b.confidence - a.confidence);
}

/** `MemoryOptions.autoLink`: link suggestions at or above `threshold`, at most `limit` a memory. */
export type AutoLinkOptions = { threshold?: number; limit?: number } | boolean;

export function resolveAutoLink(options: AutoLinkOptions | undefined): { threshold: number; limit: number } | undefined {
  const autoLink = options === true ? {} : options || undefined;
  const resolved = autoLink ? { threshold: autoLink.threshold ?? 0.8, limit: autoLink.limit ?? 3 } : undefined;
  if (resolved && !(resolved.threshold > 0 && resolved.threshold <= 1)) {
    throw new ValidationError([{ field: 'autoLink.threshold', message: 'must be in (0, 1]' }]);
  }
  return resolved;
}

export interface LinkSuggesterContext {
  store: MemoryStore;
  /** Opens the store (once). */
  open: () => Promise<unknown>;
  searcher: Searcher;
  graph: Graph;
  relationTypes: RelationTypes;
}

/**
 * Suggests links for a memory from a search on its content (not counted as access), leaving out
 * memories it is already linked to; with auto-linking, writes the confident ones as inferred edges.
 */
export class LinkSuggester {
  constructor(private readonly context: LinkSuggesterContext) {}

  async suggest(id: string, options: { limit?: number } = {}): Promise<LinkSuggestion[]> {
    const limit = options.limit ?? 5;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new ValidationError([{ field: 'options.limit', message: 'must be an integer from 1 to 100' }]);
    await this.context.open();
    const memory = await liveMemory(this.context.store, id, 'id');
    return this.suggestFor(memory, limit);
  }

  /** Links the suggestions for a new memory whose confidence reaches `settings.threshold`, marked inferred. */
  async linkInferred(memory: MemoryRecord, settings: { threshold: number; limit: number }): Promise<void> {
    const suggestions = await this.suggestFor(memory, settings.limit);
    for (const suggestion of suggestions) {
      if (suggestion.confidence < settings.threshold) continue;
      await this.context.graph.link(
        suggestion.sourceId,
        suggestion.targetId,
        suggestion.type,
        { confidence: suggestion.confidence, metadata: { reasons: suggestion.reasons } },
        true,
      );
    }
  }

  private async suggestFor(memory: MemoryRecord, limit: number): Promise<LinkSuggestion[]> {
    const hits = await this.context.searcher.search(
      memory.content.slice(0, 10_000),
      { scope: memory.scope, limit: Math.max(limit * 4, 20), explain: true },
      false,
    );
    const linked = new Set(
      (await this.context.store.relationsOf([memory.id], { direction: 'both' })).map((edge) =>
        edge.sourceId === memory.id ? edge.targetId : edge.sourceId,
      ),
    );
    const candidates = hits.filter((hit) => hit.memory.id !== memory.id && !linked.has(hit.memory.id));
    return suggestLinks(memory, candidates, this.context.relationTypes).slice(0, limit);
  }
}
