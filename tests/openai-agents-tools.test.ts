import { hashEmbedder, inMemoryStore, Memory } from '@engram/core';
import { RunContext } from '@openai/agents';
import { afterEach, describe, expect, it } from 'vitest';
import { engramAgentTools } from '../examples/openai-agents/memory-tools.mjs';

// The recipe (examples/openai-agents) drives these tools through a real Agent run; this file
// checks each tool's scope boundary directly, through the SDK's own FunctionTool.invoke.
const memories: Memory[] = [];
afterEach(async () => {
  await Promise.all(memories.splice(0).map((memory) => memory.close()));
});

function setup() {
  const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), logger: false });
  memories.push(memory);
  const tools = Object.fromEntries(
    engramAgentTools<{ userId: string }>(memory, { scope: (context) => ({ userId: context.userId }) }).map((tool) => [tool.name, tool]),
  );
  const call = async (name: string, userId: string, input: unknown) => {
    const output = await tools[name]?.invoke(new RunContext({ userId }), JSON.stringify(input));
    return typeof output === 'string' ? JSON.parse(output) : output;
  };
  return { memory, tools, call };
}

describe('engramAgentTools (OpenAI Agents SDK)', () => {
  it('offers the five tools with strict JSON schemas', () => {
    const { tools } = setup();
    expect(Object.keys(tools).sort()).toEqual(['forget', 'link', 'memory_context', 'recall', 'remember']);
    for (const tool of Object.values(tools)) expect(tool.strict).toBe(true);
  });

  it('writes and reads inside the scope the run context gives', async () => {
    const { memory, call } = setup();
    const stored = await call('remember', 'ada', { content: 'Ada deploys on Tuesdays', type: 'decision', tags: ['deploys'] });
    expect(stored).toMatchObject({ status: 'created', type: 'decision' });
    expect((await memory.get(stored.id))?.scope).toEqual({ userId: 'ada' });
    expect((await call('recall', 'ada', { query: 'when does Ada deploy', limit: null })).memories).toHaveLength(1);
    expect((await call('recall', 'bob', { query: 'when does Ada deploy', limit: null })).memories).toHaveLength(0);
    expect((await call('memory_context', 'ada', { query: 'deploys', tokenBudget: null })).text).toContain('Tuesdays');
  });

  it('links and forgets only memories of the same scope', async () => {
    const { memory, call } = setup();
    const bug = await call('remember', 'ada', { content: 'Login fails on Safari', type: 'bug', tags: [] });
    const fix = await call('remember', 'ada', { content: 'Setting SameSite=None fixed the Safari login', type: null, tags: [] });
    const other = await call('remember', 'bob', { content: 'Bob uses Firefox', type: null, tags: [] });
    expect(await call('link', 'ada', { sourceId: fix.id, targetId: bug.id, type: 'fixes' })).toMatchObject({ linked: true });
    expect(await call('link', 'ada', { sourceId: fix.id, targetId: other.id, type: 'related' })).toMatchObject({
      linked: false,
      reason: `no memory with id "${other.id}" in this scope; use recall to find ids`,
    });
    expect(await call('forget', 'ada', { id: other.id })).toEqual({ forgotten: false, id: other.id });
    expect(await memory.get(other.id)).not.toBeNull();
    expect(await call('forget', 'ada', { id: bug.id })).toEqual({ forgotten: true, id: bug.id });
    expect(await memory.get(bug.id)).toBeNull();
  });
});
