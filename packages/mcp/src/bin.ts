#!/usr/bin/env node
import module from 'node:module';

// Node 22+ caches compiled code between runs (faster start-up); Node 20 has no such cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const { runMcpCommandLine } = await import('./run-command-line.js');
const code = await runMcpCommandLine(process.argv.slice(2));
// Exit once stdout has drained (a hook's JSON must reach Claude Code whole), even if a library
// left a timer or handle behind.
process.stdout.write('', () => process.exit(code));
