// Deterministic synthetic memories and queries. Any memory can be made on its own from its index
// (`memoryAt`), so a 1M corpus is generated batch by batch instead of held in memory.
import { seededRandom } from 'engram';

const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'po', 'qui', 'dra', 'fen', 'gul', 'hor', 'jin'];
const types = ['observation', 'decision', 'learning', 'error', 'pattern', 'bug', 'insight', 'workflow'];
const start = Date.UTC(2025, 0, 1);

/** A seeded PRNG (uniform in [0, 1)): the library's own mulberry32, so the corpus is the one every earlier run used. */
export const random = seededRandom;

const vocabularyRandom = random(42);
/** 3,000 made-up words; word choice is Zipf-like (a few words are very common). */
export const vocabulary = Array.from({ length: 3000 }, () => {
  const length = 2 + Math.floor(vocabularyRandom() * 3);
  return Array.from({ length }, () => syllables[Math.floor(vocabularyRandom() * syllables.length)]).join('');
});
const word = (next) => vocabulary[Math.floor(vocabulary.length * next() ** 2)];
const sentence = (next, words) => Array.from({ length: words }, () => word(next)).join(' ');

/**
 * Memory `index` of a corpus spread over `users` users (`user-0` … ): 8–23 words (plus the
 * index, so no two are duplicates), one of 8 types, 2 tags, `{ priority: 0–4, team }` metadata,
 * one minute apart from 2025-01-01.
 */
export function memoryAt(index, users = 20) {
  const next = random(Math.imul(index + 1, 0x9e3779b1));
  return {
    content: `${sentence(next, 8 + Math.floor(next() * 16))} ${index}`,
    type: types[index % types.length],
    tags: [word(next), word(next)],
    metadata: { priority: index % 5, team: `team-${index % 7}` },
    scope: { userId: `user-${index % users}` },
    createdAt: new Date(start + index * 60_000),
  };
}

export function memories(from, to, users = 20) {
  return Array.from({ length: to - from }, (_, offset) => memoryAt(from + offset, users));
}

/** `count` queries of 2–5 words from the same distribution. */
export function queries(count, seed = 7) {
  const next = random(seed);
  return Array.from({ length: count }, () => sentence(next, 2 + Math.floor(next() * 4)));
}
