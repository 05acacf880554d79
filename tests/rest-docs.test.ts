import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openaiCompatibleModel } from '@engram/models';
import { type ServerHandle, serve, tenantMemoryFactory } from '@engram/rest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ModelCall, type ModelServer, startModelServer } from '../packages/models/src/test-fixtures/model-server.js';

/**
 * docs/rest.md: every ```sh block runs as pasted from the repository root (after a build). The
 * route examples (`sh norun`: they need a server) run in order, in one shell, against a fresh
 * anonymous server at $ENGRAM_URL; a block marked `error` shows an error on purpose. The server's
 * model (for `infer: true`) is a local node:http server speaking OpenAI's wire format, whose "model"
 * keeps every user line as a fact and adds what is not stored word for word.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const page = readFileSync(join(root, 'docs', 'rest.md'), 'utf8');
const blocks = [...page.matchAll(/^```(sh|bash)([^\n]*)\n([\s\S]*?)^```$/gm)].map((match) => ({
  info: (match[2] ?? '').trim().split(/\s+/),
  code: match[3] as string,
}));
const directory = mkdtempSync(join(tmpdir(), 'engram-rest-docs-'));
let server: ServerHandle;
let modelServer: ModelServer;

function answer(call: ModelCall): unknown {
  if (call.schemaName === 'engram_facts') {
    const said = [...call.prompt.matchAll(/^\[user\] (.*)$/gm)].map((match) => match[1] as string);
    return { facts: said.map((content) => ({ content, type: 'preference', tags: null, importance: null })) };
  }
  const [factsPart, memoriesPart] = call.prompt.split('EXISTING MEMORIES:');
  const lines = (text: string | undefined) =>
    (text ?? '')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { fact: number; alias: string; content: string });
  const memories = lines(memoriesPart);
  return {
    operations: lines(factsPart).map(({ fact, content }) => {
      const same = memories.find((memory) => memory.content === content);
      return same
        ? { op: 'none', fact, target: same.alias, content: null, reason: 'already stored' }
        : { op: 'add', fact, target: null, content: null, reason: 'new' };
    }),
  };
}

beforeAll(async () => {
  modelServer = await startModelServer({ models: ['docs-model'], answer });
  server = await serve({
    memory: tenantMemoryFactory({
      store: { kind: 'sqlite', path: join(directory, 'memory.db') },
      embedder: 'hash',
      encryption: { key: 'ab'.repeat(32) },
      model: openaiCompatibleModel({ baseURL: modelServer.baseURL, model: 'docs-model', maxRetries: 0 }),
    }),
    port: 0,
    log: () => {},
  });
});

afterAll(async () => {
  await server?.close();
  await modelServer?.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Runs a script in bash -e without blocking this process (the server under test lives in it). */
function bash(script: string, env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-c', script], {
      cwd: root,
      env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_API_KEYS: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('docs/rest.md', () => {
  it('has runnable blocks and route examples', () => {
    expect(blocks.filter((block) => !block.info.includes('norun')).length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((block) => block.info.includes('norun')).length).toBeGreaterThanOrEqual(6);
  });

  it('runs the stand-alone blocks as pasted', { timeout: 120_000 }, async () => {
    for (const block of blocks.filter((candidate) => !candidate.info.includes('norun'))) {
      const result = await bash(block.code);
      expect(result.status, `${block.code}\n${result.stderr}`).toBe(0);
      expect(result.stdout).not.toContain('{"error":{');
    }
  });

  it('runs every route example against a server, each answering without an error', { timeout: 120_000 }, async () => {
    const examples = blocks.filter((block) => block.info.includes('norun'));
    const script = examples.map((block, index) => `echo "@@block ${index}@@"\n${block.code}`).join('\n');
    const result = await bash(script, { ENGRAM_URL: server.url });
    expect(result.status, result.stderr).toBe(0);
    const outputs = result.stdout.split(/@@block \d+@@\n/).slice(1);
    expect(outputs).toHaveLength(examples.length);
    examples.forEach((block, index) => {
      const output = outputs[index] as string;
      expect(output.trim().length, block.code).toBeGreaterThan(0);
      if (block.info.includes('error')) expect(output).toContain('{"error":{');
      else expect(output, block.code).not.toContain('{"error":{');
    });
    // The infer example reached the model: a dry run that writes nothing, then a write.
    const inferIndex = examples.findIndex((block) => block.code.includes('"infer": true'));
    expect(inferIndex).toBeGreaterThanOrEqual(0);
    expect(outputs[inferIndex]).toContain('"status":"created"');
    expect(modelServer.requests.length).toBeGreaterThanOrEqual(2);
    // The examples really touched every documented route.
    const documented = [...page.matchAll(/^\| `(GET|POST|PATCH|DELETE) (\/api\/[^`]*)`/gm)].map((match) => `${match[1]} ${match[2]}`);
    const all = examples.map((block) => block.code).join('\n');
    for (const route of documented) {
      const [method, path] = route.split(' ') as [string, string];
      if (path === '/api/events') continue; // a stream: covered by the SSE tests
      const pattern = path.replace(':id', '[^/?"]+').replace(/\//g, '\\/');
      const used = new RegExp(`${method === 'GET' ? '' : `-X ${method} `}"\\$ENGRAM_URL${pattern}(\\?|")`).test(all);
      expect(used, `${route} has no example`).toBe(true);
    }
  });
});
