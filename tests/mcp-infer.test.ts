import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { createEngramMcpServer, resolveConfig } from '@engram/mcp';
import { openaiCompatibleModel } from '@engram/models';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, describe, expect, it } from 'vitest';
import { type ModelCall, startModelServer } from '../packages/models/src/test-fixtures/model-server.js';

// memory_store with infer: the MCP tool → Memory → openaiCompatibleModel → a local OpenAI wire-format server.
const server = await startModelServer({
  models: ['extractor'],
  answer: (call: ModelCall) => {
    if (call.schemaName !== 'engram_facts') return { operations: [] };
    const facts = [...call.prompt.matchAll(/^\[user\] I use (.+)\.$/gm)].map((match) => ({
      content: `The user uses ${match[1]}.`,
      type: 'tool_choice',
      tags: null,
      importance: null,
    }));
    return { facts };
  },
});
afterAll(() => server.close());

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk structured results
  structuredContent?: Record<string, any>;
}

async function connect(withModel: boolean) {
  const memory = new Memory({
    store: inMemoryStore(),
    embedder: hashEmbedder({ dimensions: 64 }),
    logger: false,
    ...(withModel ? { model: openaiCompatibleModel({ baseURL: server.baseURL, model: 'extractor', maxRetries: 0 }) } : {}),
  });
  const mcp = createEngramMcpServer({ memory, log: () => {}, defaults: { userId: 'ada' } });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await mcp.connect(serverTransport);
  const client = new Client({ name: 'engram-test', version: '1.0.0' });
  await client.connect(clientTransport);
  const call = async (args: Record<string, unknown>) => (await client.callTool({ name: 'memory_store', arguments: args })) as ToolResult;
  return { memory, client, call };
}

describe('memory_store with infer', () => {
  it('learns facts from messages, with a dry run first', async () => {
    const { memory, client, call } = await connect(true);
    const messages = [
      { role: 'user', content: 'I use pnpm.', id: 'u1' },
      { role: 'assistant', content: 'OK, pnpm it is.' },
    ];
    const dry = await call({ messages, infer: true, dry_run: true });
    expect(dry.isError).toBeFalsy();
    expect(dry.content[0]?.text).toContain('Dry run: 1 fact extracted, nothing written.');
    expect(dry.structuredContent?.plan.facts).toEqual([
      { content: 'The user uses pnpm.', type: 'tool_choice', tags: [], importance: null },
    ]);
    expect(await memory.count()).toBe(0);

    const stored = await call({ messages, infer: true, conversation_id: 'c1' });
    expect(stored.structuredContent?.results).toEqual([
      expect.objectContaining({
        status: 'created',
        memory: expect.objectContaining({ content: 'The user uses pnpm.', subtype: 'tool_choice' }),
      }),
    ]);
    expect(stored.structuredContent?.usage).toEqual({ input_tokens: 1117, output_tokens: 46, calls: 1 });
    const [record] = (await memory.list({ scope: { userId: 'ada' } })).items;
    expect(record?.conversationId).toBe('c1');

    const fromContent = await call({ content: 'I use biome.', infer: true });
    expect(fromContent.structuredContent?.results[0].memory.content).toBe('The user uses biome.');
    await client.close();
  });

  it('explains what is missing', async () => {
    const { client, call } = await connect(false);
    expect((await call({ content: 'I use pnpm.', infer: true })).content[0]?.text).toContain('ENGRAM_MODEL');
    expect((await call({ messages: [{ role: 'user', content: 'x' }] })).content[0]?.text).toMatch(/messages.*infer: true/);
    expect((await call({ content: 'x', dry_run: true })).content[0]?.text).toMatch(/dry_run/);
    expect((await call({})).content[0]?.text).toMatch(/content/);
    expect((await call({ content: 'x', messages: [{ role: 'user', content: 'y' }], infer: true })).content[0]?.text).toMatch(
      /either content or messages/,
    );
    await client.close();
  });
});

describe('the MCP configuration', () => {
  it('takes the model from ENGRAM_MODEL / ENGRAM_MODEL_URL / ENGRAM_MODEL_KEY', () => {
    expect(resolveConfig({}, {}, '/tmp').model).toBeUndefined();
    const config = resolveConfig({}, { ENGRAM_MODEL: 'qwen2.5:7b', ENGRAM_MODEL_URL: 'http://127.0.0.1:8000/v1' }, '/tmp');
    expect(config.model?.id).toBe('openai-compatible:qwen2.5:7b');
    expect(() => resolveConfig({}, { ENGRAM_MODEL: 'anthropic:claude-3-5-haiku-latest', ANTHROPIC_API_KEY: '' }, '/tmp')).toThrow(
      /ENGRAM_MODEL_KEY/,
    );
  });
});
