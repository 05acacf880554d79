import { describe, expect, it } from 'vitest';
import type { LanguageModelRequest } from '../contracts/language-model.js';
import { hashEmbedder } from '../embedding/hash-embedder.js';
import { Memory, type MemoryOptions } from '../memory.js';
import { ModelError, ValidationError } from '../model/errors.js';
import { inMemoryStore } from '../stores/in-memory-store.js';
import { factsSchema, reconcileSchema } from './extraction-schemas.js';
import { scriptedModel } from './test-fixtures/scripted-model.js';

const USER = { userId: 'ada' };
let clock = Date.parse('2026-03-01T10:00:00Z');

function memoryWith(model: MemoryOptions['model'], options: Partial<MemoryOptions> = {}) {
  return new Memory({ store: inMemoryStore(), embedder: hashEmbedder(), model, logger: false, now: () => clock, ...options });
}

const fact = (content: string, type: string | null = null, tags: string[] | null = null) => ({ content, type, tags, importance: null });

/** The facts and existing memories the reconcile prompt showed, parsed back. */
function reconcileInput(request: LanguageModelRequest) {
  const prompt = request.messages[0]?.content ?? '';
  const [factsPart, memoriesPart] = prompt.split('EXISTING MEMORIES:');
  const lines = (text: string | undefined) =>
    (text ?? '')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, string>);
  return { facts: lines(factsPart), memories: lines(memoriesPart) };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );

describe('add(messages, { infer: true }): extraction', () => {
  it('adds the extracted facts with their types, tags and provenance; skips reconcile when nothing is related', async () => {
    const model = scriptedModel({
      engram_facts: {
        facts: [
          fact('The user prefers pnpm over npm for this monorepo.', 'tool_choice', ['pnpm']),
          fact('Bumping better-sqlite3 to 13 segfaults on Node 20; pin it to 12.', 'bug'),
        ],
      },
    });
    const memory = memoryWith(model);
    const result = await memory.add(
      [
        { role: 'user', content: 'Use pnpm here, not npm.', id: 'msg-1' },
        { role: 'assistant', content: 'Noted. Also, better-sqlite3 13 crashed on Node 20, so I pinned 12.', id: 'msg-2' },
      ],
      { infer: true, scope: USER, conversationId: 'conv-7' },
    );
    expect(model.requests).toHaveLength(1);
    expect(result.plan.reconciled).toBe(false);
    expect(result.usage).toEqual({ inputTokens: 100, outputTokens: 10, calls: 1 });
    expect(result.results.map((item) => [item.status, item.memory.type, item.memory.subtype])).toEqual([
      ['created', 'decision', 'tool_choice'],
      ['created', 'error', 'bug'],
    ]);
    const [first] = result.results;
    expect(first?.memory.scope).toEqual(USER);
    expect(first?.memory.conversationId).toBe('conv-7');
    expect(first?.memory.tags).toEqual(['pnpm']);
    expect(first?.memory.source).toBe('engram-infer:scripted:test');
    expect(first?.memory.metadata.inference).toEqual({
      model: 'scripted:test',
      operation: 'add',
      reason: 'nothing related is stored',
      messageIds: ['msg-1', 'msg-2'],
      conversationId: 'conv-7',
    });
    // The extraction request: named schema, the transcript, the ontology.
    const request = model.requests[0] as LanguageModelRequest;
    expect(typeof request.json === 'object' && request.json.name).toBe('engram_facts');
    expect(request.messages[0]?.content).toContain('[user] Use pnpm here, not npm.');
    expect(request.system).toContain('error: bug, failure, exception, timeout');
    expect(request.system).toContain('today (2026-03-01)');
  });

  it('writes nothing and makes no second call when nothing is extracted', async () => {
    const model = scriptedModel({ engram_facts: { facts: [] } });
    const memory = memoryWith(model);
    const result = await memory.add('hi there!', { infer: true, scope: USER });
    expect(result.results).toEqual([]);
    expect(result.plan.facts).toEqual([]);
    expect(model.requests).toHaveLength(1);
    expect(await memory.count()).toBe(0);
  });

  it('passes the application instructions to both calls', async () => {
    const memory = memoryWith(scriptedModel({ engram_facts: { facts: [fact('The user likes tea.')] } }));
    await memory.add('I like tea', { infer: true, scope: USER });
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user likes green tea.')] },
      engram_reconcile: { operations: [{ op: 'none', fact: 0, target: 'm1', content: null, reason: 'known' }] },
    });
    const second = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    await second.add('I like green tea', { infer: true, scope: USER, instructions: 'Only remember drinks.' });
    expect(model.requests.map((request) => request.system?.includes('Only remember drinks.'))).toEqual([true, true]);
  });

  it('checks its input', async () => {
    const memory = memoryWith(scriptedModel({}));
    expect(await failure(memory.add([], { infer: true }))).toBeInstanceOf(ValidationError);
    expect((await failure(memory.add([{ role: 'robot', content: 'x' }] as never, { infer: true }))).message).toContain('messages.0.role');
    expect((await failure(memory.add('x', { infer: false } as never))).message).toContain('options.infer');
    expect((await failure(memory.add('x', { infer: true, onFailure: 'ignore' } as never))).message).toContain('options.onFailure');
    expect((await failure(memoryWith(undefined).add('x', { infer: true }))).message).toMatch(/model.*openaiCompatibleModel/);
    expect(() => memoryWith({ id: 'x' } as never)).toThrow(/model/);
    expect(() => memoryWith(undefined, { inference: { relatedThreshold: 0 } })).toThrow(/inference\.relatedThreshold/);
    expect(() => memoryWith(undefined, { inference: { maxRelated: 2.5 } })).toThrow(/inference\.maxRelated/);
  });
});

