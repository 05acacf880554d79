// Data safety: what encryption, erasure, backup and re-embedding cost on a SQLite file —
// addMany and get of sensitive vs plain memories (interleaved), forget of one user (with the
// space reclaimed), an online backup, and re-embedding the whole store.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmbedder, Memory, reembedStore, sqliteStore } from 'engram';
import { formatCount, formatMs, interleave, round, summary } from '../lib/stats.mjs';

export async function run({ full = false, progress = () => {} } = {}) {
  const size = full ? 100_000 : 20_000;
  const users = 200;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-safety-'));
  try {
    const path = join(directory, 'memory.db');
    const memory = new Memory({
      store: sqliteStore({ path }),
      embedder: hashEmbedder({ dimensions: 64 }),
      logger: false,
      encryption: { key: randomBytes(32).toString('hex') },
    });
    for (let offset = 0; offset < size; offset += 1000) {
      await memory.addMany(
        Array.from({ length: 1000 }, (_, index) => ({
          content: `note ${offset + index} about project ${(offset + index) % 97} and its deploys`,
          scope: { userId: `user-${(offset + index) % users}` },
        })),
      );
    }
    progress(`${formatCount(size)} memories`);
    const results = { size };

    // 1. addMany(100) and get: sensitive vs plain, interleaved so load hits both alike.
    let batch = 0;
    const rounds = Array.from({ length: 30 }, (_, index) => index);
    results.addMany100 = await interleave(rounds, {
      plain: () => memory.addMany(Array.from({ length: 100 }, (_, index) => ({ content: `plain ${batch}-${index} ${Math.random()}` }))),
      sensitive: () =>
        memory.addMany(
          Array.from({ length: 100 }, (_, index) => ({ content: `secret ${batch++}-${index} ${Math.random()}`, sensitive: true })),
        ),
    });
    const plainIds = (await memory.list({ limit: 200 })).items.filter((record) => !record.sensitive).map((record) => record.id);
    const secretIds = (await memory.list({ limit: 400 })).items.filter((record) => record.sensitive).map((record) => record.id);
    let cursor = 0;
    results.get = await interleave(
      Array.from({ length: 200 }, (_, index) => index),
      {
        plain: () => memory.get(plainIds[cursor % plainIds.length]),
        sensitive: () => memory.get(secretIds[cursor++ % secretIds.length]),
      },
    );
    progress(`get p50 plain ${results.get.plain.p50} ms, sensitive ${results.get.sensitive.p50} ms`);

    // 2. forget one user (~size/users memories), space reclaimed (VACUUM) each time.
    const forgetSamples = [];
    for (let user = 0; user < 5; user++) {
      const begin = performance.now();
      await memory.forget({ scope: { userId: `user-${user}` } });
      forgetSamples.push(performance.now() - begin);
    }
    results.forgetOneUser = { ...summary(forgetSamples), memoriesEach: size / users };
    progress(`forget p50 ${results.forgetOneUser.p50} ms`);

    // 3. online backup of the whole file.
    const backupSamples = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const begin = performance.now();
      await memory.backup(join(directory, `backup-${attempt}.db`));
      backupSamples.push(performance.now() - begin);
    }
    results.backup = { ...summary(backupSamples), megabytes: round(statSync(path).size / 1_048_576, 1) };
    await memory.close();
    progress(`backup p50 ${results.backup.p50} ms`);

    // 4. re-embed everything with another embedder (64 → 128 dimensions).
    const store = sqliteStore({ path });
    const begin = performance.now();
    const reembedded = await reembedStore({ store, embedder: hashEmbedder({ dimensions: 128 }) });
    const seconds = (performance.now() - begin) / 1000;
    await store.close();
    results.reembed = { memories: reembedded.total, seconds: round(seconds, 2), perSecond: Math.round(reembedded.total / seconds) };
    progress(`reembed ${results.reembed.perSecond} memories/s`);
    return { suite: 'safety', results, markdown: markdown(results) };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function markdown(results) {
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
  return [
    '### Data safety',
    '',
    `${formatCount(results.size)} memories on one SQLite file (64-d hash embedder); p50 / p95 in ms.`,
    '',
    '| operation | plain | sensitive (encrypted) | ratio |',
    '|---|---:|---:|---:|',
    `| addMany of 100 | ${formatMs(results.addMany100.plain.p50)} / ${formatMs(results.addMany100.plain.p95)} | ${formatMs(results.addMany100.sensitive.p50)} / ${formatMs(results.addMany100.sensitive.p95)} | ${ratio(results.addMany100.sensitive.p50, results.addMany100.plain.p50)} |`,
    `| get | ${formatMs(results.get.plain.p50)} / ${formatMs(results.get.plain.p95)} | ${formatMs(results.get.sensitive.p50)} / ${formatMs(results.get.sensitive.p95)} | ${ratio(results.get.sensitive.p50, results.get.plain.p50)} |`,
    '',
    '| operation | p50 / p95 |',
    '|---|---:|',
    `| forget one user (${results.forgetOneUser.memoriesEach} memories), space reclaimed | ${formatMs(results.forgetOneUser.p50)} / ${formatMs(results.forgetOneUser.p95)} |`,
    `| online backup (${results.backup.megabytes} MB file) | ${formatMs(results.backup.p50)} / ${formatMs(results.backup.p95)} |`,
    `| re-embed every memory (64 → 128 dimensions) | ${results.reembed.seconds} s, ${formatCount(results.reembed.perSecond)} memories/s |`,
    '',
  ].join('\n');
}
