import { describe, expect, it } from 'vitest';
import { missingServerNodeFlags, SERVER_NODE_FLAGS } from './server-node-flags.js';

describe('the server’s V8 flags', () => {
  it('are missing until the process runs with them or the user names them (any value, any spelling)', () => {
    expect(SERVER_NODE_FLAGS).toEqual(['--max-semi-space-size=32']);
    expect(missingServerNodeFlags([], '')).toEqual(['--max-semi-space-size=32']);
    expect(missingServerNodeFlags(['--enable-source-maps'], '--max-old-space-size=4096')).toEqual(['--max-semi-space-size=32']);
    expect(missingServerNodeFlags(['--max-semi-space-size=32'], '')).toEqual([]);
    expect(missingServerNodeFlags(['--max_semi_space_size=64'], '')).toEqual([]);
    expect(missingServerNodeFlags([], '--inspect  --max-semi-space-size=8')).toEqual([]);
  });
});
