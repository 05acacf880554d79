import type { HistoryEntry, MemoryRecord } from '../contracts/model.js';
import { ValidationError } from '../model/errors.js';
import { normaliseForHash } from '../text/text.js';
import {
  decryptText,
  type EncryptionKey,
  encryptText,
  envelopeKeyId,
  isEnvelope,
  isValidKeyId,
  keyedContentHash,
  keyFromText,
  rewrapText,
} from './envelope.js';

export type { EncryptionKey } from './envelope.js';

export interface EncryptionOptions {
  /** The current key: 64 hex characters or base64 of 32 bytes, or `{ id, key }`. */
  key?: string | EncryptionKey;
  /** Older keys still needed to read memories written before a rotation. */
  previousKeys?: Array<string | EncryptionKey>;
  /**
   * Instead of `key`: answers the current key (no argument) or the key with this id (a KMS or
   * Vault client). Called once per id and cached for the life of the Memory.
   */
  keyProvider?: (keyId?: string) => EncryptionKey | Promise<EncryptionKey>;
  /**
   * Also embed sensitive content (the vector is computed from the text before encryption), so
   * vector search finds it. A vector reveals something about the text: off by default, when
   * sensitive memories are found by tags, metadata, type and scope only.
   */
  embedSensitive?: boolean;
  /**
   * Also encrypt the metadata of sensitive memories: `true` seals the whole metadata object (field
   * names too) into one envelope; a list of top-level field names seals those fields' values (the
   * names stay readable). Each sealed value gets its own data key under the same key as the
   * content. Filters cannot see inside ciphertext: a `where` on a listed field is refused; with
   * `true`, no `where` condition on metadata ever matches a sensitive memory. Default: metadata
   * stays plaintext (filterable).
   */
  encryptMetadata?: true | string[];
}

/** The single key a wholly sealed metadata object is stored under. */
export const SEALED_METADATA_KEY = 'engram:sealed';

function toKey(value: string | EncryptionKey, field: string): EncryptionKey {
  if (typeof value === 'string') {
    try {
      return keyFromText(value);
    } catch (error) {
      throw new ValidationError([{ field, message: (error as Error).message }]);
    }
  }
  return checkKey(value, field);
}

function checkKey(value: unknown, field: string): EncryptionKey {
  const key = value as EncryptionKey;
  if (!key || typeof key !== 'object' || !isValidKeyId(key.id) || !(key.key instanceof Uint8Array) || key.key.length !== 32) {
    throw new ValidationError([
      { field, message: 'must be { id, key } with an id of letters, digits, ".", "_" or "-" and a 32-byte Uint8Array key' },
    ]);
  }
  return key;
}

/**
 * Sensitive memories: seals content (and context) before a write, opens records on the way out
 * (or redacts them when the key is missing), rotates wrapping keys. Without options it only
 * redacts, and `add({ sensitive: true })` is refused.
 */
export class Encryption {
  readonly enabled: boolean;
  readonly embedSensitive: boolean;
  /** `encryptMetadata`: 'all', the sealed top-level fields, or null (metadata stays plaintext). */
  readonly metadataFields: 'all' | ReadonlySet<string> | null;
  private readonly provider: ((keyId?: string) => EncryptionKey | Promise<EncryptionKey>) | undefined;
  private readonly keys = new Map<string, Promise<EncryptionKey | null>>();
  private current: Promise<EncryptionKey> | undefined;

