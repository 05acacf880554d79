// OpenAI Agents SDK + Engram: an agent with Engram memory as function tools. Run 1 stores the
// user's preference; run 2 (a new conversation, same user) recalls it before answering; another
// user's run finds nothing. Runs offline: the model is a ScriptedModel, plugged in through the
// SDK's Model interface; the agent loop, tool calls and SQLite memory are the real ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, run, setTracingDisabled } from '@openai/agents';
import { hashEmbedder, Memory } from 'engram';
import { engramAgentTools } from './memory-tools.mjs';
import { lastToolOutput, ScriptedModel } from './scripted-model.mjs';

// Offline: no traces are sent to OpenAI.
setTracingDisabled(true);

const folder = mkdtempSync(join(tmpdir(), 'engram-openai-agents-'));
// A real application uses `new Memory()` (./.engram/memory.db and the default embedder).
const memory = new Memory({ path: join(folder, 'memory.db'), embedder: hashEmbedder() });
const tools = engramAgentTools(memory, { scope: (context) => ({ userId: context.userId }) });

const model = new ScriptedModel([
  // run 1
  () => ({
    call: 'remember',
    arguments: { content: 'Ada reviews pull requests only in the morning', type: 'insight', tags: ['schedule'] },
  }),
  () => ({ text: 'Noted: mornings only for reviews.' }),
  // run 2
  () => ({ call: 'recall', arguments: { query: 'when does the user review pull requests', limit: 3 } }),
  (request) => ({
    text: `Scheduling the review for 9:00. (recalled: ${lastToolOutput(request)
      .memories.map((item) => item.content)
      .join('; ')})`,
  }),
  // run 3, another user
  () => ({ call: 'recall', arguments: { query: 'when does the user review pull requests', limit: 3 } }),
  (request) => ({ text: `I know nothing about your schedule yet (${lastToolOutput(request).memories.length} memories).` }),
]);
// `model` accepts a Model instance; a real agent names one, e.g. 'gpt-4.1'.
const agent = new Agent({ name: 'scheduler', instructions: 'Use recall before planning; remember preferences.', model, tools });

const first = await run(agent, 'Please only send me code reviews in the morning.', { context: { userId: 'ada' } });
console.log(`ada, run 1 → ${first.finalOutput}`);
const second = await run(agent, 'Schedule the review of PR 42.', { context: { userId: 'ada' } });
console.log(`ada, run 2 → ${second.finalOutput}`);
const third = await run(agent, 'Schedule the review of PR 43.', { context: { userId: 'bob' } });
console.log(`bob, run 1 → ${third.finalOutput}`);

await memory.close();
rmSync(folder, { recursive: true, force: true });
if (!second.finalOutput.includes('only in the morning')) throw new Error('run 2 did not recall the preference');
if (!third.finalOutput.includes('(0 memories)')) throw new Error("bob's run saw ada's memories");
