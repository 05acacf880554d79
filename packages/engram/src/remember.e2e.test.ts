import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ModelCall, startModelServer } from '../../models/src/test-fixtures/model-server.js';

// The built bin with ENGRAM_MODEL pointing at a local OpenAI wire-format server: proves the
// model package ships with the CLI and the environment reaches it.
const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const server = await startModelServer({
  models: ['extractor'],
  apiKey: 'sk-e2e',
  answer: (call: ModelCall) =>
    call.schemaName === 'engram_facts'
      ? { facts: [{ content: 'The user lives in Lisbon.', type: 'observation', tags: ['home'], importance: 0.8 }] }
      : { operations: [{ op: 'supersede', fact: 0, target: 'm1', content: null, reason: 'moved' }] },
});
const cwd = mkdtempSync(join(tmpdir(), 'engram-remember-e2e-'));
afterAll(async () => {
  await server.close();
  rmSync(cwd, { recursive: true, force: true });
});

function engram(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_PATH: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
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

describe('the built engram bin with ENGRAM_MODEL', () => {
  it('remember --infer supersedes a stored fact through the model', async (context) => {
    if (!existsSync(bin)) context.skip('run `npm run build` first: packages/engram/dist/cli.js is missing');
    const env = { ENGRAM_MODEL: 'openai-compatible:extractor', ENGRAM_MODEL_URL: server.baseURL, ENGRAM_MODEL_KEY: 'sk-e2e' };
    const added = await engram(['add', 'The user lives in Berlin.', '--user', 'ada'], env);
    expect(added.code, added.stderr).toBe(0);
    const remembered = await engram(['remember', 'I moved to Lisbon last month.', '--infer', '--user', 'ada', '--json'], env);
    expect(remembered.code, remembered.stderr).toBe(0);
    const document = JSON.parse(remembered.stdout);
    expect(document.results.map((item: { status: string; memory: { content: string } }) => [item.status, item.memory.content])).toEqual([
      ['superseded', 'The user lives in Lisbon.'],
    ]);
    expect(document.usage).toEqual({ inputTokens: 2234, outputTokens: 92, calls: 2 });
    // A refused key is a model failure: by default the text is kept verbatim, with a warning naming the setting.
    const wrongKey = await engram(['remember', 'I also like fado.', '--infer', '--user', 'ada'], { ...env, ENGRAM_MODEL_KEY: 'sk-wrong' });
    expect(wrongKey.code, wrongKey.stderr).toBe(0);
    expect(wrongKey.stderr).toMatch(/warning: .*refused the API key.*ENGRAM_MODEL_KEY.*stored the messages verbatim/);
    expect(wrongKey.stdout).toMatch(/^created\s+\S+\s+observation\/conversation\s+\[user\] I also like fado\./);
  });
});
