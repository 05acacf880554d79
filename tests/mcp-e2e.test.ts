import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';

// End-to-end: the built bin (packages/mcp/dist/bin.js), spawned as MCP clients spawn it, with a
// real MCP client over stdio and over Streamable HTTP, against a SQLite file.

const BIN = fileURLToPath(new URL('../packages/mcp/dist/bin.js', import.meta.url));
const built = existsSync(BIN);
const skipReason = built ? '' : ' (skipped: packages/mcp/dist/bin.js is missing; `npm test` builds it, or run `npm run build`)';

const directories: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function temporary(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-mcp-e2e-'));
  directories.push(directory);
  return directory;
}

function environment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith('ENGRAM_') && name !== 'CLAUDE_PROJECT_DIR') env[name] = value;
  return { ...env, ENGRAM_EMBEDDER: 'hash', ...extra };
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions walk structured results
type Data = Record<string, any>;

interface ToolResult {
  isError?: boolean;
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Data;
}

/** Calls every primary tool once (and a few bad calls), as a client would. */
async function exerciseEveryTool(client: Client): Promise<string[]> {
  const called: string[] = [];
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    called.push(name);
    return (await client.callTool({ name, arguments: args })) as ToolResult;
  };
  const ok = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await call(name, args);
    expect(result.isError, `${name}: ${result.content[0]?.text}`).toBeFalsy();
    return result.structuredContent as Data;
  };

  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name)).toContain('memory_stats');

  const bug = (
    await ok('memory_store', { content: 'Checkout times out when the database pool is exhausted', type: 'bug', tags: ['checkout'] })
  ).memory;
  const fix = (
    await ok('memory_store', {
      content: 'Raised the database pool to 50 with a 5 second acquire timeout',
      type: 'insight',
      tags: ['checkout'],
    })
  ).memory;
  const stale = (await ok('memory_store', { content: 'The database pool size is 10', type: 'configuration', tags: ['checkout'] })).memory;

  const bad = await call('memory_store', { content: 'x', importance: 7 });
  expect(bad.isError).toBe(true);
  expect(bad.content[0]?.text).toMatch(/importance/);
  const badTime = await call('memory_search', { query: 'x', time: 'when pigs fly' });
  expect(badTime.isError).toBe(true);
  expect(badTime.content[0]?.text).toMatch(/Invalid argument time/);

  const hits = await ok('memory_search', { query: 'checkout database pool', limit: 5 });
  expect(hits.count).toBe(3);
  const context = await ok('memory_context', { query: 'checkout timeouts', token_budget: 300 });
  expect(context.text).toContain('Relevant memories');
  expect((await ok('memory_get', { id: bug.id })).memory.content).toBe(bug.content);
  expect((await ok('memory_list', { tags: ['checkout'], limit: 2 })).next_cursor).toEqual(expect.any(String));
  expect((await ok('memory_update', { id: fix.id, importance: 0.9 })).memory.importance).toBe(0.9);
  expect((await ok('memory_link', { source_id: fix.id, target_id: bug.id, type: 'fixes' })).created).toBe(true);
  expect((await ok('memory_graph', { action: 'connected', id: bug.id })).nodes).toHaveLength(1);
  expect((await ok('memory_graph', { action: 'path', from: fix.id, to: bug.id })).found).toBe(true);
  expect((await ok('memory_graph', { action: 'subgraph', id: fix.id })).edges).toHaveLength(1);
  expect((await ok('memory_resolve', { winner_id: fix.id, loser_id: stale.id })).loser.superseded_by).toBe(fix.id);
  expect((await ok('memory_unlink', { source_id: fix.id, target_id: bug.id, type: 'fixes' })).removed).toBe(1);
  expect(await ok('memory_delete', { tags: ['checkout'] })).toMatchObject({ dry_run: true, matched: 2 });
  expect((await ok('memory_delete', { id: bug.id })).deleted).toBe(1);
  const refused = await call('memory_delete', {});
  expect(refused.isError).toBe(true);
  const consolidation = await ok('memory_consolidate', { steps: ['relevance', 'forgetting'] });
  expect(consolidation).toMatchObject({ dry_run: true, scanned: 1, forgetting: { forgotten: [] } });
  const stats = await ok('memory_stats');
  expect(stats).toMatchObject({
    health: { ok: true },
    total: 1,
    superseded: 1,
    store: { name: 'sqlite' },
    embedder: { id: expect.stringMatching(/^hash-v1-\d+$/) },
  });
  const ingested = await ok('memory_ingest', { text: '# Setup\n\nRun make.', title: 'Setup notes', format: 'markdown' });
  expect(ingested).toMatchObject({ failed: 0, chunks: { created: 1 } });
  const refusedPath = await call('memory_ingest', { paths: ['/etc/passwd'] });
  expect(refusedPath.isError).toBe(true);
  expect(await ok('memory_reindex', {})).toMatchObject({ conversations: 0, updated: 0 });
  return [...new Set(called)];
}

