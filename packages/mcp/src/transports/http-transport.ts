import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Authenticator } from '@engram/rest';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { LazyMemory } from '../memory-source.js';
import type { McpServerHandle } from '../start-mcp-server.js';
import { VERSION } from '../version.js';
import { isLoopback } from './loopback.js';
import { buildServer, type ServeOptions, warmUp } from './serve-options.js';
import { type TenantMemorySource, TenantUnavailableError } from './tenant-memory-source.js';

export const MCP_PATH = '/mcp';

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function rpcError(response: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Streamable HTTP at /mcp, stateless: each POST gets its own MCP server over the shared memory,
 * so any number of clients (and processes behind a load balancer) can call tools. GET (a
 * server-to-client stream) is not offered: Engram never sends unsolicited messages.
 */
export async function serveHttp(
  options: ServeOptions,
  settings: {
    host: string;
    port: number;
    token?: string;
    warmUp: boolean;
    authenticator?: Authenticator;
    tenantMemory?: TenantMemorySource;
  },
): Promise<McpServerHandle> {
  const loopback = isLoopback(settings.host);
  const unauthorized = (response: ServerResponse, message: string) =>
    rpcError(response, 401, -32001, message, { 'www-authenticate': 'Bearer realm="engram"' });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/health' && request.method === 'GET') {
      return sendJson(response, 200, { ok: true, name: 'engram', version: VERSION });
    }
    if (url.pathname !== MCP_PATH) return sendJson(response, 404, { error: `Not found: the MCP endpoint is ${MCP_PATH}` });

    // DNS rebinding: a web page must not reach a loopback server through a name it controls.
    if (loopback) {
      const hostname = hostnameOf(request.headers.host ?? '');
      if (!hostname || !isLoopback(hostname)) return rpcError(response, 403, -32000, 'Forbidden: Host header is not a loopback name');
      const origin = request.headers.origin;
      if (origin && origin !== 'null' && !isLoopback(hostnameOf(origin) ?? ''))
        return rpcError(response, 403, -32000, 'Forbidden: cross-origin request');
    }
    // The tenant binding: with API keys, the key's tenant decides the memory every tool call of
    // this request uses; nothing a call sends (user_id included) reaches another tenant's store.
    const presented = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    const keyed = settings.authenticator ? await settings.authenticator.configured() : false;
    let tenant = 'local';
    if (settings.token && presented !== undefined && sameSecret(presented, settings.token)) {
      tenant = 'local';
    } else if (keyed) {
      const principal = presented !== undefined ? await settings.authenticator?.authenticate(presented) : null;
      if (!principal)
        return unauthorized(response, 'Unauthorized: send Authorization: Bearer <API key> (engram keys create --tenant <name>)');
      tenant = principal.tenant;
    } else if (settings.token) {
      return unauthorized(response, "Unauthorized: send Authorization: Bearer <token> (the server's ENGRAM_MCP_TOKEN)");
    }
    if (request.method !== 'POST') {
      return rpcError(response, 405, -32000, 'Method not allowed: this stateless server accepts POST only', { allow: 'POST' });
    }

    let memory = options.memory;
    if (tenant !== 'local' && settings.tenantMemory) {
      try {
        memory = new LazyMemory(await settings.tenantMemory.get(tenant));
      } catch (error) {
        if (error instanceof TenantUnavailableError) return rpcError(response, 403, -32000, `Forbidden: ${error.message}`);
        throw error;
      }
    }
    const server = buildServer({ ...options, memory });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  };

  const httpServer = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.log(`HTTP request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!response.headersSent) rpcError(response, 500, -32603, 'Internal server error');
      else response.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(settings.port, settings.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const displayHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${displayHost}:${address.port}${MCP_PATH}`;

  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      await options.memory.close().catch((error: unknown) => options.log(`closing the store failed: ${(error as Error).message}`));
      await settings.tenantMemory
        ?.close()
        .catch((error: unknown) => options.log(`closing a tenant store failed: ${(error as Error).message}`));
      resolveClosed();
    })();
    return closing;
  };
  if (settings.warmUp) warmUp(options);
  return { transport: 'http', url, closed, close };
}
