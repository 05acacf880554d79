import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import anthropicMessage from './anthropic-tool-use-message.json' with { type: 'json' };
import openAICompletion from './openai-chat-completion.json' with { type: 'json' };

/**
 * A real HTTP server on 127.0.0.1 speaking two wire formats, for tests: OpenAI's
 * `POST /v1/chat/completions` and Anthropic's `POST /v1/messages`, with each provider's own
 * error bodies for a wrong key or an unknown model. Successful answers are the recorded
 * envelopes in this folder with the content replaced by what `answer` returns; `next()`
 * scripts raw answers (errors, Retry-After, silence) to the coming requests.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** Writes a scripted answer. Returning 'default' lets the default handler answer instead. */
export type Responder = (request: RecordedRequest, response: ServerResponse) => void | 'default';

/** What the model "says": a JSON value (sent as structured output / tool input) or text. */
export type Answerer = (request: ModelCall) => unknown;

/** A request reduced to what both providers share. */
export interface ModelCall {
  provider: 'openai' | 'anthropic';
  /** The schema name asked for (json_schema name or forced tool name), or undefined. */
  schemaName: string | undefined;
  system: string;
  /** The last user message. */
  prompt: string;
  body: Record<string, unknown>;
}

export interface ModelServerOptions {
  models: string[];
  /** When set, OpenAI requests must carry `Authorization: Bearer <key>` and Anthropic ones `x-api-key: <key>`. */
  apiKey?: string;
  /** Default: `{ facts: [] }`. */
  answer?: Answerer;
  /** Answer `json_schema` response formats with OpenAI's 400, like servers without structured outputs. */
  rejectStructuredOutputs?: boolean;
}

export interface ModelServer {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseURL: string;
  requests: RecordedRequest[];
  answer: Answerer;
  next(...responders: Responder[]): void;
  reset(): void;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

export function openAIError(response: ServerResponse, status: number, message: string, param: string | null = null, headers: Record<string, string> = {}): void {
  sendJson(response, status, { error: { message, type: 'invalid_request_error', param, code: null } }, headers);
}

export function anthropicError(response: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(response, status, { type: 'error', error: { type, message } }, headers);
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const users = messages.filter((message: { role?: unknown }) => message?.role === 'user');
  const last = users[users.length - 1] as { content?: unknown } | undefined;
  return typeof last?.content === 'string' ? last.content : '';
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const requests: RecordedRequest[] = [];
  let scripted: Responder[] = [];

  const openAI = (request: RecordedRequest, response: ServerResponse) => {
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      openAIError(response, 401, 'Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.');
      return;
    }
    const body = request.body;
    if (typeof body.model !== 'string' || !options.models.includes(body.model)) {
      sendJson(response, 404, {
        error: { message: `The model \`${String(body.model)}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' },
      });
      return;
    }
    const format = body.response_format as { type?: string; json_schema?: { name?: string } } | undefined;
    if (format?.type === 'json_schema' && options.rejectStructuredOutputs) {
      openAIError(response, 400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", 'response_format');
      return;
    }
    const messages = body.messages as Array<{ role: string; content: string }>;
    const call: ModelCall = {
      provider: 'openai',
      schemaName: format?.type === 'json_schema' ? format.json_schema?.name : undefined,
      system: messages.filter((message) => message.role === 'system').map((message) => message.content).join('\n'),
      prompt: lastUserText(messages),
      body,
    };
    const value = server.answer(call);
    const content = typeof value === 'string' ? value : JSON.stringify(value);
    const envelope = structuredClone(openAICompletion);
    envelope.model = body.model;
    (envelope.choices[0] as { message: { content: string } }).message.content = content;
    sendJson(response, 200, envelope);
  };

  const anthropic = (request: RecordedRequest, response: ServerResponse) => {
    if (options.apiKey !== undefined && request.headers['x-api-key'] !== options.apiKey) {
      anthropicError(response, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (request.headers['anthropic-version'] === undefined) {
      anthropicError(response, 400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }
    const body = request.body;
    if (typeof body.model !== 'string' || !options.models.includes(body.model)) {
      anthropicError(response, 404, 'not_found_error', `model: ${String(body.model)}`);
      return;
    }
    if (typeof body.max_tokens !== 'number') {
      anthropicError(response, 400, 'invalid_request_error', 'max_tokens: Field required');
      return;
    }
    const choice = body.tool_choice as { type?: string; name?: string } | undefined;
    const call: ModelCall = {
      provider: 'anthropic',
      schemaName: choice?.type === 'tool' ? choice.name : undefined,
      system: typeof body.system === 'string' ? body.system : '',
      prompt: lastUserText(body.messages),
      body,
    };
    const value = server.answer(call);
    const envelope = structuredClone(anthropicMessage) as Record<string, unknown>;
    envelope.model = body.model;
    if (call.schemaName) {
      envelope.content = [{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: call.schemaName, input: value }];
      envelope.stop_reason = 'tool_use';
    } else {
      envelope.content = [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }];
      envelope.stop_reason = 'end_turn';
    }
    sendJson(response, 200, envelope);
  };

  const http = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        openAIError(response, 400, 'We could not parse the JSON body of your request.');
        return;
      }
      const request: RecordedRequest = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body };
      requests.push(request);
      const responder = scripted.shift();
      if (responder && responder(request, response) !== 'default') return;
      if (request.method === 'POST' && request.path === '/v1/chat/completions') openAI(request, response);
      else if (request.method === 'POST' && request.path === '/v1/messages') anthropic(request, response);
      else openAIError(response, 404, `Unknown request URL: ${request.method} ${request.path}.`);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  const server: ModelServer = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    answer: options.answer ?? (() => ({ facts: [] })),
    next(...responders) {
      scripted.push(...responders);
    },
    reset() {
      requests.length = 0;
      scripted = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return server;
}
