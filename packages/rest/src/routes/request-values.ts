import { type AddInput, type ListOptions, type Scope, ValidationError } from '@engram/core';
import { HttpError } from '../errors.js';

/** "a, b,,c" → ['a', 'b', 'c']; undefined stays undefined. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function integer(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number.parseInt(value, 10);
}

export function flag(value: 'true' | 'false' | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'true';
}

export function scopeFrom(query: {
  userId?: string | undefined;
  agentId?: string | undefined;
  runId?: string | undefined;
}): Scope | undefined {
  const scope: Scope = {};
  if (query.userId !== undefined) scope.userId = query.userId;
  if (query.agentId !== undefined) scope.agentId = query.agentId;
  if (query.runId !== undefined) scope.runId = query.runId;
  return Object.keys(scope).length > 0 ? scope : undefined;
}

export function jsonParameter(value: string | undefined, field: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new ValidationError([{ field, message: 'must be JSON, e.g. {"priority":{"gte":2}} (URL-encoded)' }]);
  }
}

export interface FilterQuery {
  userId?: string | undefined;
  agentId?: string | undefined;
  runId?: string | undefined;
  conversationId?: string | undefined;
  types?: string | undefined;
  tags?: string | undefined;
  tagsAll?: string | undefined;
  time?: string | undefined;
  after?: string | undefined;
  before?: string | undefined;
  where?: string | undefined;
  includeSuperseded?: 'true' | 'false' | undefined;
  asOf?: string | undefined;
}

/** Query parameters of GET /api/memories and /api/export → `memory.list` options. */
export function listFilterFrom(query: FilterQuery): Omit<ListOptions, 'limit' | 'cursor'> {
  const options: Omit<ListOptions, 'limit' | 'cursor'> = {};
  const scope = scopeFrom(query);
  if (scope) options.scope = scope;
  if (query.conversationId !== undefined) options.conversationId = query.conversationId;
  const types = splitList(query.types);
  if (types) options.types = types;
  const any = splitList(query.tags);
  const all = splitList(query.tagsAll);
  if (any || all) options.tags = { ...(any ? { any } : {}), ...(all ? { all } : {}) };
  if (query.time !== undefined) options.time = query.time;
  if (query.after !== undefined) options.after = query.after;
  if (query.before !== undefined) options.before = query.before;
  if (query.where !== undefined) options.where = jsonParameter(query.where, 'where');
  const includeSuperseded = flag(query.includeSuperseded);
  if (includeSuperseded !== undefined) options.includeSuperseded = includeSuperseded;
  if (query.asOf !== undefined) options.asOf = query.asOf;
  return options;
}

const AGENT_ID = /^[\w.:@-]{1,128}$/;

type AddBody = Record<string, unknown> & { scope?: Scope; tags?: string[] };

/**
 * The add input of a write request: the mcp-memory-service field names (`memory_type`,
 * `client_hostname`) mapped onto Engram's, and `X-Agent-ID` applied (scope.agentId plus the tag
 * `agent:<name>`).
 */
export function addInputFrom(body: AddBody, agentHeader: string | undefined, field = ''): AddInput {
  const {
    memory_type: memoryType,
    client_hostname: clientHostname,
    ...input
  } = body as AddBody & {
    memory_type?: string;
    client_hostname?: string;
  };
  const prefix = field ? `${field}.` : '';
  if (memoryType !== undefined) {
    if (input.type !== undefined && input.type !== memoryType) {
      throw new ValidationError([{ field: `${prefix}memory_type`, message: 'differs from type: send one of them' }]);
    }
    input.type = memoryType;
  }
  if (clientHostname !== undefined) input.metadata = { ...((input.metadata as Record<string, unknown>) ?? {}), clientHostname };
  Object.assign(input, withAgent(input, agentHeader, prefix));
  return input as AddInput;
}

/** `X-Agent-ID` applied to a write: `scope.agentId` set and the tag `agent:<name>` added. */
export function withAgent(
  input: { scope?: Scope | undefined; tags?: string[] | undefined },
  agentHeader: string | undefined,
  prefix = '',
): { scope?: Scope; tags?: string[] } {
  const applied: { scope?: Scope; tags?: string[] } = {};
  if (input.scope !== undefined) applied.scope = input.scope;
  if (input.tags !== undefined) applied.tags = input.tags;
  if (agentHeader === undefined) return applied;
  const agent = agentHeader.trim();
  if (!AGENT_ID.test(agent)) {
    throw new HttpError(400, 'VALIDATION_ERROR', 'X-Agent-ID must be 1–128 letters, digits or . _ : @ -', 'X-Agent-ID');
  }
  if (input.scope?.agentId !== undefined && input.scope.agentId !== agent) {
    throw new ValidationError([
      { field: `${prefix}scope.agentId`, message: `differs from the X-Agent-ID header (${agent}): send one of them` },
    ]);
  }
  return { scope: { ...(input.scope ?? {}), agentId: agent }, tags: [...(Array.isArray(input.tags) ? input.tags : []), `agent:${agent}`] };
}
