// The dashboard is a client of the REST API only: every call below is a documented route
// (docs/rest.md, /openapi.json), authenticated with the key the user entered once.

export interface MemoryRecord {
  id: string;
  content: string;
  context?: string;
  contentHash: string;
  type: string;
  subtype: string | null;
  tags: string[];
  metadata: Record<string, unknown>;
  scope: { userId?: string; agentId?: string; runId?: string };
  conversationId: string | null;
  importance: number;
  quality: number | null;
  accessCount: number;
  lastAccessedAt: string | null;
  createdAt: string;
  updatedAt: string;
  validFrom: string | null;
  validTo: string | null;
  supersededBy: string | null;
  deletedAt: string | null;
  key: string | null;
  source: string | null;
  confidence: number | null;
  [field: string]: unknown;
}

export interface Relation {
  sourceId: string;
  targetId: string;
  type: string;
  weight: number;
  confidence: number;
  metadata: Record<string, unknown>;
  inferred: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Explanation {
  relevance: number;
  lexical?: { rank: number; score: number; contribution: number };
  vector?: { rank: number; similarity: number; contribution: number };
  date?: { cue: string; contribution: number };
  recency: { ageDays: number; value: number; contribution: number };
  importance: { value: number; contribution: number };
  evidence?: { matched: number; coverage: number };
  decay?: { value: number; stored: boolean; contribution: number };
  expansion?: { seedId: string; seedScore: number; distance: number; factor: number };
  score: number;
}

export interface Hit {
  memory: MemoryRecord;
  score: number;
  explanation?: Explanation;
}

export interface HistoryEntry {
  memoryId: string;
  event: 'created' | 'updated' | 'superseded' | 'deleted';
  at: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  reason: string | null;
}

export interface Stats {
  total: number;
  superseded: number;
  byType: Record<string, number>;
  store: { name: string };
  embedder: { id: string; dimensions: number };
  tenant: string;
}

export interface StatsBreakdown {
  total: number;
  superseded: number;
  byType: Record<string, number>;
  bySubtype: Record<string, number>;
  /** userId null: memories without one. */
  byUser: Array<{ userId: string | null; count: number }>;
  /** agentId null: memories without one. */
  byAgent: Array<{ agentId: string | null; count: number }>;
  topTags: Array<{ tag: string; count: number }>;
  timeline: Array<{ day: string; byType: Record<string, number> }>;
  relations: number;
  store: { name: string; bytes: number | null };
  embedder: { id: string; dimensions: number };
  index: { vectors: number | null; lexical: string; healthy: boolean };
  tenant: string;
}

export interface TypeInfo {
  type: string;
  subtypes: string[];
  count: number;
}

const KEY_STORAGE = 'engram.apiKey';

/** An error the API answered, with its code and the field to fix. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeKey(key: string | null): void {
  if (key === null) sessionStorage.removeItem(KEY_STORAGE);
  else sessionStorage.setItem(KEY_STORAGE, key);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = storedKey();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

/** Listeners told when the server refuses the key (it was revoked, or never valid). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

async function failure(response: Response): Promise<ApiError> {
  let code = 'HTTP_ERROR';
  let message = `${response.status} ${response.statusText}`;
  let field: string | undefined;
  try {
    const body = (await response.json()) as { error?: { code: string; message: string; field?: string } };
    if (body.error) ({ code, message, field } = body.error);
  } catch {
    // Not JSON: keep the status line.
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener();
  return new ApiError(response.status, code, message, field);
}

export async function request<T>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
  const response = await fetch(path, {
    method,
    headers:
      key !== undefined
        ? { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
        : headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** A query string from the defined, non-empty values. */
export function query(values: Record<string, string | number | boolean | undefined | null>): string {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') continue;
    parameters.set(name, String(value));
  }
  const text = parameters.toString();
  return text ? `?${text}` : '';
}

