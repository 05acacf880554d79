import type { RankingRecord } from '../contracts/memory-store.js';
import { scopeKey } from '../filter/filter.js';
import type { Explanation } from './fusion.js';

/**
 * Neighbour smoothing: a conversation turn next to a strong hit is likelier to hold the answer
 * than its own words say (the reply to the question, the detail after the topic was named). Each
 * candidate gains `weight` × the score of its best adjacent turn among the candidates (capped at
 * 1); the explanation names that turn.
 *
 * Adjacency needs no store lookup: a turn whose context Engram derived (`contextSource:
 * 'conversation'`) ends with the content of the turn before it, so two candidates of the same
 * scope and conversation are neighbours when one's derived context ends with the other's content.
 * Candidates without a derived context (caller context, no conversation) are left as they are.
 */
export function smoothAlongConversations(
  items: ReadonlyArray<{ memory: RankingRecord; explanation: Pick<Explanation, 'score' | 'neighbour'> }>,
  weight: number,
): void {
  if (!(weight > 0) || items.length < 2) return;
  const groups = new Map<string, Array<(typeof items)[number]>>();
  for (const item of items) {
    if (item.memory.conversationId === null) continue;
    const key = `${scopeKey(item.memory.scope)}\u0000${item.memory.conversationId}`;
    const group = groups.get(key) ?? [];
    group.push(item);
    groups.set(key, group);
  }
  // Nothing to smooth without two candidates of one conversation (no map of every score then).
  let paired = false;
  for (const group of groups.values()) if (group.length >= 2) paired = true;
  if (!paired) return;
  // Scores before smoothing: a boost never feeds another boost.
  const original = new Map(items.map((item) => [item, item.explanation.score]));
  const best = new Map<(typeof items)[number], (typeof items)[number]>();
  const offer = (item: (typeof items)[number], neighbour: (typeof items)[number]) => {
    const current = best.get(item);
    if (!current || (original.get(neighbour) as number) > (original.get(current) as number)) best.set(item, neighbour);
  };
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // Turns by the end of their content, so each derived context is matched in one lookup (short
    // turns, whose whole content may sit inside the context's last line, are tried one by one).
    const byEnding = new Map<string, Array<(typeof items)[number]>>();
    const short: Array<(typeof items)[number]> = [];
    for (const item of group) {
      const content = item.memory.content.trim();
      if (content.length < ENDING) {
        if (content.length > 0) short.push(item);
        continue;
      }
      const key = content.slice(-ENDING);
      const list = byEnding.get(key) ?? [];
      list.push(item);
      byEnding.set(key, list);
    }
    for (const later of group) {
      const context = later.memory.contextSource === 'conversation' ? later.memory.context : undefined;
      if (!context) continue;
      const candidates = context.length >= ENDING ? [...(byEnding.get(context.slice(-ENDING)) ?? []), ...short] : group;
      for (const earlier of candidates) {
        if (earlier === later || !endsWithTurn(context, earlier.memory.content.trim())) continue;
        offer(later, earlier);
        offer(earlier, later);
      }
    }
  }
  for (const [item, neighbour] of best) {
    const neighbourScore = original.get(neighbour) as number;
    const contribution = weight * neighbourScore;
    item.explanation.neighbour = { id: neighbour.memory.id, score: neighbourScore, contribution };
    item.explanation.score = Math.min(1, item.explanation.score + contribution);
  }
}

/** Characters of a turn's end that index it (see `smoothAlongConversations`). */
const ENDING = 24;

/** Whether a derived context's last turn is `content` (or its end, when the context was cut to size). */
function endsWithTurn(context: string, content: string): boolean {
  if (content.length === 0) return false;
  if (context.length >= content.length) {
    return context.endsWith(content) && (context.length === content.length || context[context.length - content.length - 1] === '\n');
  }
  return content.endsWith(context);
}
