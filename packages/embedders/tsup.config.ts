import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    'transformers/index': 'src/transformers/index.ts',
    'openai/index': 'src/openai/index.ts',
    'default/index': 'src/default/index.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  // Peers: resolved from the application's own install, never bundled.
  external: ['@huggingface/transformers', '@engram/core'],
});
