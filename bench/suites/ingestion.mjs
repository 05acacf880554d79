// Ingestion: Markdown files with nested headings into a SQLite file with the default embedder
// (engram's `new Memory({ path })`), in MB/s; then the same folder again (unchanged: nothing written).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Memory } from 'engram';
import { random, vocabulary } from '../lib/corpus.mjs';
import { formatCount } from '../lib/stats.mjs';

function sentence(next, words) {
  const text = Array.from({ length: words }, () => vocabulary[Math.floor(vocabulary.length * next() ** 2)]).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

/** A Markdown document of about `bytes` bytes: sections and subsections of paragraphs, a list, a code block. */
function markdown(index, bytes) {
  const next = random(index + 1);
  const parts = [`# Document ${index}`, '', sentence(next, 20), ''];
  let section = 0;
  while (parts.join('\n').length < bytes) {
    section++;
    parts.push(`## Section ${section} ${sentence(next, 3)}`, '');
    for (let sub = 1; sub <= 3; sub++) {
      parts.push(`### Part ${section}.${sub}`, '');
      for (let paragraph = 0; paragraph < 3; paragraph++) {
        parts.push(Array.from({ length: 4 }, () => sentence(next, 8 + Math.floor(next() * 12))).join(' '), '');
      }
      parts.push(`- ${sentence(next, 5)}`, `- ${sentence(next, 5)}`, '');
    }
    parts.push('```sh', `run ${sentence(next, 3)}`, '```', '');
  }
  return parts.join('\n');
}

export async function run({ full = false, progress = () => {} } = {}) {
  const files = full ? 200 : 50;
  const fileBytes = 50_000;
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-ingestion-'));
  try {
    const docs = join(directory, 'docs');
    mkdirSync(docs);
    let bytes = 0;
    for (let index = 0; index < files; index++) {
      const text = markdown(index, fileBytes);
      bytes += Buffer.byteLength(text);
      writeFileSync(join(docs, `doc-${index}.md`), text);
    }
    const memory = new Memory({ path: join(directory, 'memory.db'), logger: false });
    await memory.ready();
    const embedder = memory.embedder.id;
    progress(`${files} files, ${(bytes / 1e6).toFixed(1)} MB; embedder ${embedder}`);
    let started = performance.now();
    // CPU time too: on a shared machine the wall clock mostly measures the other processes.
    const cpuBefore = process.cpuUsage();
    const first = await memory.ingest(docs);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    started = performance.now();
    const again = await memory.ingest(docs);
    const unchangedSeconds = (performance.now() - started) / 1000;
    await memory.close();
    const megabytesPerSecond = bytes / 1e6 / seconds;
    const chunks = first.chunks.created;
    progress(`${megabytesPerSecond.toFixed(2)} MB/s, ${formatCount(chunks)} chunks`);
    const results = {
      files,
      megabytes: Number((bytes / 1e6).toFixed(2)),
      embedder,
      seconds: Number(seconds.toFixed(2)),
      megabytesPerSecond: Number(megabytesPerSecond.toFixed(2)),
      cpuSeconds: Number(cpuSeconds.toFixed(2)),
      megabytesPerCpuSecond: Number((bytes / 1e6 / cpuSeconds).toFixed(2)),
      chunks,
      failed: first.failed,
      unchangedSeconds: Number(unchangedSeconds.toFixed(2)),
      unchangedWritten: again.chunks.created + again.chunks.updated,
    };
    const markdownReport = [
      '### ingestion',
      '',
      `${files} Markdown files with nested headings (${results.megabytes} MB) into a new SQLite file with the default embedder (here \`${embedder}\`), through \`memory.ingest(folder)\`.`,
      '',
      '| files | MB | chunks | time (s) | MB/s | CPU (s) | MB per CPU second | re-ingest unchanged (s) | written on re-ingest |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${files} | ${results.megabytes} | ${formatCount(chunks)} | ${results.seconds} | ${results.megabytesPerSecond} | ${results.cpuSeconds} | ${results.megabytesPerCpuSecond} | ${results.unchangedSeconds} | ${results.unchangedWritten} |`,
      '',
    ].join('\n');
    return {
      suite: 'ingestion',
      results,
      markdown: markdownReport,
      targets: [
        {
          target: `ingestion, Markdown into SQLite (${embedder})`,
          goal: '≥ 2 MB/s',
          value: results.megabytesPerSecond,
          unit: 'MB/s',
          met: megabytesPerSecond >= 2,
        },
      ],
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
