// Agent 2 over HTTP: streams the memories tagged for it (GET /api/events?tags=for:writer) instead
// of polling, then asks POST /api/context for a report and stores it as the writer.
import { call, subscribe } from './rest-client.mjs';
import { teamScope } from './team.mjs';

const team = teamScope();
const received = [];
// Subscribed before index.mjs starts the researcher (it waits for "listening").
const stream = await subscribe({ tags: 'for:writer', userId: team.userId, runId: team.runId });
console.log('writer: listening');
const timeout = setTimeout(() => {
  console.error('writer: no "done" finding within 60 s');
  process.exit(1);
}, 60_000);
for await (const { event, data } of stream) {
  if (event !== 'memory:added') continue;
  if (data.memory.tags.includes('done')) break;
  received.push(data.memory);
  console.log(`writer: received from ${data.memory.scope.agentId}: "${data.memory.content}"`);
}
clearTimeout(timeout);

const context = await call('writer', 'POST', '/api/context', {
  query: 'checkout latency cause and fix',
  scope: team,
  tags: ['checkout'],
  tokenBudget: 200,
});
const report = `Checkout incident report, from ${context.hits.length} findings:\n${context.text}`;
await call('writer', 'POST', '/api/memories', { content: report, type: 'decision', scope: team, tags: ['report'], source: 'writer' });
console.log(report);
console.log(JSON.stringify({ received: received.length, reportFindings: context.hits.length }));