const PRIMARY_TOOLS = [
  'memory_consolidate',
  'memory_context',
  'memory_delete',
  'memory_get',
  'memory_graph',
  'memory_ingest',
  'memory_link',
  'memory_list',
  'memory_reindex',
  'memory_resolve',
  'memory_search',
  'memory_stats',
  'memory_store',
  'memory_unlink',
  'memory_update',
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Starts `engram-mcp <args>` and resolves with the URL it prints once listening. */
function startHttp(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, '--http', '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /at (http:\/\/\S+\/mcp)/.exec(stderr);
      if (match) resolve({ child, url: match[1] as string });
    });
    child.once('exit', (code) => reject(new Error(`engram-mcp exited with ${code}: ${stderr}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function rawPost(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const outgoing = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

function run(
  args: string[],
  env: Record<string, string>,
  input = '',
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin?.end(input);
  return exited(child).then((code) => ({ code, stdout, stderr }));
}

describe.skipIf(!built)(`engram-mcp end to end${skipReason}`, () => {
  it('answers initialize over stdio on each of 5 fresh spawns (time logged; speed belongs to the benchmarks)', async () => {
    const directory = temporary();
    const timings: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const started = performance.now();
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN],
        env: environment({ ENGRAM_PATH: join(directory, 'memory.db') }),
        stderr: 'pipe',
      });
      const client = new Client({ name: 'engram-e2e', version: '1.0.0' });
      await client.connect(transport);
      timings.push(performance.now() - started);
      expect(client.getServerVersion()?.name).toBe('engram');
      await client.close();
    }
    const typical = median(timings);
    console.log(
      `engram-mcp initialize over stdio (spawn → initialize result): median ${typical.toFixed(0)} ms of [${timings.map((time) => time.toFixed(0)).join(', ')}]`,
    );
    // Logged, not asserted: a timed unit test fails on a loaded machine and proves nothing on an idle one.
    expect(timings).toHaveLength(5);
  });

  it('serves every tool over stdio against SQLite', async () => {
    const directory = temporary();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, '--compat'],
      env: environment({ ENGRAM_PATH: join(directory, 'memory.db'), ENGRAM_USER_ID: 'e2e' }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'engram-e2e', version: '1.0.0' });
    await client.connect(transport);
    expect((await exerciseEveryTool(client)).filter((name) => name.startsWith('memory_')).sort()).toEqual(PRIMARY_TOOLS);
    const compat = (await client.callTool({ name: 'retrieve_memory', arguments: { query: 'database pool' } })) as ToolResult;
    expect(compat.isError).toBeFalsy();
    const prompt = await client.getPrompt({ name: 'memory_guide', arguments: {} });
    expect(prompt.messages).toHaveLength(1);
    await client.close();
    expect(existsSync(join(directory, 'memory.db'))).toBe(true);
  });

  it('serves every tool over Streamable HTTP against SQLite, and stops cleanly on SIGTERM', async () => {
    const directory = temporary();
    const { child, url } = await startHttp([], environment({ ENGRAM_PATH: join(directory, 'memory.db') }));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const client = new Client({ name: 'engram-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    expect((await exerciseEveryTool(client)).sort()).toEqual(PRIMARY_TOOLS);
    // A second client sees the same store.
    const other = new Client({ name: 'engram-e2e-2', version: '1.0.0' });
    await other.connect(new StreamableHTTPClientTransport(new URL(url)));
    const stats = (await other.callTool({ name: 'memory_stats', arguments: {} })) as ToolResult;
    expect(stats.structuredContent?.total).toBe(2);
    await client.close();
    await other.close();
    expect(await rawPost(url, { host: 'evil.example:80' })).toBe(403);
    expect(await rawPost(url, { origin: 'https://evil.example' })).toBe(403);
    expect(await rawPost(url.replace('/mcp', '/elsewhere'), {})).toBe(404);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });

  it('requires the bearer token when one is set, and refuses a public address without one', async () => {
    const directory = temporary();
    const { child, url } = await startHttp(['--token', 's3cret-token'], environment({ ENGRAM_PATH: join(directory, 'memory.db') }));
    expect(await rawPost(url, {})).toBe(401);
    expect(await rawPost(url, { authorization: 'Bearer wrong' })).toBe(401);
    const client = new Client({ name: 'engram-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: 'Bearer s3cret-token' } } }),
    );
    const stored = (await client.callTool({ name: 'memory_store', arguments: { content: 'authorised write' } })) as ToolResult;
    expect(stored.isError).toBeFalsy();
    await client.close();
    child.kill('SIGTERM');
    await exited(child);

    const refused = await run(['--http', '--host', '0.0.0.0', '--port', '0'], environment({ ENGRAM_PATH: join(directory, 'other.db') }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ENGRAM_MCP_TOKEN/);
  });

  it('reports a Postgres store it cannot load as a tool error and keeps serving', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN],
      env: environment({ ENGRAM_PG_URL: 'postgres://engram:hunter2@127.0.0.1:1/engram' }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'engram-e2e', version: '1.0.0' });
    await client.connect(transport);
    const result = (await client.callTool({ name: 'memory_store', arguments: { content: 'x' } })) as ToolResult;
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toMatch(/postgres/i);
    expect(result.content[0]?.text).not.toContain('hunter2');
    const stats = (await client.callTool({ name: 'memory_stats', arguments: {} })) as ToolResult;
    expect(stats.structuredContent?.health.ok).toBe(false);
    await client.close();
  });

  it('runs the Claude Code hooks from the bin', async () => {
    const home = temporary();
    const projectRoot = join(temporary(), 'web-shop');
    mkdirSync(join(projectRoot, '.git'), { recursive: true });
    const env = environment({ HOME: home, ENGRAM_PATH: join(home, 'memory.db') });

    const installed = await run(['hooks', 'install', '--global'], env);
    expect(installed.code).toBe(0);
    const settings = JSON.parse(readFileSync(join(home, '.claude', 'settings.json'), 'utf8'));
    // engram-mcp is not on the test's PATH: the hooks run this node and this install's bin script.
    const written = settings.hooks.SessionStart[0].hooks[0].command as string;
    expect(written).toBe(
      `${process.execPath} ${join(fileURLToPath(new URL('../packages/mcp/bin/engram-mcp.js', import.meta.url)))} hook session-start`,
    );
    expect(installed.stdout).toContain(`SessionStart runs: ${written}`);
    expect(installed.stdout).toMatch(/engram-mcp is not on your PATH/);
    expect((await run(['hooks', 'install', '--global'], env)).stdout).toMatch(/nothing changed/);

    const transcriptPath = join(projectRoot, 'transcript.jsonl');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      transcriptPath,
      `${JSON.stringify({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'We decided to cache product pages for 60 seconds at the edge.' }] } })}\n`,
    );
    const stop = await run(
      ['hook', 'stop'],
      env,
      JSON.stringify({ session_id: 's1', transcript_path: transcriptPath, cwd: projectRoot, hook_event_name: 'Stop' }),
    );
    expect(stop).toMatchObject({ code: 0, stdout: '' });
    const start = await run(
      ['hook', 'session-start'],
      env,
      JSON.stringify({ session_id: 's2', cwd: projectRoot, hook_event_name: 'SessionStart', source: 'startup' }),
    );
    expect(start.code).toBe(0);
    const output = JSON.parse(start.stdout);
    expect(output.hookSpecificOutput.hookEventName).toBe('SessionStart');
    expect(output.hookSpecificOutput.additionalContext).toContain('cache product pages for 60 seconds');
    const broken = await run(['hook', 'session-start'], env, '{ not json');
    expect(broken.code).toBe(0);
  });

  it('exits 2 on a usage error', async () => {
    const result = await run(['--port', '80'], environment({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--port does not apply to stdio/);
  });
});
