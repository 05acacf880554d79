import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages' TypeScript sources directly (no build needed for unit tests);
// end-to-end tests that spawn the CLI use the built `dist/` instead.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@engram\/core\/testing$/, replacement: source('./packages/core/src/testing/index.ts') },
      { find: /^@engram\/core$/, replacement: source('./packages/core/src/index.ts') },
      { find: /^@engram\/adapters\/sqlite$/, replacement: source('./packages/adapters/src/sqlite/index.ts') },
      { find: /^@engram\/adapters\/postgres$/, replacement: source('./packages/adapters/src/postgres/index.ts') },
      { find: /^@engram\/adapters\/qdrant$/, replacement: source('./packages/adapters/src/qdrant/index.ts') },
      { find: /^@engram\/adapters\/archive$/, replacement: source('./packages/adapters/src/archive/index.ts') },
      { find: /^@engram\/adapters\/files$/, replacement: source('./packages/adapters/src/files/index.ts') },
      { find: /^@engram\/embedders\/transformers$/, replacement: source('./packages/embedders/src/transformers/index.ts') },
      { find: /^@engram\/embedders\/openai$/, replacement: source('./packages/embedders/src/openai/index.ts') },
      { find: /^@engram\/embedders\/default$/, replacement: source('./packages/embedders/src/default/index.ts') },
      { find: /^@engram\/models$/, replacement: source('./packages/models/src/index.ts') },
      { find: /^@engram\/mcp$/, replacement: source('./packages/mcp/src/index.ts') },
      { find: /^@engram\/ai-sdk$/, replacement: source('./packages/ai-sdk/src/index.ts') },
      { find: /^@engram\/langgraph\/testing$/, replacement: source('./packages/langgraph/src/testing/index.ts') },
      { find: /^@engram\/langgraph$/, replacement: source('./packages/langgraph/src/index.ts') },
      { find: /^@engram\/mastra\/testing$/, replacement: source('./packages/mastra/src/testing/index.ts') },
      { find: /^@engram\/mastra$/, replacement: source('./packages/mastra/src/index.ts') },
      { find: /^@engram\/rest$/, replacement: source('./packages/rest/src/index.ts') },
      { find: /^engram$/, replacement: source('./packages/engram/src/index.ts') },
    ],
  },
  test: {
    // The default output, then every skipped test's reason (tests/support/skip-reasons-reporter.ts).
    reporters: ['default', './tests/support/skip-reasons-reporter.ts'],
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
