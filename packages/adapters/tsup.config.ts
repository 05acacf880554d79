import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { 'sqlite/index': 'src/sqlite/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['better-sqlite3', 'kysely', 'sqlite-vec', '@engram/core'],
});
