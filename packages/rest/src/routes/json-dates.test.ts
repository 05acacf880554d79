import { hashEmbedder, inMemoryStore, Memory, type MemoryRecord } from '@engram/core';
import { describe, expect, it } from 'vitest';
import { hitsForJson, isoTime, recordForJson } from './json-dates.js';

describe('isoTime', () => {
  it('writes every time as Date.prototype.toJSON does, invalid dates as null', () => {
    const times = [
      0,
      1,
      -1,
      999,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 11, 5, 7, 5, 42, 467),
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(1969, 11, 31, 23, 59, 59, 9),
      Date.UTC(1900, 0, 1, 0, 0, 0, 50),
      Date.UTC(10_000, 0, 1, 12, 0, 0, 0),
      -62_198_755_200_000, // year -1
      8.64e15, // the last valid time
      -8.64e15,
    ];
    let seed = 7;
    for (let index = 0; index < 2000; index++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      times.push(Math.floor((seed / 2 ** 31 - 0.3) * 4e12));
    }
    for (const time of times) expect(isoTime(new Date(time)), String(time)).toBe(new Date(time).toJSON());
    expect(isoTime(new Date(Number.NaN))).toBeNull();
  });
});

describe('recordForJson and hitsForJson', () => {
  it('give the same JSON as the records and hits themselves', async () => {
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
    await memory.add({ content: 'Deploys are frozen on Fridays', createdAt: new Date('2024-03-01T10:00:00.123Z'), tags: ['deploy'] });
    await memory.add({ content: 'Deploy windows are Tuesday and Thursday', createdAt: new Date('1999-12-31T23:59:59.999Z') });
    const hits = await memory.search('deploy', { limit: 5, explain: true });
    expect(hits.length).toBe(2);
    expect(JSON.stringify(hitsForJson(hits))).toBe(JSON.stringify(hits));
    for (const hit of hits) expect(JSON.stringify(recordForJson(hit.memory as MemoryRecord))).toBe(JSON.stringify(hit.memory));
    await memory.close();
  });
});
