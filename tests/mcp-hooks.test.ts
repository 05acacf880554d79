import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, inMemoryStore, Memory, type MemoryStore } from '@engram/core';
import { extractSessionNotes, installClaudeCodeHooks, resolveHookRunner, runClaudeCodeHook, uninstallClaudeCodeHooks } from '@engram/mcp';
import { afterAll, describe, expect, it } from 'vitest';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function temporary(prefix = 'engram-hooks-'): string {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

/** A project folder that is a git root, with a subfolder to start from. */
function project(name = 'shop-api'): { root: string; nested: string } {
  const root = join(temporary(), name);
  mkdirSync(join(root, '.git'), { recursive: true });
  writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/fix-checkout-timeouts\n');
  const nested = join(root, 'src', 'billing');
  mkdirSync(nested, { recursive: true });
  return { root, nested };
}

// biome-ignore lint/suspicious/noExplicitAny: settings files are free-form JSON
type Json = Record<string, any>;

function readJson(path: string): Json {
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

describe('resolveHookRunner', () => {
  /** A fake install: bin/engram-mcp.js, and a global bin folder that may link to it. */
  function install() {
    const base = temporary('engram-runner-');
    const script = join(base, 'lib', 'node_modules', '@engram', 'mcp', 'bin', 'engram-mcp.js');
    mkdirSync(join(script, '..'), { recursive: true });
    writeFileSync(script, '#!/usr/bin/env node\n');
    chmodSync(script, 0o755);
    const globalBin = join(base, 'bin');
    const projectBin = join(base, 'project', 'node_modules', '.bin');
    mkdirSync(globalBin, { recursive: true });
    mkdirSync(projectBin, { recursive: true });
    return { base, script, globalBin, projectBin };
  }

  it('writes the bare bin name when the PATH leads to this install', () => {
    const { script, globalBin } = install();
    symlinkSync(script, join(globalBin, 'engram-mcp'));
    expect(resolveHookRunner({ bin: 'engram-mcp', script, searchPath: `/nowhere:${globalBin}` })).toEqual({
      command: 'engram-mcp',
      onPath: true,
    });
  });

  it('writes node and the script by absolute path when the bin is only in node_modules/.bin (npx, a clone)', () => {
    const { script, projectBin } = install();
    symlinkSync(script, join(projectBin, 'engram-mcp'));
    expect(resolveHookRunner({ bin: 'engram-mcp', script, searchPath: projectBin, nodePath: '/opt/node 20/bin/node' })).toEqual({
      command: `'/opt/node 20/bin/node' ${script}`,
      onPath: false,
    });
  });

  it('does not trust another install of the same name on the PATH', () => {
    const { script, globalBin } = install();
    const other = install();
    symlinkSync(other.script, join(globalBin, 'engram-mcp'));
    expect(resolveHookRunner({ bin: 'engram-mcp', script, searchPath: globalBin, nodePath: '/usr/bin/node' })).toEqual({
      command: `/usr/bin/node ${script}`,
      onPath: false,
    });
  });
});

describe('installClaudeCodeHooks', () => {
  it('writes both hooks into the project settings at the git root, idempotently', async () => {
    const { root, nested } = project();
    const first = await installClaudeCodeHooks({ cwd: nested });
    expect(first.settingsPath).toBe(join(root, '.claude', 'settings.json'));
    expect(first).toMatchObject({ changed: true, hooks: { SessionStart: 'added', Stop: 'added' } });
    const settings = readJson(first.settingsPath);
    expect(settings.hooks.SessionStart).toEqual([{ hooks: [{ type: 'command', command: 'engram-mcp hook session-start', timeout: 15 }] }]);
    expect(settings.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'engram-mcp hook stop', timeout: 30 }] }]);
    const text = readFileSync(first.settingsPath, 'utf8');

    const second = await installClaudeCodeHooks({ cwd: nested });
    expect(second).toMatchObject({ changed: false, hooks: { SessionStart: 'unchanged', Stop: 'unchanged' } });
    expect(readFileSync(first.settingsPath, 'utf8')).toBe(text);
  });

  it('keeps every other setting and hook, and a matcher the user added', async () => {
    const { root } = project();
    const path = join(root, '.claude', 'settings.json');
    mkdirSync(join(root, '.claude'));
    const original = {
      permissions: { allow: ['Bash(npm test)'] },
      env: { FOO: 'bar' },
      hooks: {
        PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: './check.sh' }] }],
        SessionStart: [
          { matcher: 'startup', hooks: [{ type: 'command', command: 'engram-mcp hook session-start', timeout: 5 }] },
          { hooks: [{ type: 'command', command: 'echo hello' }] },
        ],
        Stop: [
          { hooks: [{ type: 'command', command: 'say done' }] },
          { hooks: [{ type: 'command', command: 'engram hook stop' }] },
          { hooks: [{ type: 'command', command: 'engram-mcp hook stop' }] },
        ],
      },
    };
    writeFileSync(path, JSON.stringify(original));
    const result = await installClaudeCodeHooks({ projectDir: root });
    expect(result.hooks).toEqual({ SessionStart: 'updated', Stop: 'updated' });
    const settings = readJson(path);
    expect(settings.permissions).toEqual(original.permissions);
    expect(settings.env).toEqual(original.env);
    expect(settings.hooks.PreToolUse).toEqual(original.hooks.PreToolUse);
    expect(settings.hooks.SessionStart).toEqual([
      { matcher: 'startup', hooks: [{ type: 'command', command: 'engram-mcp hook session-start', timeout: 15 }] },
      { hooks: [{ type: 'command', command: 'echo hello' }] },
    ]);
    // Duplicates collapse into one.
    expect(settings.hooks.Stop).toEqual([
      { hooks: [{ type: 'command', command: 'say done' }] },
      { hooks: [{ type: 'command', command: 'engram-mcp hook stop', timeout: 30 }] },
    ]);
    expect((await installClaudeCodeHooks({ projectDir: root })).changed).toBe(false);

    const removed = await uninstallClaudeCodeHooks({ projectDir: root });
    expect(removed.hooks).toEqual({ SessionStart: 'removed', Stop: 'removed' });
    const after = readJson(path);
    expect(after.hooks.SessionStart).toEqual([{ hooks: [{ type: 'command', command: 'echo hello' }] }]);
    expect(after.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'say done' }] }]);
    expect(after.hooks.PreToolUse).toEqual(original.hooks.PreToolUse);
    expect((await uninstallClaudeCodeHooks({ projectDir: root })).changed).toBe(false);
  });

  it('writes ~/.claude/settings.json with --global, with a custom command and store path', async () => {
    const home = temporary('engram-home-');
    const result = await installClaudeCodeHooks({
      global: true,
      homeDir: home,
      command: 'engram',
      arguments: ['--path', '/data/my memories/memory.db'],
    });
    expect(result.settingsPath).toBe(join(home, '.claude', 'settings.json'));
    const settings = readJson(result.settingsPath);
    expect(settings.hooks.SessionStart[0].hooks[0].command).toBe("engram hook session-start --path '/data/my memories/memory.db'");
    expect(settings.hooks.Stop[0].hooks[0].command).toBe("engram hook stop --path '/data/my memories/memory.db'");
    // Switching runner updates the same entries.
    expect((await installClaudeCodeHooks({ global: true, homeDir: home })).hooks).toEqual({ SessionStart: 'updated', Stop: 'updated' });
    expect(readJson(result.settingsPath).hooks.Stop).toEqual([
      { hooks: [{ type: 'command', command: 'engram-mcp hook stop', timeout: 30 }] },
    ]);
    await uninstallClaudeCodeHooks({ global: true, homeDir: home });
    expect(readJson(result.settingsPath)).toEqual({});
  });

  it('refuses to touch a settings file that is not valid JSON', async () => {
    const { root } = project();
    mkdirSync(join(root, '.claude'));
    const path = join(root, '.claude', 'settings.json');
    writeFileSync(path, '{ "permissions": ');
    await expect(installClaudeCodeHooks({ projectDir: root })).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(path, 'utf8')).toBe('{ "permissions": ');
  });
});

