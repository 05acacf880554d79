import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_TYPES, extractionPrompt, FACTS_JSON_SCHEMA, RECONCILE_JSON_SCHEMA, reconcilePrompt } from '@engram/core';
import { describe, expect, it } from 'vitest';

// docs/intelligence.md quotes the prompts and schemas and carries a runnable worked example:
// keep them true until the doc-test runner executes every block.
const page = readFileSync(new URL('../docs/intelligence.md', import.meta.url), 'utf8');
const blocks = [...page.matchAll(/```(\w+)([^\n]*)\n([\s\S]*?)```/g)].map((match) => ({
  language: match[1] as string,
  info: (match[2] as string).trim(),
  body: match[3] as string,
}));

describe('docs/intelligence.md', () => {
  it('quotes the current prompts and schemas', () => {
    const texts = blocks.filter((block) => block.language === 'text').map((block) => block.body.trim());
    expect(texts).toContain(extractionPrompt({ types: BUILT_IN_TYPES, today: '2026-06-01' }));
    expect(texts).toContain(reconcilePrompt({}));
    const json = blocks.filter((block) => block.language === 'json').map((block) => JSON.parse(block.body));
    expect(json).toEqual([FACTS_JSON_SCHEMA, RECONCILE_JSON_SCHEMA]);
  });

  it('runs the worked example', async () => {
    const runnable = blocks.filter((block) => block.language === 'ts' && !block.info.includes('norun'));
    expect(runnable).toHaveLength(1);
    const directory = mkdtempSync(join(tmpdir(), 'engram-docs-'));
    try {
      const file = join(directory, 'worked-example.ts');
      writeFileSync(file, (runnable[0] as { body: string }).body);
      const logs: unknown[] = [];
      const original = console.log;
      console.log = (...values: unknown[]) => void logs.push(values);
      try {
        await import(/* @vite-ignore */ file);
      } finally {
        console.log = original;
      }
      expect(logs).toHaveLength(5);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
