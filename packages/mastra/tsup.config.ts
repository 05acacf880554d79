import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // The framework and Engram resolve from the application's install, never bundled.
  external: [/^@engram\//, /^@mastra\//, 'zod'],
});
