import { type Memory, ValidationError } from '@engram/core';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { type ApiKeysOptions, type Authenticator, apiKeys, type Principal } from './auth/api-keys.js';
import { TenantMemories, type TenantMemoryFactory } from './auth/tenant-memories.js';
import { LOCAL_TENANT } from './auth/tenant-name.js';
import { defaultDashboardDirectory, registerDashboard } from './dashboard/dashboard-assets.js';
import { DOCS_PAGE } from './docs-page.js';
import { errorBody, HttpError, sendError } from './errors.js';
import { EventHubs } from './events/event-hubs.js';
import type { EngramEnv, EngramHono } from './routes/app-env.js';
import { healthRoute, registerCatalogRoutes } from './routes/catalog-routes.js';
import { registerCompatRoutes } from './routes/compat-routes.js';
import { registerConsolidationRoutes } from './routes/consolidation-routes.js';
import { registerErasureRoutes } from './routes/erasure-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerGraphRoutes } from './routes/graph-routes.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { registerMemoryRoutes } from './routes/memory-routes.js';
import { registerReindexRoutes } from './routes/reindex-routes.js';
import { validationResponse } from './routes/responses.js';
import { registerStatsBreakdownRoutes } from './routes/stats-breakdown-routes.js';
import { registerSyncRoutes } from './routes/sync-routes.js';
import { registerTransferRoutes } from './routes/transfer-routes.js';
import { limitBody } from './server/body-limit.js';
import { hostnameOf, isLoopback } from './server/loopback.js';
import { RateLimiter, type RateLimitOptions } from './server/rate-limiter.js';
import { VERSION } from './version.js';

export interface EngramAppOptions {
  /**
   * The memory to serve. A `Memory` serves one tenant (`tenant`); a function `(tenant) => Memory`
   * gives each tenant a store of its own (what `engram serve` does: one SQLite file or Postgres
   * schema per tenant).
   */
  memory: Memory | TenantMemoryFactory;
  /**
   * API keys: `{ keys: { tenant: key } }`, `{ file }` (written by `engram keys create`), or an
   * `Authenticator`. With none, the server serves the `local` tenant anonymously, to loopback clients only.
   */
  auth?: ApiKeysOptions | Authenticator;
  /** The tenant a single `Memory` belongs to. Default: the one tenant the keys name, else 'local'. */
  tenant?: string;
  /**
   * Host header names accepted (DNS-rebinding protection). 'loopback' accepts only loopback names
   * and refuses cross-origin browser requests. Default: 'loopback' without keys, any host with keys.
   */
  allowedHosts?: 'loopback' | string[] | false;
  /** Origins allowed to call from a browser (CORS). Default: none (CORS off). */
  corsOrigins?: string[];
  /** Largest JSON body, in bytes. Default 1,000,000. */
  bodyLimit?: number;
  /**
   * Server folders POST /api/ingest may read files from (`paths`), after resolving symbolic links.
   * Default none: the route takes text and uploads only. Every tenant may ingest from them.
   */
  allowIngest?: readonly string[];
  /** Largest POST /api/import, POST /api/ingest and POST /api/sync/push body, in bytes. Default 64 MiB. */
  importBodyLimit?: number;
  /** Per-key token bucket. Default with keys: 50 requests/s, bursts of 100; without keys: off. `false`: off. */
  rateLimit?: RateLimitOptions | false;
  /** A request still running after this many ms gets a 503 (streams excepted). Default 30,000. */
  requestTimeoutMs?: number;
  /** SSE heartbeat comment interval, in ms. Default 15,000. */
  heartbeatMs?: number;
  /** How often SSE reads the store's change log for other processes' writes, in ms. Default 250. */
  eventPollMs?: number;
  /** Diagnostics. Default: stderr. */
  log?: (message: string) => void;
  /**
   * The web dashboard at `/`: true (default) serves the build shipped in this package, a string
   * serves the build in that folder, false serves none (`/` then answers 404 like any unknown path).
   */
  dashboard?: boolean | string;
}

/** The Hono app plus what its owner needs to stop it cleanly. */
export type EngramApp = EngramHono & {
  engram: {
    tenants: TenantMemories;
    events: EventHubs;
    authenticator: Authenticator;
    /** Ends event streams and closes the memories the app built (a `Memory` passed in stays open). */
    close(): Promise<void>;
  };
};

export const DEFAULT_BODY_LIMIT = 1_000_000;
export const DEFAULT_IMPORT_BODY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 50, burst: 100 };

/** Routes the request timeout does not apply to. */
const UNTIMED = new Set(['/api/events', '/api/export', '/api/consolidate', '/api/ingest']);

