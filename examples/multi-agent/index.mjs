// Two agent processes share one memory: the researcher stores findings tagged `for:writer`, the
// writer gets them and writes a report. Offline; no model needed.
// - default: both open the same SQLite file (WAL: many processes on one machine);
// - ENGRAM_PG_URL set: both open that Postgres database (many machines);
// - `--rest`: both talk HTTP to one `engram serve` with an API key, each naming itself with
//   X-Agent-ID, and the writer streams the findings (server-sent events) instead of polling.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rest = process.argv.includes('--rest');
const folder = mkdtempSync(join(tmpdir(), 'engram-multi-agent-'));
const env = { ...process.env, MULTI_AGENT_DB: join(folder, 'team.db'), MULTI_AGENT_RUN: `run-${process.pid}-${Date.now()}` };

function start(name, { waitFor } = {}) {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url))], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let signal = () => {};
  const ready = new Promise((resolve) => {
    signal = resolve;
  });
  child.stdout.on('data', (chunk) => {
    output += chunk;
    process.stdout.write(chunk);
    if (waitFor && output.includes(waitFor)) signal();
  });
  const exited = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${name} exited with code ${code}`))));
  });
  return { ready: waitFor ? ready : Promise.resolve(), exited };
}

/** `engram serve` (the engram-server bin of @engram/rest) on the team's SQLite file, with one API key. */
async function startServer() {
  const bin = join(dirname(fileURLToPath(import.meta.resolve('@engram/rest'))), '..', 'bin', 'engram-server.js');
  const key = randomBytes(24).toString('base64url');
  const server = spawn(process.execPath, [bin, '--port', '0', '--path', env.MULTI_AGENT_DB, '--embedder', 'hash'], {
    // The tenant "checkout_team" and its key; with a key configured, every request must carry one.
    env: { ...process.env, ENGRAM_API_KEYS: JSON.stringify({ checkout_team: key }), ENGRAM_KEYS_FILE: '', ENGRAM_PG_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    server.stderr.setEncoding('utf8').on('data', (chunk) => {
      log += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(log);
      if (match) resolve(match[1]);
    });
    server.on('exit', (code) => reject(new Error(`engram serve exited (${code}): ${log}`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      server.removeAllListeners('exit');
      server.on('exit', resolve);
      server.kill('SIGTERM');
    });
  return { url, key, stop };
}

let server;
let prefix = '';
if (rest) {
  server = await startServer();
  Object.assign(env, { ENGRAM_URL: server.url, ENGRAM_KEY: server.key });
  prefix = 'rest-';
  console.log(`shared memory: engram serve at ${server.url} (API key of tenant checkout_team)`);
} else {
  console.log(`shared memory: ${process.env.ENGRAM_PG_URL ? 'Postgres (ENGRAM_PG_URL)' : env.MULTI_AGENT_DB}`);
}

try {
  // The writer starts first and waits; the researcher starts once the writer listens (REST) or a moment later.
  const writer = start(`${prefix}writer`, rest ? { waitFor: 'writer: listening' } : {});
  await (rest ? writer.ready : new Promise((resolve) => setTimeout(resolve, 200)));
  const researcher = start(`${prefix}researcher`);
  const [writerOutput] = await Promise.all([writer.exited, researcher.exited]);
  const summary = JSON.parse(writerOutput.trim().split('\n').at(-1));
  if (summary.received !== 3 || summary.reportFindings !== 3)
    throw new Error(`the writer did not get the 3 findings: ${JSON.stringify(summary)}`);
} finally {
  await server?.stop();
  rmSync(folder, { recursive: true, force: true });
}
