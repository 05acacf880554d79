import type { Memory } from '@engram/core';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Principal } from '../auth/api-keys.js';
import type { EventHubs } from '../events/event-hubs.js';

/** What the tenant binding puts on every authenticated request; routes read nothing else. */
export interface EngramEnv {
  Variables: {
    /** The caller's tenant's memory: the only one a route can reach. */
    memory: Memory;
    tenant: string;
    principal: Principal | null;
  };
}

export type EngramHono = OpenAPIHono<EngramEnv>;

export interface RouteDependencies {
  events: EventHubs;
  heartbeatMs: number;
  log: (message: string) => void;
}
