import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';

/** A fresh in-memory Memory with the hash embedder: fast, offline, deterministic. */
export function testMemory(): Memory {
  return new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
}

/** A tenant factory giving each tenant its own in-memory store, and the memories it built. */
export function tenantFactory(): { factory: (tenant: string) => Memory; built: Map<string, Memory> } {
  const built = new Map<string, Memory>();
  return {
    built,
    factory: (tenant: string) => {
      const memory = testMemory();
      built.set(tenant, memory);
      return memory;
    },
  };
}
