import { createHash } from 'node:crypto';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Qdrant point id of a memory id. Qdrant accepts UUIDs and unsigned integers only: Engram's
 * ids are UUIDv7 and used as they are (lower-cased); any other id gets a deterministic UUID
 * (version 8, from its SHA-256), and the original id always travels in the payload.
 */
export function pointId(id: string): string {
  if (uuidPattern.test(id)) return id.toLowerCase();
  const bytes = createHash('sha256').update(`engram:${id}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
