import { hashEmbedder, inMemoryStore, type LanguageModelRequest, Memory } from '@engram/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedModel } from '../../core/src/extraction/test-fixtures/scripted-model.js';
import { createEngramApp, type EngramApp } from './create-engram-app.js';
import { call } from './testing/call.js';

/**
 * POST /api/memories with `messages` + `infer: true`, through `app.request()`, each tenant's Memory
 * holding one scripted LanguageModel (a plain object answering the two named schemas). The model
 * "extracts" one fact per user line and reconciles by rule, so every status can be reached.
 */

const FACTS: Record<string, string> = {
  'I prefer light mode in my editor.': 'The user prefers light mode in the editor.',
  'Actually I switched to dark mode.': 'The user prefers dark mode in the editor.',
  'Dark mode, as I said.': 'The user prefers dark mode in the editor.',
  'Team B ships on Fridays.': 'Team B ships releases on Fridays.',
  'Team A ships on Mondays.': 'Team A ships releases on Mondays.',
};

const userLines = (request: LanguageModelRequest) =>
  [...String(request.messages[0]?.content ?? '').matchAll(/^\[user\] (.*)$/gm)].map((match) => match[1] as string);

const parseLines = (text: string | undefined) =>
  (text ?? '')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { fact: number; alias: string; content: string });

const model = scriptedModel(
  {
    engram_facts: (request: LanguageModelRequest) => {
      if (userLines(request).includes('Break the model.')) return new Error('connection reset by peer');
      return { facts: userLines(request).flatMap((line) => (FACTS[line] ? [{ content: FACTS[line], type: 'preference' }] : [])) };
    },
    engram_reconcile: (request: LanguageModelRequest) => {
      const [factsPart, memoriesPart] = String(request.messages[0]?.content ?? '').split('EXISTING MEMORIES:');
      const memories = parseLines(memoriesPart);
      return {
        operations: parseLines(factsPart).map(({ fact, content }) => {
          const same = memories.find((memory) => memory.content === content);
          if (same) return { op: 'none', fact, target: same.alias, reason: 'already stored' };
          const theme = memories.find((memory) => / mode in the editor/.test(memory.content));
          if (theme) return { op: 'supersede', fact, target: theme.alias, reason: 'the theme preference changed' };
          return { op: 'add', fact, reason: 'new' };
        }),
      };
    },
  },
  'scripted:rest',
);

const keys = { team_a: 'key-of-team-a-0123456789', team_b: 'key-of-team-b-0123456789', plain: 'key-of-plain-0123456789' };
const asA = { authorization: `Bearer ${keys.team_a}` };
const asB = { authorization: `Bearer ${keys.team_b}` };
const asPlain = { authorization: `Bearer ${keys.plain}` };
const built = new Map<string, Memory>();
let app: EngramApp;

beforeAll(() => {
  app = createEngramApp({
    // Tenant "plain" has no model: the server it stands for was started without ENGRAM_MODEL.
    memory: (tenant) => {
      const memory = new Memory({
        store: inMemoryStore(),
        embedder: hashEmbedder(),
        logger: false,
        ...(tenant === 'plain' ? {} : { model }),
      });
      built.set(tenant, memory);
      return memory;
    },
    auth: { keys },
    rateLimit: false,
    log: () => {},
  });
});

afterAll(async () => {
  await app.engram.close();
});

const learn = (body: Record<string, unknown>, headers: Record<string, string> = asA) =>
  call(app, 'POST', '/api/memories', { infer: true, ...body }, headers);

