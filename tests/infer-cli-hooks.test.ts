import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, inMemoryStore, Memory, type MemoryStore } from '@engram/core';
import { runClaudeCodeHook } from '@engram/mcp';
import { openaiCompatibleModel } from '@engram/models';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliIo, runCli } from '../packages/engram/src/cli/program.js';
import { type ModelCall, startModelServer } from '../packages/models/src/test-fixtures/model-server.js';

// remember --infer, harvest and the Claude Code Stop hook with a model: a local OpenAI
// wire-format server extracts "We use X" / "X is broken" statements as facts.
const server = await startModelServer({
  models: ['extractor'],
  answer: (call: ModelCall) => {
    if (call.schemaName === 'engram_reconcile') return { operations: [] };
    const facts = [
      ...[...call.prompt.matchAll(/We use ([^.]+)\./g)].map((match) => ({ content: `The team uses ${match[1]}.`, type: 'tool_choice' })),
      ...[...call.prompt.matchAll(/(\w+) is broken/g)].map((match) => ({ content: `${match[1]} is broken.`, type: 'bug' })),
    ];
    return { facts: facts.map((fact) => ({ ...fact, tags: null, importance: null })) };
  },
});
const directory = mkdtempSync(join(tmpdir(), 'engram-infer-cli-'));
afterAll(async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
});

const MODEL_ENV = { ENGRAM_MODEL: 'extractor', ENGRAM_MODEL_URL: server.baseURL };

function capture() {
  const stream = {
    text: '',
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  return stream;
}

async function cli(args: string[], store: MemoryStore, env: Record<string, string> = MODEL_ENV) {
  const stdout = capture();
  const stderr = capture();
  const io: CliIo = {
    stdout,
    stderr,
    env,
    createMemory: (_path, context) =>
      new Memory({ store, embedder: hashEmbedder(), logger: false, ...(context.model ? { model: context.model } : {}) }),
  };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function transcript(lines: Array<{ role: 'user' | 'assistant'; text: string }>): string {
  const path = join(directory, `session-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(
    path,
    lines.map((line) => JSON.stringify({ type: line.role, message: { role: line.role, content: line.text } })).join('\n'),
  );
  return path;
}

describe('engram remember --infer', () => {
  it('extracts, shows a dry run, then stores', async () => {
    const store = inMemoryStore();
    const dry = await cli(['remember', 'We use pnpm. Also the cache is broken.', '--infer', '--dry-run', '--user', 'ada'], store);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would add\s+-\s+tool_choice\s+The team uses pnpm\./);
    expect(dry.stdout).toMatch(/would add\s+-\s+bug\s+cache is broken\./);
    expect(dry.stdout).toContain('dry run: nothing written');
    const stored = await cli(['remember', 'We use pnpm. Also the cache is broken.', '--infer', '--user', 'ada', '--json'], store);
    const document = JSON.parse(stored.stdout);
    expect(
      document.results.map((item: { status: string; memory: { type: string; subtype: string } }) => [
        item.status,
        item.memory.type,
        item.memory.subtype,
      ]),
    ).toEqual([
      ['created', 'decision', 'tool_choice'],
      ['created', 'error', 'bug'],
    ]);
    expect(document.usage.calls).toBe(1);
  });

  it('without ENGRAM_MODEL says how to configure one; without --infer stores the text as given', async () => {
    const store = inMemoryStore();
    const missing = await cli(['remember', 'We use pnpm.', '--infer'], store, {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('set ENGRAM_MODEL');
    const plain = await cli(['remember', 'We use pnpm.'], store, {});
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^created /);
  });
});

describe('engram harvest', () => {
  const path = transcript([
    { role: 'user', text: 'The build is slow, can you check?' },
    { role: 'assistant', text: 'We decided to switch to esbuild instead of webpack for the dev server.' },
    { role: 'user', text: 'Great. We use esbuild from now on.' },
  ]);

  it('is a dry run by default, with the model when configured', async () => {
    const store = inMemoryStore();
    const dry = await cli(['harvest', path], store);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would add\s+tool_choice\s+The team uses esbuild from now on\./);
    expect(dry.stdout).toContain('with openai-compatible:extractor; dry run: run again with --apply to store');
    expect(await store.count({})).toBe(0);
    const applied = await cli(['harvest', path, '--apply', '--project', 'shop'], store);
    expect(applied.stdout).toMatch(/created\s+decision\/tool_choice\s+The team uses esbuild/);
    const [record] = (await store.list({}, { limit: 10 })).items;
    expect(record?.tags).toEqual(['claude-code', 'project:shop']);
    expect(record?.conversationId).toMatch(/^session-/);
  });

  it('falls back to keyword rules without a model', async () => {
    const store = inMemoryStore();
    const dry = await cli(['harvest', path, '--project', 'shop'], store, {});
    expect(dry.stdout).toMatch(/would add\s+decision\s+Claude Code session in shop/);
    expect(dry.stdout).toContain('keyword rules (set ENGRAM_MODEL to use a model)');
    const refused = await cli(['harvest', path, '--dry-run', '--apply'], store, {});
    expect(refused.code).toBe(2);
  });
});

describe('Claude Code Stop hook with a model', () => {
  it('learns from the latest exchange only', async () => {
    const memory = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder(),
      logger: false,
      model: openaiCompatibleModel({ baseURL: server.baseURL, model: 'extractor', maxRetries: 0 }),
    });
    const path = transcript([
      { role: 'user', text: 'We use yarn.' },
      { role: 'assistant', text: 'OK.' },
      { role: 'user', text: 'Correction: we moved. We use bun.' },
      { role: 'assistant', text: 'Noted.' },
    ]);
    const result = await runClaudeCodeHook('stop', {
      input: { transcript_path: path, cwd: directory, session_id: 's-1' },
      memory,
      log: () => {},
    });
    expect(result.memoryIds).toHaveLength(1);
    const { items } = await memory.list({});
    expect(items.map((item) => [item.content, item.conversationId, item.metadata.source])).toEqual([
      ['The team uses bun.', 's-1', 'claude-code-stop-hook'],
    ]);
    await memory.close();
  });

  it('cancels a model call still running at the deadline and stores nothing', async () => {
    const memory = new Memory({
      store: inMemoryStore(),
      embedder: hashEmbedder(),
      logger: false,
      // Its own timeout comes after the hook's deadline: without the cancel it would fail then and store the text raw.
      model: openaiCompatibleModel({ baseURL: server.baseURL, model: 'extractor', maxRetries: 0, timeoutMs: 400 }),
    });
    server.next(() => {}); // the model never answers
    const path = transcript([{ role: 'user', text: 'We use deno.' }]);
    const logs: string[] = [];
    const result = await runClaudeCodeHook('stop', {
      input: { transcript_path: path, cwd: directory, session_id: 's-2' },
      memory,
      timeoutMs: 200,
      log: (message) => logs.push(message),
    });
    expect(result).toEqual({ stdout: '', memoryIds: [] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await memory.count()).toBe(0);
    expect(logs.join('\n')).toContain('gave up after 200 ms');
    await memory.close();
  });
});
