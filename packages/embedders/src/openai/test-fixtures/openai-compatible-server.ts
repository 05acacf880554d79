import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 speaking OpenAI's `POST /v1/embeddings` wire format, for
 * tests. By default it answers like OpenAI (vectors derived from the text, `data` in reverse
 * order so clients must sort by `index`); `next()` scripts the answers to the coming requests.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: { model?: string; input?: string[]; dimensions?: number; encoding_format?: string } & Record<string, unknown>;
}

/** Writes a scripted answer. Returning 'default' lets the default handler answer instead. */
export type Responder = (request: RecordedRequest, response: ServerResponse) => void | 'default';

export interface OpenAICompatibleServerOptions {
  /** Served models and their native dimensions. */
  models: Record<string, number>;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

export interface OpenAICompatibleServer {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseURL: string;
  requests: RecordedRequest[];
  /** Scripts the answers to the next requests, in order. */
  next(...responders: Responder[]): void;
  reset(): void;
  close(): Promise<void>;
}

function pseudoRandom(text: string, salt: number): number {
  let hash = 0x811c9dc5 ^ Math.imul(salt, 0x9e3779b1);
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return ((hash >>> 0) / 0x1_0000_0000) * 2 - 1;
}

/** The vector the server returns for a text: deterministic, unit length. */
export function serverVector(text: string, dimensions: number): number[] {
  const vector = Array.from({ length: dimensions }, (_, index) => pseudoRandom(text, index + 1));
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return vector.map((value) => value / norm);
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

export function openAIError(response: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { error: { message, type: 'invalid_request_error', param: null, code: null } }, headers);
}

export async function startOpenAICompatibleServer(options: OpenAICompatibleServerOptions): Promise<OpenAICompatibleServer> {
  const requests: RecordedRequest[] = [];
  let scripted: Responder[] = [];

  const answer = (request: RecordedRequest, response: ServerResponse) => {
    if (request.method !== 'POST' || request.path !== '/v1/embeddings') {
      openAIError(response, 404, `Unknown request URL: ${request.method} ${request.path}.`);
      return;
    }
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      openAIError(response, 401, 'Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.');
      return;
    }
    const { model, input, dimensions } = request.body;
    const native = model === undefined ? undefined : options.models[model];
    if (native === undefined) {
      sendJson(response, 404, {
        error: { message: `The model \`${model}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', code: 'model_not_found' },
      });
      return;
    }
    if (!Array.isArray(input) || input.some((text) => typeof text !== 'string')) {
      openAIError(response, 400, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.");
      return;
    }
    const size = dimensions ?? native;
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: serverVector(text, size) })).reverse();
    sendJson(response, 200, { object: 'list', data, model, usage: { prompt_tokens: input.length, total_tokens: input.length } });
  };

  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      let body: RecordedRequest['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        openAIError(response, 400, 'We could not parse the JSON body of your request.');
        return;
      }
      const request: RecordedRequest = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body };
      requests.push(request);
      const responder = scripted.shift();
      if (responder === undefined || responder(request, response) === 'default') answer(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    next: (...responders) => {
      scripted.push(...responders);
    },
    reset: () => {
      requests.length = 0;
      scripted = [];
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
