import { ValidationError } from '../model/errors.js';

/** A keyset position in "newest first" order: (createdAt desc, id desc). */
export interface ListPosition {
  createdAt: number;
  id: string;
}

export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError([
    { field: 'cursor', message: 'is not a cursor this store issued: pass nextCursor from a previous page unchanged' },
  ]);
}

/** True when (createdAt, id) comes after the position in newest-first order. */
export function isAfterPosition(createdAt: number, id: string, position: ListPosition): boolean {
  return createdAt < position.createdAt || (createdAt === position.createdAt && id < position.id);
}
