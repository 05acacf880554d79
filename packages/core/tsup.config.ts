import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

/**
 * zod's namespace export `locales` (`z.locales`: error messages in 63 languages, 360 KB of the
 * 1.06 MB bundle) cannot be tree-shaken, and Engram's messages are English: here it holds `en`
 * alone. `import('@engram/core')`: 145 → 120 ms (medians of 6, alternating, busy machine).
 */
const englishOnly: Plugin = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/index.js'), namespace: 'zod-locales' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

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
  // Sources import it as `import * as z from 'zod'`: esbuild tree-shakes a namespace import's
  // unused members, not those of the re-exported `z` object (`import { z }` kept all of zod:
  // 347 → 172 KB without the locales; import 113 → 92 ms, medians of 6 alternating).
  noExternal: ['zod'],
  esbuildPlugins: [englishOnly],
});
