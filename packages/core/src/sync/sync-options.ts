import { ValidationError } from '../model/errors.js';

/** `new Memory({ sync })`: keep this (local) store in step with an Engram server. See docs/sync.md. */
export interface SyncOptions {
  /** The server's base URL, e.g. 'https://memory.example.com' (its routes are under /api/sync). */
  url: string;
  /** An API key of your tenant on that server (sent as `Authorization: Bearer`). None for a loopback server without keys. */
  apiKey?: string;
  /** How often to push and pull in the background: milliseconds, or '500ms', '30s', '5m', '1h'. Default '30s'. */
  interval?: number | string;
  /** Operations per push request and changes per pull page. Default 500. */
  batchSize?: number;
  /** A request that takes longer than this is abandoned (and retried next round), in ms. Default 30,000. */
  timeoutMs?: number;
  /** Push soon after a local write (this many ms later) instead of waiting for the interval. Default 1,000; `false`: interval only. */
  pushDelayMs?: number | false;
  /** The fetch to use (a proxy agent, tests). Default: the global fetch. */
  fetch?: typeof fetch;
}

export interface ResolvedSyncOptions {
  url: string;
  apiKey: string | undefined;
  intervalMs: number;
  batchSize: number;
  timeoutMs: number;
  pushDelayMs: number | false;
  fetch: typeof fetch;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** '30s' → 30000; a number is milliseconds. Undefined when the text is not a duration. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]) * (UNITS[(match[2] ?? 'ms').toLowerCase()] as number);
  return amount > 0 ? amount : undefined;
}

/** Checks `sync` options; errors name the field and what to pass. */
export function resolveSyncOptions(options: SyncOptions): ResolvedSyncOptions {
  if (!options || typeof options !== 'object') {
    throw new ValidationError([{ field: 'sync', message: "must be { url, apiKey?, interval? }, e.g. { url: 'http://127.0.0.1:8000' }" }]);
  }
  let url: URL;
  try {
    url = new URL(String(options.url));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new ValidationError([
      { field: 'sync.url', message: `must be an http(s) URL of an Engram server (got ${JSON.stringify(options.url)})` },
    ]);
  }
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey.trim() === '')) {
    throw new ValidationError([{ field: 'sync.apiKey', message: 'must be a non-empty string (an API key of your tenant)' }]);
  }
  const intervalMs = parseDuration(options.interval ?? '30s');
  if (intervalMs === undefined) {
    throw new ValidationError([{ field: 'sync.interval', message: "must be milliseconds or a duration such as '30s', '5m'" }]);
  }
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
    throw new ValidationError([{ field: 'sync.batchSize', message: 'must be an integer from 1 to 5000' }]);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0))
    throw new ValidationError([{ field: 'sync.timeoutMs', message: 'must be a positive number of ms' }]);
  const pushDelayMs = options.pushDelayMs ?? 1000;
  if (pushDelayMs !== false && !(typeof pushDelayMs === 'number' && pushDelayMs >= 0)) {
    throw new ValidationError([{ field: 'sync.pushDelayMs', message: 'must be a number of ms (0 or more) or false' }]);
  }
  const chosenFetch = options.fetch ?? globalThis.fetch;
  if (typeof chosenFetch !== 'function') {
    throw new ValidationError([
      { field: 'sync.fetch', message: 'is required: this runtime has no global fetch (Node 18 or later has one)' },
    ]);
  }
  return {
    url: url.toString().replace(/\/+$/, ''),
    apiKey: options.apiKey,
    intervalMs,
    batchSize,
    timeoutMs,
    pushDelayMs,
    fetch: chosenFetch,
  };
}

/**
 * Sync options from the environment: ENGRAM_SYNC_URL (the server), ENGRAM_SYNC_KEY (an API key of
 * your tenant) and ENGRAM_SYNC_INTERVAL (default 30s). Undefined without ENGRAM_SYNC_URL. The CLI,
 * the MCP server and the Claude Code hooks read them.
 */
export function syncFromEnvironment(env: Record<string, string | undefined>): SyncOptions | undefined {
  const url = env.ENGRAM_SYNC_URL?.trim();
  if (!url) return undefined;
  const apiKey = env.ENGRAM_SYNC_KEY?.trim();
  const interval = env.ENGRAM_SYNC_INTERVAL?.trim();
  return { url, ...(apiKey ? { apiKey } : {}), ...(interval ? { interval } : {}) };
}
