import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The framework, Engram and the test runner resolve from the application's install, never bundled.
  external: [/^@engram\//, /^@mastra\//, 'zod', 'vitest'],
});
