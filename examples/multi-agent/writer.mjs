// Agent 2, the writer: polls the shared memory for findings tagged for it, then writes a report
// from `memory.context()` and stores the report for the team.
import { openSharedMemory, teamScope } from './shared-memory.mjs';

const memory = await openSharedMemory();
const team = teamScope();
const seen = new Set();
const deadline = Date.now() + 60_000;
let done = false;
while (!done) {
  if (Date.now() > deadline) throw new Error('writer: no "done" finding within 60 s');
  const { items } = await memory.list({ scope: team, tags: ['for:writer'], limit: 100 });
  for (const item of items.reverse()) {
    if (seen.has(item.id)) continue;
    seen.add(item.id);
    if (item.tags.includes('done')) done = true;
    else console.log(`writer: received from ${item.scope.agentId}: "${item.content}"`);
  }
  if (!done) await new Promise((resolve) => setTimeout(resolve, 100));
}

const context = await memory.context({ query: 'checkout latency cause and fix', scope: team, tags: ['checkout'], tokenBudget: 200 });
const report = `Checkout incident report, from ${context.hits.length} findings:\n${context.text}`;
await memory.add({ content: report, type: 'decision', scope: { ...team, agentId: 'writer' }, tags: ['report'], source: 'writer' });
console.log(report);
console.log(JSON.stringify({ received: seen.size - 1, reportFindings: context.hits.length }));
await memory.close();
