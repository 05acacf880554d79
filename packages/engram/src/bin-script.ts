import { fileURLToPath } from 'node:url';

/** The engram bin's script in this install (src/ and the bundled dist/ both sit beside bin/). */
export const ENGRAM_BIN_SCRIPT = fileURLToPath(new URL('../bin/engram.js', import.meta.url));
