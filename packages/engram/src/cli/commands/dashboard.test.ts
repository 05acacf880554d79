import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { browserCommand } from './dashboard.js';

const bin = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'engram-dashboard-cli-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('browserCommand: a browser only when there is one', () => {
  it('uses $BROWSER, open on macOS, start on Windows', () => {
    expect(browserCommand({ BROWSER: 'firefox' }, 'linux')).toEqual(['firefox', []]);
    expect(browserCommand({}, 'darwin')).toEqual(['open', []]);
    expect(browserCommand({}, 'win32')?.[0]).toBe('cmd');
  });

  it('on Linux, needs a display and xdg-open on PATH', () => {
    expect(browserCommand({ PATH: '/usr/bin:/bin' }, 'linux')).toBeNull();
    expect(browserCommand({ DISPLAY: ':0', PATH: directory }, 'linux')).toBeNull();
  });
});

describe('engram dashboard', () => {
  it('serves the dashboard, prints its URL and, with --no-open, opens nothing', async () => {
    const child = spawn(process.execPath, [bin, 'dashboard', '--no-open', '--port', '0', '--path', join(directory, 'memory.db')], {
      env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_PATH: '', BROWSER: join(directory, 'must-not-run') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = /dashboard: (http:\/\/\S+\/)\n/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child.on('close', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<div id="app">');
    expect(stderr).toContain(`dashboard at ${url}`);
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toContain('could not start');
  });
});
