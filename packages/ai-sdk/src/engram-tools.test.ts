import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { generateText, stepCountIs } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it } from 'vitest';
import { engramTools } from './engram-tools.js';
import { textTurn, toolTurn } from './test-model.js';

const memories: Memory[] = [];
function newMemory(): Memory {
  const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
  memories.push(memory);
  return memory;
}
afterEach(async () => {
  await Promise.all(memories.splice(0).map((memory) => memory.close()));
});

describe('engramTools', () => {
  it('lets a model remember through a tool call, scoped to the user', async () => {
    const memory = newMemory();
    const model = new MockLanguageModelV3({
      doGenerate: [
        toolTurn('remember', { content: 'The user prefers dark mode in every editor', type: 'insight', tags: ['ui'] }),
        textTurn('Noted: dark mode.'),
      ],
    });
    const result = await generateText({
      model,
      tools: engramTools(memory, { scope: { userId: 'ada', conversationId: 'c1' } }),
      prompt: 'I always want dark mode.',
      stopWhen: stepCountIs(3),
    });
    expect(result.text).toBe('Noted: dark mode.');
    const toolResult = result.steps[0]?.toolResults[0];
    expect(toolResult?.toolName).toBe('remember');
    expect(toolResult?.output).toMatchObject({ status: 'created', type: 'insight' });

    const { items } = await memory.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      content: 'The user prefers dark mode in every editor',
      scope: { userId: 'ada' },
      conversationId: 'c1',
      subtype: 'insight',
      tags: ['ui'],
      source: 'ai-sdk',
    });
    // The model saw the tool result on its second step.
    const secondPrompt = JSON.stringify(model.doGenerateCalls[1]?.prompt);
    expect(secondPrompt).toContain('"status":"created"');
  });

  it('recalls and builds context only inside its scope', async () => {
    const memory = newMemory();
    await memory.add({ content: 'Ada deploys with blue-green releases', scope: { userId: 'ada' } });
    await memory.add({ content: 'Bob deploys with canary releases', scope: { userId: 'bob' } });
    const tools = engramTools(memory, { scope: { userId: 'ada' } });
    const options = { toolCallId: 't', messages: [] };

    const recalled = await tools.recall.execute?.({ query: 'how does the user deploy releases' }, options);
    expect(recalled).toMatchObject({ memories: [{ content: 'Ada deploys with blue-green releases' }] });
    expect((recalled as { memories: unknown[] }).memories).toHaveLength(1);
    const score = (recalled as { memories: { score: number }[] }).memories[0]?.score ?? -1;
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThanOrEqual(1);

    const context = await tools.context.execute?.({ query: 'deploy releases' }, options);
    expect(context).toMatchObject({ text: expect.stringContaining('blue-green') });
    expect((context as { text: string }).text).not.toContain('canary');
  });

  it('links and forgets only memories in scope', async () => {
    const memory = newMemory();
    const bug = await memory.add({ content: 'Checkout times out under load', type: 'bug', scope: { userId: 'ada' } });
    const fix = await memory.add({ content: 'A bigger pool fixed the checkout timeouts', scope: { userId: 'ada' } });
    const other = await memory.add({ content: 'Bob likes tea', scope: { userId: 'bob' } });
    const tools = engramTools(memory, { scope: { userId: 'ada' } });
    const options = { toolCallId: 't', messages: [] };

    await expect(tools.link.execute?.({ sourceId: fix.memory.id, targetId: bug.memory.id, type: 'fixes' }, options)).resolves.toMatchObject(
      { linked: true },
    );
    const relations = await memory.relations(bug.memory.id);
    expect(relations).toMatchObject([{ sourceId: fix.memory.id, targetId: bug.memory.id, type: 'fixes' }]);
    await expect(tools.link.execute?.({ sourceId: fix.memory.id, targetId: other.memory.id, type: 'related' }, options)).rejects.toThrow(
      `No memory with id "${other.memory.id}" in this scope`,
    );

    await expect(tools.forget.execute?.({ id: other.memory.id }, options)).resolves.toEqual({ forgotten: false, id: other.memory.id });
    expect(await memory.get(other.memory.id)).not.toBeNull();
    await expect(tools.forget.execute?.({ id: bug.memory.id }, options)).resolves.toEqual({ forgotten: true, id: bug.memory.id });
    expect(await memory.get(bug.memory.id)).toBeNull();
  });

  it('reports a tool error to the model instead of crashing the call', async () => {
    const memory = newMemory();
    const model = new MockLanguageModelV3({
      doGenerate: [toolTurn('link', { sourceId: 'missing', targetId: 'also-missing', type: 'related' }), textTurn('Could not link.')],
    });
    const result = await generateText({ model, tools: engramTools(memory), prompt: 'link them', stopWhen: stepCountIs(3) });
    expect(result.text).toBe('Could not link.');
    expect(JSON.stringify(model.doGenerateCalls[1]?.prompt)).toContain('No memory with id \\"missing\\" in this scope');
  });
});
