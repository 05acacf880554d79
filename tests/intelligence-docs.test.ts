import { readFileSync } from 'node:fs';
import { BUILT_IN_TYPES, extractionPrompt, FACTS_JSON_SCHEMA, RECONCILE_JSON_SCHEMA, reconcilePrompt } from '@engram/core';
import { describe, expect, it } from 'vitest';

// docs/intelligence.md quotes the prompts and schemas: keep them true (tests/docs.test.ts runs its
// worked example).
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
});
