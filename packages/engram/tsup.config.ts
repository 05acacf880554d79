import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: [/^@engram\//, 'better-sqlite3', 'kysely', 'sqlite-vec', 'commander', '@huggingface/transformers', 'unpdf'],
});
