import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServer } from './support/engram-server.js';

/**
 * ENGRAM_SYNC_URL / ENGRAM_SYNC_KEY for the CLI, with real processes: a command that writes pushes
 * before it exits; without a server it still succeeds and the change stays queued; `engram sync`
 * sends it later. Needs the build (npm run build).
 */
const cli = fileURLToPath(new URL('../packages/engram/bin/engram.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'engram-sync-cli-'));
const servers: ServerProcess[] = [];
afterAll(() => {
  for (const server of servers) if (server.child.exitCode === null) server.child.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

function engram(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: directory,
      env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_SYNC_URL: '', ENGRAM_SYNC_KEY: '', ...env },
    });
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

describe('the CLI as a sync replica', () => {
  it('pushes what a command wrote before it exits, queues it when the server is away, and engram sync sends it', async () => {
    const key = 'cli-sync-key-0123456789abcdef';
    const server = await startServer(
      ['--port', '0', '--path', join(directory, 'central.db')],
      { ENGRAM_API_KEYS: JSON.stringify({ cli: key }) },
      directory,
    );
    servers.push(server);
    const laptop = { ENGRAM_PATH: join(directory, 'laptop.db'), ENGRAM_SYNC_URL: server.url, ENGRAM_SYNC_KEY: key };
    expect((await engram(['add', 'Pushed by the CLI before it exits', '--tags', 'cli'], laptop)).code).toBe(0);
    const status = JSON.parse((await engram(['sync', '--status', '--json'], laptop)).stdout) as { pending: number; lastPushAt: string };
    expect(status.pending).toBe(0);
    // The add's own process pushed: the time it did is kept in the store.
    expect(Date.parse(status.lastPushAt)).toBeGreaterThan(Date.now() - 60_000);

    // Another machine's store, pulling through `engram sync`.
    const desktop = { ENGRAM_PATH: join(directory, 'desktop.db'), ENGRAM_SYNC_URL: server.url, ENGRAM_SYNC_KEY: key };
    const pulled = JSON.parse((await engram(['sync', '--json'], desktop)).stdout) as { pulled: number; pending: number };
    expect(pulled).toMatchObject({ pulled: 1, pending: 0 });
    expect((await engram(['search', 'pushed by the CLI', '--json'], desktop)).stdout).toContain('Pushed by the CLI before it exits');

    // Server away: the write succeeds and waits; engram sync sends it once the server is back.
    server.child.kill('SIGKILL');
    await server.exited;
    const offline = await engram(['add', 'Written while the server was away'], laptop);
    expect(offline.code).toBe(0);
    expect(JSON.parse((await engram(['sync', '--status', '--json'], laptop)).stdout).pending).toBe(1);
    const failed = await engram(['sync'], laptop);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/sync failed: .*Local changes stay queued/);
    const again = await startServer(
      ['--port', String(server.port), '--path', join(directory, 'central.db')],
      { ENGRAM_API_KEYS: JSON.stringify({ cli: key }) },
      directory,
    );
    servers.push(again);
    expect(JSON.parse((await engram(['sync', '--json'], laptop)).stdout)).toMatchObject({ pushed: 1, pending: 0 });
    expect(JSON.parse((await engram(['sync', '--json'], desktop)).stdout)).toMatchObject({ pending: 0 });
    expect((await engram(['list', '--json'], desktop)).stdout).toContain('Written while the server was away');

    // engram forget on one machine: the command pushes the erasure before it exits, the other
    // machine's next sync erases its copy.
    expect((await engram(['add', 'Carol asked to be forgotten', '--user', 'carol'], laptop)).code).toBe(0);
    await engram(['sync'], desktop);
    expect((await engram(['list', '--json', '--user', 'carol'], desktop)).stdout).toContain('Carol asked to be forgotten');
    expect((await engram(['forget', '--user', 'carol', '--yes'], laptop)).code).toBe(0);
    expect(JSON.parse((await engram(['sync', '--status', '--json'], laptop)).stdout).pending).toBe(0);
    expect((await engram(['sync'], desktop)).code).toBe(0);
    expect((await engram(['list', '--json', '--user', 'carol'], desktop)).stdout).not.toContain('Carol asked to be forgotten');
  }, 120_000);
});
