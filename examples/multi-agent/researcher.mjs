// Agent 1, the researcher: investigates and stores findings tagged for the writer.
import { openSharedMemory, teamScope } from './shared-memory.mjs';

const memory = await openSharedMemory();
const scope = { ...teamScope(), agentId: 'researcher' };
const findings = [
  { content: 'p99 checkout latency rose from 300 ms to 2.1 s after the 14:00 deploy', type: 'observation', importance: 0.8 },
  { content: 'The Postgres connection pool (max 10) is exhausted during checkout peaks', type: 'bug', importance: 0.9 },
  { content: 'Raising the pool to 50 with a 5 s acquire timeout brought p99 back to 320 ms', type: 'insight', importance: 0.9 },
];
for (const finding of findings) {
  await memory.add({ ...finding, scope, tags: ['checkout', 'for:writer'], source: 'researcher' });
  console.log(`researcher: stored "${finding.content}"`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await memory.add({ content: 'Research on the checkout slowdown is complete', scope, tags: ['for:writer', 'done'], source: 'researcher' });
await memory.close();
