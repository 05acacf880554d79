import { describe, expect, it } from 'vitest';
import { makeRecord } from '../testing/index.js';
import { createdHistoryEntry, diffRecords, historyEntry } from './history.js';

describe('createdHistoryEntry', () => {
  it("is historyEntry('created', …) with its changes listed when first read, once", () => {
    const record = makeRecord({ content: 'a new memory', tags: ['t'], metadata: { n: 1 }, scope: { userId: 'u' } });
    const lazy = createdHistoryEntry(record, 'imported');
    const eager = historyEntry('created', null, record, record.createdAt, 'imported');
    expect(lazy).toEqual(eager);
    expect(JSON.parse(JSON.stringify(lazy))).toEqual(JSON.parse(JSON.stringify(eager)));
    expect(lazy.changes).toBe(lazy.changes);
    expect(lazy.changes).toEqual(diffRecords(null, record));
    expect(createdHistoryEntry(record).reason).toBeNull();
  });
});
