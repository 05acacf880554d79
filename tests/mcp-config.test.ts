import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_PATH, parseCommandLine, resolveConfig, UsageError } from '@engram/mcp';
import { defaultEmbedder } from 'engram';
import { describe, expect, it } from 'vitest';
import { embedderChoice } from '../packages/mcp/src/embedder-choice.js';

describe('resolveConfig', () => {
  it('reads flags first, then the environment, and resolves the SQLite path', () => {
    expect(resolveConfig({}, {}, '/work/project')).toEqual({
      store: { kind: 'sqlite', path: resolve('/work/project', DEFAULT_PATH) },
      embedder: 'auto',
      defaults: {},
    });
    const env = { ENGRAM_PATH: 'data/memory.db', ENGRAM_EMBEDDER: 'hash', ENGRAM_USER_ID: 'alice', ENGRAM_AGENT_ID: ' ' };
    expect(resolveConfig({}, env, '/work/project')).toEqual({
      store: { kind: 'sqlite', path: '/work/project/data/memory.db' },
      embedder: 'hash',
      defaults: { userId: 'alice' },
    });
    expect(resolveConfig({ path: '/tmp/x.db', userId: 'bob', agentId: 'coder' }, env, '/').defaults).toEqual({
      userId: 'bob',
      agentId: 'coder',
    });
    expect(resolveConfig({ path: '~/m.db' }, {}, '/work').store).toEqual({ kind: 'sqlite', path: join(homedir(), 'm.db') });
    // Started from the file-system root (Claude Desktop): the home folder instead.
    expect(resolveConfig({}, {}, '/').store).toEqual({ kind: 'sqlite', path: join(homedir(), '.engram', 'memory.db') });
  });

  it('chooses Postgres from ENGRAM_PG_URL unless --path is given', () => {
    const env = { ENGRAM_PG_URL: 'postgres://u:p@db/engram', ENGRAM_PATH: 'ignored.db' };
    expect(resolveConfig({}, env, '/w').store).toEqual({ kind: 'postgres', connectionString: 'postgres://u:p@db/engram' });
    expect(resolveConfig({ path: 'local.db' }, env, '/w').store).toEqual({ kind: 'sqlite', path: '/w/local.db' });
    expect(() => resolveConfig({ path: 'a.db', postgresUrl: 'postgres://x' }, {}, '/w')).toThrow(/one store/);
  });
});

describe('parseCommandLine', () => {
  it('parses the server, hook and hooks commands', () => {
    expect(parseCommandLine([])).toEqual({ command: 'serve', options: { transport: 'stdio' } });
    expect(
      parseCommandLine(['--http', '--port', '0', '--host', '0.0.0.0', '--token', 't', '--compat', '--path', 'm.db', '--user-id', 'u']),
    ).toEqual({
      command: 'serve',
      options: { transport: 'http', port: 0, host: '0.0.0.0', token: 't', compat: true, path: 'm.db', userId: 'u' },
    });
    expect(parseCommandLine(['hook', 'stop', '--path', 'm.db'])).toEqual({ command: 'hook', event: 'stop', options: { path: 'm.db' } });
    expect(parseCommandLine(['hooks', 'install', '--global'])).toEqual({ command: 'hooks-install', global: true, options: {} });
    expect(parseCommandLine(['--help'])).toEqual({ command: 'help' });
  });

  it('rejects what cannot run with a usage error', () => {
    for (const args of [
      ['--nope'],
      ['--port', '80'],
      ['--http', '--port', 'abc'],
      ['hook'],
      ['hook', 'start'],
      ['hooks'],
      ['hooks', 'install', '--http'],
      ['dance'],
    ]) {
      expect(() => parseCommandLine(args), args.join(' ')).toThrow(UsageError);
    }
  });
});

describe('the embedder choice mirrors the engram package', () => {
  // @engram/mcp cannot import engram (engram depends on it): both must rebuild a stored embedder alike.
  it.each([
    ['hash-v1-64', 64],
    ['hash-v1-384', 384],
    ['transformers:Xenova/all-MiniLM-L6-v2:q8', 384],
    ['transformers:Xenova/bge-small-en-v1.5:fp32:cls', 384],
    ['transformers:custom/model:fp16:last_token:unnormalized', 512],
  ])('rebuilds %s', async (id, dimensions) => {
    const log = () => {};
    const ours = await embedderChoice('auto', log)({ stored: { id, dimensions } });
    const theirs = await defaultEmbedder({ log })({ stored: { id, dimensions } });
    expect({ id: ours.id, dimensions: ours.dimensions }).toEqual({ id: theirs.id, dimensions: theirs.dimensions });
    expect(ours.id).toBe(id);
  });

  it('makes the same choice for a new store', async () => {
    const ours = await embedderChoice('hash', () => {})({ stored: null });
    const theirs = await defaultEmbedder({ choice: 'hash', log: () => {} })({ stored: null });
    expect(ours.id).toBe(theirs.id);
    await expect(embedderChoice('word2vec', () => {})({ stored: null })).rejects.toThrow(/ENGRAM_EMBEDDER/);
  });
});
