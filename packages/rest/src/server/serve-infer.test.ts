import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelCall, startModelServer } from '../../../models/src/test-fixtures/model-server.js';
import { runServerCommandLine, serveOptionsFrom } from '../cli/run-server-command-line.js';
import { expectOk, type RequestBody, requestJson } from '../testing/http.js';
import { type ServerHandle, serve } from './serve.js';

/**
 * End to end: the REST server configured the way `engram serve` / `engram-server` is (serveOptionsFrom
 * with ENGRAM_MODEL, ENGRAM_MODEL_URL and ENGRAM_MODEL_KEY in its environment), over real HTTP, its
 * tenants' model talking to a local node:http server that speaks OpenAI's chat-completions format.
 */

const FACTS: Record<string, string> = {
  'I prefer light mode in my editor.': 'The user prefers light mode in the editor.',
  'Actually I switched to dark mode.': 'The user prefers dark mode in the editor.',
};

function answer(call: ModelCall): unknown {
  if (call.schemaName === 'engram_facts') {
    const said = [...call.prompt.matchAll(/^\[user\] (.*)$/gm)].map((match) => match[1] as string);
    return {
      facts: said.flatMap((text) => (FACTS[text] ? [{ content: FACTS[text], type: 'preference', tags: null, importance: 0.7 }] : [])),
    };
  }
  const memories = (call.prompt.split('EXISTING MEMORIES:')[1] ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { alias: string; content: string });
  const theme = memories.find((memory) => / mode in the editor/.test(memory.content));
  return {
    operations: [
      theme
        ? { op: 'supersede', fact: 0, target: theme.alias, content: null, reason: 'the theme preference changed' }
        : { op: 'add', fact: 0, target: null, content: null, reason: 'new' },
    ],
  };
}

const API_KEY = 'sk-rest-e2e';
const modelServer = await startModelServer({ models: ['extractor-1'], apiKey: API_KEY, answer });
let server: ServerHandle;

beforeAll(async () => {
  const environment = {
    ENGRAM_MODEL: 'openai-compatible:extractor-1',
    ENGRAM_MODEL_URL: modelServer.baseURL,
    ENGRAM_MODEL_KEY: API_KEY,
  };
  const options = serveOptionsFrom(
    { path: ':memory:', embedder: 'hash' } as Parameters<typeof serveOptionsFrom>[0],
    environment,
    process.cwd(),
    () => {},
  );
  expect(options.model?.id).toBe('openai-compatible:extractor-1');
  server = await serve({ ...options, port: 0, handleSignals: false });
});

afterAll(async () => {
  await server?.close();
  await modelServer.close();
});

/** POSTs messages to /api/memories with infer, and answers the inferred result (failing on anything else). */
const infer = async (body: RequestBody<'/api/memories', 'post'>) => {
  const answer = await requestJson(server.url, 'post', '/api/memories', { body });
  expect(answer.status).toBe(201);
  const json = expectOk(answer);
  if (!('plan' in json)) throw new Error(`expected an inferred result, got ${JSON.stringify(json)}`);
  return json;
};

describe('engram serve with ENGRAM_MODEL: POST /api/memories with infer over HTTP', () => {
  it('adds, then supersedes, through the OpenAI wire format', async () => {
    const first = await infer({
      messages: [{ role: 'user', content: 'I prefer light mode in my editor.' }],
      infer: true,
      scope: { userId: 'ada' },
    });
    expect(first.results.map((item) => item.status)).toEqual(['created']);
    const lightId = first.results[0]?.memory.id;

    const second = await infer({ messages: 'Actually I switched to dark mode.', infer: true, scope: { userId: 'ada' } });
    expect(second.results[0]).toMatchObject({ status: 'superseded', previous: { id: lightId } });
    expect(second.usage.calls).toBe(2);

    const names = modelServer.requests.map(
      (request) => (request.body.response_format as { json_schema: { name: string } }).json_schema.name,
    );
    expect(names).toEqual(['engram_facts', 'engram_facts', 'engram_reconcile']);
    expect(modelServer.requests.every((request) => request.headers.authorization === `Bearer ${API_KEY}`)).toBe(true);
  });

  it('a client that hangs up stops the model call, and nothing is written', async () => {
    let modelConnectionClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      modelConnectionClosed = resolve;
    });
    let reached: () => void = () => {};
    const modelReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    // The model never answers: only the client going away can end this call.
    modelServer.next((_request, response) => {
      response.on('close', () => modelConnectionClosed());
      reached();
    });
    const client = new AbortController();
    const request = fetch(`${server.url}/api/memories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: 'I prefer light mode in my editor.', infer: true, scope: { userId: 'hangs-up' } }),
      signal: client.signal,
    }).catch((error: Error) => error);
    await modelReached;
    client.abort();
    expect(await request).toBeInstanceOf(Error);
    await closed; // the server's model client dropped its request to the model
    const listed = await fetch(`${server.url}/api/memories?userId=hangs-up`);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('a model setting that cannot work stops the server at start, naming the variable', async () => {
    const stderr: string[] = [];
    const code = await runServerCommandLine(
      ['--path', ':memory:', '--port', '0'],
      { stdout: { write: () => true }, stderr: { write: (text: string) => stderr.push(text) } },
      { ENGRAM_MODEL: 'openai:gpt-4o-mini' },
    );
    expect(code).toBe(2);
    expect(stderr.join('')).toContain('ENGRAM_MODEL_KEY');
  });
});
