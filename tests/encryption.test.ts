// Sensitive memories are encrypted at rest: the tests grep the raw database, WAL, snapshot and
// export bytes for the plaintext.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteStore } from '@engram/adapters/sqlite';
import { type EncryptionOptions, hashEmbedder, inMemoryStore, keyFromText, Memory, ValidationError } from '@engram/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../packages/engram/src/cli/program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const temporaryDirectory = () => {
  const directory = mkdtempSync(join(tmpdir(), 'engram-encryption-'));
  directories.push(directory);
  return directory;
};
const SECRET = 'zqvsecretpassphrase';
const CONTEXT_SECRET = 'zqvcontextwhisper';
const UPDATED_SECRET = 'zqvrotatedvalue';
const keyA = randomBytes(32).toString('hex');
const keyB = randomBytes(32).toString('hex');

function filesHolding(directory: string, text: string): string[] {
  const needle = Buffer.from(text, 'utf8');
  return readdirSync(directory).filter((name) => readFileSync(join(directory, name)).includes(needle));
}

const logs: string[] = [];
const open = (path: string, encryption?: EncryptionOptions) =>
  new Memory({
    store: sqliteStore({ path }),
    embedder: hashEmbedder({ dimensions: 32 }),
    logger: (message) => logs.push(message),
    ...(encryption ? { encryption } : {}),
  });

