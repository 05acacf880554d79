// The dashboard's build: `npm run build` in @engram/rest runs tsup, then this, writing the static
// assets into dist/dashboard (shipped in the package, served at / by engram serve). Preact's JSX
// goes through Vite's own esbuild transform, so no framework plugin is needed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('./public'),
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: here('../dist/dashboard'),
    emptyOutDir: true,
    target: 'es2022',
    // One script and one stylesheet for the shell; the graph and chart libraries load with their pages.
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
  },
});
