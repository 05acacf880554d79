// Infer: what `add(messages, { infer: true })` costs on engram's side, without the model's own
// latency. A scripted model answers at once (3 facts per conversation, each a variant of a stored
// memory, so every fact has related memories and the reconcile call is made; it adds them all).
// Compared, interleaved, with `addMany` of the same 3 facts: the difference is the look-ups,
// prompts, parsing and plan checks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { memories, memoryAt, random } from '../lib/corpus.mjs';
import { formatCount, formatMs, interleave, round } from '../lib/stats.mjs';

export async function run({ full = false, progress = () => {} } = {}) {
  const size = full ? 100_000 : 10_000;
  const conversations = full ? 300 : 200;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-infer-'));
  try {
    const next = random(11);
    let pending = [];
    let calls = 0;
    const model = {
      specificationVersion: 'v1',
      id: 'scripted:bench',
      async complete(request) {
        calls += 1;
        if (request.json?.name === 'engram_facts') {
          return {
            text: JSON.stringify({ facts: pending.map((content) => ({ content, type: null, tags: null, importance: null })) }),
            usage: { inputTokens: 0, outputTokens: 0 },
          };
        }
        const facts = request.messages[0].content
          .split('EXISTING MEMORIES:')[0]
          .split('\n')
          .filter((line) => line.startsWith('{'));
        const operations = facts.map((_, fact) => ({ op: 'add', fact, target: null, content: null, reason: 'new' }));
        return { text: JSON.stringify({ operations }), usage: { inputTokens: 0, outputTokens: 0 } };
      },
    };
    const memory = new Memory({
      store: sqliteStore({ path: join(directory, 'infer.db') }),
      embedder: hashEmbedder(),
      model,
      logger: false,
    });
    for (let offset = 0; offset < size; offset += 1000) await memory.addMany(memories(offset, Math.min(size, offset + 1000), 1));
    progress(`${formatCount(size)} memories`);

    // Each conversation states 3 facts: stored memories with a new last word (near, not equal).
    const inputs = Array.from({ length: conversations }, (_, index) =>
      Array.from({ length: 3 }, (_, fact) => {
        const stored = memoryAt(Math.floor(next() * size), 1).content.split(' ');
        return `${stored.slice(0, -1).join(' ')} variant ${index}-${fact}`;
      }),
    );
    let reconciled = 0;
    let plain = 0;
    const scope = { userId: 'user-0' };
    const timings = await interleave(inputs, {
      infer: async (facts) => {
        pending = facts;
        const result = await memory.add(
          facts.map((content) => ({ role: 'user', content })),
          { infer: true, scope, onFailure: 'throw' },
        );
        if (result.plan.reconciled) reconciled += 1;
      },
      addMany: async (facts) => {
        plain += 1;
        await memory.addMany(facts.map((content) => ({ content: `${content} plain ${plain}`, scope })));
      },
    });
    await memory.close();
    const results = {
      memories: size,
      conversations,
      factsPerConversation: 3,
      infer: timings.infer,
      addMany: timings.addMany,
      ratioP50: round(timings.infer.p50 / timings.addMany.p50, 2),
      reconciledShare: round(reconciled / (conversations + 5), 2),
      modelCalls: calls,
    };
    progress(`infer p50 ${results.infer.p50} ms vs addMany ${results.addMany.p50} ms`);
    return { suite: 'infer', results, markdown: markdown(results) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  return [
    "### Infer (engram's side of `add(messages, { infer: true })`)",
    '',
    `${formatCount(results.memories)} memories on SQLite, ${results.conversations} conversations of ${results.factsPerConversation} facts, a scripted model answering at once (reconcile call made in ${Math.round(results.reconciledShare * 100)} % of them); p50 / p95 in ms, interleaved.`,
    '',
    '| call | p50 / p95 |',
    '|---|---:|',
    `| \`add(messages, { infer: true })\` (extract, 3 look-ups, reconcile, one write) | ${formatMs(results.infer.p50)} / ${formatMs(results.infer.p95)} |`,
    `| \`addMany\` of the same 3 facts | ${formatMs(results.addMany.p50)} / ${formatMs(results.addMany.p95)} |`,
    `| ratio at p50 | ${results.ratioP50}× |`,
    '',
  ].join('\n');
}
