import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type AddInput, hashEmbedder, inMemoryStore, Memory, type MemoryRecord, type MemoryStore } from '@engram/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_FIELDS } from './cli/format.js';
import { DEFAULT_STORE_PATH } from './cli/invocation.js';
import { type CliIo, runCli } from './cli/program.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function tempDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'engram-cli-test-'));
  directories.push(directory);
  return directory;
}

interface Captured {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  text: string;
}

function capture(tty?: { columns: number }): Captured {
  const stream: Captured = {
    text: '',
    write(chunk: string) {
      stream.text += chunk;
      return true;
    },
  };
  if (tty) {
    stream.isTTY = true;
    stream.columns = tty.columns;
  }
  return stream;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: assertions walk arbitrary JSON documents
  json: () => any;
}

/** A store shared by every command of a test, and a count of opened/closed Memory instances. */
class Harness {
  store: MemoryStore = inMemoryStore();
  opened = 0;
  closed = 0;
  paths: string[] = [];

  createMemory = (path: string) => {
    this.opened++;
    this.paths.push(path);
    const memory = new Memory({ store: this.store, embedder: hashEmbedder(), logger: false });
    const close = memory.close.bind(memory);
    memory.close = async () => {
      this.closed++;
      await close();
    };
    return memory;
  };

  async run(
    args: string[],
    options: { stdin?: string; stdoutTty?: { columns: number }; stderrTty?: boolean; env?: Record<string, string> } = {},
  ): Promise<RunResult> {
    const stdout = capture(options.stdoutTty);
    const stderr = capture(options.stderrTty ? { columns: 80 } : undefined);
    const io: CliIo = {
      stdout,
      stderr,
      env: options.env ?? {},
      createMemory: this.createMemory,
      ...(options.stdin !== undefined ? { stdin: Readable.from([Buffer.from(options.stdin)]) } : {}),
    };
    const code = await runCli(args, io);
    return { code, stdout: stdout.text, stderr: stderr.text, json: () => JSON.parse(stdout.text) };
  }

  /** A Memory on the same store, for arranging and checking data directly. */
  memory(): Memory {
    return new Memory({ store: this.store, embedder: hashEmbedder(), logger: false });
  }
}

let cli: Harness;
beforeEach(() => {
  cli = new Harness();
});

