import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { generateText as generateTextV5, wrapLanguageModel as wrapLanguageModelV5 } from 'ai-v5';
import { MockLanguageModelV2 } from 'ai-v5/test';
import { afterEach, describe, expect, it } from 'vitest';
import { engramMiddleware } from './engram-middleware.js';
import { textTurn } from './test-model.js';

const memories: Memory[] = [];
function newMemory(): Memory {
  const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
  memories.push(memory);
  return memory;
}
afterEach(async () => {
  await Promise.all(memories.splice(0).map((memory) => memory.close()));
});

describe('engramMiddleware', () => {
  it('injects the memories relevant to the last user message after the system prompt', async () => {
    const memory = newMemory();
    await memory.add({ content: 'The user is allergic to peanuts', scope: { userId: 'ada' } });
    await memory.add({ content: 'Bob is allergic to shellfish', scope: { userId: 'bob' } });
    const model = new MockLanguageModelV3({ doGenerate: textTurn('Try the lentil curry, it has no peanuts.') });
    const wrapped = wrapLanguageModel({ model, middleware: engramMiddleware(memory, { scope: { userId: 'ada' } }) });

    const result = await generateText({
      model: wrapped,
      system: 'You are a cooking assistant.',
      // Words the memory holds: with the offline hash embedder the relevance floor wants lexical evidence.
      prompt: 'Suggest a dinner, remember I am allergic',
    });
    expect(result.text).toContain('lentil');
    const prompt = model.doGenerateCalls[0]?.prompt ?? [];
    expect(prompt.map((message) => message.role)).toEqual(['system', 'system', 'user']);
    expect(prompt[0]).toEqual({ role: 'system', content: 'You are a cooking assistant.' });
    const injected = prompt[1]?.role === 'system' ? prompt[1].content : '';
    expect(injected).toContain('Relevant memories');
    expect(injected).toContain('allergic to peanuts');
    expect(injected).not.toContain('shellfish');
    // Nothing is stored unless asked.
    expect(await memory.count()).toBe(2);
  });

  it('leaves the prompt untouched when nothing is remembered', async () => {
    const memory = newMemory();
    const model = new MockLanguageModelV3({ doGenerate: textTurn('Hello.') });
    await generateText({ model: wrapLanguageModel({ model, middleware: engramMiddleware(memory) }), prompt: 'Hi there' });
    expect(model.doGenerateCalls[0]?.prompt.map((message) => message.role)).toEqual(['user']);
  });

  it('stores the exchange after a generate call when remember is "exchange"', async () => {
    const memory = newMemory();
    const model = new MockLanguageModelV3({ doGenerate: textTurn('Got it, Postgres 16 it is.') });
    const middleware = engramMiddleware(memory, { scope: { userId: 'ada', conversationId: 'c7' }, remember: 'exchange' });
    await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: 'Our production database is Postgres 16' });

    const { items } = await memory.list({ scope: { userId: 'ada' } });
    expect(items.map((item) => [item.content, item.metadata.role, item.conversationId]).sort()).toEqual([
      ['Got it, Postgres 16 it is.', 'assistant', 'c7'],
      ['Our production database is Postgres 16', 'user', 'c7'],
    ]);
    // A later call in another conversation recalls it.
    const next = new MockLanguageModelV3({ doGenerate: textTurn('Postgres 16.') });
    await generateText({
      model: wrapLanguageModel({ model: next, middleware: engramMiddleware(memory, { scope: { userId: 'ada' } }) }),
      prompt: 'Which database version do we run in production?',
    });
    expect(JSON.stringify(next.doGenerateCalls[0]?.prompt)).toContain('Our production database is Postgres 16');
  });

  it('stores a streamed answer once the stream has finished', async () => {
    const memory = newMemory();
    const model = new MockLanguageModelV3({
      doStream: {
        stream: convertArrayToReadableStream([
          { type: 'text-start', id: 't1' },
          { type: 'text-delta', id: 't1', delta: 'Deploys go out ' },
          { type: 'text-delta', id: 't1', delta: 'on Tuesdays.' },
          { type: 'text-end', id: 't1' },
          {
            type: 'finish',
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: {
              inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
              outputTokens: { total: 4, text: 4, reasoning: undefined },
            },
          },
        ]),
      },
    });
    const middleware = engramMiddleware(memory, { scope: { userId: 'ada' }, remember: 'exchange' });
    const result = streamText({ model: wrapLanguageModel({ model, middleware }), prompt: 'When do deploys go out?' });
    expect(await result.text).toBe('Deploys go out on Tuesdays.');
    const contents = (await memory.list()).items.map((item) => item.content).sort();
    expect(contents).toEqual(['Deploys go out on Tuesdays.', 'When do deploys go out?']);
  });

  it('keeps answering without memory when onError is given and memory fails', async () => {
    const memory = newMemory();
    await memory.close();
    const errors: unknown[] = [];
    const model = new MockLanguageModelV3({ doGenerate: textTurn('Still here.') });
    const middleware = engramMiddleware(memory, { remember: 'user', onError: (error) => errors.push(error) });
    const result = await generateText({ model: wrapLanguageModel({ model, middleware }), prompt: 'Hello?' });
    expect(result.text).toBe('Still here.');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: 'CLOSED' });
    // Without onError the failure reaches the caller.
    const strict = wrapLanguageModel({ model, middleware: engramMiddleware(memory) });
    await expect(generateText({ model: strict, prompt: 'Hello?' })).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('engramMiddleware on AI SDK 5 (LanguageModelV2)', () => {
  it('injects memories and stores the exchange with MockLanguageModelV2', async () => {
    const memory = newMemory();
    await memory.add({ content: 'Ada is allergic to peanuts', scope: { userId: 'ada' } });
    const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
    const model = new MockLanguageModelV2({
      doGenerate: async () => ({ content: [{ type: 'text', text: 'No peanuts tonight.' }], finishReason: 'stop', usage, warnings: [] }),
    });
    // The types target AI SDK 6; the V2 prompt and result shapes it reads are the same.
    const middleware = engramMiddleware(memory, { scope: { userId: 'ada' }, remember: 'exchange' }) as unknown as Parameters<
      typeof wrapLanguageModelV5
    >[0]['middleware'];
    const result = await generateTextV5({ model: wrapLanguageModelV5({ model, middleware }), prompt: 'Plan a dinner without peanuts' });
    expect(result.text).toBe('No peanuts tonight.');
    expect(JSON.stringify(model.doGenerateCalls[0]?.prompt)).toContain('allergic to peanuts');
    expect((await memory.list()).items.map((item) => item.content).sort()).toEqual([
      'Ada is allergic to peanuts',
      'No peanuts tonight.',
      'Plan a dinner without peanuts',
    ]);
  });
});