describe('add(messages, { infer: true }): reconciliation', () => {
  async function seeded() {
    const memory = memoryWith(undefined);
    const editor = await memory.add({ content: 'The user prefers light mode in the editor.', type: 'decision', scope: USER });
    const database = await memory.add({ content: 'The project uses PostgreSQL 15 for storage.', scope: USER });
    const tea = await memory.add({ content: 'The user likes green tea.', scope: USER });
    await memory.add({ content: 'The user prefers light mode in the editor.', scope: { userId: 'someone-else' } });
    return { memory, editor: editor.memory, database: database.memory, tea: tea.memory };
  }

  it('shows related memories under aliases, batches every fact into one call, and applies add/update/supersede/none', async () => {
    const { memory, editor, database, tea } = await seeded();
    clock += 86_400_000;
    let shown: ReturnType<typeof reconcileInput> | undefined;
    const model = scriptedModel({
      engram_facts: {
        facts: [
          fact('The user prefers dark mode in the editor.', 'decision'),
          fact('The project uses PostgreSQL 16 for storage.'),
          fact('The user likes green tea.'),
          fact('The user works on Engram, a memory layer.'),
        ],
      },
      engram_reconcile: (request: LanguageModelRequest) => {
        shown = reconcileInput(request);
        const alias = (content: string) => shown?.memories.find((item) => item.content === content)?.alias;
        return {
          operations: [
            { op: 'supersede', fact: 0, target: alias(editor.content), content: null, reason: 'preference changed' },
            {
              op: 'update',
              fact: 1,
              target: alias(database.content),
              content: 'The project uses PostgreSQL 16 (was 15) for storage.',
              reason: 'version bump',
            },
            { op: 'none', fact: 2, target: alias(tea.content), content: null, reason: 'already known' },
            { op: 'add', fact: 3, target: null, content: null, reason: 'new' },
          ],
        };
      },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const events: unknown[] = [];
    learner.on('extraction:completed', (event) => events.push(event));
    const result = await learner.add('…', { infer: true, scope: USER });
    expect(events).toEqual([
      expect.objectContaining({
        model: 'scripted:test',
        dryRun: false,
        facts: 4,
        operations: 4,
        rejected: 0,
        written: 3,
        usage: { inputTokens: 200, outputTokens: 20, calls: 2 },
      }),
    ]);

    expect(model.requests).toHaveLength(2);
    expect(shown?.facts.map((item) => item.fact)).toEqual([0, 1, 2, 3]);
    expect(shown?.memories.map((item) => item.alias)).toEqual(shown?.memories.map((_, index) => `m${index + 1}`));
    // Ids never reach the model; other users' memories are never shown.
    const prompt = model.requests[1]?.messages[0]?.content ?? '';
    for (const record of [editor, database, tea]) expect(prompt).not.toContain(record.id);
    expect(shown?.memories.filter((item) => item.content === editor.content)).toHaveLength(1);

    expect(result.results.map((item) => item.status)).toEqual(['superseded', 'updated', 'unchanged', 'created']);
    expect(result.usage).toEqual({ inputTokens: 200, outputTokens: 20, calls: 2 });
    const [superseded, updated, unchanged] = result.results;
    expect(superseded?.previous?.id).toBe(editor.id);
    expect(unchanged?.memory.id).toBe(tea.id);

    // supersede: through resolve() — hidden from search, visible as of before, history has the reason, contradicts edge.
    const hits = await learner.search('editor mode', { scope: USER });
    expect(hits.map((hit) => hit.memory.content)).toContain('The user prefers dark mode in the editor.');
    expect(hits.map((hit) => hit.memory.content)).not.toContain(editor.content);
    const before = await learner.search('editor mode', { scope: USER, asOf: new Date(clock - 1000) });
    expect(before.map((hit) => hit.memory.content)).toContain(editor.content);
    const history = await learner.history(editor.id);
    expect(history.at(-1)).toMatchObject({ event: 'superseded', reason: 'preference changed (inferred by scripted:test)' });
    expect((await learner.relations(editor.id)).map((edge) => edge.type)).toEqual(['contradicts']);

    // update: through update() with a history reason and provenance.
    expect(updated?.memory.id).toBe(database.id);
    expect(updated?.memory.content).toBe('The project uses PostgreSQL 16 (was 15) for storage.');
    expect((await learner.history(database.id)).at(-1)).toMatchObject({
      event: 'updated',
      reason: 'version bump (inferred by scripted:test)',
    });
    expect((updated?.memory.metadata.inference as { operation: string }).operation).toBe('update');
  });

  it("reconciles within exactly the given scope: no scope never sees (or rewrites) a user's memories", async () => {
    const { memory, editor } = await seeded();
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
      engram_reconcile: { operations: [{ op: 'supersede', fact: 0, target: 'm1', content: null, reason: 'changed' }] },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const result = await learner.add('I use dark mode', { infer: true, onFailure: 'throw' });
    expect(result.plan.reconciled).toBe(false);
    expect(result.results.map((item) => [item.status, item.memory.content, item.memory.scope])).toEqual([
      ['created', 'The user prefers dark mode in the editor.', {}],
    ]);
    expect((await learner.get(editor.id))?.supersededBy).toBeNull();
  });

  it('finds the memories of its own scope even when narrower scopes hold closer ones', async () => {
    const memory = memoryWith(undefined);
    const mine = await memory.add({ content: 'The user prefers light mode in the editor.' });
    for (let user = 0; user < 6; user++)
      await memory.add({ content: 'The user prefers dark mode in the editor.', scope: { userId: `u${user}` } });
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
      engram_reconcile: { operations: [{ op: 'supersede', fact: 0, target: 'm1', content: null, reason: 'changed' }] },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const result = await learner.add('I use dark mode', { infer: true, onFailure: 'throw' });
    expect(result.plan.related.map((item) => item.id)).toEqual([mine.memory.id]);
    expect(result.results[0]?.previous?.id).toBe(mine.memory.id);
  });

  it('rejects and reports an alias the model was not given; the fact is added and nothing else changes', async () => {
    const { memory, editor } = await seeded();
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
      engram_reconcile: { operations: [{ op: 'supersede', fact: 0, target: 'm9', content: null, reason: 'changed' }] },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const result = await learner.add('I switched to dark mode', { infer: true, scope: USER });
    expect(result.plan.rejected).toEqual([
      { operation: expect.objectContaining({ target: 'm9' }), reason: expect.stringContaining('alias "m9" was not given to the model') },
    ]);
    expect(result.warnings.join('\n')).toContain('m9');
    expect(result.results.map((item) => item.status)).toEqual(['created']);
    expect((await learner.get(editor.id))?.supersededBy).toBeNull();
  });

  it('refuses a second operation for one fact and two changes to one memory', async () => {
    const { memory, editor } = await seeded();
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user prefers dark mode in the editor.'), fact('The user prefers a dark theme in the editor.')] },
      engram_reconcile: {
        operations: [
          { op: 'supersede', fact: 0, target: 'm1', content: null, reason: 'a' },
          { op: 'none', fact: 0, target: 'm1', content: null, reason: 'b' },
          { op: 'supersede', fact: 1, target: 'm1', content: null, reason: 'c' },
          { op: 'add', fact: 7, target: null, content: null, reason: 'd' },
        ],
      },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const result = await learner.add('…', { infer: true, scope: USER });
    expect(result.plan.related[0]?.id).toBe(editor.id);
    expect(result.plan.rejected.map((item) => item.reason)).toEqual([
      'fact 0 already has an operation',
      'm1 is already changed by another operation',
      'fact 7 does not exist (there are 2)',
    ]);
    expect(result.results.map((item) => item.status)).toEqual(['superseded', 'created']);
  });

  it('dryRun returns the plan after both calls and writes nothing', async () => {
    const { memory, editor } = await seeded();
    const model = scriptedModel({
      engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
      engram_reconcile: { operations: [{ op: 'supersede', fact: 0, target: 'm1', content: null, reason: 'changed' }] },
    });
    const learner = new Memory({ store: memory.store, embedder: hashEmbedder(), model, logger: false, now: () => clock });
    const count = await learner.count();
    const result = await learner.add('I use dark mode now', { infer: true, scope: USER, dryRun: true });
    expect(result.results).toEqual([]);
    expect(result.plan.operations).toEqual([
      { op: 'supersede', fact: 0, target: 'm1', targetId: editor.id, content: null, reason: 'changed' },
    ]);
    expect(await learner.count()).toBe(count);
    expect((await learner.get(editor.id))?.supersededBy).toBeNull();
  });
});

describe('add(messages, { infer: true }): failures never apply part of a plan', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['the extraction call fails', { engram_facts: new Error('connection reset') }, /failed during engram_facts: connection reset/],
    ['extraction is not JSON', { engram_facts: 'Sure! Here are the facts: …' }, /engram_facts with text that is not JSON/],
    [
      'extraction breaks the schema',
      { engram_facts: { facts: [{ content: '' }] } },
      /engram_facts answer does not follow the schema: facts\.0\.content/,
    ],
    [
      'the reconcile call fails after extraction succeeded',
      {
        engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
        engram_reconcile: new ModelError('500 from the server'),
      },
      /500 from the server/,
    ],
    [
      'reconcile breaks the schema',
      {
        engram_facts: { facts: [fact('The user prefers dark mode in the editor.')] },
        engram_reconcile: { operations: [{ op: 'delete', fact: 0 }] },
      },
      /engram_reconcile answer does not follow the schema: operations\.0\.op/,
    ],
  ];

  for (const [name, script, message] of cases) {
    it(`${name}: 'throw' writes nothing; the default stores the messages verbatim and warns`, async () => {
      const memory = memoryWith(undefined);
      const light = await memory.add({ content: 'The user prefers light mode in the editor.', scope: USER });
      const learner = new Memory({
        store: memory.store,
        embedder: hashEmbedder(),
        model: scriptedModel(script),
        logger: false,
        now: () => clock,
      });
      const messages = [
        { role: 'user' as const, content: 'I switched to dark mode.', id: 'u1' },
        { role: 'assistant' as const, content: 'Got it.', id: 'a1' },
      ];
      const error = await failure(learner.add(messages, { infer: true, scope: USER, onFailure: 'throw' }));
      expect(ModelError.isInstance(error)).toBe(true);
      expect(error.message).toMatch(message);
      expect(await learner.count()).toBe(1);

      const result = await learner.add(messages, { infer: true, scope: USER, conversationId: 'c1' });
      expect(result.warnings[0]).toMatch(message);
      expect(result.warnings[0]).toContain('stored the messages verbatim');
      expect(result.results).toHaveLength(1);
      const raw = result.results[0]?.memory;
      expect(raw?.content).toBe('[user] I switched to dark mode.\n[assistant] Got it.');
      expect([raw?.type, raw?.subtype, raw?.conversationId]).toEqual(['observation', 'conversation', 'c1']);
      expect(raw?.metadata.inference).toMatchObject({ status: 'failed', model: 'scripted:test', messageIds: ['u1', 'a1'] });
      expect(await learner.count()).toBe(2);
      expect((await learner.get(light.memory.id))?.supersededBy).toBeNull();
    });
  }

  it('an aborted signal rejects with its reason and stores nothing, whatever onFailure says', async () => {
    const controller = new AbortController();
    const model = scriptedModel({
      engram_facts: () => {
        controller.abort(new Error('stopped by the user'));
        return new Error('aborted');
      },
    });
    const memory = memoryWith(model);
    expect((await failure(memory.add('x', { infer: true, signal: controller.signal }))).message).toBe('stopped by the user');
    expect(await memory.count()).toBe(0);
  });

  it('a type the model invents is stored as observation with a warning, even with a strict ontology', async () => {
    const model = scriptedModel({ engram_facts: { facts: [fact('The build takes 4 minutes.', 'benchmark_result')] } });
    const memory = memoryWith(model, { ontology: { strict: true } });
    const result = await memory.add('the build took 4 minutes', { infer: true });
    expect(result.results[0]?.memory.type).toBe('observation');
  });
});

describe('the exported schemas', () => {
  it('accept what the JSON Schemas describe and reject the rest', () => {
    expect(factsSchema.safeParse({ facts: [{ content: 'x', type: null, tags: null, importance: null }] }).success).toBe(true);
    expect(factsSchema.safeParse({ facts: [{ content: 'x', importance: 2 }] }).success).toBe(false);
    expect(reconcileSchema.safeParse({ operations: [{ op: 'add', fact: 0, target: null, content: null, reason: 'new' }] }).success).toBe(
      true,
    );
    expect(reconcileSchema.safeParse({ operations: [{ op: 'add', fact: -1, reason: 'x' }] }).success).toBe(false);
  });
});
