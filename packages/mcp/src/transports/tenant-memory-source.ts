import type { Memory } from '@engram/core';

/** Where keyed HTTP requests get their tenant's memory. */
export interface TenantMemorySource {
  get(tenant: string): Promise<Memory>;
  /** Closes the memories it opened (not the server's own store). */
  close(): Promise<void>;
}

/** A key's tenant has no store on this server (it serves a `Memory` passed in, which is tenant "local"). */
export class TenantUnavailableError extends Error {
  constructor(readonly tenant: string) {
    super(`This server holds the memories of tenant "local" only, not "${tenant}"`);
    this.name = 'TenantUnavailableError';
  }
}
