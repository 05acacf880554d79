#!/usr/bin/env node
import { runServerCommandLine } from './cli/run-server-command-line.js';

const code = await runServerCommandLine(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
