import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['vitest'],
  // zod is bundled (only what the schemas use): loading its ~100 ESM files took ~70 ms of every
  // cold start, one file ~25 ms. Its types still come from the zod package (a dependency).
  noExternal: ['zod'],
});
