import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { ModelError, ValidationError } from '@engram/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { openaiCompatibleModel } from './openai-compatible-model.js';
import { type ModelServer, openAIError, sendJson, startModelServer } from './test-fixtures/model-server.js';

const API_KEY = 'sk-test-0123456789';
const server: ModelServer = await startModelServer({ models: ['test-model'], apiKey: API_KEY });
const legacy: ModelServer = await startModelServer({ models: ['old-model'], rejectStructuredOutputs: true });
afterAll(async () => {
  await server.close();
  await legacy.close();
});
afterEach(() => {
  server.reset();
  legacy.reset();
  server.answer = () => ({ facts: [] });
  vi.unstubAllEnvs();
});

const local = (options: Partial<Parameters<typeof openaiCompatibleModel>[0]> = {}) =>
  openaiCompatibleModel({ baseURL: server.baseURL, apiKey: API_KEY, model: 'test-model', ...options });

const FACTS = {
  name: 'engram_facts',
  description: 'facts worth remembering',
  schema: {
    type: 'object',
    properties: { facts: { type: 'array', items: { type: 'string' } } },
    required: ['facts'],
    additionalProperties: false,
  },
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );

describe('openaiCompatibleModel: requests and answers', () => {
  it('asks for structured output with the named schema and returns the text and token usage', async () => {
    server.answer = () => ({ facts: ['likes tea'] });
    const answer = await local().complete({
      system: 'Extract facts.',
      messages: [{ role: 'user', content: 'I like tea' }],
      json: FACTS,
    });
    expect(answer).toEqual({ text: '{"facts":["likes tea"]}', usage: { inputTokens: 1117, outputTokens: 46 } });
    const [request] = server.requests;
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.body).toEqual({
      model: 'test-model',
      messages: [
        { role: 'system', content: 'Extract facts.' },
        { role: 'user', content: 'I like tea' },
      ],
      temperature: 0,
      max_tokens: 4096,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'engram_facts', description: 'facts worth remembering', schema: FACTS.schema, strict: true },
      },
    });
  });

  it('uses JSON mode for json: true, with the instruction in the system prompt', async () => {
    await local().complete({ messages: [{ role: 'user', content: 'hi' }], json: true, maxOutputTokens: 50, temperature: 0.5 });
    const body = server.requests[0]?.body;
    expect(body?.response_format).toEqual({ type: 'json_object' });
    expect(body?.max_tokens).toBe(50);
    expect(body?.temperature).toBe(0.5);
    expect(JSON.stringify(body?.messages)).toContain('JSON object');
  });

  it('sends no response_format for text answers', async () => {
    server.answer = () => 'Hello.';
    expect((await local().complete({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('Hello.');
    expect(server.requests[0]?.body).not.toHaveProperty('response_format');
  });

  it('falls back to JSON mode (schema in the system prompt) when the server rejects structured outputs, and remembers', async () => {
    legacy.answer = () => ({ facts: [] });
    const model = openaiCompatibleModel({ baseURL: legacy.baseURL, model: 'old-model' });
    expect((await model.complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS })).text).toBe('{"facts":[]}');
    expect(legacy.requests.map((request) => (request.body.response_format as { type: string }).type)).toEqual([
      'json_schema',
      'json_object',
    ]);
    const system = (legacy.requests[1]?.body.messages as Array<{ role: string; content: string }>)[0];
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('engram_facts');
    expect(system?.content).toContain('"required":["facts"]');
    await model.complete({ messages: [{ role: 'user', content: 'y' }], json: FACTS });
    expect((legacy.requests[2]?.body.response_format as { type: string }).type).toBe('json_object');
  });

  it('uses JSON mode from the start with structuredOutputs: false, and reports the rejection with true', async () => {
    await openaiCompatibleModel({ baseURL: legacy.baseURL, model: 'old-model', structuredOutputs: false }).complete({
      messages: [{ role: 'user', content: 'x' }],
      json: FACTS,
    });
    expect(legacy.requests).toHaveLength(1);
    expect((legacy.requests[0]?.body.response_format as { type: string }).type).toBe('json_object');
    const error = await failure(
      openaiCompatibleModel({ baseURL: legacy.baseURL, model: 'old-model', structuredOutputs: true }).complete({
        messages: [{ role: 'user', content: 'x' }],
        json: FACTS,
      }),
    );
    expect(ModelError.isInstance(error)).toBe(true);
    expect(error.message).toContain('structuredOutputs: false');
  });

  it('adapts to reasoning models: max_completion_tokens instead of max_tokens, and no temperature, remembered', async () => {
    server.next(
      (_request, response) =>
        sendJson(response, 400, {
          error: {
            message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            type: 'invalid_request_error',
            param: 'max_tokens',
            code: 'unsupported_parameter',
          },
        }),
      (_request, response) =>
        sendJson(response, 400, {
          error: {
            message: "Unsupported value: 'temperature' does not support 0 with this model. Only the default (1) value is supported.",
            type: 'invalid_request_error',
            param: 'temperature',
            code: 'unsupported_value',
          },
        }),
    );
    const model = local();
    expect((await model.complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS })).text).toBe('{"facts":[]}');
    expect(
      server.requests.map((request) => [request.body.max_tokens, request.body.max_completion_tokens, request.body.temperature]),
    ).toEqual([
      [4096, undefined, 0],
      [undefined, 4096, 0],
      [undefined, 4096, undefined],
    ]);
    await model.complete({ messages: [{ role: 'user', content: 'y' }] });
    expect(server.requests[3]?.body).toMatchObject({ max_completion_tokens: 4096 });
    expect(server.requests[3]?.body).not.toHaveProperty('temperature');
  });

  it('has an id naming the model', () => {
    expect(local().id).toBe('openai-compatible:test-model');
  });
});

