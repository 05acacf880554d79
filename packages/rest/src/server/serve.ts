import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationError } from '@engram/core';
import { serve as serveNode } from '@hono/node-server';
import type { Authenticator } from '../auth/api-keys.js';
import { LOCAL_TENANT } from '../auth/tenant-name.js';
import { scheduleTenantConsolidation } from '../consolidation/consolidation-schedule.js';
import { createEngramApp, type EngramApp, type EngramAppOptions } from '../create-engram-app.js';
import { inArrivalOrder } from './arrival-order.js';
import { isLoopback } from './loopback.js';

export const DEFAULT_PORT = 8000;
export const DEFAULT_HOST = '127.0.0.1';

export interface ServeOptions extends EngramAppOptions {
  /** Port to listen on. Default 8000; 0 picks a free one (see `url`). */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. Anything else requires API keys. */
  host?: string;
  /** On close, how long in-flight requests may take before their connections are cut, in ms. Default 10,000. */
  shutdownTimeoutMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT (what the CLI does). Default false: the owner decides. */
  handleSignals?: boolean;
  /**
   * Apply `consolidate()` to every tenant's store this often (milliseconds, at least one minute):
   * with keys, each tenant that has a key, each into its own archive; without, tenant `local`.
   * Off by default.
   */
  consolidateEvery?: number;
}

/** The tenants a scheduled consolidation covers: every tenant with a key, else `local` (or the one a single Memory serves). */
export async function consolidationTenants(authenticator: Authenticator, single?: string): Promise<string[]> {
  if (single !== undefined) return [single];
  if (!(await authenticator.configured())) return [LOCAL_TENANT];
  return authenticator.tenants ? authenticator.tenants() : authenticator.staticTenants();
}

export function checkConsolidateEvery(every: number | undefined): void {
  if (every !== undefined && !(Number.isFinite(every) && every >= 60_000)) {
    throw new ValidationError([{ field: 'consolidateEvery', message: `must be at least one minute, in milliseconds (got ${every})` }]);
  }
}

export interface ServerHandle {
  app: EngramApp;
  url: string;
  port: number;
  host: string;
  /** False when the server runs without API keys (anonymous, loopback only). */
  authenticated: boolean;
  /** Settles once the server has stopped. */
  closed: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to shutdownTimeoutMs), ends event streams, closes the stores it opened. */
  close(): Promise<void>;
  /** With `consolidateEvery`: runs the scheduled consolidation now (what the timer does). Otherwise nothing. */
  consolidateNow(): Promise<void>;
}

/** Starts the REST server and resolves once it accepts connections. */
export async function serve(options: ServeOptions): Promise<ServerHandle> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ValidationError([{ field: 'port', message: `must be an integer from 0 to 65535 (got ${port})` }]);
  }
  checkConsolidateEvery(options.consolidateEvery);
  const loopback = isLoopback(host);
  const app = createEngramApp({
    ...options,
    ...(options.allowedHosts === undefined && loopback ? { allowedHosts: 'loopback' as const } : {}),
  });
  const authenticated = await app.engram.authenticator.configured();
  if (!authenticated && !loopback) {
    await app.engram.close();
    throw new ValidationError([
      {
        field: 'host',
        message: `${host} is reachable from other machines, and this server has no API keys: create one (engram keys create --tenant <name>) or set ENGRAM_API_KEYS, or bind 127.0.0.1`,
      },
    ]);
  }

  const server = await new Promise<Server>((resolve, reject) => {
    const created = serveNode({ fetch: inArrivalOrder(app.fetch), port, hostname: host }) as Server;
    created.once('error', reject);
    created.once('listening', () => {
      created.off('error', reject);
      resolve(created);
    });
  });
  // Requests Node cannot even parse (bad framing, oversized headers) get a JSON error too, not a bare 400.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'The request took too long to arrive']
          : [400, 'Bad Request', 'The request is not valid HTTP'];
    const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message } });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  const address = server.address() as AddressInfo;
  const displayHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${displayHost}:${address.port}`;

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  let closing: Promise<void> | undefined;
  const schedule =
    options.consolidateEvery === undefined
      ? undefined
      : scheduleTenantConsolidation({
          everyMs: options.consolidateEvery,
          tenants: () =>
            consolidationTenants(app.engram.authenticator, app.engram.tenants.single ? app.engram.tenants.boundTenant : undefined),
          // The memories the server already holds: a scheduled run and the requests share one per tenant.
          memoryOf: async (tenant) => ({ memory: await app.engram.tenants.get(tenant), release: async () => {} }),
          log: options.log ?? ((message) => process.stderr.write(`[engram-server] ${message}\n`)),
        });
  const close = () => {
    closing ??= (async () => {
      schedule?.stop();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      // Event streams never finish on their own: end them; idle keep-alive sockets too.
      app.engram.events.close();
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), shutdownTimeoutMs);
      deadline.unref();
      await stopped;
      clearTimeout(deadline);
      // A scheduled consolidation finishes before its stores close.
      await schedule?.idle();
      await app.engram.close();
      resolveClosed();
    })();
    return closing;
  };

  if (options.handleSignals) {
    const onSignal = () => {
      void close();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void closed.then(() => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
  }
  return {
    app,
    url,
    port: address.port,
    host,
    authenticated,
    closed,
    close,
    consolidateNow: async () => {
      await schedule?.run();
    },
  };
}
