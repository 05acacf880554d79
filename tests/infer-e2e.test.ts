import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, ModelError } from '@engram/core';
import { openaiCompatibleModel } from '@engram/models';
import { Memory } from 'engram';
import { afterAll, describe, expect, it } from 'vitest';
import { type ModelCall, openAIError, startModelServer } from '../packages/models/src/test-fixtures/model-server.js';

/**
 * End to end: `add(messages, { infer: true })` on the default SQLite store, through
 * openaiCompatibleModel, against a local HTTP server speaking OpenAI's chat-completions wire
 * format. The "model" behind it answers engram_facts and engram_reconcile requests by rule.
 */

const FACTS: Record<string, string[]> = {
  'I prefer light mode in my editor.': ['The user prefers light mode in the editor.'],
  'Actually I switched to dark mode in the editor.': ['The user prefers dark mode in the editor.'],
  'Reminder: dark mode in the editor, please.': ['The user prefers dark mode in the editor.'],
  'I also use vim keybindings in the editor.': ['The user uses vim keybindings in the editor.'],
};

function answer(call: ModelCall): unknown {
  if (call.schemaName === 'engram_facts') {
    const said = [...call.prompt.matchAll(/^\[user\] (.*)$/gm)].map((match) => match[1] as string);
    return {
      facts: said.flatMap((text) => FACTS[text] ?? []).map((content) => ({ content, type: 'decision', tags: ['editor'], importance: 0.7 })),
    };
  }
  if (call.schemaName === 'engram_reconcile') {
    const [factsPart, memoriesPart] = call.prompt.split('EXISTING MEMORIES:');
    const parse = (text: string | undefined) =>
      (text ?? '')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { fact: number; alias: string; content: string });
    const memories = parse(memoriesPart);
    return {
      operations: parse(factsPart).map(({ fact, content }) => {
        if (content.includes('vim')) return { op: 'update', fact, target: 'm42', content, reason: 'merge keybindings' };
        const same = memories.find((memory) => memory.content === content);
        if (same) return { op: 'none', fact, target: same.alias, content: null, reason: 'already stored' };
        const theme = memories.find((memory) => / mode in the editor/.test(memory.content));
        if (theme) return { op: 'supersede', fact, target: theme.alias, content: null, reason: 'the editor theme preference changed' };
        return { op: 'add', fact, target: null, content: null, reason: 'new preference' };
      }),
    };
  }
  throw new Error(`unexpected request ${call.schemaName}`);
}

const API_KEY = 'sk-e2e';
const server = await startModelServer({ models: ['extractor-1'], apiKey: API_KEY, answer });
const directory = mkdtempSync(join(tmpdir(), 'engram-infer-e2e-'));
afterAll(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

let clock = Date.parse('2026-05-01T09:00:00Z');
const memory = new Memory({
  path: join(directory, 'memory.db'),
  embedder: hashEmbedder(),
  model: openaiCompatibleModel({ baseURL: server.baseURL, apiKey: API_KEY, model: 'extractor-1', maxRetries: 0 }),
  logger: false,
  now: () => clock,
});
afterAll(() => memory.close());
const USER = { userId: 'ada' };
const say = (content: string, id: string) => [{ role: 'user' as const, content, id }];

describe('add(messages, { infer: true }) through openaiCompatibleModel', () => {
  let lightId = '';
  let darkId = '';

  it('adds a new preference (one model call: nothing related yet)', async () => {
    server.reset();
    const result = await memory.add(say('I prefer light mode in my editor.', 'm-1'), { infer: true, scope: USER, conversationId: 'c-1' });
    expect(result.results.map((item) => [item.status, item.memory.content])).toEqual([
      ['created', 'The user prefers light mode in the editor.'],
    ]);
    expect(server.requests).toHaveLength(1);
    expect((server.requests[0]?.body.response_format as { json_schema: { name: string } }).json_schema.name).toBe('engram_facts');
    expect(result.usage).toEqual({ inputTokens: 1117, outputTokens: 46, calls: 1 });
    lightId = result.results[0]?.memory.id ?? '';
    expect(result.results[0]?.memory.metadata.inference).toMatchObject({
      model: 'openai-compatible:extractor-1',
      messageIds: ['m-1'],
      conversationId: 'c-1',
    });
  });

  it('a changed preference supersedes the old: search shows the new, asOf before the change the old, history the reason', async () => {
    clock += 86_400_000;
    server.reset();
    const result = await memory.add(say('Actually I switched to dark mode in the editor.', 'm-2'), { infer: true, scope: USER });
    expect(server.requests.map((request) => (request.body.response_format as { json_schema: { name: string } }).json_schema.name)).toEqual([
      'engram_facts',
      'engram_reconcile',
    ]);
    expect(result.results.map((item) => [item.status, item.memory.content, item.previous?.id])).toEqual([
      ['superseded', 'The user prefers dark mode in the editor.', lightId],
    ]);
    darkId = result.results[0]?.memory.id ?? '';
    const now = await memory.search('editor mode preference', { scope: USER });
    expect(now.map((hit) => hit.memory.id)).toEqual([darkId]);
    const before = await memory.search('editor mode preference', { scope: USER, asOf: new Date(clock - 3_600_000) });
    expect(before.map((hit) => hit.memory.id)).toEqual([lightId]);
    const history = await memory.history(lightId);
    expect(history.at(-1)).toMatchObject({
      event: 'superseded',
      reason: 'the editor theme preference changed (inferred by openai-compatible:extractor-1)',
    });
  });

  it('a repeated preference is unchanged', async () => {
    clock += 60_000;
    const count = await memory.count({ scope: USER });
    const result = await memory.add(say('Reminder: dark mode in the editor, please.', 'm-3'), { infer: true, scope: USER });
    expect(result.results.map((item) => [item.status, item.memory.id])).toEqual([['unchanged', darkId]]);
    expect(await memory.count({ scope: USER })).toBe(count);
  });

  it('a hallucinated alias is rejected and reported; the fact is kept as a new memory', async () => {
    clock += 60_000;
    const result = await memory.add(say('I also use vim keybindings in the editor.', 'm-4'), { infer: true, scope: USER });
    expect(result.plan.rejected.map((item) => item.reason)).toEqual([expect.stringContaining('alias "m42" was not given to the model')]);
    expect(result.warnings).toEqual([expect.stringContaining('m42')]);
    expect(result.results.map((item) => [item.status, item.memory.content])).toEqual([
      ['created', 'The user uses vim keybindings in the editor.'],
    ]);
    expect((await memory.get(darkId))?.content).toBe('The user prefers dark mode in the editor.');
  });

  it('a 500 from the model: onFailure throw writes nothing; the default stores the raw messages', async () => {
    const count = await memory.count({ scope: USER });
    const fail = (_request: unknown, response: Parameters<typeof openAIError>[0]) =>
      openAIError(response, 500, 'The server had an error while processing your request.');
    server.next(fail);
    const error = await memory.add(say('I moved to Lisbon.', 'm-5'), { infer: true, scope: USER, onFailure: 'throw' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(ModelError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('500');
    expect(await memory.count({ scope: USER })).toBe(count);

    server.next(fail);
    const result = await memory.add(say('I moved to Lisbon.', 'm-5'), { infer: true, scope: USER });
    expect(result.warnings[0]).toContain('stored the messages verbatim');
    expect(result.results.map((item) => [item.status, item.memory.content, item.memory.subtype])).toEqual([
      ['created', '[user] I moved to Lisbon.', 'conversation'],
    ]);
    expect(await memory.count({ scope: USER })).toBe(count + 1);
  });
});
