// Agent 1 over HTTP: stores its findings through engram serve, tagged for the writer. X-Agent-ID
// (in call()) marks each one as the researcher's: scope.agentId "researcher", tag agent:researcher.
import { call } from './rest-client.mjs';
import { teamScope } from './team.mjs';

const findings = [
  { content: 'p99 checkout latency rose from 300 ms to 2.1 s after the 14:00 deploy', type: 'observation', importance: 0.8 },
  { content: 'The Postgres connection pool (max 10) is exhausted during checkout peaks', type: 'bug', importance: 0.9 },
  { content: 'Raising the pool to 50 with a 5 s acquire timeout brought p99 back to 320 ms', type: 'insight', importance: 0.9 },
];
for (const finding of findings) {
  await call('researcher', 'POST', '/api/memories', {
    ...finding,
    scope: teamScope(),
    tags: ['checkout', 'for:writer'],
    source: 'researcher',
  });
  console.log(`researcher: stored "${finding.content}"`);
}
await call('researcher', 'POST', '/api/memories', {
  content: 'Research on the checkout slowdown is complete',
  scope: teamScope(),
  tags: ['for:writer', 'done'],
  source: 'researcher',
});
