import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', bin: 'src/bin.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Dependencies and optional peers resolve from the application's install, never bundled.
  external: [
    /^@engram\//,
    /^@modelcontextprotocol\/sdk/,
    'zod',
    'better-sqlite3',
    'kysely',
    'sqlite-vec',
    'pg',
    '@huggingface/transformers',
    'unpdf',
  ],
});
