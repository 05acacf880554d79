import { describe, expect, it } from 'vitest';
import { encryptionFromEnvironment } from './encryption-environment.js';

const key = 'a'.repeat(64);

describe('encryptionFromEnvironment (the SDK, CLI, MCP and REST servers read the same variables)', () => {
  it('is undefined without a key, blank counting as none', () => {
    expect(encryptionFromEnvironment({})).toBeUndefined();
    expect(encryptionFromEnvironment({ ENGRAM_ENCRYPTION_KEY: '   ', ENGRAM_ENCRYPT_METADATA: 'all' })).toBeUndefined();
  });

  it('reads the key, the previous keys and the metadata fields to seal', () => {
    expect(
      encryptionFromEnvironment({
        ENGRAM_ENCRYPTION_KEY: ` ${key} `,
        ENGRAM_ENCRYPTION_PREVIOUS_KEYS: 'old1, ,old2',
        ENGRAM_ENCRYPT_METADATA: 'diagnosis, insurer',
      }),
    ).toEqual({ key, previousKeys: ['old1', 'old2'], encryptMetadata: ['diagnosis', 'insurer'] });
  });

  it('seals the whole metadata object with ENGRAM_ENCRYPT_METADATA=all, and nothing extra without it', () => {
    expect(encryptionFromEnvironment({ ENGRAM_ENCRYPTION_KEY: key, ENGRAM_ENCRYPT_METADATA: 'all' })).toEqual({
      key,
      encryptMetadata: true,
    });
    expect(encryptionFromEnvironment({ ENGRAM_ENCRYPTION_KEY: key })).toEqual({ key });
  });
});