  constructor(options: EncryptionOptions | undefined) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new ValidationError([{ field: 'encryption', message: 'must be an object like { key } or { keyProvider }' }]);
    }
    this.embedSensitive = options?.embedSensitive === true;
    const fields = options?.encryptMetadata;
    if (fields === undefined) this.metadataFields = null;
    else if (fields === true) this.metadataFields = 'all';
    else if (Array.isArray(fields) && fields.length > 0 && fields.every((field) => typeof field === 'string' && field.length > 0)) {
      this.metadataFields = new Set(fields);
    } else {
      throw new ValidationError([
        {
          field: 'encryption.encryptMetadata',
          message: "must be true (the whole metadata) or a non-empty list of top-level field names, e.g. ['diagnosis']",
        },
      ]);
    }
    if (options?.key !== undefined && options.keyProvider !== undefined) {
      throw new ValidationError([{ field: 'encryption', message: 'give key (and previousKeys) or keyProvider, not both' }]);
    }
    if (options?.key !== undefined) {
      const current = toKey(options.key, 'encryption.key');
      const all = [current, ...(options.previousKeys ?? []).map((key, index) => toKey(key, `encryption.previousKeys.${index}`))];
      const byId = new Map(all.map((key) => [key.id, key]));
      this.provider = (keyId) => {
        if (keyId === undefined) return current;
        const key = byId.get(keyId);
        if (!key) throw new Error(`no key with id ${keyId}`);
        return key;
      };
    } else if (options?.keyProvider !== undefined) {
      if (typeof options.keyProvider !== 'function') {
        throw new ValidationError([{ field: 'encryption.keyProvider', message: 'must be a function (keyId?) => { id, key }' }]);
      }
      this.provider = options.keyProvider;
    }
    this.enabled = this.provider !== undefined;
  }

  /** The key new sensitive memories are sealed with. */
  currentKey(): Promise<EncryptionKey> {
    const provider = this.provider;
    if (!provider) {
      return Promise.reject(
        new ValidationError([
          {
            field: 'sensitive',
            message:
              'needs an encryption key: set ENGRAM_ENCRYPTION_KEY (64 hex characters, e.g. `openssl rand -hex 32`) or pass new Memory({ encryption: { key } })',
          },
        ]),
      );
    }
    this.current ??= Promise.resolve(provider()).then((key) => {
      const checked = checkKey(key, 'encryption.keyProvider()');
      this.keys.set(checked.id, Promise.resolve(checked));
      return checked;
    });
    return this.current;
  }

  /** The key with this id, or null when it cannot be had (no provider, or it refused). */
  private keyFor(id: string): Promise<EncryptionKey | null> {
    const provider = this.provider;
    if (!provider) return Promise.resolve(null);
    let found = this.keys.get(id);
    if (!found) {
      found = (async () => {
        try {
          return checkKey(await provider(id), 'encryption.keyProvider(id)');
        } catch {
          return null;
        }
      })();
      this.keys.set(id, found);
    }
    return found;
  }

  /**
   * The stored form of a new sensitive record: content and context sealed (and metadata, per
   * `encryptMetadata`), a keyed duplicate hash.
   */
  async seal(record: MemoryRecord): Promise<MemoryRecord> {
    const key = await this.currentKey();
    const { context, ...rest } = record;
    return {
      ...rest,
      content: encryptText(record.content, key),
      ...(context !== undefined ? { context: encryptText(context, key) } : {}),
      metadata: this.sealMetadataWith(record.metadata, key),
      contentHash: keyedContentHash(normaliseForHash(record.content), key),
    };
  }

  /** The stored form of a sensitive record's new metadata (an update). */
  async sealMetadata(metadata: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.metadataFields === null) return metadata;
    return this.sealMetadataWith(metadata, await this.currentKey());
  }

  private sealMetadataWith(metadata: Record<string, unknown>, key: EncryptionKey): Record<string, unknown> {
    const fields = this.metadataFields;
    if (fields === null) return metadata;
    if (fields === 'all')
      return Object.keys(metadata).length === 0 ? {} : { [SEALED_METADATA_KEY]: encryptText(JSON.stringify(metadata), key) };
    const sealed: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(metadata)) {
      sealed[field] = fields.has(field) && value !== undefined ? encryptText(JSON.stringify(value), key) : value;
    }
    return sealed;
  }

  /**
   * Metadata as the caller sees it: sealed values opened with their key; without it, a sealed
   * field reads `[encrypted: needs key …]` and a wholly sealed object reads `{}`.
   */
  async revealMetadata(metadata: Record<string, unknown>): Promise<Record<string, unknown>> {
    const whole = metadata[SEALED_METADATA_KEY];
    if (isEnvelope(whole) && Object.keys(metadata).length === 1) {
      const opened = await this.openText(whole);
      if (opened === null) return {};
      try {
        return JSON.parse(opened) as Record<string, unknown>;
      } catch {
        return {};
      }
    }
    let revealed: Record<string, unknown> | undefined;
    for (const [field, value] of Object.entries(metadata)) {
      if (!isEnvelope(value)) continue;
      revealed ??= { ...metadata };
      const opened = await this.openText(value);
      revealed[field] = opened === null ? `[encrypted: needs key ${envelopeKeyId(value)}]` : JSON.parse(opened);
    }
    return revealed ?? metadata;
  }

  /** Metadata with every sealed value re-wrapped under the current key, or null when nothing needed it. */
  async rewrapMetadata(metadata: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    let rewrapped: Record<string, unknown> | undefined;
    for (const [field, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') continue;
      const wrapped = await this.rewrap(value);
      if (wrapped === null) continue;
      rewrapped ??= { ...metadata };
      rewrapped[field] = wrapped;
    }
    return rewrapped ?? null;
  }

  /** An envelope's text, or null when its key is missing (or the bytes were tampered with). */
  private async openText(envelope: string): Promise<string | null> {
    const key = await this.keyFor(envelopeKeyId(envelope) as string);
    if (!key) return null;
    try {
      return decryptText(envelope, key);
    } catch {
      return null;
    }
  }

  /** The keyed duplicate hash of this text under the current key. */
  async hash(text: string): Promise<string> {
    return keyedContentHash(normaliseForHash(text), await this.currentKey());
  }

  /** Seals new content for an update of a sensitive record. */
  async sealText(text: string): Promise<string> {
    return encryptText(text, await this.currentKey());
  }

  /** The record as the caller sees it: opened with its key, or redacted without it. */
  async reveal(record: MemoryRecord): Promise<MemoryRecord> {
    if (!isEnvelope(record.content)) return record;
    const keyId = envelopeKeyId(record.content) as string;
    const key = await this.keyFor(keyId);
    const { context, ...rest } = record;
    const metadata = await this.revealMetadata(record.metadata);
    if (key) {
      try {
        return {
          ...rest,
          content: decryptText(record.content, key),
          ...(context !== undefined ? { context: isEnvelope(context) ? decryptText(context, key) : context } : {}),
          metadata,
          sensitive: true,
        };
      } catch {
        // Wrong key material under a known id, or tampered bytes: redact.
      }
    }
    return { ...rest, content: `[encrypted: needs key ${keyId}]`, metadata, sensitive: true };
  }

  async revealAll(records: MemoryRecord[]): Promise<MemoryRecord[]> {
    return Promise.all(records.map((record) => this.reveal(record)));
  }

  /** History entries with encrypted `content`/`context` values opened (or redacted). */
  async revealHistory(entries: HistoryEntry[]): Promise<HistoryEntry[]> {
    const open = async (value: unknown): Promise<unknown> => {
      if (!isEnvelope(value)) return value;
      const keyId = envelopeKeyId(value) as string;
      const key = await this.keyFor(keyId);
      if (key) {
        try {
          return decryptText(value, key);
        } catch {
          // redacted below
        }
      }
      return `[encrypted: needs key ${keyId}]`;
    };
    return Promise.all(
      entries.map(async (entry) => {
        const changes: HistoryEntry['changes'] = {};
        const openMetadata = async (value: unknown) =>
          value !== null && typeof value === 'object' && !Array.isArray(value)
            ? this.revealMetadata(value as Record<string, unknown>)
            : value;
        for (const [field, change] of Object.entries(entry.changes)) {
          changes[field] =
            field === 'metadata'
              ? { from: await openMetadata(change.from), to: await openMetadata(change.to) }
              : { from: await open(change.from), to: await open(change.to) };
        }
        return { ...entry, changes };
      }),
    );
  }

  /**
   * The envelope re-wrapped under the current key, or null when it already is (or is not an
   * envelope). Throws when the key it was wrapped with is not available.
   */
  async rewrap(text: string): Promise<string | null> {
    if (!isEnvelope(text)) return null;
    const current = await this.currentKey();
    const keyId = envelopeKeyId(text) as string;
    if (keyId === current.id) return null;
    const from = await this.keyFor(keyId);
    if (!from) {
      throw new ValidationError([
        { field: 'encryption.previousKeys', message: `must include key ${keyId} (memories are wrapped with it) to rotate them` },
      ]);
    }
    return rewrapText(text, from, current);
  }
}
