import type { MemoryRecord } from '../contracts/model.js';
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
