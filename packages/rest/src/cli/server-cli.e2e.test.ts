import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sseReader } from '../testing/sse-reader.js';

// The bin `npx engram-server` runs (it loads the build: npm run build).
const bin = fileURLToPath(new URL('../../bin/engram-server.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'engram-server-cli-'));
const environment = {
  ...process.env,
  ENGRAM_EMBEDDER: 'hash',
  ENGRAM_PATH: '',
  ENGRAM_PG_URL: '',
  ENGRAM_API_KEYS: '',
  ENGRAM_KEYS_FILE: '',
};
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: directory, env: environment });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the server and resolves with its URL once it listens (every worker, with --workers). */
function start(
  args: string[],
  env: NodeJS.ProcessEnv = environment,
): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, '--port', '0', ...args], { cwd: directory, env });
  children.push(child);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(stderr);
      if (match) resolve({ child, url: match[1] as string, output: () => stderr, exited });
    });
    child.on('close', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
}

describe('engram-server', () => {
  it('creates, lists and revokes keys, keeping only scrypt hashes', async () => {
    const created = await run(['keys', 'create', '--tenant', 'team_a', '--label', 'laptop', '--json']);
    expect(created.code).toBe(0);
    const { key, id, file } = JSON.parse(created.stdout) as { key: string; id: string; file: string };
    expect(key).toMatch(/^egk_[a-f0-9]{12}_/);
    expect(file).toBe(join(directory, '.engram', 'memory.keys.json'));
    const { readFileSync } = await import('node:fs');
    const stored = readFileSync(file, 'utf8');
    // The secret is everything after the second underscore (base64url may itself contain '_').
    const secret = key.slice(`egk_${id}_`.length);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(stored).not.toContain(secret);
    expect(stored).toContain('"hash"');
    expect(statSync(file).mode & 0o077).toBe(0);
    const listed = await run(['keys', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([{ id, tenant: 'team_a', label: 'laptop', createdAt: expect.any(String) }]);
    expect(listed.stdout).not.toContain('hash');

    const server = await start([]);
    const stats = await fetch(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${key}` } });
    expect(((await stats.json()) as { tenant: string }).tenant).toBe('team_a');
    expect((await fetch(`${server.url}/api/stats`)).status).toBe(401);

    expect((await run(['keys', 'revoke', id])).code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await fetch(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    expect((await run(['keys', 'revoke', id])).code).toBe(1);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('stopped');
  });

  it('refuses a public host without keys, and bad flags, with usage', async () => {
    const publicHost = await run(['--host', '0.0.0.0', '--port', '0', '--path', join(directory, 'public.db')]);
    expect(publicHost.code).toBe(2);
    expect(publicHost.stderr).toMatch(/no API keys/);
    const badFlag = await run(['--workers', 'many']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--workers must be an integer');
  });

  // /proc shows each process's own command line: Linux only.
  const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const childrenOf = (pid: number) => {
    const file = `/proc/${pid}/task/${pid}/children`;
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number) : [];
  };

  it.skipIf(process.platform !== 'linux')(
    'serves one worker in a child process with the server’s V8 flags; SIGTERM and a killed launcher both stop it gracefully',
    async () => {
      const path = join(directory, 'flags.db');
      const server = await start(['--path', path]);
      const [child] = childrenOf(server.child.pid as number);
      expect(child).toBeDefined();
      expect(commandLine(child as number)).toContain('--max-semi-space-size=32');
      expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('stopped: in-flight requests finished');
      expect(existsSync(`/proc/${child}`)).toBe(false);

      // The launcher killed outright: the server sees its channel close and stops gracefully.
      const orphaned = await start(['--path', path]);
      const [server2] = childrenOf(orphaned.child.pid as number);
      orphaned.child.kill('SIGKILL');
      await orphaned.exited;
      for (let waited = 0; waited < 10_000 && existsSync(`/proc/${server2}`); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(existsSync(`/proc/${server2}`)).toBe(false);
      expect((await fetch(`${orphaned.url}/api/health`).catch(() => null))?.status).toBeUndefined();
    },
  );

  it.skipIf(process.platform !== 'linux')(
    'keeps a semi-space size the user set, in one process; gives forked workers the flags',
    async () => {
      const own = spawn(process.execPath, [bin, '--port', '0', '--path', join(directory, 'own-flag.db')], {
        cwd: directory,
        env: { ...environment, NODE_OPTIONS: '--max-semi-space-size=8' },
      });
      children.push(own);
      const exited = new Promise((resolve) => own.on('close', resolve));
      await new Promise<void>((resolve) => {
        let text = '';
        own.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('serving')) resolve();
        });
      });
      expect(childrenOf(own.pid as number)).toEqual([]);
      own.kill('SIGTERM');
      expect(await exited).toBe(0);

      const server = await start(['--workers', '2', '--path', join(directory, 'flags-workers.db')]);
      const workers = childrenOf(server.child.pid as number);
      expect(workers).toHaveLength(2);
      for (const worker of workers) expect(commandLine(worker)).toContain('--max-semi-space-size=32');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
  );

  it('starts its workers when the environment already says the server was relaunched', async () => {
    // The variable a one-worker server sets for the process it relaunches; forked workers inherit
    // it from an environment that has it, and must not take their primary for that launcher.
    const server = await start(['--workers', '2', '--path', join(directory, 'relaunched.db')], {
      ...environment,
      ENGRAM_SERVER_RELAUNCHED: '1',
    });
    expect(server.output()).toContain('with 2 workers');
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('runs 2 workers on one SQLite file: both serve, every write streams to every worker, SIGTERM stops them', async () => {
    const server = await start(['--workers', '2', '--path', join(directory, 'shared.db')]);
    expect(server.output()).toContain('with 2 workers');
    expect(server.output()).toContain('anonymously');
    // Several streams, each its own connection: the cluster spreads connections over both workers.
    const streams = await Promise.all([0, 1, 2, 3].map(async () => sseReader(await fetch(`${server.url}/api/events`))));
    const written: string[] = [];
    for (let index = 0; index < 6; index++) {
      const response = await fetch(`${server.url}/api/memories`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `write number ${index}` }),
      });
      expect(response.status).toBe(201);
      written.push(`write number ${index}`);
    }
    for (const stream of streams) {
      const seen: string[] = [];
      while (seen.length < written.length) {
        const event = await stream.next((candidate) => candidate.event === 'memory:added', 10_000);
        seen.push(JSON.parse(event.data as string).memory.content);
      }
      expect(seen).toEqual(written);
      await stream.cancel();
    }
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('streams links and unlinks made through another server process on the same store (from the change log)', async () => {
    const path = join(directory, 'two-servers.db');
    const writer = await start(['--path', path]);
    const reader = await start(['--path', path]);
    const post = async (route: string, body: unknown) => {
      const response = await fetch(`${writer.url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.json()) as { memory: { id: string } };
    };
    const a = (await post('/api/memories', { content: 'the cache was stale' })).memory.id;
    const b = (await post('/api/memories', { content: 'flushing the cache fixed it' })).memory.id;
    const stream = sseReader(await fetch(`${reader.url}/api/events`));
    await post('/api/relations', { sourceId: b, targetId: a, type: 'fixes' });
    const added = await stream.next((event) => event.event === 'relation:added', 10_000);
    expect(JSON.parse(added.data as string).relation).toMatchObject({ sourceId: b, targetId: a, type: 'fixes' });
    expect(added.id).toMatch(/^\d+$/);
    await fetch(`${writer.url}/api/relations?sourceId=${b}&targetId=${a}&type=fixes`, { method: 'DELETE' });
    const removed = await stream.next((event) => event.event === 'relation:removed', 10_000);
    expect(JSON.parse(removed.data as string).relation).toMatchObject({ sourceId: b, targetId: a, type: 'fixes' });
    expect(Number(removed.id)).toBeGreaterThan(Number(added.id));
    await stream.cancel();
    for (const server of [writer, reader]) {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });

  it('writes every search’s access statistics on a graceful stop, across 2 workers', async () => {
    const path = join(directory, 'access.db');
    const server = await start(['--workers', '2', '--path', path]);
    const added = await fetch(`${server.url}/api/memories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'The access statistics survive a graceful stop' }),
    });
    const id = ((await added.json()) as { memory: { id: string } }).memory.id;
    const searches = 60;
    // Separate connections, so both workers answer some of them; most are still pending (gathered
    // for a second before one write) when SIGTERM arrives.
    await Promise.all(
      Array.from({ length: searches }, async () => {
        const response = await fetch(`${server.url}/api/search`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ query: 'access statistics graceful stop', limit: 1 }),
        });
        const hits = ((await response.json()) as { hits: Array<{ memory: { id: string } }> }).hits;
        expect(hits[0]?.memory.id).toBe(id);
      }),
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const { sqliteStore } = await import('@engram/adapters/sqlite');
    const store = sqliteStore({ path });
    await store.open();
    const [record] = await store.get([id]);
    await store.close();
    expect(record?.accessCount).toBe(searches);
  });
});