const defaultLog = (message: string) => process.stderr.write(`[engram-server] ${message}\n`);

function isAuthenticator(value: unknown): value is Authenticator {
  return typeof (value as Authenticator | undefined)?.authenticate === 'function';
}

function presentedKey(context: Context): string | undefined {
  const header = context.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match)
      throw new HttpError(401, 'UNAUTHORIZED', 'The Authorization header must be "Bearer <api key>"', undefined, {
        'www-authenticate': 'Bearer realm="engram"',
      });
    return match[1];
  }
  return context.req.header('x-api-key')?.trim() || undefined;
}

/** The peer's address when the app runs on @hono/node-server (undefined in other runtimes and in app.request()). */
function remoteAddress(context: Context): string | undefined {
  const incoming = (context.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/**
 * The Engram REST API as a Hono app: mount it anywhere Hono runs, test it with `app.request()`,
 * or start it with `serve()`. Every /api route except /api/health authenticates the caller and
 * binds the request to its tenant's memory in one middleware; routes only ever see that memory.
 */
export function createEngramApp(options: EngramAppOptions): EngramApp {
  if (!options || (typeof options.memory !== 'function' && typeof (options.memory as Memory | undefined)?.search !== 'function')) {
    throw new ValidationError([{ field: 'memory', message: 'is required: a Memory, or a function (tenant) => Memory' }]);
  }
  const log = options.log ?? defaultLog;
  const authenticator = isAuthenticator(options.auth) ? options.auth : apiKeys(options.auth ?? {});
  const staticTenants = authenticator.staticTenants();
  const boundTenant = options.tenant ?? (staticTenants.length === 1 ? (staticTenants[0] as string) : LOCAL_TENANT);
  if (typeof options.memory !== 'function' && staticTenants.length > 1) {
    throw new ValidationError([
      {
        field: 'memory',
        message: `is a single Memory, but the keys name ${staticTenants.length} tenants (${staticTenants.join(', ')}); pass memory: (tenant) => … so each tenant has its own store`,
      },
    ]);
  }
  const tenants = new TenantMemories(options.memory, boundTenant);
  const events = new EventHubs({ pollMs: options.eventPollMs ?? 250, log });
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const corsOrigins = options.corsOrigins ?? [];
  let limiter: RateLimiter | null | undefined;

  const app = new OpenAPIHono<EngramEnv>({
    strict: true,
    defaultHook: (result, context) => {
      if (result.success) return;
      return validationResponse(context, result.error.issues[0], result.target);
    },
  });

  app.onError((error, context) => sendError(context, error, log));
  app.notFound((context) =>
    context.json(
      errorBody('NOT_FOUND', `No route ${context.req.method} ${context.req.path}; the routes are listed at /docs and /openapi.json`),
      404,
    ),
  );

  if (corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        origin: corsOrigins,
        allowHeaders: ['authorization', 'content-type', 'x-api-key', 'x-agent-id', 'last-event-id'],
        exposeHeaders: ['retry-after'],
        maxAge: 600,
      }),
    );
  }

  // Host and Origin: a web page must not reach a loopback server through a DNS name it controls.
  const hostCheck: MiddlewareHandler<EngramEnv> = async (context, next) => {
    let allowed = options.allowedHosts;
    if (allowed === undefined) allowed = (await authenticator.configured()) ? false : 'loopback';
    if (allowed !== false) {
      const hostname = hostnameOf(context.req.header('host') ?? new URL(context.req.url).host);
      const ok = hostname !== undefined && (allowed === 'loopback' ? isLoopback(hostname) : allowed.includes(hostname.toLowerCase()));
      if (!ok) throw new HttpError(403, 'FORBIDDEN_HOST', 'Forbidden: the Host header is not one this server answers to');
      const origin = context.req.header('origin');
      if (origin && origin !== 'null' && !corsOrigins.includes(origin)) {
        const originHost = hostnameOf(origin);
        const sameSite = originHost !== undefined && (allowed === 'loopback' ? isLoopback(originHost) : allowed.includes(originHost));
        if (!sameSite)
          throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'Forbidden: cross-origin request (allow the origin with --cors-origin)');
      }
    }
    await next();
  };
  app.use('*', hostCheck);

  app.openapi(healthRoute, (context) => context.json({ ok: true }, 200));
  app.get('/openapi.json', (context) => context.json(openApiDocument(app)));
  app.get('/docs', (context) => {
    context.header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'");
    return context.html(DOCS_PAGE);
  });

  // The tenant binding: the one place a request gets a memory. Nothing after it can name another tenant.
  app.use('/api/*', async (context, next) => {
    const key = presentedKey(context);
    let principal: Principal | null = null;
    if (await authenticator.configured()) {
      if (key === undefined) {
        throw new HttpError(401, 'UNAUTHORIZED', 'Send an API key: Authorization: Bearer <key> (or X-API-Key)', undefined, {
          'www-authenticate': 'Bearer realm="engram"',
        });
      }
      principal = await authenticator.authenticate(key);
      if (!principal)
        throw new HttpError(401, 'UNAUTHORIZED', 'Unknown or revoked API key', undefined, { 'www-authenticate': 'Bearer realm="engram"' });
    } else {
      // A key sent to a server without keys is a mistake worth reporting (a revoked key, the wrong server).
      if (key !== undefined) throw new HttpError(401, 'UNAUTHORIZED', 'Unknown API key: this server has no keys configured');
      // No keys: one anonymous tenant, for this machine only.
      const peer = remoteAddress(context);
      if (peer !== undefined && !isLoopback(peer)) {
        throw new HttpError(
          401,
          'UNAUTHORIZED',
          'This server has no API keys and answers loopback clients only; create a key with engram keys create',
        );
      }
    }
    const tenant = principal?.tenant ?? LOCAL_TENANT;
    const memory = await tenants.get(tenant);
    context.set('principal', principal);
    context.set('tenant', tenant);
    context.set('memory', memory);
    await next();
  });

  app.use('/api/*', async (context, next) => {
    if (limiter === undefined) {
      const configured = options.rateLimit ?? ((await authenticator.configured()) ? DEFAULT_RATE_LIMIT : false);
      limiter = configured === false ? null : new RateLimiter(configured);
    }
    if (limiter) {
      const principal = context.get('principal');
      const verdict = limiter.take(principal ? `key:${principal.keyId}` : `peer:${remoteAddress(context) ?? 'local'}`);
      if (!verdict.allowed) {
        throw new HttpError(429, 'RATE_LIMITED', `Too many requests: retry in ${verdict.retryAfterSeconds} s`, undefined, {
          'retry-after': String(verdict.retryAfterSeconds),
        });
      }
    }
    await next();
  });

  const tooLarge = (limit: number) => () => {
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${limit} bytes`);
  };
  const jsonLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const importLimit = options.importBodyLimit ?? DEFAULT_IMPORT_BODY_LIMIT;
  const LARGE_BODIES = new Set(['/api/import', '/api/ingest', '/api/sync/push']);
  const limitLarge = limitBody(importLimit, tooLarge(importLimit));
  const limitJson = limitBody(jsonLimit, tooLarge(jsonLimit));
  app.use('/api/*', (context, next) => (LARGE_BODIES.has(context.req.path) ? limitLarge(context, next) : limitJson(context, next)));

  app.use('/api/*', async (context, next) => {
    // Streams, and the long-running maintenance routes (consolidation, ingestion), run to the end.
    if (UNTIMED.has(context.req.path)) return next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new HttpError(
              503,
              'TIMEOUT',
              `The request took longer than ${requestTimeoutMs} ms; a write may still complete — check before retrying`,
            ),
          ),
        requestTimeoutMs,
      );
    });
    try {
      await Promise.race([next(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  });

  registerMemoryRoutes(app);
  registerCompatRoutes(app);
  registerGraphRoutes(app);
  registerCatalogRoutes(app);
  registerTransferRoutes(app);
  registerSyncRoutes(app);
  registerReindexRoutes(app);
  registerConsolidationRoutes(app);
  registerIngestRoutes(app, { allowIngest: options.allowIngest ?? [] });
  registerErasureRoutes(app);
  registerEventRoutes(app, { events, heartbeatMs, log });
  registerStatsBreakdownRoutes(app);
  // Last: its single-page fallback answers only what no route above does.
  if (options.dashboard !== false) {
    registerDashboard(app, typeof options.dashboard === 'string' ? options.dashboard : defaultDashboardDirectory());
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key of your tenant',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-API-Key' });

  const engram = {
    tenants,
    events,
    authenticator,
    async close() {
      events.close();
      await tenants.close();
    },
  };
  return Object.assign(app, { engram });
}

let cachedDocument: { app: unknown; document: unknown } | undefined;

/** The OpenAPI 3.1 document of an app, generated from its route schemas (once per app). */
export function openApiDocument(app: EngramHono): unknown {
  if (cachedDocument?.app === app) return cachedDocument.document;
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Engram REST API',
      version: VERSION,
      description:
        'Typed memories and relationships for AI agents over HTTP. Errors are { "error": { "code", "message", "field"? } }. ' +
        'Each API key belongs to a tenant; a tenant sees only its own memories.',
    },
    servers: [{ url: '/' }],
  });
  cachedDocument = { app, document };
  return document;
}
