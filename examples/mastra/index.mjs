// Mastra + Engram: a Mastra Agent with Engram's memory tools. In one thread the model stores what
// the user said with `remember`; in another thread of the same user (Mastra's resourceId) it calls
// `recall` and answers from what it found. Runs offline: the model is the AI SDK's
// MockLanguageModelV2 (ai@5 `ai/test`), scripted to call the tools as an LLM would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engramTools } from '@engram/mastra';
import { Agent } from '@mastra/core/agent';
import { MockLanguageModelV2 } from 'ai-v5/test';
import { hashEmbedder, Memory } from 'engram';

const folder = mkdtempSync(join(tmpdir(), 'engram-mastra-'));
// A real application uses `new Memory()` (./.engram/memory.db and the default embedder).
const memory = new Memory({ path: join(folder, 'memory.db'), embedder: hashEmbedder() });

const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const callTool = (toolName, input) => ({
  content: [{ type: 'tool-call', toolCallId: `call-${toolName}`, toolName, input: JSON.stringify(input) }],
  finishReason: 'tool-calls',
  usage,
  warnings: [],
});
const say = (text) => ({ content: [{ type: 'text', text }], finishReason: 'stop', usage, warnings: [] });
/** The last tool result the model was shown, as the scripted model reads it. */
const lastToolOutput = (prompt) => prompt.findLast((message) => message.role === 'tool')?.content[0]?.output?.value;

const turns = [
  // Thread 1: remember the preference, then confirm.
  () => callTool('remember', { content: 'Ada prefers window seats and flies out of Berlin', type: 'insight', tags: ['travel'] }),
  () => say('Got it: window seats, departing Berlin.'),
  // Thread 2: recall before booking, then answer from what came back.
  () => callTool('recall', { query: 'seat preference and home airport' }),
  (prompt) =>
    say(
      `Booking from what I remember: ${lastToolOutput(prompt)
        .memories.map((item) => item.content)
        .join('; ')}`,
    ),
];
const model = new MockLanguageModelV2({ doGenerate: async ({ prompt }) => turns.shift()(prompt) });

const agent = new Agent({
  name: 'travel-agent',
  instructions: 'You book flights. Remember preferences with `remember`; check them with `recall` before booking.',
  model,
  tools: engramTools(memory),
});

const first = await agent.generate('I always want a window seat. I live in Berlin.', {
  resourceId: 'ada',
  threadId: 'onboarding',
  maxSteps: 3,
});
console.log(`thread onboarding → ${first.text}`);
const second = await agent.generate('Book me a flight to Lisbon next Friday.', { resourceId: 'ada', threadId: 'trip-lisbon', maxSteps: 3 });
console.log(`thread trip-lisbon → ${second.text}`);

const stored = (await memory.list({ scope: { userId: 'ada' } })).items.map((item) => `${item.content} (thread ${item.conversationId})`);
console.log(`stored for resource ada: ${stored.join(', ')}`);
await memory.close();
rmSync(folder, { recursive: true, force: true });
if (!second.text.includes('window seats')) throw new Error('the agent did not recall the preference in the second thread');
