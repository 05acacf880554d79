// Mastra RAG over Engram: a handbook is chunked, embedded and stored in an EngramVector index (in
// the same SQLite file as the agent's memories); a Mastra Agent answers a question through a
// retrieval tool that queries the index with a metadata filter. A later edition of one section is
// re-indexed in one step (upsert with deleteFilter). Runs offline: the embedder is Engram's hash
// embedder and the model is the AI SDK's MockLanguageModelV2 (ai@5 `ai/test`), scripted to call
// the tool as an LLM would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngramVector } from '@engram/mastra';
import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core/mastra';
import { createTool } from '@mastra/core/tools';
import { MockLanguageModelV2 } from 'ai-v5/test';
import { hashEmbedder, Memory } from 'engram';
import { z } from 'zod';

const folder = mkdtempSync(join(tmpdir(), 'engram-mastra-rag-'));
// A real application uses `new Memory()` and a real embedding model (e.g. Mastra's `embedMany`).
const memory = new Memory({ path: join(folder, 'memory.db'), embedder: hashEmbedder() });
const embedder = hashEmbedder();
const embed = async (texts) => (await embedder.embed(texts)).map((vector) => Array.from(vector));

const handbook = {
  accounts: [
    'To reset your password, open Settings, choose Security and press "Send reset link"; the link expires after 30 minutes.',
    'Two-factor authentication can be turned on under Settings, Security, with any TOTP app.',
  ],
  billing: [
    'Invoices are issued on the first day of each month and can be downloaded as PDF from the Billing page.',
    'Refunds for annual plans are prorated and reach the card within ten business days.',
  ],
};

const vector = new EngramVector({ memory });
await vector.createIndex({ indexName: 'handbook', dimension: embedder.dimensions, metric: 'cosine' });
for (const [section, chunks] of Object.entries(handbook)) {
  await vector.upsert({
    indexName: 'handbook',
    vectors: await embed(chunks),
    metadata: chunks.map((text, chunk) => ({ text, section, chunk, edition: 1 })),
    ids: chunks.map((_, chunk) => `${section}-${chunk}`),
  });
}

// The 2nd edition of the accounts section replaces the old chunks in the same transaction.
const accounts = [
  'To reset your password, open Settings, choose Security and press "Send reset link"; the link expires after 15 minutes.',
  'Two-factor authentication can be turned on under Settings, Security, with any TOTP app or a passkey.',
];
await vector.upsert({
  indexName: 'handbook',
  vectors: await embed(accounts),
  metadata: accounts.map((text, chunk) => ({ text, section: 'accounts', chunk, edition: 2 })),
  deleteFilter: { section: 'accounts' },
});
const stats = await vector.describeIndex({ indexName: 'handbook' });
console.log(`index handbook: ${stats.count} chunks, ${stats.dimension} dimensions, ${stats.metric}`);

const searchHandbook = createTool({
  id: 'search-handbook',
  description: 'Finds the handbook passages closest to a question, optionally within one section.',
  inputSchema: z.object({ question: z.string(), section: z.enum(['accounts', 'billing']).optional() }),
  execute: async ({ context, mastra }) => {
    const store = mastra?.getVector('engram') ?? vector;
    const [queryVector] = await embed([context.question]);
    const results = await store.query({
      indexName: 'handbook',
      queryVector,
      topK: 2,
      filter: context.section ? { section: context.section, edition: { $gte: 1 } } : undefined,
    });
    return { passages: results.map((result) => ({ text: result.metadata.text, score: Number(result.score.toFixed(3)) })) };
  },
});

const usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
const lastToolOutput = (prompt) => prompt.findLast((message) => message.role === 'tool')?.content[0]?.output?.value;
const turns = [
  () => ({
    content: [
      {
        type: 'tool-call',
        toolCallId: 'call-1',
        toolName: 'searchHandbook',
        input: JSON.stringify({ question: 'How do I reset my password?', section: 'accounts' }),
      },
    ],
    finishReason: 'tool-calls',
    usage,
    warnings: [],
  }),
  (prompt) => ({
    content: [{ type: 'text', text: `From the handbook: ${lastToolOutput(prompt).passages[0].text}` }],
    finishReason: 'stop',
    usage,
    warnings: [],
  }),
];
const model = new MockLanguageModelV2({ doGenerate: async ({ prompt }) => turns.shift()(prompt) });

const helpdesk = new Agent({
  name: 'helpdesk',
  instructions: 'Answer from the handbook only: search it with `searchHandbook` first.',
  model,
  tools: { searchHandbook },
});
const mastra = new Mastra({ agents: { helpdesk }, vectors: { engram: vector }, logger: false });

const answer = await mastra.getAgent('helpdesk').generate('How do I reset my password?', { maxSteps: 3 });
console.log(`helpdesk → ${answer.text}`);

await memory.close();
rmSync(folder, { recursive: true, force: true });
if (!answer.text.includes('15 minutes')) throw new Error('the agent did not answer from the current edition of the handbook');