describe('openaiCompatibleModel: errors name the setting to fix', () => {
  it('401: the key, with the option and the environment variables, without retrying', async () => {
    const error = await failure(local({ apiKey: 'sk-wrong' }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(ModelError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/refused the API key \(401.*Incorrect API key/);
    expect(error.message).toContain('apiKey');
    expect(error.message).toContain('ENGRAM_MODEL_KEY');
    expect(server.requests).toHaveLength(1);
  });

  it('404: the model name and baseURL', async () => {
    const error = await failure(local({ model: 'no-such-model' }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(error.message).toContain('"no-such-model"');
    expect(error.message).toContain('ENGRAM_MODEL');
    expect(error.message).toContain('ENGRAM_MODEL_URL');
    expect(error.message).toContain('does not exist');
  });

  it('400: the server message and what to check', async () => {
    server.next((_request, response) =>
      openAIError(response, 400, 'max_tokens is too large: 999999. This model supports at most 16384 completion tokens.', 'max_tokens'),
    );
    const error = await failure(local().complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(error.message).toContain('max_tokens is too large');
    expect(error.message).toContain('maxOutputTokens');
    expect(server.requests).toHaveLength(1);
  });

  it('a cut-off answer and a refusal are errors', async () => {
    server.next((request, response) => {
      sendJson(response, 200, {
        id: 'x',
        object: 'chat.completion',
        model: request.body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: '{"facts":[', refusal: null }, finish_reason: 'length' }],
      });
    });
    expect((await failure(local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS }))).message).toContain(
      'raise maxOutputTokens',
    );
    server.next((request, response) => {
      sendJson(response, 200, {
        id: 'x',
        object: 'chat.completion',
        model: request.body.model,
        choices: [
          { index: 0, message: { role: 'assistant', content: null, refusal: "I'm sorry, I can't help with that." }, finish_reason: 'stop' },
        ],
      });
    });
    expect((await failure(local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS }))).message).toContain('refused');
  });

  it('a server that is not OpenAI-compatible', async () => {
    server.next((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>hello</html>');
    });
    expect((await failure(local().complete({ messages: [{ role: 'user', content: 'x' }] }))).message).toContain('not a JSON object');
  });

  it('checks its options', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    expect(() => openaiCompatibleModel({ model: '' })).toThrow(ValidationError);
    expect(() => openaiCompatibleModel({ model: 'gpt-4o-mini' })).toThrow(/OPENAI_API_KEY.*ENGRAM_MODEL_KEY/);
    expect(() => openaiCompatibleModel({ model: 'm', baseURL: 'localhost:11434' })).toThrow(/baseURL/);
    expect(() => local({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => local({ temperature: 3 })).toThrow(/temperature/);
    vi.stubEnv('OPENAI_API_KEY', 'sk-from-env');
    expect(openaiCompatibleModel({ model: 'gpt-4o-mini' }).baseURL).toBe('https://api.openai.com/v1');
  });
});

describe('openaiCompatibleModel: retries, timeouts, cancellation', () => {
  it('retries a 429 after the Retry-After the server asked for', async () => {
    server.next((_request, response) => openAIError(response, 429, 'Rate limit reached for requests', null, { 'retry-after': '1' }));
    const started = Date.now();
    const answer = await local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS });
    expect(answer.text).toBe('{"facts":[]}');
    expect(server.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('retries 5xx with backoff and gives up after maxRetries with a retryable ModelError', async () => {
    const fail = (_request: unknown, response: Parameters<typeof sendJson>[0]) =>
      openAIError(response, 503, 'The server is overloaded', null, { 'retry-after-ms': '5' });
    server.next(fail, fail, fail);
    const error = await failure(local({ maxRetries: 2 }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(ModelError.isInstance(error) && error.retryable).toBe(true);
    expect(error.message).toContain('after 3 attempts');
    expect(error.message).toContain('503');
    expect(server.requests).toHaveLength(3);
  });

  it('refuses to wait for a Retry-After longer than a minute', async () => {
    server.next((_request, response) => openAIError(response, 429, 'Rate limit', null, { 'retry-after': '3600' }));
    expect((await failure(local().complete({ messages: [{ role: 'user', content: 'x' }] }))).message).toContain('giving up');
    expect(server.requests).toHaveLength(1);
  });

  it('times out a silent server per attempt', async () => {
    server.next(
      () => {},
      () => {},
    );
    const error = await failure(local({ timeoutMs: 100, maxRetries: 1 }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(error.message).toContain('no response within timeoutMs (100 ms)');
    expect(server.requests).toHaveLength(2);
  });

  it('stops at once when the signal aborts, with the signal reason', async () => {
    server.next(() => {});
    const controller = new AbortController();
    const pending = local().complete({ messages: [{ role: 'user', content: 'x' }], signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 50);
    expect((await failure(pending)).message).toBe('user cancelled');
  });

  it('reports a server that is not running', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure(
      openaiCompatibleModel({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', maxRetries: 0 }).complete({
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(error.message).toMatch(/ECONNREFUSED.*is the server running at http:\/\/127\.0\.0\.1/);
  });
});
