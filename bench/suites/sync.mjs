// Sync: a replica (its own SQLite file, in this process) and engram-server (a separate process,
// SQLite) over loopback. Push: a replica that wrote N memories offline sends them all
// (operations/s, one round); catch-up: a fresh replica pulls the N (operations/s, seconds); and a
// replica's `add` p50 with its server unreachable against one that does not sync at all (writes
// never wait on the network).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashEmbedder, Memory, sqliteStore } from 'engram';
import { memories } from '../lib/corpus.mjs';
import { formatCount, formatMs, round, summary } from '../lib/stats.mjs';

const BIN = fileURLToPath(new URL('../../packages/rest/bin/engram-server.js', import.meta.url));

function startServer(path) {
  const child = spawn(process.execPath, [BIN, '--path', path, '--port', '0', '--rate-limit', '0'], {
    env: { ...process.env, ENGRAM_EMBEDDER: 'hash', ENGRAM_API_KEYS: '', ENGRAM_KEYS_FILE: '', ENGRAM_PG_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      output += chunk;
      const match = /serving .* at (http:\/\/[\d.:]+)/.exec(output);
      if (match)
        resolve({
          url: match[1],
          stop: () =>
            new Promise((done) => {
              child.removeAllListeners('exit');
              child.on('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
    });
    child.on('exit', (code) => reject(new Error(`engram-server exited (${code}): ${output}`)));
  });
}

function closedPort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function replica(path, url, extra = {}) {
  return new Memory({
    store: sqliteStore({ path }),
    embedder: hashEmbedder({ dimensions: 384 }),
    logger: false,
    ...(url ? { sync: { url, interval: '1h', pushDelayMs: false, batchSize: 1000, timeoutMs: 120_000, ...extra } } : {}),
  });
}

export async function run({ full, progress }) {
  const count = full ? 30_000 : 10_000;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-sync-'));
  const server = await startServer(join(directory, 'central.db'));
  try {
    progress(`writing ${formatCount(count)} memories on a replica, offline`);
    const writerPath = join(directory, 'writer.db');
    const offline = replica(writerPath);
    for (let start = 0; start < count; start += 1000) await offline.addMany(memories(start, Math.min(count, start + 1000)));
    await offline.close();

    progress('push');
    const writer = replica(writerPath, server.url);
    let lastPushed = 0;
    let pushedOperations = 0;
    writer.on('sync:pushed', ({ operations }) => {
      lastPushed = performance.now();
      pushedOperations += operations;
    });
    // Opening starts the first round in the background; now() waits for it (and runs one more,
    // which finds nothing): timed from the open to the last batch acknowledged.
    const begin = performance.now();
    await writer.ready();
    await writer.sync.now();
    const roundSeconds = (performance.now() - begin) / 1000;
    const pushSeconds = (lastPushed - begin) / 1000;
    const pending = (await writer.sync.status()).pending;
    await writer.close();

    progress('catch-up');
    const fresh = replica(join(directory, 'fresh.db'), server.url);
    let pulled = 0;
    let lastPulled = 0;
    fresh.on('sync:pulled', ({ changes }) => {
      pulled += changes;
      lastPulled = performance.now();
    });
    const catchBegin = performance.now();
    await fresh.ready();
    await fresh.sync.now();
    const catchUpSeconds = (lastPulled - catchBegin) / 1000;
    const caughtUp = await fresh.count();
    await fresh.close();

    progress('add latency with the server unreachable');
    const unreachable = replica(join(directory, 'unreachable.db'), `http://127.0.0.1:${await closedPort()}`, { pushDelayMs: 0 });
    const plain = replica(join(directory, 'plain.db'));
    await unreachable.ready();
    await plain.ready();
    const samples = { sync: [], plain: [] };
    for (let index = 0; index < 400; index++) {
      for (const [name, memory] of [
        ['sync', unreachable],
        ['plain', plain],
      ]) {
        const started = performance.now();
        await memory.add({ content: `latency probe ${name} ${index} ${Math.random()}` });
        samples[name].push(performance.now() - started);
      }
    }
    await unreachable.close();
    await plain.close();

    const results = {
      operations: count,
      pushedOperations,
      pendingAfter: pending,
      push: { seconds: round(pushSeconds, 2), operationsPerSecond: round(count / pushSeconds, 0), roundSeconds: round(roundSeconds, 2) },
      catchUp: { seconds: round(catchUpSeconds, 2), operationsPerSecond: round(pulled / catchUpSeconds, 0), pulled, memories: caughtUp },
      addLatency: { unreachableServer: summary(samples.sync), noSync: summary(samples.plain) },
    };
    progress(`push ${results.push.operationsPerSecond} ops/s, catch-up ${results.catchUp.seconds} s`);
    return { suite: 'sync', results, markdown: markdown(results), targets: [] };
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const latency = results.addLatency;
  return [
    '### sync',
    '',
    `A replica (SQLite, in the bench process) and engram-server (SQLite, its own process) over loopback; batches of 1,000; hash embedder on both sides (vectors never travel: the server embeds what it receives).`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| push of ${formatCount(results.operations)} offline writes (one round) | ${results.push.seconds} s — ${formatCount(results.push.operationsPerSecond)} ops/s |`,
    `| the same round including the pull of the echo | ${results.push.roundSeconds} s |`,
    `| catch-up of a fresh replica (${formatCount(results.catchUp.pulled)} changes) | ${results.catchUp.seconds} s — ${formatCount(results.catchUp.operationsPerSecond)} ops/s |`,
    `| \`add\` p50 / p95, server unreachable (a round after every write) | ${formatMs(latency.unreachableServer.p50)} / ${formatMs(latency.unreachableServer.p95)} |`,
    `| \`add\` p50 / p95, no sync | ${formatMs(latency.noSync.p50)} / ${formatMs(latency.noSync.p95)} |`,
    '',
  ].join('\n');
}
