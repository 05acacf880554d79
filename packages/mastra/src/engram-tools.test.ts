import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { Agent } from '@mastra/core/agent';
import { RuntimeContext } from '@mastra/core/runtime-context';
import { MockLanguageModelV2 } from 'ai-v5/test';
import { afterEach, describe, expect, it } from 'vitest';
import { engramTools } from './engram-tools.js';

const usage = { inputTokens: 1, outputTokens: 1, totalTokens: 2 };
type Turn = { tool: string; input: unknown } | { text: string };

/** AI SDK 5's mock model, scripted: each call plays the next turn and records the prompt it got. */
function scriptedModel(turns: Turn[]) {
  const prompts: unknown[] = [];
  const model = new MockLanguageModelV2({
    doGenerate: async ({ prompt }) => {
      prompts.push(prompt);
      const turn = turns.shift() ?? { text: '(out of script)' };
      if ('tool' in turn) {
        return {
          content: [{ type: 'tool-call', toolCallId: `call-${prompts.length}`, toolName: turn.tool, input: JSON.stringify(turn.input) }],
          finishReason: 'tool-calls',
          usage,
          warnings: [],
        };
      }
      return { content: [{ type: 'text', text: turn.text }], finishReason: 'stop', usage, warnings: [] };
    },
  });
  return { model, prompts };
}

const memories: Memory[] = [];
function newMemory(): Memory {
  const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
  memories.push(memory);
  return memory;
}
afterEach(async () => {
  await Promise.all(memories.splice(0).map((memory) => memory.close()));
});

const call = (resourceId?: string, threadId?: string) => ({
  runtimeContext: new RuntimeContext(),
  ...(resourceId ? { resourceId } : {}),
  ...(threadId ? { threadId } : {}),
});

describe('engramTools for Mastra', () => {
  it('remembers through an agent, scoped by resourceId and threadId', async () => {
    const memory = newMemory();
    const { model, prompts } = scriptedModel([
      { tool: 'remember', input: { content: 'Ada prefers window seats on long flights', tags: ['travel'] } },
      { text: 'Noted.' },
    ]);
    const agent = new Agent({ name: 'travel', instructions: 'You book travel.', model, tools: engramTools(memory) });
    const result = await agent.generate('I always want a window seat.', { resourceId: 'ada', threadId: 'booking-1', maxSteps: 3 });
    expect(result.text).toBe('Noted.');
    const { items } = await memory.list();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ scope: { userId: 'ada' }, conversationId: 'booking-1', tags: ['travel'], source: 'mastra' });
    expect(JSON.stringify(prompts[1])).toContain('"status":"created"');
  });

  it('recalls and builds context only for the resource of the run', async () => {
    const memory = newMemory();
    await memory.add({ content: 'Ada prefers window seats', scope: { userId: 'ada' } });
    await memory.add({ content: 'Bob prefers aisle seats', scope: { userId: 'bob' } });
    const tools = engramTools(memory);
    const recalled = await tools.recall.execute(
      { context: { query: 'seat preference' }, ...call('ada') },
      { toolCallId: 't', messages: [] },
    );
    expect(recalled.memories.map((item: { content: string }) => item.content)).toEqual(['Ada prefers window seats']);
    const context = await tools.context.execute({ context: { query: 'seats' }, ...call('bob') }, { toolCallId: 't', messages: [] });
    expect(context.text).toContain('aisle');
    expect(context.text).not.toContain('window');
  });

  it('links and forgets only inside the scope, and a default scope applies without resourceId', async () => {
    const memory = newMemory();
    const tools = engramTools(memory, { scope: { userId: 'ada', agentId: 'travel' } });
    const options = { toolCallId: 't', messages: [] };
    const first = await tools.remember.execute({ context: { content: 'Flight LH400 was delayed', type: 'failure' }, ...call() }, options);
    const second = await tools.remember.execute({ context: { content: 'Rebooked on LH402' }, ...call() }, options);
    const stranger = await memory.add({ content: 'Bob flies tomorrow', scope: { userId: 'bob' } });
    expect((await memory.get(first.id))?.scope).toEqual({ userId: 'ada', agentId: 'travel' });

    await expect(
      tools.link.execute({ context: { sourceId: second.id, targetId: first.id, type: 'fixes' }, ...call() }, options),
    ).resolves.toMatchObject({
      linked: true,
    });
    expect(await memory.relations(first.id)).toMatchObject([{ sourceId: second.id, type: 'fixes' }]);
    await expect(
      tools.link.execute({ context: { sourceId: second.id, targetId: stranger.memory.id, type: 'related' }, ...call() }, options),
    ).rejects.toThrow('in this scope');
    await expect(tools.forget.execute({ context: { id: stranger.memory.id }, ...call() }, options)).resolves.toEqual({
      forgotten: false,
      id: stranger.memory.id,
    });
    await expect(tools.forget.execute({ context: { id: first.id }, ...call() }, options)).resolves.toEqual({
      forgotten: true,
      id: first.id,
    });
  });
});
