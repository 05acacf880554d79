// Two agent processes share one memory: the researcher stores findings tagged `for:writer`, the
// writer polls for them and writes a report. On a SQLite file by default (WAL: many processes on
// one machine), on Postgres when ENGRAM_PG_URL is set (many machines). Offline; no model needed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = mkdtempSync(join(tmpdir(), 'engram-multi-agent-'));
const env = { ...process.env, MULTI_AGENT_DB: join(folder, 'team.db'), MULTI_AGENT_RUN: `run-${process.pid}-${Date.now()}` };
console.log(`shared memory: ${process.env.ENGRAM_PG_URL ? 'Postgres (ENGRAM_PG_URL)' : env.MULTI_AGENT_DB}`);

function start(name) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url))], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${name} exited with code ${code}`))));
  });
}

// The writer starts first and waits; the researcher starts a moment later.
const writer = start('writer');
await new Promise((resolve) => setTimeout(resolve, 200));
const researcher = start('researcher');
const [writerOutput] = await Promise.all([writer, researcher]);
rmSync(folder, { recursive: true, force: true });

const summary = JSON.parse(writerOutput.trim().split('\n').at(-1));
if (summary.received !== 3 || summary.reportFindings !== 3)
  throw new Error(`the writer did not get the 3 findings: ${JSON.stringify(summary)}`);
