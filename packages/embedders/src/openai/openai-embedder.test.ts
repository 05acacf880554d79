import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { backoffMs, EmbedderError, retryAfterMs, ValidationError } from '@engram/core';
import { runEmbedderConformance } from '@engram/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openaiEmbedder } from './openai-embedder.js';
import {
  type OpenAICompatibleServer,
  openAIError,
  sendJson,
  serverVector,
  startOpenAICompatibleServer,
} from './test-fixtures/openai-compatible-server.js';

const API_KEY = 'sk-test-0123456789';
const server: OpenAICompatibleServer = await startOpenAICompatibleServer({
  models: { 'test-embed': 16, 'text-embedding-3-small': 1536 },
  apiKey: API_KEY,
});
afterAll(() => server.close());
afterEach(() => server.reset());

const local = (options: Parameters<typeof openaiEmbedder>[0] = {}) =>
  openaiEmbedder({ baseURL: server.baseURL, apiKey: API_KEY, model: 'test-embed', dimensions: 16, ...options });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

runEmbedderConformance({ name: 'openai (local OpenAI-compatible server)', create: () => local() });

describe('openaiEmbedder: requests and responses', () => {
  it('POSTs {model, input, encoding_format} with the key and returns vectors in input order', async () => {
    const texts = ['first', 'second', 'third'];
    const vectors = await local().embed(texts);
    expect(vectors.map((vector) => Array.from(vector))).toEqual(texts.map((text) => Array.from(Float32Array.from(serverVector(text, 16)))));
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request?.path).toBe('/v1/embeddings');
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.body).toEqual({ model: 'test-embed', input: texts, encoding_format: 'float' });
  });

  it('returns Float32Array vectors and makes no request for no input', async () => {
    const embedder = local();
    expect(await embedder.embed([])).toEqual([]);
    expect(server.requests).toHaveLength(0);
    const [vector] = await embedder.embed(['x']);
    expect(vector).toBeInstanceOf(Float32Array);
  });

  it('splits inputs into requests of at most maxBatchSize and keeps the order', async () => {
    const texts = Array.from({ length: 7 }, (_, index) => `text ${index}`);
    const vectors = await local({ maxBatchSize: 3 }).embed(texts);
    expect(server.requests.map((request) => request.body.input)).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
    expect(vectors.map((vector) => Array.from(vector))).toEqual(texts.map((text) => Array.from(Float32Array.from(serverVector(text, 16)))));
  });

  it('has an id naming the model, and the shortened size when it asks for one', () => {
    expect(local().id).toBe('openai:test-embed');
    expect(local().maxBatchSize).toBe(2048);
    expect(openaiEmbedder({ apiKey: 'sk-x' }).id).toBe('openai:text-embedding-3-small');
    expect(openaiEmbedder({ apiKey: 'sk-x', dimensions: 512 }).id).toBe('openai:text-embedding-3-small:512');
  });

  it('asks text-embedding-3 models for shortened vectors when dimensions is smaller', async () => {
    const embedder = local({ model: 'text-embedding-3-small', dimensions: 256 });
    const [vector] = await embedder.embed(['short']);
    expect(vector).toHaveLength(256);
    expect(server.requests[0]?.body.dimensions).toBe(256);
  });

  it('does not send dimensions when it is the native size', async () => {
    await local({ model: 'text-embedding-3-small', dimensions: 1536 }).embed(['native']);
    expect(server.requests[0]?.body).not.toHaveProperty('dimensions');
  });

  it('decodes base64 embeddings from servers that ignore encoding_format', async () => {
    const expected = Float32Array.from(serverVector('b64', 16));
    server.next((request, response) =>
      sendJson(response, 200, {
        data: [{ index: 0, embedding: Buffer.from(expected.buffer).toString('base64') }],
        model: request.body.model,
      }),
    );
    const [vector] = await local().embed(['b64']);
    expect(Array.from(vector as Float32Array)).toEqual(Array.from(expected));
  });

  it('sends no Authorization header to a local server without a key', async () => {
    const open = await startOpenAICompatibleServer({ models: { 'nomic-embed-text': 768 } });
    try {
      const previous = process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_API_KEY;
      try {
        const embedder = openaiEmbedder({ baseURL: open.baseURL, model: 'nomic-embed-text' });
        expect(embedder.dimensions).toBe(768);
        expect(await embedder.embed(['hello'])).toHaveLength(1);
      } finally {
        if (previous !== undefined) process.env.OPENAI_API_KEY = previous;
      }
      expect(open.requests[0]?.headers.authorization).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('merges extra headers, letting a caller replace Authorization', async () => {
    await local({ headers: { 'X-Team': 'memory', Authorization: `Bearer ${API_KEY}` }, apiKey: 'sk-ignored' }).embed(['h']);
    expect(server.requests[0]?.headers['x-team']).toBe('memory');
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('uses a fetch given in the options', async () => {
    const seen: string[] = [];
    const tracingFetch: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    await local({ fetch: tracingFetch }).embed(['traced']);
    expect(seen).toEqual([`${server.baseURL}/embeddings`]);
  });

  it('accepts a baseURL with a trailing slash', async () => {
    await local({ baseURL: `${server.baseURL}/` }).embed(['slash']);
    expect(server.requests[0]?.path).toBe('/v1/embeddings');
  });
});

describe('openaiEmbedder: retries', () => {
  it('retries a 429 and honours Retry-After', async () => {
    server.next((_, response) => openAIError(response, 429, 'Rate limit reached for requests', { 'retry-after': '0.3' }));
    const started = performance.now();
    const vectors = await local().embed(['limited']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    expect(vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('honours retry-after-ms', async () => {
    server.next((_, response) => openAIError(response, 429, 'slow down', { 'retry-after-ms': '150' }));
    const started = performance.now();
    await local().embed(['limited']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('backs off exponentially when the server gives no Retry-After', async () => {
    server.next((_, response) => openAIError(response, 503, 'overloaded'));
    const started = performance.now();
    await local().embed(['busy']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
    expect(server.requests).toHaveLength(2);
  });

  it('gives up after maxRetries on repeated 500s, with the last server message', async () => {
    const fail = (_: unknown, response: Parameters<Parameters<OpenAICompatibleServer['next']>[0]>[1]) =>
      openAIError(response, 500, 'The server had an error while processing your request.', { 'retry-after': '0' });
    server.next(fail, fail, fail, fail);
    const error = await failure(local({ maxRetries: 2 }).embed(['doomed']));
    expect(EmbedderError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/failed after 3 attempts/);
    expect(error.message).toContain('500');
    expect(error.message).toContain('The server had an error while processing your request.');
    expect(server.requests).toHaveLength(3);
  });

  it('makes exactly one attempt with maxRetries: 0', async () => {
    server.next((_, response) => openAIError(response, 502, 'bad gateway'));
    await expect(local({ maxRetries: 0 }).embed(['once'])).rejects.toThrow(/failed after 1 attempt\b/);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up at once when the server asks to wait more than a minute', async () => {
    server.next((_, response) => openAIError(response, 429, 'quota', { 'retry-after': '600' }));
    await expect(local().embed(['later'])).rejects.toThrow(/retry after 600 s/);
    expect(server.requests).toHaveLength(1);
  });

  it('retries when the connection drops', async () => {
    server.next((_, response) => {
      response.socket?.destroy();
    });
    expect(await local().embed(['dropped'])).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('reports an unreachable server after retrying', async () => {
    const port = await closedPort();
    const error = await failure(
      openaiEmbedder({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'test-embed', dimensions: 16, maxRetries: 1 }).embed(['x']),
    );
    expect(EmbedderError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/failed after 2 attempts.*network error \(ECONNREFUSED\).*is the server running/);
  });

  it('times out a request that gets no answer, and retries it', async () => {
    const hang = () => {};
    server.next(hang, hang);
    const error = await failure(local({ timeoutMs: 100, maxRetries: 1 }).embed(['slow']));
    expect(error.message).toMatch(/failed after 2 attempts.*timeoutMs \(100 ms\)/);
    expect(server.requests).toHaveLength(2);
  });

  it('computes jittered exponential backoff and reads every Retry-After form', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(2, () => 0)).toBe(1000);
    expect(backoffMs(10, () => 1)).toBe(8000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }), now)).toBe(5000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });
});

describe('openaiEmbedder: errors', () => {
  it('explains a 401 without retrying and without echoing the key', async () => {
    const error = await failure(local({ apiKey: 'sk-wrong' }).embed(['x']));
    expect(EmbedderError.isInstance(error)).toBe(true);
    expect(error.message).toContain('401');
    expect(error.message).toContain('Incorrect API key provided');
    expect(error.message).toContain('apiKey option');
    expect(error.message).toContain('OPENAI_API_KEY');
    expect(error.message).not.toContain('sk-wrong');
    expect(server.requests).toHaveLength(1);
  });

  it('explains a 404 with the model and the baseURL', async () => {
    const error = await failure(local({ model: 'no-such-model' }).embed(['x']));
    expect(error.message).toContain('does not exist');
    expect(error.message).toContain('"no-such-model"');
    expect(error.message).toContain('ollama pull no-such-model');
    expect(error.message).toContain('baseURL');
    expect(server.requests).toHaveLength(1);
  });

  it('points at the baseURL when it lacks the version segment', async () => {
    const error = await failure(local({ baseURL: server.baseURL.replace(/\/v1$/, '') }).embed(['x']));
    expect(error.message).toMatch(/404.*including the version/);
  });

  it('includes the server message of other client errors', async () => {
    server.next((_, response) => openAIError(response, 400, "This model's maximum context length is 8192 tokens."));
    await expect(local().embed(['x'])).rejects.toThrow(/400.*maximum context length is 8192 tokens/);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects vectors of the wrong length, naming the right dimensions', async () => {
    const error = await failure(local({ dimensions: 32 }).embed(['x']));
    expect(EmbedderError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/returned 16-dimensional vectors.*expects 32.*Set dimensions: 16/);
  });

  it('rejects a wrong number of vectors, repeated indexes and non-finite values', async () => {
    server.next((_, response) => sendJson(response, 200, { data: [{ index: 0, embedding: serverVector('a', 16) }] }));
    await expect(local().embed(['a', 'b'])).rejects.toThrow(/1 embeddings for 2 inputs/);
    server.next((_, response) => sendJson(response, 200, { data: [0, 0].map((index) => ({ index, embedding: serverVector('a', 16) })) }));
    await expect(local().embed(['a', 'b'])).rejects.toThrow(/repeated index/);
    server.next((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"data":[{"index":0,"embedding":[${new Array(16).fill('1e999').join(',')}]}]}`);
    });
    await expect(local().embed(['a'])).rejects.toThrow(/Infinity/);
  });

  it('explains a response that is not the embeddings API', async () => {
    server.next((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>Welcome to nginx</html>');
    });
    await expect(local().embed(['x'])).rejects.toThrow(/not JSON.*Welcome to nginx/);
  });
});

describe('openaiEmbedder: cancellation', () => {
  it('sends nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(local().embed(['x'], { signal: controller.signal })).rejects.toThrow();
    expect(server.requests).toHaveLength(0);
  });

  it('aborts an in-flight request with the signal reason', async () => {
    server.next(() => {});
    const controller = new AbortController();
    const pending = local().embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user cancelled')), 50);
    const started = performance.now();
    await expect(pending).rejects.toThrow('user cancelled');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(server.requests).toHaveLength(1);
  });

  it('aborts while waiting to retry', async () => {
    server.next((_, response) => openAIError(response, 429, 'wait', { 'retry-after': '30' }));
    const controller = new AbortController();
    const pending = local().embed(['x'], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop waiting')), 100);
    await expect(pending).rejects.toThrow('stop waiting');
    expect(server.requests).toHaveLength(1);
  });
});

describe('openaiEmbedder: options', () => {
  let savedKey: string | undefined;
  beforeAll(() => {
    savedKey = process.env.OPENAI_API_KEY;
  });
  afterEach(() => {
    if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = savedKey;
  });

  it('requires a key for api.openai.com, naming the option and the environment variable', () => {
    delete process.env.OPENAI_API_KEY;
    const attempt = () => openaiEmbedder();
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/apiKey.*OPENAI_API_KEY/);
  });

  it('reads OPENAI_API_KEY when no apiKey is given', async () => {
    process.env.OPENAI_API_KEY = API_KEY;
    expect(() => openaiEmbedder()).not.toThrow();
    await openaiEmbedder({ baseURL: server.baseURL, model: 'test-embed', dimensions: 16 }).embed(['env']);
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('requires dimensions for an unknown model, naming the option', () => {
    const attempt = () => openaiEmbedder({ baseURL: server.baseURL, model: 'my-custom-model' });
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(/Invalid dimensions/);
  });

  it('knows OpenAI and common Ollama models', () => {
    const dimensionsOf = (model: string) => openaiEmbedder({ baseURL: 'http://localhost:11434/v1', model }).dimensions;
    expect(dimensionsOf('text-embedding-3-large')).toBe(3072);
    expect(dimensionsOf('text-embedding-ada-002')).toBe(1536);
    expect(dimensionsOf('nomic-embed-text:latest')).toBe(768);
    expect(dimensionsOf('mxbai-embed-large')).toBe(1024);
  });

  it('rejects dimensions a known model cannot produce', () => {
    expect(() => openaiEmbedder({ apiKey: 'sk-x', model: 'text-embedding-ada-002', dimensions: 512 })).toThrow(/always returns 1536/);
    expect(() => openaiEmbedder({ apiKey: 'sk-x', dimensions: 4096 })).toThrow(/at most 1536/);
  });

  it('validates numbers and the baseURL', () => {
    expect(() => local({ maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => local({ maxRetries: -1 })).toThrow(/maxRetries/);
    expect(() => local({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => local({ dimensions: 1.5 })).toThrow(/dimensions/);
    expect(() => local({ baseURL: 'localhost:11434' })).toThrow(/baseURL/);
  });
});
