/**
 * Every recipe in examples/<framework>/ runs as a user would run it (`node examples/<name>/index.mjs`
 * from the repository root, against the built packages) and must exit 0; each recipe checks its
 * own outcome and throws when the agent did not recall what it should have.
 * Needs `npm run build` first (`npm test` does it).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { usePostgres } from './support/postgres.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const examples = fileURLToPath(new URL('../examples/', import.meta.url));
const recipes = readdirSync(examples, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(`${examples}${entry.name}/index.mjs`))
  .map((entry) => entry.name);

async function runRecipe(recipe: string, env: Record<string, string> = {}, args: string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, [`examples/${recipe}/index.mjs`, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 110_000,
  });
  return stdout;
}

const postgres = usePostgres();

describe('examples', () => {
  it('has a recipe per framework, each with a README', () => {
    expect(recipes).toEqual(expect.arrayContaining(['ai-sdk', 'langgraph', 'mastra', 'openai-agents', 'multi-agent']));
    for (const recipe of recipes) expect(existsSync(`${examples}${recipe}/README.md`), `${recipe}/README.md`).toBe(true);
  });

  for (const recipe of recipes) {
    it(`${recipe} runs offline and recalls what it stored`, { timeout: 120_000 }, async () => {
      const stdout = await runRecipe(recipe);
      expect(stdout.trim().length).toBeGreaterThan(0);
    });
  }

  it('mastra/rag.mjs answers from an EngramVector index, re-indexed with deleteFilter', { timeout: 120_000 }, async () => {
    const { stdout } = await run(process.execPath, ['examples/mastra/rag.mjs'], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 110_000,
    });
    expect(stdout).toContain('index handbook: 4 chunks');
    expect(stdout).toContain('expires after 15 minutes');
  });

  it('multi-agent shares memory through engram serve with an API key (REST + X-Agent-ID, streamed)', { timeout: 120_000 }, async () => {
    const stdout = await runRecipe('multi-agent', {}, ['--rest']);
    expect(stdout).toContain('shared memory: engram serve at http://127.0.0.1:');
    expect(stdout).toContain('writer: listening');
    // X-Agent-ID set scope.agentId and the tag agent:researcher on what the researcher wrote.
    expect(stdout).toContain('writer: received from researcher:');
    expect(stdout).toContain('#agent:researcher');
    expect(stdout).toContain('"received":3');
  });

  const onPostgres = postgres.skip ? it.skip : it;
  onPostgres(
    `multi-agent shares memory through Postgres${postgres.skip ? ` (skipped: ${postgres.skip})` : ''}`,
    { timeout: 120_000 },
    async () => {
      const stdout = await runRecipe('multi-agent', { ENGRAM_PG_URL: postgres.url });
      expect(stdout).toContain('shared memory: Postgres');
      expect(stdout).toContain('"received":3');
    },
  );
});