async function run(args: string[], env: Record<string, string>) {
  const capture = () => {
    const stream = {
      text: '',
      write(chunk: string) {
        stream.text += chunk;
        return true;
      },
    };
    return stream;
  };
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('sensitive memories (SQLite)', () => {
  it('never writes the plaintext: table, history, lexical index and snapshot, WAL, change log, exports', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const memory = open(path, { key: keyA });
    // Enough memories that the lexical and vector indexes persist snapshots.
    await memory.addMany(Array.from({ length: 2_100 }, (_, index) => ({ content: `plain note ${index} about the office` })));
    const { memory: secret, status } = await memory.add({
      content: `the vault passphrase is ${SECRET}`,
      context: `said in a ${CONTEXT_SECRET}`,
      sensitive: true,
      tags: ['credentials'],
      metadata: { system: 'vault' },
      scope: { userId: 'alice' },
    });
    expect(status).toBe('created');
    expect(secret.content).toBe(`the vault passphrase is ${SECRET}`);
    expect(secret.sensitive).toBe(true);
    // An exact duplicate still dedupes (on a keyed hash).
    expect((await memory.add({ content: `The vault passphrase is ${SECRET}  `, sensitive: true, scope: { userId: 'alice' } })).status).toBe(
      'duplicate',
    );
    const updated = await memory.update(secret.id, { content: `the vault passphrase is ${UPDATED_SECRET}` });
    expect(updated.content).toBe(`the vault passphrase is ${UPDATED_SECRET}`);

    // Found by tags/metadata/type/scope; not by its words (the lexical index sees ciphertext only), nor by vector (no vector by default).
    expect((await memory.list({ tags: ['credentials'] })).items.map((record) => record.content)).toEqual([updated.content]);
    expect(await memory.search(UPDATED_SECRET, { mode: 'lexical' })).toEqual([]);
    expect((await memory.search('the vault passphrase', { mode: 'vector', limit: 50 })).map((hit) => hit.memory.id)).not.toContain(
      secret.id,
    );
    expect((await memory.get(secret.id))?.content).toBe(updated.content);
    const history = await memory.history(secret.id);
    expect(history[1]?.changes.content).toEqual({ from: `the vault passphrase is ${SECRET}`, to: updated.content });
    await memory.search('office', { mode: 'lexical' });
    await memory.close();

    expect(readdirSync(directory).some((name) => name.endsWith('-lexical.snapshot'))).toBe(true);
    for (const text of [SECRET, CONTEXT_SECRET, UPDATED_SECRET]) expect(filesHolding(directory, text), text).toEqual([]);
    const db = new Database(path, { readonly: true });
    const stored = db.prepare('SELECT content, context, content_hash FROM memories WHERE id = ?').get(secret.id) as Record<string, string>;
    db.close();
    expect(stored.content).toMatch(/^engram:enc:v1:k-[0-9a-f]{12}:/);
    expect(stored.context).toMatch(/^engram:enc:v1:/);
    expect(stored.content_hash).toMatch(/^hmac:/);

    // Without the key: a redacted record. With another key: redacted too.
    for (const encryption of [undefined, { key: keyB }]) {
      const other = open(path, encryption);
      const record = await other.get(secret.id);
      expect(record?.content).toMatch(/^\[encrypted: needs key k-/);
      expect(record?.sensitive).toBe(true);
      expect(record?.tags).toEqual(['credentials']);
      await other.close();
    }
    const refused = await open(path)
      .add({ content: 'no key here', sensitive: true })
      .catch((error: unknown) => error);
    expect(ValidationError.isInstance(refused)).toBe(true);
    expect((refused as ValidationError).field).toBe('sensitive');
    expect((refused as Error).message).toContain('ENGRAM_ENCRYPTION_KEY');

    // Exports stay encrypted unless --decrypt.
    const env = { ENGRAM_ENCRYPTION_KEY: keyA, ENGRAM_EMBEDDER: 'hash' };
    const sealed = await run(['export', '--path', path, '--user', 'alice'], env);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout).toContain('engram:enc:v1:');
    expect(sealed.stdout).not.toContain(UPDATED_SECRET);
    const opened = await run(['export', '--path', path, '--user', 'alice', '--decrypt'], env);
    expect(opened.stdout).toContain(UPDATED_SECRET);
    expect(logs.join('\n')).not.toContain(SECRET);
    expect(logs.join('\n')).not.toContain(UPDATED_SECRET);

    // Rotation: re-wrap under key B, keeping A as a previous key; then B alone reads it.
    const rotated = await run(['keys', 'rotate-encryption', '--path', path, '--json'], {
      ENGRAM_ENCRYPTION_KEY: keyB,
      ENGRAM_ENCRYPTION_PREVIOUS_KEYS: keyA,
      ENGRAM_EMBEDDER: 'hash',
    });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ rewrapped: 1, keyId: keyFromText(keyB).id });
    const withB = open(path, { key: keyB });
    expect((await withB.get(secret.id))?.content).toBe(updated.content);
    await withB.close();
    const withA = open(path, { key: keyA });
    expect((await withA.get(secret.id))?.content).toMatch(/^\[encrypted/);
    await withA.close();
    for (const text of [SECRET, CONTEXT_SECRET, UPDATED_SECRET]) expect(filesHolding(directory, text), text).toEqual([]);
  });

  it('encrypts the listed metadata fields of sensitive memories (encryptMetadata), refusing filters on them', async () => {
    const DIAGNOSIS = 'zqvdiagnosisvalue';
    const UPDATED_DIAGNOSIS = 'zqvrevisedfinding';
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const memory = open(path, { key: keyA, encryptMetadata: ['diagnosis', 'notes'] });
    await memory.addMany(Array.from({ length: 2_100 }, (_, index) => ({ content: `plain note ${index} about the clinic` })));
    const { memory: secret } = await memory.add({
      content: 'patient record for the visit',
      sensitive: true,
      tags: ['medical'],
      metadata: { diagnosis: DIAGNOSIS, notes: { follow: [DIAGNOSIS, 3] }, ward: 'east' },
      scope: { userId: 'alice' },
    });
    // The caller sees plaintext; the field that is not listed stays plaintext and filterable.
    expect(secret.metadata).toEqual({ diagnosis: DIAGNOSIS, notes: { follow: [DIAGNOSIS, 3] }, ward: 'east' });
    expect((await memory.list({ where: { ward: 'east' } })).items.map((record) => record.id)).toEqual([secret.id]);
    // A filter on an encrypted field could never match a sensitive memory: refused, naming it.
    const refused = await memory.list({ where: { diagnosis: DIAGNOSIS } }).catch((error: unknown) => error);
    expect(ValidationError.isInstance(refused)).toBe(true);
    expect((refused as ValidationError).field).toBe('options.where.diagnosis');
    await expect(memory.search('patient', { where: { or: [{ ward: 'x' }, { 'notes.follow': { exists: true } }] } })).rejects.toThrow(
      /encryptMetadata/,
    );
    // A plain (non-sensitive) memory keeps its metadata as given.
    const plain = await memory.add({ content: 'a plain memory with metadata', metadata: { diagnosis: 'none' } });
    expect(plain.memory.metadata).toEqual({ diagnosis: 'none' });

    const updated = await memory.update(secret.id, { metadata: { diagnosis: UPDATED_DIAGNOSIS, ward: 'west' } });
    expect(updated.metadata).toEqual({ diagnosis: UPDATED_DIAGNOSIS, ward: 'west' });
    const history = await memory.history(secret.id);
    expect(history[1]?.changes.metadata).toEqual({
      from: { diagnosis: DIAGNOSIS, notes: { follow: [DIAGNOSIS, 3] }, ward: 'east' },
      to: { diagnosis: UPDATED_DIAGNOSIS, ward: 'west' },
    });
    await memory.search('clinic', { mode: 'lexical' });
    await memory.close();

    expect(readdirSync(directory).some((name) => name.endsWith('-lexical.snapshot'))).toBe(true);
    for (const text of [DIAGNOSIS, UPDATED_DIAGNOSIS]) expect(filesHolding(directory, text), text).toEqual([]);
    const db = new Database(path, { readonly: true });
    const stored = JSON.parse((db.prepare('SELECT metadata FROM memories WHERE id = ?').get(secret.id) as { metadata: string }).metadata);
    db.close();
    expect(stored.diagnosis).toMatch(/^engram:enc:v1:k-/);
    expect(stored.ward).toBe('west');

    // Without the key: the encrypted fields are redacted, the others readable.
    const keyless = open(path);
    expect((await keyless.get(secret.id))?.metadata).toEqual({
      diagnosis: expect.stringMatching(/^\[encrypted: needs key k-/),
      ward: 'west',
    });
    await keyless.close();

    // Exports stay encrypted unless --decrypt.
    const env = { ENGRAM_ENCRYPTION_KEY: keyA, ENGRAM_ENCRYPT_METADATA: 'diagnosis,notes', ENGRAM_EMBEDDER: 'hash' };
    const sealed = await run(['export', '--path', path, '--user', 'alice'], env);
    expect(sealed.code, sealed.stderr).toBe(0);
    expect(sealed.stdout).not.toContain(UPDATED_DIAGNOSIS);
    const opened = await run(['export', '--path', path, '--user', 'alice', '--decrypt'], env);
    expect(opened.stdout).toContain(UPDATED_DIAGNOSIS);

    // Rotation re-wraps the encrypted fields too: key B alone reads them afterwards.
    const rotated = await run(['keys', 'rotate-encryption', '--path', path, '--json'], {
      ENGRAM_ENCRYPTION_KEY: keyB,
      ENGRAM_ENCRYPTION_PREVIOUS_KEYS: keyA,
      ENGRAM_EMBEDDER: 'hash',
    });
    expect(rotated.code, rotated.stderr).toBe(0);
    const withB = open(path, { key: keyB, encryptMetadata: ['diagnosis', 'notes'] });
    expect((await withB.get(secret.id))?.metadata).toEqual({ diagnosis: UPDATED_DIAGNOSIS, ward: 'west' });
    await withB.close();
    for (const text of [DIAGNOSIS, UPDATED_DIAGNOSIS]) expect(filesHolding(directory, text), text).toEqual([]);
  });

  it('encrypts the whole metadata object, field names too, with encryptMetadata: true', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const memory = open(path, { key: keyA, encryptMetadata: true });
    const { memory: secret } = await memory.add({ content: 'sealed', sensitive: true, metadata: { zqvfieldname: 'zqvfieldvalue', n: 1 } });
    expect(secret.metadata).toEqual({ zqvfieldname: 'zqvfieldvalue', n: 1 });
    // Filters never see inside: a condition on the sealed metadata does not match the sensitive memory.
    expect((await memory.list({ where: { n: 1 } })).items).toEqual([]);
    expect((await memory.get(secret.id))?.metadata).toEqual({ zqvfieldname: 'zqvfieldvalue', n: 1 });
    await memory.close();
    for (const text of ['zqvfieldname', 'zqvfieldvalue']) expect(filesHolding(directory, text), text).toEqual([]);
    const keyless = open(path);
    expect((await keyless.get(secret.id))?.metadata).toEqual({});
    await keyless.close();
    expect(() => open(path, { key: keyA, encryptMetadata: [] as string[] })).toThrow(/encryptMetadata/);
  });

  it('never lends a sensitive turn to the derived conversation context of its neighbours', async () => {
    const directory = temporaryDirectory();
    const path = join(directory, 'memory.db');
    const memory = open(path, { key: keyA });
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 9, minute));
    const turn = (content: string, minute: number, sensitive = false) => ({
      content,
      conversationId: 'chat',
      createdAt: at(minute),
      ...(sensitive ? { sensitive: true } : {}),
    });
    // In one batch, one by one after a stored sensitive turn, and out of order before stored turns.
    const batch = await memory.addMany([
      turn('Alice: hello', 0),
      turn(`Bob: my passphrase is ${SECRET}`, 1, true),
      turn('Alice: noted', 2),
    ]);
    expect(batch[2]?.memory.context).toBe('Alice: hello');
    const next = (await memory.add(turn('Bob: anything else?', 3))).memory;
    expect(next.context).toBe('Alice: hello\nAlice: noted');
    await memory.add(turn(`Bob: and the other one is ${CONTEXT_SECRET}`, 4, true));
    await memory.add(turn('Alice: fine', 5));
    await memory.add(turn(`Bob: late secret ${UPDATED_SECRET}`, 4.5, true));
    const all = await memory.list({ limit: 50 });
    for (const record of all.items) {
      if (record.sensitive) continue;
      for (const text of [SECRET, CONTEXT_SECRET, UPDATED_SECRET]) expect(record.context ?? '', record.content).not.toContain(text);
      expect(record.context ?? '', record.content).not.toMatch(/encrypted/);
    }
    await memory.close();
    for (const text of [SECRET, CONTEXT_SECRET, UPDATED_SECRET]) expect(filesHolding(directory, text), text).toEqual([]);
  });

  it('embeds sensitive content only when asked (embedSensitive), and takes keys from a keyProvider', async () => {
    const key = keyFromText(keyA);
    const asked: Array<string | undefined> = [];
    const memory = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder({ dimensions: 32 }),
      logger: false,
      encryption: {
        embedSensitive: true,
        keyProvider: async (keyId) => {
          asked.push(keyId);
          return key;
        },
      },
    });
    const { memory: stored } = await memory.add({ content: 'the staging database password rotates monthly', sensitive: true });
    const [hit] = await memory.search('staging database password rotates monthly', { mode: 'vector', limit: 1 });
    expect(hit?.memory.id).toBe(stored.id);
    expect(hit?.memory.content).toBe('the staging database password rotates monthly');
    expect(asked[0]).toBeUndefined();
    const context = await memory.context({ query: 'staging database password', mode: 'vector' });
    expect(context.text).toContain('the staging database password rotates monthly');
    await memory.close();
    expect(() => new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), encryption: { key: 'too short' } })).toThrow(
      /encryption\.key/,
    );
  });
});
