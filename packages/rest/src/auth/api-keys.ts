import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ValidationError } from '@engram/core';
import { KeyFile } from './key-file.js';
import { checkTenantName } from './tenant-name.js';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, length: number, options: object) => Promise<Buffer>;

/** scrypt parameters of stored key hashes (N=2^15, r=8, p=1: about 30 ms and 32 MiB per check, once per key per process). */
export const SCRYPT_PARAMETERS = { N: 32_768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const HASH_BYTES = 32;

/** Who a request is: the tenant it is bound to and the key's id (for rate limits and logs). */
export interface Principal {
  tenant: string;
  keyId: string;
}

/** Turns a presented API key into its principal. `configured` false means no key exists: anonymous mode. */
export interface Authenticator {
  configured(): Promise<boolean>;
  authenticate(key: string): Promise<Principal | null>;
  /** Tenants named by statically configured keys (used to bind a single Memory). */
  staticTenants(): string[];
  /** Every tenant that has a key right now (configured or in the key file): what scheduled consolidation covers. */
  tenants?(): Promise<string[]>;
}

export interface ApiKeysOptions {
  /** Tenant → key (or keys), e.g. from ENGRAM_API_KEYS='{"tenant-a":"key-a"}'. */
  keys?: Record<string, string | string[]>;
  /** A key file written by `engram keys create` (scrypt hashes only). Re-read when it changes. */
  file?: string;
}

/** Parses ENGRAM_API_KEYS (a JSON object tenant → key or [keys]). */
export function parseApiKeysVariable(value: string | undefined, name = 'ENGRAM_API_KEYS'): Record<string, string | string[]> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ValidationError([{ field: name, message: 'must be a JSON object of tenant → key, e.g. {"team_a":"a-long-random-key"}' }]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError([{ field: name, message: 'must be a JSON object of tenant → key, e.g. {"team_a":"a-long-random-key"}' }]);
  }
  return parsed as Record<string, string | string[]>;
}

const MIN_KEY_LENGTH = 16;

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/**
 * API keys from configuration (compared by their SHA-256 in constant time) and from a key file
 * (scrypt hashes, checked once per key and process, then remembered by SHA-256 until the file
 * changes — so a revoked key stops working within a second, without a restart).
 */
export function apiKeys(options: ApiKeysOptions = {}): Authenticator {
  const staticKeys: Array<{ digest: Buffer; principal: Principal }> = [];
  for (const [tenant, value] of Object.entries(options.keys ?? {})) {
    checkTenantName(tenant, `keys.${tenant}`);
    const list = Array.isArray(value) ? value : [value];
    list.forEach((key, index) => {
      if (typeof key !== 'string' || key.length < MIN_KEY_LENGTH) {
        throw new ValidationError([
          {
            field: `keys.${tenant}`,
            message: `each key must be a string of at least ${MIN_KEY_LENGTH} characters (use engram keys create for a random one)`,
          },
        ]);
      }
      staticKeys.push({ digest: digest(key), principal: { tenant, keyId: `${tenant}:${index}` } });
    });
  }
  const file = options.file ? new KeyFile(options.file) : undefined;
  const verified = new Map<string, Principal>();
  let seenVersion = -1;

  return {
    staticTenants: () => [...new Set(staticKeys.map((entry) => entry.principal.tenant))],
    async tenants() {
      const fromFile = file ? (await file.read()).keys.map((key) => key.tenant) : [];
      return [...new Set([...staticKeys.map((entry) => entry.principal.tenant), ...fromFile])].sort();
    },
    async configured() {
      if (staticKeys.length > 0) return true;
      // A key file, even one whose keys were all revoked, means keys are managed: never fall back to anonymous.
      return file ? (await file.read()).exists : false;
    },
    async authenticate(key) {
      if (typeof key !== 'string' || key.length === 0 || key.length > 512) return null;
      const presented = digest(key);
      let found: Principal | null = null;
      for (const entry of staticKeys) {
        // Every entry is compared, so timing does not reveal which one matched.
        if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
      }
      if (found || !file) return found;
      const contents = await file.read();
      if (contents.version !== seenVersion) {
        verified.clear();
        seenVersion = contents.version;
      }
      const cacheKey = presented.toString('base64');
      const cached = verified.get(cacheKey);
      if (cached) return cached;
      const parsed = parseKey(key);
      if (!parsed) return null;
      const stored = contents.keys.find((entry) => entry.id === parsed.id);
      if (!stored) return null;
      const hash = await scrypt(parsed.secret, Buffer.from(stored.salt, 'base64'), HASH_BYTES, SCRYPT_PARAMETERS);
      if (!timingSafeEqual(hash, Buffer.from(stored.hash, 'base64'))) return null;
      const principal = { tenant: stored.tenant, keyId: stored.id };
      if (verified.size > 10_000) verified.clear();
      verified.set(cacheKey, principal);
      return principal;
    },
  };
}

const KEY_FORMAT = /^egk_([a-f0-9]{12})_([A-Za-z0-9_-]{43})$/;

function parseKey(key: string): { id: string; secret: string } | null {
  const match = KEY_FORMAT.exec(key);
  return match ? { id: match[1] as string, secret: match[2] as string } : null;
}

/** A new random key and what the key file keeps of it (its id, salt and scrypt hash; never the key). */
export async function mintKey(): Promise<{ key: string; id: string; salt: string; hash: string }> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, HASH_BYTES, SCRYPT_PARAMETERS);
  return { key: `egk_${id}_${secret}`, id, salt: salt.toString('base64'), hash: hash.toString('base64') };
}
