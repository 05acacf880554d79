import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    'sqlite/index': 'src/sqlite/index.ts',
    'postgres/index': 'src/postgres/index.ts',
    'qdrant/index': 'src/qdrant/index.ts',
    'archive/index': 'src/archive/index.ts',
    'files/index': 'src/files/index.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['better-sqlite3', 'kysely', 'sqlite-vec', 'pg', '@electric-sql/pglite', '@qdrant/js-client-rest', '@engram/core', 'unpdf'],
});