describe('POST /api/memories with infer', () => {
  let lightId = '';

  it('adds a new fact: 201, { results, plan, usage, warnings }, X-Agent-ID applied', async () => {
    const response = await learn(
      { messages: [{ role: 'user', content: 'I prefer light mode in my editor.', id: 'msg-1' }], scope: { userId: 'ada' }, tags: ['ui'] },
      { ...asA, 'x-agent-id': 'planner' },
    );
    expect(response.status).toBe(201);
    expect(Object.keys(response.json).sort()).toEqual(['plan', 'results', 'usage', 'warnings']);
    expect(response.json.results).toHaveLength(1);
    const [item] = response.json.results;
    expect(item.status).toBe('created');
    expect(item.memory).toMatchObject({
      content: 'The user prefers light mode in the editor.',
      scope: { userId: 'ada', agentId: 'planner' },
      tags: expect.arrayContaining(['ui', 'agent:planner']),
    });
    expect(item.memory.metadata.inference).toMatchObject({ model: 'scripted:rest', messageIds: ['msg-1'] });
    expect(response.json.plan).toMatchObject({ facts: [{ content: 'The user prefers light mode in the editor.' }], reconciled: false });
    expect(response.json.usage).toEqual({ inputTokens: 100, outputTokens: 10, calls: 1 });
    expect(response.json.warnings).toEqual([]);
    lightId = item.memory.id;
  });

  it('a changed fact supersedes the old one; the old stays in history', async () => {
    const response = await learn({
      messages: 'Actually I switched to dark mode.',
      scope: { userId: 'ada', agentId: 'planner' },
      instructions: 'Only remember editor preferences.',
    });
    expect(response.status).toBe(201);
    expect(response.json.results.map((item: { status: string; previous?: { id: string } }) => [item.status, item.previous?.id])).toEqual([
      ['superseded', lightId],
    ]);
    expect(response.json.plan.operations).toMatchObject([{ op: 'supersede', target: 'm1', targetId: lightId }]);
    expect(response.json.usage.calls).toBe(2);
    const lastRequest = model.requests.at(-1);
    expect(lastRequest?.system).toContain('Only remember editor preferences.');
    const old = await call(app, 'GET', `/api/memories/${lightId}`, undefined, asA);
    expect(old.json.memory.supersededBy).toBe(response.json.results[0].memory.id);
  });

  it('a repeated fact is unchanged: 200, nothing written', async () => {
    const before = (await call(app, 'GET', '/api/stats', undefined, asA)).json.total;
    const response = await learn({ messages: 'Dark mode, as I said.', scope: { userId: 'ada', agentId: 'planner' } });
    expect(response.status).toBe(200);
    expect(response.json.results.map((item: { status: string }) => item.status)).toEqual(['unchanged']);
    expect((await call(app, 'GET', '/api/stats', undefined, asA)).json.total).toBe(before);
  });

  it('dryRun returns the plan and writes nothing', async () => {
    const before = (await call(app, 'GET', '/api/stats', undefined, asA)).json.total;
    const response = await learn({ messages: 'Team A ships on Mondays.', dryRun: true });
    expect(response.status).toBe(200);
    expect(response.json.results).toEqual([]);
    expect(response.json.plan.operations).toMatchObject([{ op: 'add', fact: 0 }]);
    expect((await call(app, 'GET', '/api/stats', undefined, asA)).json.total).toBe(before);
  });

  it('a failing model: onFailure "throw" is a 502 that writes nothing; the default keeps the messages verbatim', async () => {
    const before = (await call(app, 'GET', '/api/stats', undefined, asA)).json.total;
    const thrown = await learn({ messages: 'Break the model.', onFailure: 'throw' });
    expect(thrown.status).toBe(502);
    expect(thrown.json.error.code).toBe('MODEL_ERROR');
    expect(thrown.json.error.message).not.toContain('connection reset');
    expect((await call(app, 'GET', '/api/stats', undefined, asA)).json.total).toBe(before);

    const kept = await learn({ messages: 'Break the model.' });
    expect(kept.status).toBe(201);
    expect(kept.json.results[0].memory).toMatchObject({ content: '[user] Break the model.', type: 'observation' });
    expect(kept.json.warnings).toEqual([expect.stringContaining('stored the messages verbatim')]);
  });
});

describe('POST /api/memories with infer: bad input is a 400 naming the field', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['no messages', {}, 'messages', /messages/i],
    ['infer false', { infer: false, messages: 'hi' }, 'infer', /must be true/],
    ['content with infer', { content: 'hi' }, 'content', /send the conversation as messages/],
    ['an unknown role', { messages: [{ role: 'bot', content: 'hi' }] }, 'messages.0.role', /./],
    ['empty messages', { messages: [] }, 'messages', /./],
    ['a bad onFailure', { messages: 'hi', onFailure: 'ignore' }, 'onFailure', /./],
    ['an unknown field', { messages: 'hi', verbose: true }, '(body)', /unknown field\(s\) "verbose"/],
  ];
  for (const [name, body, field, message] of cases) {
    it(name, async () => {
      const response = await learn(body);
      expect(response.status).toBe(400);
      expect(response.json.error).toMatchObject({ code: 'VALIDATION_ERROR', field });
      expect(response.json.error.message).toMatch(message);
    });
  }

  it('a plain add still reports its own fields', async () => {
    const response = await call(app, 'POST', '/api/memories', { tags: ['x'] }, asA);
    expect(response.status).toBe(400);
    expect(response.json.error.field).toBe('content');
  });

  it('a server without a model: 400 naming infer and ENGRAM_MODEL, nothing written', async () => {
    const response = await learn({ messages: 'I prefer light mode in my editor.' }, asPlain);
    expect(response.status).toBe(400);
    expect(response.json.error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'infer' });
    expect(response.json.error.message).toContain('ENGRAM_MODEL');
    expect((await call(app, 'GET', '/api/stats', undefined, asPlain)).json.total).toBe(0);
  });
});

describe('tenant isolation under inference', () => {
  it("tenant A's inference never sees tenant B's memories", async () => {
    const b = await learn({ messages: 'Team B ships on Fridays.' }, asB);
    expect(b.status).toBe(201);
    const bMemory = b.json.results[0].memory;
    // A says something closely related to B's memory: the lookup runs in A's store only.
    const from = model.requests.length;
    const a = await learn({ messages: 'Team A ships on Mondays.' }, asA);
    expect(a.status).toBe(201);
    expect(a.json.results.map((item: { status: string }) => item.status)).toEqual(['created']);
    const aIds = new Set(
      (await call(app, 'GET', '/api/memories?limit=100&includeSuperseded=true', undefined, asA)).json.items.map(
        (memory: { id: string }) => memory.id,
      ),
    );
    for (const related of a.json.plan.related) expect(aIds.has(related.id)).toBe(true);
    for (const request of model.requests.slice(from)) {
      const text = JSON.stringify(request);
      expect(text).not.toContain(bMemory.id);
      expect(text).not.toContain('Team B ships releases on Fridays.');
    }
    expect(await built.get('team_b')?.count()).toBe(1);
  });
});
