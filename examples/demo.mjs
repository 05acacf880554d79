// npm run demo — stores an agent's memories in a SQLite file and retrieves them, offline.
import { rmSync } from 'node:fs';
import { Memory } from 'engram';

const path = './.engram/demo.db';
rmSync('./.engram/demo.db', { force: true });
rmSync('./.engram/demo.db-wal', { force: true });
rmSync('./.engram/demo.db-shm', { force: true });

const memory = new Memory({ path });
const scope = { userId: 'demo-user', agentId: 'coding-agent' };

const day = 86_400_000;
const now = Date.now();
const { memory: bug } = await memory.add({
  content: 'Checkout requests time out when the Postgres connection pool is exhausted under load',
  type: 'bug',
  tags: ['checkout', 'postgres'],
  metadata: { service: 'checkout', severity: 4 },
  scope,
  createdAt: new Date(now - 3 * day),
});
await memory.addMany([
  {
    content: 'Raising the pool size to 50 and adding a 5 s acquire timeout fixed the checkout timeouts',
    type: 'insight',
    tags: ['checkout', 'postgres'],
    importance: 0.9,
    scope,
    createdAt: new Date(now - 2 * day),
  },
  {
    content: 'We chose PgBouncer in transaction mode in front of Postgres for every service',
    type: 'architecture',
    tags: ['postgres'],
    metadata: { service: 'platform', severity: 2 },
    scope,
    createdAt: new Date(now - day),
  },
  { content: 'The user prefers short answers with code first, explanation after', type: 'conversation', tags: ['preferences'], scope },
  {
    content: 'Flaky test: cart.spec.ts fails when run in parallel because it shares a fixture file',
    type: 'recurring_issue',
    tags: ['tests', 'checkout'],
    scope,
  },
  {
    content: 'Deploys go out on Tuesdays and Thursdays after the 10:00 stand-up',
    type: 'workflow',
    tags: ['process'],
    scope,
    createdAt: new Date(now - 40 * day),
  },
]);
const duplicate = await memory.add({ content: bug.content.toUpperCase(), scope });
console.log(`Stored ${await memory.count({ scope })} memories in ${path} (adding the bug again: ${duplicate.status}).\n`);

const show = (title, hits) => {
  console.log(title);
  for (const { memory: m, score } of hits) {
    const kind = m.subtype ? `${m.type}/${m.subtype}` : m.type;
    console.log(`  ${score.toFixed(3)}  [${kind}]  ${m.content}`);
  }
  console.log();
};

show('search("why does checkout time out?")', await memory.search('why does checkout time out?', { scope, limit: 3 }));
show('search("postgres", { types: ["decision"] })', await memory.search('postgres', { scope, types: ['decision'] }));
show(
  'search("postgres", { where: { severity: { gte: 3 } } })',
  await memory.search('postgres', { scope, where: { severity: { gte: 3 } } }),
);
show(
  'search("what happened", { time: "last 7 days", tags: ["checkout"] })',
  await memory.search('what happened', { scope, time: 'last 7 days', tags: ['checkout'] }),
);

const [top] = await memory.search('checkout timeout fix', { scope, limit: 1, explain: true });
console.log('explain for the best hit of "checkout timeout fix":');
console.log(
  JSON.stringify(top.explanation, (_key, value) => (typeof value === 'number' ? Number(value.toFixed(4)) : value), 2),
  '\n',
);

const context = await memory.context({ query: 'checkout incident', scope, tokenBudget: 120 });
console.log(`context({ query: "checkout incident", tokenBudget: 120 }) → ${context.tokens} tokens:\n${context.text}\n`);

await memory.delete(bug.id);
console.log(`After deleting the bug: get() → ${await memory.get(bug.id)}, count → ${await memory.count({ scope })}`);
await memory.close();