describe('extractSessionNotes', () => {
  it('finds decisions and learnings and skips code, questions and noise', () => {
    const notes = extractSessionNotes([
      { role: 'user', text: "Let's use pnpm instead of npm for the workspace installs." },
      {
        role: 'assistant',
        text: [
          'I looked at the failing test.',
          'It turns out the flaky test depends on the system time zone being UTC.',
          '```ts\nconst decided = true; // we decided nothing here\n```',
          '- **Decision:** we will keep retries in the client, not the server.',
          'Should we switch to Vitest?',
          'The root cause was a missing await in the billing webhook handler.',
          'ok',
        ].join('\n'),
      },
      { role: 'assistant', text: 'It turns out the flaky test depends on the system time zone being UTC.' },
    ]);
    expect(notes.decisions).toEqual([
      "Let's use pnpm instead of npm for the workspace installs.",
      'Decision: we will keep retries in the client, not the server.',
    ]);
    expect(notes.learnings).toEqual([
      'It turns out the flaky test depends on the system time zone being UTC.',
      'The root cause was a missing await in the billing webhook handler.',
    ]);
  });
});

function transcript(directory: string, lines: unknown[]): string {
  const path = join(directory, 'transcript.jsonl');
  writeFileSync(path, `${lines.map((line) => JSON.stringify(line)).join('\n')}\nnot json at all\n`);
  return path;
}

