import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of one memory's text: a fresh 256-bit data key per record encrypts the text
 * with AES-256-GCM; the data key is itself encrypted ("wrapped") with AES-256-GCM under the key
 * encryption key named by `keyId`. Rotating the key re-wraps the data key only.
 *
 *   engram:enc:v1:<keyId>:<wrapped data key>:<text ciphertext>     (each part base64url: iv · tag · bytes)
 *
 * The envelope is what stores, indexes, history, exports and snapshots hold: opaque text.
 */
export const ENVELOPE_PREFIX = 'engram:enc:v1:';

export interface EncryptionKey {
  /** Stored with each record so the right key is asked for to read it (letters, digits, `._-`). */
  id: string;
  /** 32 bytes (AES-256). */
  key: Uint8Array;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function isValidKeyId(id: unknown): id is string {
  return typeof id === 'string' && KEY_ID.test(id);
}

function seal(key: Uint8Array, plaintext: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function unseal(key: Uint8Array, sealed: string): Buffer {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
}

export function isEnvelope(text: unknown): text is string {
  return typeof text === 'string' && text.startsWith(ENVELOPE_PREFIX);
}

/** The key id an envelope was wrapped with, or null when `text` is not an envelope. */
export function envelopeKeyId(text: string): string | null {
  if (!isEnvelope(text)) return null;
  return text.slice(ENVELOPE_PREFIX.length).split(':', 1)[0] ?? null;
}

export function encryptText(text: string, key: EncryptionKey): string {
  const dataKey = randomBytes(32);
  try {
    return `${ENVELOPE_PREFIX}${key.id}:${seal(key.key, dataKey)}:${seal(dataKey, Buffer.from(text, 'utf8'))}`;
  } finally {
    dataKey.fill(0);
  }
}

function parts(envelope: string): [string, string, string] {
  const [keyId, wrapped, body] = envelope.slice(ENVELOPE_PREFIX.length).split(':');
  if (!keyId || !wrapped || !body) throw new Error('damaged encrypted content');
  return [keyId, wrapped, body];
}

/** Throws when the key is wrong or the envelope was tampered with (GCM authentication). */
export function decryptText(envelope: string, key: EncryptionKey): string {
  const [, wrapped, body] = parts(envelope);
  const dataKey = unseal(key.key, wrapped);
  try {
    return unseal(dataKey, body).toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

/** The same envelope with its data key wrapped under `to` instead of `from` (the text is not touched). */
export function rewrapText(envelope: string, from: EncryptionKey, to: EncryptionKey): string {
  const [, wrapped, body] = parts(envelope);
  const dataKey = unseal(from.key, wrapped);
  try {
    return `${ENVELOPE_PREFIX}${to.id}:${seal(to.key, dataKey)}:${body}`;
  } finally {
    dataKey.fill(0);
  }
}

/**
 * The duplicate key of sensitive content: an HMAC of the normalised text under a key derived
 * from the encryption key, so equal texts still dedupe without a plain sha256 that would let
 * anyone confirm a guessed text.
 */
export function keyedContentHash(normalised: string, key: EncryptionKey): string {
  const hashKey = createHash('sha256').update('engram content hash').update(key.key).digest();
  return `hmac:${createHmac('sha256', hashKey).update(normalised, 'utf8').digest('hex')}`;
}

/**
 * A key from configuration text: 64 hex characters or base64 of 32 bytes. Its id is derived from
 * the key (`k-` + 12 hex characters of its sha256), so the same key always has the same id.
 */
export function keyFromText(text: string): EncryptionKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) {
    throw new Error('must be 32 random bytes as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  }
  return { id: `k-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`, key: new Uint8Array(bytes) };
}
