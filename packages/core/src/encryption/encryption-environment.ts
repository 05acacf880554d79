import type { EncryptionOptions } from './encryption.js';

/**
 * Keys for sensitive memories from the environment — one reading for the SDK, the CLI, the MCP
 * server and the REST server: ENGRAM_ENCRYPTION_KEY (the current key, 64 hex characters or base64
 * of 32 bytes), ENGRAM_ENCRYPTION_PREVIOUS_KEYS (comma-separated older keys, to read and rotate
 * memories written before a rotation) and ENGRAM_ENCRYPT_METADATA (`all`, or comma-separated
 * metadata fields to encrypt in sensitive memories: `encryptMetadata`). Undefined without a key.
 */
export function encryptionFromEnvironment(env: Record<string, string | undefined>): EncryptionOptions | undefined {
  const key = env.ENGRAM_ENCRYPTION_KEY?.trim();
  if (!key) return undefined;
  const list = (text: string | undefined) =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  const previous = list(env.ENGRAM_ENCRYPTION_PREVIOUS_KEYS);
  const metadata = env.ENGRAM_ENCRYPT_METADATA?.trim();
  const fields = list(metadata);
  const encryptMetadata = metadata === 'all' ? true : fields.length > 0 ? fields : undefined;
  return {
    key,
    ...(previous.length > 0 ? { previousKeys: previous } : {}),
    ...(encryptMetadata !== undefined ? { encryptMetadata } : {}),
  };
}
