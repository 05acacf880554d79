import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ValidationError } from '@engram/core';

export interface StoredKey {
  id: string;
  tenant: string;
  /** base64 scrypt salt and hash of the key's secret part. */
  salt: string;
  hash: string;
  label: string | null;
  createdAt: string;
}

interface Contents {
  /** Changes whenever the file does (its mtime and size). */
  version: number;
  /** False when there is no file (yet). */
  exists: boolean;
  keys: StoredKey[];
}

const RECHECK_MS = 1000;

/**
 * The key file (`engram keys create|list|revoke`): JSON `{ "keys": [...] }` holding ids, tenants
 * and scrypt hashes, never a key. Readers re-check it at most once a second; writers replace it
 * atomically (write a temporary file, then rename) with mode 0600.
 */
export class KeyFile {
  private cached: Contents | undefined;
  private checkedAt = 0;
  private signature = '';

  constructor(readonly path: string) {}

  async read(): Promise<Contents> {
    const now = Date.now();
    if (this.cached && now - this.checkedAt < RECHECK_MS) return this.cached;
    this.checkedAt = now;
    let signature: string;
    try {
      // A synchronous stat (a few µs) instead of a thread-pool round trip: the request that happens
      // to re-check would otherwise wait a turn of the event loop behind every request queued there.
      const info = statSync(this.path);
      signature = `${info.mtimeMs}:${info.size}:${info.ino}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      signature = 'missing';
    }
    if (this.cached && signature === this.signature) return this.cached;
    const keys = signature === 'missing' ? [] : await this.load();
    this.signature = signature;
    this.cached = { version: (this.cached?.version ?? 0) + 1, exists: signature !== 'missing', keys };
    return this.cached;
  }

  private async load(): Promise<StoredKey[]> {
    const text = await readFile(this.path, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError([
        { field: 'keyFile', message: `${this.path} is not valid JSON; restore it or remove it and create keys again` },
      ]);
    }
    const keys = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new ValidationError([{ field: 'keyFile', message: `${this.path} has no "keys" list` }]);
    return keys as StoredKey[];
  }

  async list(): Promise<StoredKey[]> {
    this.cached = undefined;
    return (await this.read()).keys;
  }

  async write(keys: StoredKey[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.path);
    this.cached = undefined;
  }
}
