import { randomFillSync } from 'node:crypto';

let lastTimestamp = 0;
let sequence = 0;

// Random bytes are drawn 4 KiB at a time: one call per 256 ids instead of one per id (a call
// costs ~7 µs, a third of a batched add's id and history work).
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond timestamp, then randomness. Ids made in the same
 * millisecond by this process keep increasing (a 12-bit counter in rand_a), so ids sort in
 * creation order.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastTimestamp) {
    sequence += 1;
    if (sequence > 0xfff) {
      lastTimestamp += 1;
      sequence = 0;
    }
    now = lastTimestamp;
  } else {
    lastTimestamp = now;
    sequence = 0;
  }
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  bytes[0] = (now / 2 ** 40) & 0xff;
  bytes[1] = (now / 2 ** 32) & 0xff;
  bytes[2] = (now >>> 24) & 0xff;
  bytes[3] = (now >>> 16) & 0xff;
  bytes[4] = (now >>> 8) & 0xff;
  bytes[5] = now & 0xff;
  bytes[6] = 0x70 | ((sequence >>> 8) & 0x0f);
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
