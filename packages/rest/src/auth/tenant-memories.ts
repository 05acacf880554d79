import type { Memory } from '@engram/core';
import { HttpError } from '../errors.js';

/** Builds (or returns) the `Memory` holding one tenant's memories. Called once per tenant and process. */
export type TenantMemoryFactory = (tenant: string) => Memory | Promise<Memory>;

/**
 * Tenant → Memory. Each tenant's memories live in a store of their own (its own SQLite file or
 * Postgres schema), so no filter, id, link or stream of one tenant can reach another's: the
 * boundary is physical, not a condition every query must remember.
 *
 * A single `Memory` serves exactly one tenant (`boundTenant`); a key of any other tenant is
 * refused, never given that Memory.
 */
export class TenantMemories {
  private readonly built = new Map<string, Promise<Memory>>();
  private readonly ready = new Map<string, Memory>();

  constructor(
    private readonly source: Memory | TenantMemoryFactory,
    readonly boundTenant: string,
  ) {}

  get single(): boolean {
    return typeof this.source !== 'function';
  }

  get(tenant: string): Promise<Memory> {
    if (typeof this.source !== 'function') {
      if (tenant !== this.boundTenant) {
        return Promise.reject(
          new HttpError(
            403,
            'TENANT_UNAVAILABLE',
            `This server holds the memories of tenant "${this.boundTenant}" only; ask its operator for a key of that tenant.`,
          ),
        );
      }
      return Promise.resolve(this.source);
    }
    let pending = this.built.get(tenant);
    if (!pending) {
      const factory = this.source;
      pending = Promise.resolve()
        .then(() => factory(tenant))
        .then((memory) => {
          this.ready.set(tenant, memory);
          return memory;
        });
      pending.catch(() => this.built.delete(tenant));
      this.built.set(tenant, pending);
    }
    return pending;
  }

  /** The memories built so far, by tenant. */
  opened(): Array<[string, Memory]> {
    if (typeof this.source !== 'function') return [[this.boundTenant, this.source]];
    return [...this.ready.entries()];
  }

  /** Closes the memories the factory built; a `Memory` passed in belongs to its owner and stays open. */
  async close(): Promise<void> {
    if (typeof this.source !== 'function') return;
    const memories = [...this.ready.values()];
    this.ready.clear();
    this.built.clear();
    await Promise.allSettled(memories.map((memory) => memory.close()));
  }
}