async function addJson(args: string[]): Promise<MemoryRecord & { createdAt: string }> {
  const result = await cli.run(['add', ...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return result.json().memory;
}

describe('help and usage', () => {
  it('prints global help with every command and examples', async () => {
    const result = await cli.run(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['add', 'search', 'get', 'list', 'delete', 'stats', 'export', 'import', 'context']) {
      expect(result.stdout).toContain(command);
    }
    expect(result.stdout).toContain('ENGRAM_PATH');
    expect(result.stdout).toContain('Examples:');
  });

  it.each([
    'add',
    'search',
    'get',
    'list',
    'delete',
    'stats',
    'export',
    'import',
    'context',
  ])('%s --help shows examples', async (command) => {
    const result = await cli.run([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toContain(`$ engram ${command}`);
    expect(cli.opened).toBe(0);
  });

  it('keys --help lists every keys subcommand, the API keys’ and rotate-encryption', async () => {
    const result = await cli.run(['keys', '--help']);
    expect(result.code).toBe(0);
    for (const subcommand of ['create', 'list', 'revoke', 'rotate-encryption'])
      expect(result.stdout).toMatch(new RegExp(`^  ${subcommand}\\b`, 'm'));
    const create = await cli.run(['keys', 'create', '--help']);
    expect(create.stdout).toContain('--tenant <name>');
    expect(create.stdout).toContain('--keys-file <file>');
    expect(cli.opened).toBe(0);
  });

  it('keys create, list and revoke manage the REST server’s key file', async () => {
    const keysFile = join(tempDirectory(), 'keys.json');
    const created = await cli.run(['keys', 'create', '--tenant', 'team_a', '--label', 'ci runner', '--keys-file', keysFile, '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { key, id, tenant } = created.json();
    expect(key).toMatch(/^egk_/);
    expect(tenant).toBe('team_a');
    expect(readFileSync(keysFile, 'utf8')).not.toContain(key);
    const listed = await cli.run(['keys', 'list', '--keys-file', keysFile, '--json']);
    expect(listed.json()).toEqual([expect.objectContaining({ id, tenant: 'team_a', label: 'ci runner' })]);
    expect((await cli.run(['keys', 'revoke', id, '--keys-file', keysFile])).code).toBe(0);
    expect((await cli.run(['keys', 'list', '--keys-file', keysFile, '--json'])).json()).toEqual([]);
    expect((await cli.run(['keys', 'create', '--keys-file', keysFile])).code).toBe(2);
  });

  it('prints the package version', async () => {
    const result = await cli.run(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command, a missing argument or an unknown option', async () => {
    const unknown = await cli.run(['memorise', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'memorise'");
    const missing = await cli.run(['get']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'id'");
    const option = await cli.run(['search', 'x', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--colour'");
    const choice = await cli.run(['search', 'x', '--mode', 'fuzzy']);
    expect(choice.code).toBe(2);
    expect(choice.stderr).toContain('--mode');
    expect(cli.opened).toBe(0);
  });

  it('writes a JSON error document for usage errors under --json', async () => {
    const result = await cli.run(['get', '--json']);
    expect(result.code).toBe(2);
    expect(result.json()).toEqual({ error: { code: 'USAGE_ERROR', message: expect.stringContaining("missing required argument 'id'") } });
  });

  it('indents JSON on a terminal and keeps it on one line when piped', async () => {
    await addJson(['hello world']);
    const tty = await cli.run(['list', '--json'], { stdoutTty: { columns: 100 } });
    expect(tty.stdout.startsWith('{\n  "items": [')).toBe(true);
    const piped = await cli.run(['list', '--json']);
    expect(piped.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(tty.stdout)).toEqual(JSON.parse(piped.stdout));
  });

  it('engram help <command> shows that command', async () => {
    const result = await cli.run(['help', 'import']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: engram import [options] <file>');
    expect(result.stdout).toContain('Global Options:');
  });

  it('accepts global options before or after the command', async () => {
    await addJson(['hello world']);
    const before = await cli.run(['--json', 'list']);
    const after = await cli.run(['list', '--json']);
    expect(before.json().items).toHaveLength(1);
    expect(after.json()).toEqual(before.json());
  });
});

describe('engram add', () => {
  it('stores a memory and prints its id and type', async () => {
    const result = await cli.run(['add', 'The', 'CI', 'cache', 'key', 'includes', 'the', 'lockfile', '--type', 'insight']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^created [0-9a-f-]{36} \(learning\/insight\)\n$/);
    const [stored] = (await cli.memory().list()).items;
    expect(stored?.content).toBe('The CI cache key includes the lockfile');
    expect(cli.closed).toBe(cli.opened);
  });

  it('--json returns status, the whole memory with ISO dates, and warnings', async () => {
    const result = await cli.run([
      'add',
      'Deploys go to eu-west-1',
      '--type',
      'decision/configuration',
      '--tags',
      'Deploy, prod',
      '--tags',
      'eu',
      '--metadata',
      '{"source":"runbook","priority":3}',
      '--user',
      'alice',
      '--agent',
      'ops',
      '--run',
      'r1',
      '--conversation',
      'c1',
      '--importance',
      '0.9',
      '--key',
      'deploy-target',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const document = result.json();
    expect(document.status).toBe('created');
    expect(document.warnings).toEqual([]);
    expect(Object.keys(document.memory)).toEqual([...RECORD_FIELDS]);
    expect(document.memory).toMatchObject({
      content: 'Deploys go to eu-west-1',
      type: 'decision',
      subtype: 'configuration',
      tags: ['deploy', 'prod', 'eu'],
      metadata: { source: 'runbook', priority: 3 },
      scope: { userId: 'alice', agentId: 'ops', runId: 'r1' },
      conversationId: 'c1',
      importance: 0.9,
      key: 'deploy-target',
      quality: null,
      deletedAt: null,
    });
    expect(document.memory.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('reads the content from stdin with "-"', async () => {
    const result = await cli.run(['add', '-', '--json'], { stdin: 'line one\nline two\n\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json().memory.content).toBe('line one\nline two');
  });

  it('rejects empty stdin and "-" mixed with words', async () => {
    const empty = await cli.run(['add', '-'], { stdin: '\n' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('stdin was empty');
    const mixed = await cli.run(['add', 'a', '-']);
    expect(mixed.code).toBe(2);
  });

  it('reports an exact duplicate instead of storing it twice', async () => {
    const first = await addJson(['Same text', '--user', 'u']);
    const second = await cli.run(['add', 'same   TEXT', '--user', 'u']);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`duplicate: already stored as ${first.id} (observation)\n`);
    const keyed = await cli.run(['add', 'Other text', '--user', 'u', '--key', 'k', '--json']);
    const updated = await cli.run(['add', 'Changed text', '--user', 'u', '--key', 'k', '--json']);
    expect(updated.json().status).toBe('updated');
    expect(updated.json().memory.id).toBe(keyed.json().memory.id);
  });

  it('--quiet prints only the id', async () => {
    const result = await cli.run(['add', 'quiet please', '--quiet']);
    expect(result.stdout).toMatch(/^[0-9a-f-]{36}\n$/);
    expect(result.stderr).toBe('');
  });

  it('names the flag when --metadata is not valid JSON (usage error, exit 2)', async () => {
    const result = await cli.run(['add', 'x', '--metadata', '{priority: 3}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--metadata <json>' argument '{priority: 3}' is invalid");
    expect(result.stderr).toContain('Not valid JSON');
    const array = await cli.run(['add', 'x', '--metadata', '[1,2]']);
    expect(array.code).toBe(2);
    expect(array.stderr).toContain('Must be a JSON object');
    expect(cli.opened).toBe(0);
  });

  it('names the flag of a value core rejects (exit 1)', async () => {
    const importance = await cli.run(['add', 'x', '--importance', '2']);
    expect(importance.code).toBe(1);
    expect(importance.stderr).toBe('error: invalid --importance: must be between 0 and 1\n');
    const notNumber = await cli.run(['add', 'x', '--importance', 'high']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--importance');
    const empty = await cli.run(['add', '  ']);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('invalid <content>: is empty');
    const subtype = await cli.run(['add', 'x', '--type', 'error/insight']);
    expect(subtype.code).toBe(1);
    expect(subtype.stderr).toContain('invalid --type: "error/insight": error has the subtypes bug, failure, exception, timeout');
    expect(cli.closed).toBe(cli.opened);
  });

  it('--json errors are a JSON document naming the field and flag', async () => {
    const result = await cli.run(['add', 'x', '--importance', '2', '--json']);
    expect(result.code).toBe(1);
    expect(result.json()).toEqual({
      error: {
        code: 'VALIDATION_ERROR',
        message: 'invalid --importance: must be between 0 and 1',
        field: 'importance',
        flag: '--importance',
      },
    });
    expect(result.stderr).toContain('error: invalid --importance');
  });

  it('warns when an unknown type falls back to observation', async () => {
    const result = await cli.run(['add', 'x', '--type', 'musing']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^warning: .*musing/);
    expect(result.stdout).toContain('(observation)');
  });
});

describe('engram search', () => {
  beforeEach(async () => {
    await addJson([
      'Flaky tests in CI come from shared temp directories',
      '--type',
      'bug',
      '--tags',
      'ci,tests',
      '--metadata',
      '{"priority":3}',
    ]);
    await addJson(['The CI cache key must include the lockfile hash', '--type', 'insight', '--tags', 'ci,cache']);
    await addJson(['Lunch is at noon on Fridays', '--tags', 'office', '--user', 'bob']);
  });

  it('prints score (3 decimals), id, type, date and content, best first', async () => {
    const result = await cli.run(['search', 'flaky', 'tests']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d\.\d{3} {2}[0-9a-f-]{36} {2}error\/bug\s+\d{4}-\d{2}-\d{2} {2}Flaky tests in CI/);
    const scores = lines.map((line) => Number(line.slice(0, 5)));
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('--json returns the query and hits with scores and whole memories', async () => {
    const result = await cli.run(['search', 'CI', '--json', '--limit', '1']);
    const document = result.json();
    expect(document.query).toBe('CI');
    expect(document.hits).toHaveLength(1);
    expect(document.hits[0]).toEqual({ score: expect.any(Number), memory: expect.objectContaining({ id: expect.any(String) }) });
    expect(Object.keys(document.hits[0].memory)).toEqual([...RECORD_FIELDS]);
  });

  it('--explain adds the signals behind each score', async () => {
    const human = await cli.run(['search', 'cache', '--explain', '--limit', '1']);
    expect(human.stdout).toMatch(/\n {7}relevance \d\.\d{3} {2}lexical #1 .*recency .*importance /);
    const json = await cli.run(['search', 'cache', '--explain', '--json']);
    expect(json.json().hits[0].explanation).toMatchObject({ relevance: expect.any(Number), recency: expect.any(Object) });
  });

  it('filters by types, tags (any/all), scope, where and mode', async () => {
    const ids = async (args: string[]) => {
      const result = await cli.run(['search', ...args, '--json']);
      expect(result.code, result.stderr).toBe(0);
      return result.json().hits.map((hit: { memory: MemoryRecord }) => hit.memory.content.split(' ')[0]);
    };
    expect(await ids(['CI', '--types', 'learning'])).toEqual(['The']);
    expect(await ids(['CI', '--types', 'error/bug'])).toEqual(['Flaky']);
    expect(await ids(['CI tests cache', '--tags', 'tests,cache', '--tag-match', 'all'])).toEqual([]);
    expect((await ids(['CI tests cache', '--tags', 'tests,cache'])).sort()).toEqual(['Flaky', 'The']);
    expect(await ids(['lunch', '--user', 'bob'])).toEqual(['Lunch']);
    expect(await ids(['lunch', '--user', 'alice'])).toEqual([]);
    expect(await ids(['CI', '--where', '{"priority":{"gte":3}}'])).toEqual(['Flaky']);
    expect(await ids(['lockfile', '--mode', 'lexical'])).toEqual(['The']);
    expect(await ids(['CI', '--time', 'today', '--types', 'learning'])).toEqual(['The']);
    expect(await ids(['CI', '--before', '2000-01-01'])).toEqual([]);
  });

  it('names --time when the expression cannot be parsed', async () => {
    const result = await cli.run(['search', 'CI', '--time', 'the other day']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: invalid --time: cannot parse "the other day" as a time window/);
    expect(result.stderr).not.toContain('    at ');
    const json = await cli.run(['search', 'CI', '--time', 'the other day', '--json']);
    expect(json.json().error).toMatchObject({ code: 'VALIDATION_ERROR', field: 'time', flag: '--time' });
  });

  it('names --after, --types and --where when core rejects them', async () => {
    const after = await cli.run(['search', 'CI', '--after', 'someday']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('error: invalid --after: is not a valid date');
    const types = await cli.run(['search', 'CI', '--types', 'gizmo']);
    expect(types.stderr).toContain('error: invalid --types: unknown type "gizmo"');
    const where = await cli.run(['search', 'CI', '--where', '{"priority":{"between":[1,2]}}']);
    expect(where.code).toBe(1);
    expect(where.stderr).toContain('error: invalid --where');
    const badJson = await cli.run(['search', 'CI', '--where', '{oops']);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("option '--where <json>' argument '{oops' is invalid");
  });

  it('says so on stderr when nothing matches', async () => {
    const result = await cli.run(['search', 'zebra', '--mode', 'lexical']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('no matching memories\n');
  });

  it('cuts content to the terminal width on a TTY, keeps it whole when piped', async () => {
    const long = `Long ${'word '.repeat(60)}end`;
    await addJson([long]);
    const tty = await cli.run(['search', 'word', '--limit', '1'], { stdoutTty: { columns: 80 } });
    const line = tty.stdout.split('\n')[0] as string;
    expect(Array.from(line)).toHaveLength(80);
    expect(line.endsWith('…')).toBe(true);
    const piped = await cli.run(['search', 'word', '--limit', '1']);
    expect(piped.stdout).toContain('end\n');
  });
});

describe('engram get', () => {
  it('shows every set field and the content', async () => {
    const memory = await addJson([
      'Use pnpm for the monorepo',
      '--type',
      'tool_choice',
      '--tags',
      'tooling',
      '--metadata',
      '{"team":"web"}',
    ]);
    const result = await cli.run(['get', memory.id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`id                 ${memory.id}`);
    expect(result.stdout).toContain('subtype            tool_choice');
    expect(result.stdout).toContain('tags               tooling');
    expect(result.stdout).toContain('metadata           {"team":"web"}');
    expect(result.stdout).not.toContain('quality');
    expect(result.stdout.trimEnd().endsWith('\n\nUse pnpm for the monorepo')).toBe(true);
    const json = await cli.run(['get', memory.id, '--json']);
    expect(json.json()).toEqual({ memory });
  });

  it('fails with exit 1 and no stack for an unknown id', async () => {
    const result = await cli.run(['get', 'no-such-id']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: no memory with id "no-such-id" (it may have been deleted). Find ids with `engram list` or `engram search`.\n',
    );
    const json = await cli.run(['get', 'no-such-id', '--json']);
    expect(json.json().error.code).toBe('NOT_FOUND');
    expect(cli.closed).toBe(cli.opened);
  });
});

describe('engram list', () => {
  it('pages newest first with a cursor', async () => {
    const memory = cli.memory();
    await memory.addMany(
      Array.from(
        { length: 5 },
        (_, index): AddInput => ({ content: `memory number ${index}`, createdAt: new Date(Date.UTC(2024, 0, index + 1)) }),
      ),
    );
    const first = await cli.run(['list', '--limit', '2']);
    expect(
      first.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('  ').pop()),
    ).toEqual(['memory number 4', 'memory number 3']);
    const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1] as string;
    expect(cursor).toBeTruthy();
    const second = await cli.run(['list', '--limit', '2', '--cursor', cursor, '--json']);
    const page = second.json();
    expect(page.items.map((item: MemoryRecord) => item.content)).toEqual(['memory number 2', 'memory number 1']);
    expect(typeof page.nextCursor).toBe('string');
    const last = await cli.run(['list', '--limit', '2', '--cursor', page.nextCursor, '--json']);
    expect(last.json()).toEqual({ items: [expect.objectContaining({ content: 'memory number 0' })], nextCursor: null });
  });

  it('filters by type, tags, scope and dates', async () => {
    const memory = cli.memory();
    await memory.addMany([
      { content: 'a decision', type: 'decision', tags: ['x'], scope: { userId: 'alice' }, createdAt: '2024-03-01T00:00:00Z' },
      { content: 'a bug', type: 'bug', tags: ['y'], createdAt: '2024-05-01T00:00:00Z' },
    ]);
    const contents = async (args: string[]) =>
      (await cli.run(['list', ...args, '--json'])).json().items.map((item: MemoryRecord) => item.content);
    expect(await contents(['--types', 'decision'])).toEqual(['a decision']);
    expect(await contents(['--tags', 'y'])).toEqual(['a bug']);
    expect(await contents(['--user', 'alice'])).toEqual(['a decision']);
    expect(await contents(['--after', '2024-04-01'])).toEqual(['a bug']);
    expect(await contents(['--before', '2024-04-01'])).toEqual(['a decision']);
    expect(await contents(['--time', 'between 2024-02-01 and 2024-03-31'])).toEqual(['a decision']);
    const empty = await cli.run(['list', '--types', 'pattern']);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toBe('no memories\n');
  });
});

describe('engram delete', () => {
  it('deletes, and exits 1 naming the ids it did not find', async () => {
    const a = await addJson(['first']);
    const b = await addJson(['second']);
    const result = await cli.run(['delete', a.id, 'missing-id', b.id]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`deleted ${a.id}\ndeleted ${b.id}\n`);
    expect(result.stderr).toBe('error: no memory with id "missing-id" (unknown or already deleted)\n');
    expect(await cli.memory().count()).toBe(0);
    const again = await cli.run(['rm', a.id, '--json']);
    expect(again.code).toBe(1);
    expect(again.json()).toEqual({ deleted: [], notFound: [a.id] });
  });

  it('--json lists what was deleted', async () => {
    const a = await addJson(['first']);
    const result = await cli.run(['delete', a.id, '--json']);
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({ deleted: [a.id], notFound: [] });
  });
});

describe('engram stats', () => {
  it('counts by base type and names the store and embedder', async () => {
    await addJson(['one', '--type', 'bug']);
    await addJson(['two', '--type', 'exception']);
    await addJson(['three', '--type', 'insight']);
    const result = await cli.run(['stats', '--json']);
    expect(result.code).toBe(0);
    expect(result.json()).toEqual({
      store: { name: 'memory', location: null },
      fileBytes: null,
      embedder: { id: 'hash-v1-384', dimensions: 384 },
      total: 3,
      byType: { observation: 0, decision: 0, learning: 1, error: 2, pattern: 0 },
    });
    const human = await cli.run(['stats']);
    expect(human.stdout).toContain('embedder  hash-v1-384 (384 dimensions)');
    expect(human.stdout).toContain('memories  3');
    expect(human.stdout).toMatch(/\n {2}error +2\n/);
  });

  it('reports the file size of a file store', async () => {
    const directory = tempDirectory();
    const file = join(directory, 'store.db');
    writeFileSync(file, 'x'.repeat(2048));
    writeFileSync(`${file}-wal`, 'x'.repeat(1024));
    const base = inMemoryStore();
    cli.store = Object.assign(Object.create(null), base, { location: file });
    const result = await cli.run(['stats', '--json']);
    expect(result.json()).toMatchObject({ store: { name: 'memory', location: file }, fileBytes: 3072 });
    expect((await cli.run(['stats'])).stdout).toContain(`${file} (3.0 KB)`);
  });
});

describe('engram reindex --context', () => {
  it('re-derives conversation contexts written without them, and removes them with --turns 0', async () => {
    const old = new Memory({ store: cli.store, embedder: hashEmbedder(), logger: false, conversationContext: false });
    const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 9, minute));
    const [, answer] = await old.addMany([
      { content: 'Alice: what are your pets called?', conversationId: 'chat', scope: { userId: 'u' }, createdAt: at(0) },
      { content: 'Bob: Luna and Oliver!', conversationId: 'chat', scope: { userId: 'u' }, createdAt: at(1) },
    ]);
    const result = await cli.run(['reindex', '--context', '--user', 'u', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toEqual({ conversations: 1, memories: 2, updated: 1 });
    expect((await cli.memory().get(answer?.memory.id as string))?.context).toBe('Alice: what are your pets called?');
    const human = await cli.run(['reindex', '--context', '--turns', '0', '--conversation', 'chat']);
    expect(human.stdout).toMatch(/updated +1\n/);
    expect((await cli.memory().get(answer?.memory.id as string))?.context).toBeUndefined();
  });

  it('is a usage error without --context, and names a bad --turns', async () => {
    expect((await cli.run(['reindex'])).code).toBe(2);
    const bad = await cli.run(['reindex', '--context', '--turns', '99']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('turns');
  });
});

describe('engram context', () => {
  it('prints a prompt-ready block within the budget', async () => {
    await addJson(['Billing retries must be idempotent', '--type', 'insight']);
    await addJson(['Billing runs on Postgres 16', '--type', 'decision']);
    const result = await cli.run(['context', 'billing', '--budget', '200']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Relevant memories \(most relevant first\):\n- \[/);
    expect(result.stdout).toContain('Billing retries must be idempotent');
    const json = (await cli.run(['context', 'billing', '--budget', '200', '--json'])).json();
    expect(json).toMatchObject({ query: 'billing', text: expect.stringContaining('Billing'), tokens: expect.any(Number) });
    expect(json.tokens).toBeLessThanOrEqual(200);
    expect(json.hits).toHaveLength(2);
    const tooSmall = await cli.run(['context', 'billing', '--budget', '3']);
    expect(tooSmall.code).toBe(1);
    expect(tooSmall.stderr).toContain('invalid --budget: must be at least 16');
  });
});

/** A memory with every optional field set, to check that export → import keeps them. */
function fullInput(index: number): AddInput {
  return {
    content: `Full memory ${index}: the parser fails on empty input`,
    type: 'bug',
    tags: ['parser', `t${index}`],
    metadata: { ticket: `ENG-${index}`, nested: { level: index, list: [1, 'two', null] } },
    scope: { userId: 'alice', agentId: 'coder', runId: `run-${index}` },
    conversationId: `conv-${index}`,
    importance: 0.7,
    key: `key-${index}`,
    createdAt: new Date(Date.UTC(2024, 2, index + 1, 12, 30, 15, 250)),
    quality: 0.8,
    source: 'unit-test',
    confidence: 0.9,
    emotion: 'frustration',
    emotionalValence: -0.4,
    emotionalArousal: 0.6,
    episodeId: 'episode-7',
    sequenceNumber: index,
    precedingMemoryId: 'external-previous-id',
    sourceType: 'tool_output',
    credibility: 0.95,
  };
}

describe('engram export and import', () => {
  it('exports every field of every memory as JSONL, streaming page by page', async () => {
    const memory = cli.memory();
    await memory.addMany(Array.from({ length: 7 }, (_, index) => fullInput(index)));
    await memory.add({ content: 'plain memory' });
    const result = await cli.run(['export', '--page-size', '3']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('exported 8 memories\n');
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(8);
    expect(new Set(lines.map((line) => line.id)).size).toBe(8);
    for (const line of lines) expect(Object.keys(line)).toEqual([...RECORD_FIELDS]);
    const full = lines.find((line) => line.content.startsWith('Full memory 3'));
    expect(full).toMatchObject({
      ...fullInput(3),
      type: 'error',
      subtype: 'bug',
      createdAt: '2024-03-04T12:30:15.250Z',
      validFrom: '2024-03-04T12:30:15.250Z',
      deletedAt: null,
    });
    const plain = lines.find((line) => line.content === 'plain memory');
    expect(plain).toMatchObject({ quality: null, emotion: null, key: null, scope: {}, tags: [], metadata: {} });
  });

  it('round-trips into a fresh store keeping every field add accepts (new ids)', async () => {
    const source = cli.memory();
    await source.addMany(Array.from({ length: 5 }, (_, index) => fullInput(index)));
    await source.add({ content: 'plain one', type: 'learning' });
    const deleted = await source.add({ content: 'deleted one' });
    await source.delete(deleted.memory.id);
    const directory = tempDirectory();
    const file = join(directory, 'backup.jsonl');
    const exported = await cli.run(['export', file, '--include-deleted', '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.json()).toEqual({ exported: 7, file });
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(7);

    const before = (await source.list({ limit: 100 })).items;
    const target = new Harness();
    const imported = await target.run(['import', file, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.json()).toEqual({ file, records: 7, created: 6, updated: 0, duplicates: 0, skipped: 1, failed: 0, problems: [] });

    const after = (await target.memory().list({ limit: 100 })).items;
    expect(after).toHaveLength(6);
    const preserved = (record: MemoryRecord) => {
      const { id, updatedAt, accessCount, lastAccessedAt, ...rest } = record;
      return rest;
    };
    const byContent = (records: MemoryRecord[]) => new Map(records.map((record) => [record.content, record]));
    const original = byContent(before);
    for (const record of after) {
      const previous = original.get(record.content) as MemoryRecord;
      expect(preserved(record)).toEqual(preserved(previous));
      expect(record.id).not.toBe(previous.id);
    }
    // Same order: createdAt is kept.
    expect(after.map((record) => record.content)).toEqual(before.map((record) => record.content));

    // Importing the same file again adds nothing: exact duplicates and unchanged keys.
    const again = await target.run(['import', file, '--json']);
    expect(again.json()).toMatchObject({ created: 0, duplicates: 6, skipped: 1, failed: 0 });
  });

  it('writes an export file atomically and leaves no partial file on failure', async () => {
    const directory = tempDirectory();
    const file = join(directory, 'out.jsonl');
    await addJson(['something']);
    const result = await cli.run(['export', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`exported 1 memory to ${file}\n`);
    const missingDirectory = join(directory, 'nope', 'out.jsonl');
    const failed = await cli.run(['export', missingDirectory]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: ENOENT/);
    expect(failed.stderr).not.toContain('    at ');
    expect(existsSync(join(directory, 'nope'))).toBe(false);
    expect(cli.closed).toBe(cli.opened);
  });

  it('imports minimal lines from stdin with default scope', async () => {
    const input = [
      JSON.stringify({ content: 'Staging uses port 8443', type: 'learning', tags: ['staging'] }),
      '',
      JSON.stringify({ content: 'Scoped already', scope: { userId: 'carol' } }),
      JSON.stringify({ content: 'Dated', createdAt: '2023-01-02T03:04:05.000Z', importance: 0.2, metadata: { a: 1 } }),
    ].join('\n');
    const result = await cli.run(['import', '-', '--user', 'alice'], { stdin: `${input}\r\n` });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('imported 3 lines from stdin: 3 created, 0 already stored, 0 failed\n');
    const items = (await cli.memory().list()).items;
    const find = (content: string) => items.find((item) => item.content === content) as MemoryRecord;
    expect(find('Staging uses port 8443')).toMatchObject({ type: 'learning', tags: ['staging'], scope: { userId: 'alice' } });
    expect(find('Scoped already').scope).toEqual({ userId: 'carol' });
    expect(find('Dated')).toMatchObject({ importance: 0.2, metadata: { a: 1 }, createdAt: new Date('2023-01-02T03:04:05.000Z') });
  });

  it('reports bad lines with their number and reason, imports the rest, exits 1', async () => {
    const lines = [
      JSON.stringify({ content: 'good 1' }),
      '{not json',
      JSON.stringify({ content: 'good 2' }),
      JSON.stringify({ content: 'bad importance', importance: 7 }),
      '[1,2,3]',
      JSON.stringify({ content: 'good 3', tags: ['x'] }),
      JSON.stringify({ text: 'no content' }),
      JSON.stringify({ content: 'good 4', colour: 'blue' }),
      JSON.stringify({ content: 'good 5', createdAt: 'yesterday-ish' }),
      JSON.stringify({ content: 'good 6' }),
    ];
    const directory = tempDirectory();
    const file = join(directory, 'mixed.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const result = await cli.run(['import', file, '--batch-size', '3']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^error: line 2: not valid JSON \(.+\)$/),
      'error: line 4: importance: must be between 0 and 1',
      'error: line 5: expected a JSON object such as {"content": "…", "type": "learning", "tags": ["ci"]}',
      'error: line 7: content: is required and must be a string; unknown option(s) "text"',
      'error: line 8: unknown option(s) "colour"',
      'error: line 9: createdAt: is not a valid date (use a Date, an ISO string or epoch milliseconds)',
    ]);
    expect(result.stdout).toBe(`imported 10 lines from ${file}: 4 created, 0 already stored, 6 failed\n`);
    const contents = (await cli.memory().list()).items.map((item) => item.content).sort();
    expect(contents).toEqual(['good 1', 'good 2', 'good 3', 'good 6']);

    const json = await cli.run(['import', file, '--json', '--batch-size', '3']);
    expect(json.code).toBe(1);
    const document = json.json();
    expect(document).toMatchObject({ records: 10, created: 0, duplicates: 4, failed: 6 });
    expect(document.problems.map((problem: { line: number }) => problem.line)).toEqual([2, 4, 5, 7, 8, 9]);
  });

  it('prints progress every N lines when stderr is not a terminal, and a live line on a terminal', async () => {
    const input = Array.from({ length: 25 }, (_, index) => JSON.stringify({ content: `memory ${index}` })).join('\n');
    const piped = await cli.run(['import', '-', '--batch-size', '5', '--progress-every', '10'], { stdin: input });
    expect(piped.code).toBe(0);
    expect(piped.stderr.trim().split('\n')).toEqual([
      'importing: 10 lines read, 10 written, 0 already stored, 0 failed',
      'importing: 20 lines read, 20 written, 0 already stored, 0 failed',
    ]);
    const fresh = new Harness();
    const tty = await fresh.run(['import', '-', '--batch-size', '10'], { stdin: input, stderrTty: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('\r\u001b[Kimporting: 10 lines read');
    expect(tty.stderr).toContain('\r\u001b[Kimporting: 25 lines read, 25 written');
    expect(tty.stderr.endsWith('\r\u001b[K')).toBe(true);
    const quiet = await new Harness().run(['import', '-', '--quiet', '--progress-every', '1'], { stdin: input });
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe('');
  });

  it('writes each batch whole or not at all and stops when the store fails', async () => {
    const store = inMemoryStore();
    let writes = 0;
    const failing: MemoryStore = Object.assign(Object.create(null), store, {
      write: async (items: Parameters<MemoryStore['write']>[0]) => {
        writes++;
        if (writes === 2) throw new Error('disk full');
        return store.write(items);
      },
    });
    cli.store = failing;
    const input = Array.from({ length: 10 }, (_, index) => JSON.stringify({ content: `memory ${index}` })).join('\n');
    const result = await cli.run(['import', '-', '--batch-size', '4', '--json'], { stdin: input });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: import stopped at line 5: unexpected failure: disk full');
    expect(result.json()).toMatchObject({ records: 8, created: 4, failed: 0, stoppedAt: { line: 5, error: { code: 'INTERNAL_ERROR' } } });
    expect(await new Memory({ store, embedder: hashEmbedder(), logger: false }).count()).toBe(4);
    expect(cli.closed).toBe(cli.opened);
  });

  it('fails cleanly for a missing file without opening the store', async () => {
    const result = await cli.run(['import', join(tempDirectory(), 'missing.jsonl')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: cannot read .*missing\.jsonl: no such file\n$/);
    expect(cli.opened).toBe(0);
  });

  it('says a folder is not an import file (no raw EISDIR), without opening the store', async () => {
    const folder = tempDirectory();
    const result = await cli.run(['import', folder]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: cannot read ${folder}: it is a folder. Pass a JSON Lines file (one memory per line, as \`engram export\` writes), or - to read stdin.\n`,
    );
    expect(cli.opened).toBe(0);
  });
});

describe('store location', () => {
  it('uses --path, else ENGRAM_PATH, else ./.engram/memory.db', async () => {
    await cli.run(['list', '--path', '/tmp/a.db']);
    await cli.run(['list'], { env: { ENGRAM_PATH: '/tmp/b.db' } });
    await cli.run(['list']);
    expect(cli.paths).toEqual(['/tmp/a.db', '/tmp/b.db', './.engram/memory.db']);
  });

  it('defaults to the same file as new Memory()', async () => {
    const { DEFAULT_PATH } = await import('./memory.js');
    expect(DEFAULT_STORE_PATH).toBe(DEFAULT_PATH);
  });

  it('read commands refuse a store that does not exist (default factory)', async () => {
    const directory = tempDirectory();
    const path = join(directory, 'sub', 'memory.db');
    for (const args of [['search', 'x'], ['list'], ['get', 'id'], ['stats'], ['export'], ['context', 'x'], ['delete', 'id']]) {
      const stdout = capture();
      const stderr = capture();
      const code = await runCli([...args, '--path', path], { stdout, stderr, env: {} });
      expect(code).toBe(1);
      expect(stderr.text).toBe(
        `error: no memory store at ${path}. Add a memory first (engram add "..."), or point --path or ENGRAM_PATH at an existing store.\n`,
      );
    }
    expect(existsSync(join(directory, 'sub'))).toBe(false);
  });
});

describe('unexpected failures', () => {
  it('exit 1 with a hint, and the stack only with ENGRAM_DEBUG', async () => {
    cli.store = Object.assign(Object.create(null), inMemoryStore(), {
      count: async () => {
        throw new TypeError('boom');
      },
    });
    const result = await cli.run(['stats']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: unexpected failure: boom\n(set ENGRAM_DEBUG=1 for the stack trace, and please report this)\n');
    const debug = await cli.run(['stats'], { env: { ENGRAM_DEBUG: '1' } });
    expect(debug.stderr).toContain('TypeError: boom\n    at ');
    expect(cli.closed).toBe(cli.opened);
  });
});

describe('with the default SQLite store', () => {
  it('adds, searches, lists and exports through new Memory({ path })', async () => {
    const previous = process.env.ENGRAM_EMBEDDER;
    process.env.ENGRAM_EMBEDDER = 'hash';
    try {
      const path = join(tempDirectory(), 'store', 'memory.db');
      const run = async (args: string[]) => {
        const stdout = capture();
        const stderr = capture();
        const code = await runCli([...args, '--path', path], { stdout, stderr, env: {} });
        return { code, stdout: stdout.text, stderr: stderr.text };
      };
      const added = await run(['add', 'SQLite keeps memories in one file', '--type', 'insight', '--json']);
      expect(added.code, added.stderr).toBe(0);
      expect(existsSync(path)).toBe(true);
      const id = JSON.parse(added.stdout).memory.id;
      const search = await run(['search', 'sqlite file', '--json']);
      expect(search.code, search.stderr).toBe(0);
      expect(JSON.parse(search.stdout).hits[0].memory.id).toBe(id);
      const stats = await run(['stats', '--json']);
      expect(JSON.parse(stats.stdout)).toMatchObject({
        store: { name: 'sqlite' },
        embedder: { id: 'hash-v1-384', dimensions: 384 },
        total: 1,
      });
      expect(JSON.parse(stats.stdout).fileBytes).toBeGreaterThan(0);
      const exported = await run(['export']);
      expect(JSON.parse(exported.stdout)).toMatchObject({ id, content: 'SQLite keeps memories in one file' });
      const deleted = await run(['delete', id]);
      expect(deleted.code, deleted.stderr).toBe(0);
      expect((await run(['list'])).stderr).toBe('no memories\n');
    } finally {
      if (previous === undefined) delete process.env.ENGRAM_EMBEDDER;
      else process.env.ENGRAM_EMBEDDER = previous;
    }
  });
  it('says what closing does after a bulk import (indexing, snapshots), and nothing after a small command', async () => {
    const previous = process.env.ENGRAM_EMBEDDER;
    process.env.ENGRAM_EMBEDDER = 'hash';
    try {
      const directory = tempDirectory();
      const path = join(directory, 'memory.db');
      const file = join(directory, 'bulk.jsonl');
      writeFileSync(
        file,
        `${Array.from({ length: 10_500 }, (_, index) => JSON.stringify({ content: `bulk memory number ${index}` })).join('\n')}\n`,
      );
      const run = async (args: string[]) => {
        const stdout = capture();
        const stderr = capture();
        const code = await runCli([...args, '--path', path], { stdout, stderr, env: {} });
        return { code, stdout: stdout.text, stderr: stderr.text };
      };
      const imported = await run(['import', file, '--progress-every', '100000']);
      expect(imported.code, imported.stderr).toBe(0);
      const lines = imported.stderr.trim().split('\n');
      expect(lines).toContain('closing: writing the lexical index snapshot (10,500 memories) for the next process…');
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^closing: writing the vector index snapshot \(10,500 memories\) for the next process: done in \d+(\.\d)? m?s$/,
        ),
      );
      expect(lines.every((line) => line.startsWith('closing: '))).toBe(true);
      const added = await run(['add', 'one more memory']);
      expect(added.code, added.stderr).toBe(0);
      expect(added.stderr).toBe('');
      const quiet = await run(['import', file, '--quiet']);
      expect(quiet.stderr).toBe('');
    } finally {
      if (previous === undefined) delete process.env.ENGRAM_EMBEDDER;
      else process.env.ENGRAM_EMBEDDER = previous;
    }
  });
});

describe('graph commands', () => {
  it('links, lists neighbours, finds paths, prints the subgraph and unlinks', async () => {
    const bug = await addJson(['Webhook returns 502 under load', '--type', 'bug']);
    const fix = await addJson(['Raise the proxy buffer to 16k', '--type', 'insight']);
    const decision = await addJson(['All services share the proxy config', '--type', 'configuration']);

    const linked = await cli.run(['link', fix.id, 'fixes', bug.id, '--weight', '0.8', '--json']);
    expect(linked.code, linked.stderr).toBe(0);
    expect(linked.json().relation).toMatchObject({ sourceId: fix.id, targetId: bug.id, type: 'fixes', weight: 0.8 });
    expect((await cli.run(['link', fix.id, 'supports', decision.id])).stdout).toMatch(/linked .* -supports-> /);

    const neighbors = await cli.run(['neighbors', bug.id, '--depth', '2', '--json']);
    expect(neighbors.json().neighbors.map((item: { memory: { id: string }; distance: number }) => [item.memory.id, item.distance])).toEqual(
      [
        [fix.id, 1],
        [decision.id, 2],
      ],
    );
    expect((await cli.run(['neighbors', bug.id, '--direction', 'out'])).stdout).toMatch(/no linked memories/);

    const path = await cli.run(['path', bug.id, decision.id, '--json']);
    expect(path.json().path.map((record: { id: string }) => record.id)).toEqual([bug.id, fix.id, decision.id]);
    const noPath = await cli.run(['path', bug.id, decision.id, '--direction', 'out']);
    expect(noPath.code).toBe(1);
    expect(noPath.stdout).toMatch(/no path/);

    const graph = await cli.run(['graph', fix.id, '--json']);
    expect(graph.json().nodes).toHaveLength(3);
    expect(graph.json().edges).toHaveLength(2);

    const unlinked = await cli.run(['unlink', fix.id, bug.id, '--json']);
    expect(unlinked.json()).toEqual({ removed: 1 });
  });

  it('reports bad relationship types and unknown ids as errors', async () => {
    const a = await addJson(['first']);
    const b = await addJson(['second']);
    const badType = await cli.run(['link', a.id, 'likes', b.id]);
    expect(badType.code).toBe(1);
    // The type is positional: no "--type", and no SDK advice the CLI cannot follow.
    expect(badType.stderr).toBe(
      'error: invalid <type> "likes": unknown relationship type. Use one of related, contradicts, causes, fixes, supports, follows (engram link <source> <type> <target>).\n',
    );
    const missing = await cli.run(['neighbors', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no memory with id "nope" \(it does not exist, or was deleted\)\. Find ids with `engram list`/);
    expect(missing.stderr).not.toMatch(/memory\.list\(\)/);
    const unknownTarget = await cli.run(['link', a.id, 'fixes', '0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90']);
    expect(unknownTarget.code).toBe(1);
    expect(unknownTarget.stderr).toMatch(/no memory with id "0190f0c2-7a3b-7c1e-9a55-2b1f4e6d8a90".*engram list/);
    const badDirection = await cli.run(['neighbors', a.id, '--direction', 'sideways']);
    expect(badDirection.code).toBe(2);
  });
});

describe('mcp and hooks commands', () => {
  it('installs and uninstalls the Claude Code hooks idempotently, pointing them at the chosen store', async () => {
    const project = tempDirectory();
    const previous = process.cwd();
    process.chdir(project);
    try {
      const first = await cli.run(['hooks', 'install', '--path', 'store.db', '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.json()).toMatchObject({ changed: true, hooks: { SessionStart: expect.any(String), Stop: expect.any(String) } });
      const settingsPath = join(project, '.claude', 'settings.json');
      const settings = JSON.parse(readFileSync(settingsPath, 'utf8'));
      const commands = JSON.stringify(settings.hooks);
      // Not on the PATH in the tests: the absolute node and bin script, which resolve anywhere.
      expect(first.json().onPath).toBe(false);
      expect(settings.hooks.SessionStart[0].hooks[0].command).toMatch(
        /^\S*node\S* \S+\/packages\/engram\/bin\/engram\.js hook session-start --path /,
      );
      expect(first.stdout).toContain(settings.hooks.SessionStart[0].hooks[0].command);
      expect(commands).toContain(join(project, 'store.db'));
      expect((await cli.run(['hooks', 'install', '--path', 'store.db', '--json'])).json().changed).toBe(false);
      expect((await cli.run(['hooks', 'uninstall'])).stdout).toMatch(/removed Engram's hooks/);
      expect(JSON.stringify(JSON.parse(readFileSync(settingsPath, 'utf8')))).not.toContain('engram hook');
    } finally {
      process.chdir(previous);
    }
  });

  it('passes engram mcp options through to the MCP server command line', async () => {
    const result = await cli.run(['mcp', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/--http/);
  });
});
