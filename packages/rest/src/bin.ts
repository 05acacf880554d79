#!/usr/bin/env node
import { runServerCommandLine } from './cli/run-server-command-line.js';

const argv = process.argv.slice(2);
const code = await runServerCommandLine(argv, {
  stdout: process.stdout,
  stderr: process.stderr,
  relaunch: { script: process.argv[1] as string, argv },
});
process.exitCode = code;