describe('runClaudeCodeHook', () => {
  it('stop records decisions and learnings once per session, then session-start injects them', async () => {
    const { root, nested } = project('shop-api');
    const storePath = join(temporary(), 'store', 'memory.db');
    const env = { ENGRAM_PATH: storePath, ENGRAM_EMBEDDER: 'hash' };
    const path = transcript(root, [
      { type: 'user', message: { role: 'user', content: 'Checkout times out under load, can you look?' } },
      {
        type: 'assistant',
        message: {
          role: 'assistant',
          content: [
            { type: 'text', text: 'The root cause was the database pool being exhausted by long transactions.' },
            { type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'we decided to rm -rf everything' } },
          ],
        },
      },
      { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'decided nothing' }] } },
      {
        type: 'assistant',
        isSidechain: true,
        message: { role: 'assistant', content: 'We decided to rewrite everything in Rust, says a subagent.' },
      },
      {
        type: 'assistant',
        message: { role: 'assistant', content: 'We decided to raise the pool size to 50 and add a 5 second acquire timeout.' },
      },
    ]);
    const input = JSON.stringify({
      session_id: 'session-1',
      transcript_path: path,
      cwd: nested,
      hook_event_name: 'Stop',
      stop_hook_active: false,
    });

    // No store yet: session-start adds nothing and creates nothing.
    const empty = await runClaudeCodeHook('session-start', {
      input: JSON.stringify({ cwd: nested, source: 'startup' }),
      env,
      log: () => {},
    });
    expect(empty).toEqual({ stdout: '', memoryIds: [] });
    expect(existsSync(storePath)).toBe(false);

    const stopped = await runClaudeCodeHook('stop', { input, env, log: () => {} });
    expect(stopped.stdout).toBe('');
    expect(stopped.memoryIds).toHaveLength(2);
    // Stop fires after every reply: the same session updates its records instead of adding more.
    const again = await runClaudeCodeHook('stop', { input, env, log: () => {} });
    expect(again.memoryIds).toEqual(stopped.memoryIds);

    const started = await runClaudeCodeHook('session-start', {
      input: JSON.stringify({ cwd: nested, source: 'startup', session_id: 'session-2' }),
      env,
      log: () => {},
    });
    const output = JSON.parse(started.stdout) as { hookSpecificOutput: { hookEventName: string; additionalContext: string } };
    expect(output.hookSpecificOutput.hookEventName).toBe('SessionStart');
    const context = output.hookSpecificOutput.additionalContext;
    expect(context).toContain('project "shop-api"');
    expect(context).toContain('raise the pool size to 50');
    expect(context).toContain('database pool being exhausted');
    expect(context).toContain('#project:shop-api');
    expect(context).not.toContain('Rust');
    expect(context).not.toContain('rm -rf');
    expect(started.memoryIds.sort()).toEqual([...stopped.memoryIds].sort());

    const memory = new Memory({
      store: (await import('@engram/adapters/sqlite')).sqliteStore({ path: storePath }),
      embedder: hashEmbedder(),
      logger: false,
    });
    const { items } = await memory.list({});
    expect(items).toHaveLength(2);
    expect(items.map((item) => item.type).sort()).toEqual(['decision', 'learning']);
    expect(items[0]?.tags).toEqual(['claude-code', 'session', 'project:shop-api']);
    expect(items[0]?.metadata).toMatchObject({ source: 'claude-code-stop-hook', session_id: 'session-1', project: 'shop-api' });
    await memory.close();
  });

  it('takes the project from CLAUDE_PROJECT_DIR when Claude Code sets it', async () => {
    const { root } = project('payments');
    const elsewhere = project('unrelated').nested;
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    const path = transcript(root, [
      { type: 'assistant', message: { role: 'assistant', content: 'We decided to settle payouts daily instead of weekly.' } },
    ]);
    const result = await runClaudeCodeHook('stop', {
      input: { transcript_path: path, cwd: elsewhere },
      env: { CLAUDE_PROJECT_DIR: join(root, 'src') },
      memory,
      log: () => {},
    });
    expect(result.memoryIds).toHaveLength(1);
    const [record] = (await memory.list({})).items;
    expect(record?.tags).toContain('project:payments');
    expect(record?.key).toBeNull();
    await memory.close();
  });

  it('stores nothing when the session decided and learned nothing', async () => {
    const { root } = project();
    const memory = new Memory({ store: inMemoryStore(), embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    const path = transcript(root, [{ type: 'user', message: { role: 'user', content: 'hello there, how are you doing today?' } }]);
    const result = await runClaudeCodeHook('stop', { input: { transcript_path: path, cwd: root }, memory, log: () => {} });
    expect(result).toEqual({ stdout: '', memoryIds: [] });
    expect(await memory.count()).toBe(0);
    await memory.close();
  });

  it('is non-fatal: bad input, a missing transcript and a broken store produce no output', async () => {
    const logs: string[] = [];
    const log = (message: string) => logs.push(message);
    expect(await runClaudeCodeHook('stop', { input: 'not json', log })).toEqual({ stdout: '', memoryIds: [] });
    expect(await runClaudeCodeHook('stop', { input: { transcript_path: '/nonexistent/transcript.jsonl' }, log })).toEqual({
      stdout: '',
      memoryIds: [],
    });
    const broken = { open: () => Promise.reject(new Error('store is broken')) } as unknown as MemoryStore;
    const memory = new Memory({ store: { ...inMemoryStore(), ...broken }, embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    expect(await runClaudeCodeHook('session-start', { input: {}, memory, log })).toEqual({ stdout: '', memoryIds: [] });
    expect(logs.some((message) => message.includes('store is broken'))).toBe(true);
  });

  it('is time-bounded: a store that hangs is abandoned at the deadline', async () => {
    const hanging = { ...inMemoryStore(), open: () => new Promise<void>(() => {}) } as MemoryStore;
    const memory = new Memory({ store: hanging, embedder: hashEmbedder({ dimensions: 16 }), logger: false });
    const logs: string[] = [];
    const started = Date.now();
    const result = await runClaudeCodeHook('session-start', { input: {}, memory, timeoutMs: 200, log: (message) => logs.push(message) });
    expect(result).toEqual({ stdout: '', memoryIds: [] });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(logs).toEqual(['gave up after 200 ms']);
  });
});
