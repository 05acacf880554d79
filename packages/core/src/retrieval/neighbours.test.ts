import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '../contracts/model.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory } from '../memory.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import type { Explanation } from './fusion.js';
import { smoothAlongConversations } from './neighbours.js';

const turn = (id: string, content: string, context?: string, conversationId = 'c1'): MemoryRecord =>
  ({ id, content, scope: { userId: 'u' }, conversationId, ...(context ? { context, contextSource: 'conversation' } : {}) }) as never;
const scoredAs = (score: number) => ({ score }) as Explanation;

describe('neighbour smoothing', () => {
  it('lifts the turn next to a strong hit in the same conversation', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 9, minute));
    const [question, answer] = await memory.addMany([
      { content: 'Ben: what did you name the new puppy?', conversationId: 'chat', createdAt: at(0) },
      { content: 'Ada: Biscuit, after my favourite snack', conversationId: 'chat', createdAt: at(1) },
      { content: 'Ada: the puppy sleeps all day', conversationId: 'other', createdAt: at(2) },
    ]);
    const hits = await memory.search('name of the puppy', { explain: true, limit: 5 });
    const answerHit = hits.find((hit) => hit.memory.id === answer?.memory.id);
    const questionHit = hits.find((hit) => hit.memory.id === question?.memory.id);
    expect(answerHit?.explanation?.neighbour).toMatchObject({ id: question?.memory.id });
    const neighbour = answerHit?.explanation?.neighbour as NonNullable<Explanation['neighbour']>;
    // The question's own score (before its own boost, which the cap at 1 may hide).
    expect(neighbour.score).toBeLessThanOrEqual(questionHit?.score ?? 0);
    expect(neighbour.score).toBeGreaterThan(0.5);
    expect(neighbour.contribution).toBeCloseTo(0.15 * neighbour.score);
    // The other conversation's turn has no neighbour among the candidates.
    expect(hits.find((hit) => hit.memory.conversationId === 'other')?.explanation?.neighbour).toBeUndefined();
    const off = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false, retrieval: { neighbours: false } });
    await off.addMany([
      { content: 'Ben: what did you name the new puppy?', conversationId: 'chat', createdAt: at(0) },
      { content: 'Ada: Biscuit, after my favourite snack', conversationId: 'chat', createdAt: at(1) },
    ]);
    const plain = await off.search('name of the puppy', { explain: true });
    const plainAnswer = plain.find((hit) => hit.memory.content.startsWith('Ada: Biscuit'));
    expect(plainAnswer?.explanation?.neighbour).toBeUndefined();
    expect(plainAnswer?.score ?? 1).toBeLessThan(answerHit?.score ?? 0);
    await Promise.all([memory.close(), off.close()]);
  });

  it('links turns through their derived context only: multi-line and cut contexts, never a caller context or another conversation', () => {
    const first = { memory: turn('a', 'Ben: line one\nline two'), explanation: scoredAs(0.8) };
    const second = { memory: turn('b', 'Ada: yes', 'Ben: line one\nline two'), explanation: scoredAs(0.2) };
    const cut = { memory: turn('c', 'Ben: ok', 'a: yes'), explanation: scoredAs(0.1) };
    const caller = { memory: { ...turn('d', 'Ada: later', 'Ben: ok'), contextSource: undefined }, explanation: scoredAs(0.4) };
    const elsewhere = { memory: turn('e', 'Ada: again', 'Ben: ok', 'c2'), explanation: scoredAs(0.4) };
    const partial = { memory: turn('f', 'Ada: hm', 'xline two'), explanation: scoredAs(0.3) };
    smoothAlongConversations([first, second, cut, caller, elsewhere, partial], 0.25);
    expect(second.explanation.neighbour).toEqual({ id: 'a', score: 0.8, contribution: 0.2 });
    expect(second.explanation.score).toBeCloseTo(0.4);
    // `first` gains from its best neighbour's score before smoothing (b: 0.2).
    expect(first.explanation.neighbour?.id).toBe('b');
    expect(first.explanation.score).toBeCloseTo(0.85);
    // A context cut to its last characters still names the turn it came from.
    expect(cut.explanation.neighbour?.id).toBe('b');
    expect(caller.explanation.neighbour).toBeUndefined();
    expect(elsewhere.explanation.neighbour).toBeUndefined();
    // "xline two" is not a whole line of `first`.
    expect(partial.explanation.neighbour).toBeUndefined();
  });

  it('caps the score at 1 and rejects a bad weight', () => {
    const a = { memory: turn('a', 'x'), explanation: scoredAs(0.95) };
    const b = { memory: turn('b', 'y', 'x'), explanation: scoredAs(0.95) };
    smoothAlongConversations([a, b], 1);
    expect(a.explanation.score).toBe(1);
    expect(() => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), retrieval: { neighbours: { weight: 2 } } })).toThrow(
      /retrieval\.neighbours\.weight/,
    );
  });
});
