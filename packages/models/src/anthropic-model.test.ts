import { ModelError, ValidationError } from '@engram/core';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { anthropicModel } from './anthropic-model.js';
import { anthropicError, type ModelServer, sendJson, startModelServer } from './test-fixtures/model-server.js';

const API_KEY = 'sk-ant-test-0123';
const server: ModelServer = await startModelServer({ models: ['claude-test'], apiKey: API_KEY });
afterAll(() => server.close());
afterEach(() => {
  server.reset();
  server.answer = () => ({ facts: [] });
  vi.unstubAllEnvs();
});

const local = (options: Partial<Parameters<typeof anthropicModel>[0]> = {}) =>
  anthropicModel({ baseURL: server.baseURL, apiKey: API_KEY, model: 'claude-test', ...options });

const FACTS = {
  name: 'engram_facts',
  schema: { type: 'object', properties: { facts: { type: 'array' } }, required: ['facts'] },
};

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );

describe('anthropicModel', () => {
  it('asks for JSON with a forced tool call and returns its input as text, with token usage', async () => {
    server.answer = () => ({ facts: [{ content: 'likes tea' }] });
    const answer = await local().complete({ system: 'Extract.', messages: [{ role: 'user', content: 'I like tea' }], json: FACTS });
    expect(JSON.parse(answer.text)).toEqual({ facts: [{ content: 'likes tea' }] });
    expect(answer.usage).toEqual({ inputTokens: 472, outputTokens: 39 });
    const [request] = server.requests;
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe(API_KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      temperature: 0,
      system: 'Extract.',
      messages: [{ role: 'user', content: 'I like tea' }],
      tools: [{ name: 'engram_facts', description: 'Give the answer as engram_facts.', input_schema: FACTS.schema }],
      tool_choice: { type: 'tool', name: 'engram_facts' },
    });
  });

  it('answers text without tools, and any JSON object for json: true', async () => {
    server.answer = () => 'Hello.';
    expect((await local().complete({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('Hello.');
    expect(server.requests[0]?.body).not.toHaveProperty('tools');
    server.answer = () => ({ ok: true });
    expect((await local().complete({ messages: [{ role: 'user', content: 'hi' }], json: true })).text).toBe('{"ok":true}');
    expect((server.requests[1]?.body.tool_choice as { name: string }).name).toBe('json_answer');
  });

  it('401 and 404 name the setting to fix; neither is retried', async () => {
    const refused = await failure(local({ apiKey: 'wrong' }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(ModelError.isInstance(refused)).toBe(true);
    expect(refused.message).toMatch(/invalid x-api-key.*ANTHROPIC_API_KEY.*ENGRAM_MODEL_KEY/);
    const unknown = await failure(local({ model: 'claude-nope' }).complete({ messages: [{ role: 'user', content: 'x' }] }));
    expect(unknown.message).toMatch(/not_found|model: claude-nope/);
    expect(unknown.message).toContain('ENGRAM_MODEL');
    expect(server.requests).toHaveLength(2);
  });

  it('retries 529 overloaded and 429 with Retry-After', async () => {
    server.next(
      (_request, response) => anthropicError(response, 529, 'overloaded_error', 'Overloaded', { 'retry-after': '0' }),
      (_request, response) =>
        anthropicError(response, 429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '0' }),
    );
    expect((await local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS })).text).toBe('{"facts":[]}');
    expect(server.requests).toHaveLength(3);
  });

  it('reports a cut-off answer and a missing tool call', async () => {
    server.next((request, response) =>
      sendJson(response, 200, {
        type: 'message',
        role: 'assistant',
        model: request.body.model,
        content: [{ type: 'text', text: 'Let me think' }],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 1, output_tokens: 5 },
      }),
    );
    expect(
      (await failure(local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS, maxOutputTokens: 5 }))).message,
    ).toContain('cut off at 5 tokens');
    server.next((request, response) =>
      sendJson(response, 200, {
        type: 'message',
        role: 'assistant',
        model: request.body.model,
        content: [{ type: 'text', text: 'No.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 1 },
      }),
    );
    expect((await failure(local().complete({ messages: [{ role: 'user', content: 'x' }], json: FACTS }))).message).toContain(
      'did not call the engram_facts tool',
    );
  });

  it('needs a key and a model', () => {
    vi.stubEnv('ANTHROPIC_API_KEY', '');
    expect(() => anthropicModel({ model: 'claude-test' })).toThrow(/ANTHROPIC_API_KEY.*ENGRAM_MODEL_KEY/);
    expect(() => anthropicModel({ model: '', apiKey: 'k' })).toThrow(ValidationError);
    vi.stubEnv('ANTHROPIC_API_KEY', 'sk-ant-env');
    expect(anthropicModel({ model: 'claude-test' }).id).toBe('anthropic:claude-test');
  });
});