export const api = {
  /** Checks a key (or the anonymous mode, with an empty key) against the server. */
  probe: (key: string) => request<Stats>('GET', '/api/stats', undefined, key === '' ? undefined : key),
  stats: () => request<Stats>('GET', '/api/stats'),
  breakdown: (days = 30) => request<StatsBreakdown>('GET', `/api/stats/breakdown${query({ days })}`),
  types: () => request<{ types: TypeInfo[] }>('GET', '/api/types'),
  tags: () => request<{ tags: Array<{ tag: string; count: number }> }>('GET', '/api/tags'),
  list: (parameters: Record<string, string | undefined>) =>
    request<{ items: MemoryRecord[]; nextCursor: string | null }>('GET', `/api/memories${query(parameters)}`),
  get: (id: string) => request<{ memory: MemoryRecord }>('GET', `/api/memories/${encodeURIComponent(id)}`),
  update: (id: string, patch: Record<string, unknown>) =>
    request<{ memory: MemoryRecord }>('PATCH', `/api/memories/${encodeURIComponent(id)}`, patch),
  remove: (id: string) => request<{ deleted: true }>('DELETE', `/api/memories/${encodeURIComponent(id)}`),
  add: (body: Record<string, unknown>) => request<{ memory: MemoryRecord; status: string }>('POST', '/api/memories', body),
  search: (body: Record<string, unknown>) => request<{ hits: Hit[] }>('POST', '/api/search', body),
  history: (id: string) => request<{ history: HistoryEntry[] }>('GET', `/api/memories/${encodeURIComponent(id)}/history`),
  relations: (id: string) => request<{ relations: Relation[] }>('GET', `/api/memories/${encodeURIComponent(id)}/relations?direction=both`),
  subgraph: (id: string, radius = 1) =>
    request<{ nodes: MemoryRecord[]; edges: Relation[] }>(
      'GET',
      `/api/memories/${encodeURIComponent(id)}/subgraph${query({ radius, includeSuperseded: true, maxNodes: 200 })}`,
    ),
  link: (sourceId: string, targetId: string, type: string) =>
    request<{ relation: Relation }>('POST', '/api/relations', { sourceId, targetId, type }),
  unlink: (sourceId: string, targetId: string, type: string) =>
    request<{ removed: number }>('DELETE', `/api/relations${query({ sourceId, targetId, type })}`),
  resolve: (winnerId: string, loserId: string, reason?: string) =>
    request<{ winner: MemoryRecord; loser: MemoryRecord }>('POST', '/api/resolve', { winnerId, loserId, ...(reason ? { reason } : {}) }),
  consolidate: (body: { dryRun: boolean; steps?: string[]; scope?: Record<string, string> }) =>
    request<ConsolidationReport>('POST', '/api/consolidate', body),
  async exportText(parameters: Record<string, string | undefined>): Promise<string> {
    const response = await fetch(`/api/export${query(parameters)}`, { headers: headers() });
    if (!response.ok) throw await failure(response);
    return response.text();
  },
  async importText(text: string): Promise<{ records: number; created: number; updated: number; duplicates: number; skipped: number }> {
    const response = await fetch('/api/import', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/x-ndjson' }),
      body: text,
    });
    if (!response.ok) throw await failure(response);
    return response.json();
  },
};

export interface ConsolidationReport {
  dryRun: boolean;
  now: string;
  steps: string[];
  scanned: number;
  durationMs: number;
  relevance?: {
    scored: number;
    stored: number;
    mean: number;
    bands: Array<{ from: number; to: number; count: number }>;
    lowest: Array<{ id: string; score: number }>;
  };
  forgetting?: {
    forgotten: Array<{ id: string; type: string; preview: string; score: number; ageDays: number; reason: string }>;
    protected: Record<string, number>;
    archive: string | null;
  };
  compression?: {
    clusters: Array<{ ids: string[]; type: string; summary: string; summarySource: string; reason: string; patternId?: string }>;
    comparisons: number;
  };
  associations?: {
    examined: number;
    suggestions: Array<{ sourceId: string; targetId: string; type: string; confidence: number; reasons: string[] }>;
    written: number;
  };
}

export interface LiveEvent {
  id: string;
  name: string;
  data: { id?: string; memory?: MemoryRecord; relation?: Relation };
}

/**
 * The tenant's event stream (GET /api/events), read with fetch so the key travels in the
 * Authorization header (EventSource cannot send one). Reconnects with Last-Event-ID.
 */
export function subscribeEvents(onEvent: (event: LiveEvent) => void, onStatus: (connected: boolean) => void): () => void {
  let stopped = false;
  let lastEventId: string | undefined;
  let controller: AbortController | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const connect = async () => {
    controller = new AbortController();
    try {
      const response = await fetch('/api/events', {
        headers: headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw await failure(response);
      onStatus(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf('\n\n');
          let id = '';
          let name = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          if (id) lastEventId = id;
          try {
            onEvent({ id, name, data: JSON.parse(data.join('\n')) });
          } catch {
            // A malformed event is skipped; the next one still arrives.
          }
        }
      }
    } catch (error) {
      if (stopped) return;
      if (error instanceof ApiError && error.status === 401) {
        onStatus(false);
        return;
      }
    }
    onStatus(false);
    if (!stopped) retry = setTimeout(() => void connect(), 2000);
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    controller?.abort();
  };
}
