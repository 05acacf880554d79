// Vercel AI SDK + Engram: a model stores a preference with the `remember` tool in one
// conversation, and `engramMiddleware` hands it back in the next. Runs offline: the model is the
// AI SDK's own MockLanguageModelV3 (ai/test), scripted to behave like a tool-calling LLM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engramMiddleware, engramTools } from '@engram/ai-sdk';
import { generateText, stepCountIs, wrapLanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { hashEmbedder, Memory } from 'engram';

const folder = mkdtempSync(join(tmpdir(), 'engram-ai-sdk-'));
// A real application uses `new Memory()` (./.engram/memory.db and the default embedder).
const memory = new Memory({ path: join(folder, 'memory.db'), embedder: hashEmbedder() });
const scope = { userId: 'ada' };

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 0, text: 0, reasoning: undefined },
};
const say = (text) => ({ content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] });
const call = (toolName, input) => ({
  content: [{ type: 'tool-call', toolCallId: `call-${toolName}`, toolName, input: JSON.stringify(input) }],
  finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
  usage,
  warnings: [],
});

// Conversation 1: the model decides the preference is worth keeping and calls `remember`.
const first = await generateText({
  model: new MockLanguageModelV3({
    doGenerate: [
      call('remember', { content: 'Ada wants code examples in TypeScript, never Python', type: 'insight', tags: ['preferences'] }),
      say('Understood, TypeScript from now on.'),
    ],
  }),
  tools: engramTools(memory, { scope: { ...scope, conversationId: 'monday' } }),
  prompt: 'Please always show me TypeScript, not Python.',
  stopWhen: stepCountIs(3),
});
console.log(`conversation 1 → ${first.text}`);
console.log(`  remember tool → ${JSON.stringify(first.steps[0].toolResults[0].output)}`);

// Conversation 2, days later: the middleware puts the relevant memories into the prompt. The
// scripted model answers from whatever memory block it was given.
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) => {
    const memories = prompt.find((message) => message.role === 'system' && message.content.startsWith('Relevant memories'));
    const recalled = memories ? memories.content.split('\n').slice(1).join(' ') : '(nothing)';
    return say(`Here is the example in TypeScript. (recalled: ${recalled})`);
  },
});
const second = await generateText({
  model: wrapLanguageModel({ model, middleware: engramMiddleware(memory, { scope, tokenBudget: 300 }) }),
  prompt: 'Show me an example of reading a file in code.',
});
console.log(`conversation 2 → ${second.text}`);

await memory.close();
rmSync(folder, { recursive: true, force: true });
if (!second.text.includes('TypeScript, never Python')) throw new Error('the second conversation did not recall the preference');
