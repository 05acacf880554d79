// npm run bench [-- --full] [-- --suite scale,peer] [-- --data path/to/locomo.json]
//   [-- --suite scale --million [--corpus /tmp/engram-bench-corpus]]   (the 1M lifecycle figures of issue 18)
//
// Runs the benchmark suites in bench/suites/ (each exports `run({ full, data, progress, outDir })`)
// and writes, per suite, bench/results/<date>-<suite>.json, its SVG charts, and one markdown
// summary of the run: bench/results/<date>-summary.md (<date>-full-… for --full). See bench/README.md.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { environment } from './lib/environment.mjs';

const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    suite: { type: 'string' },
    data: { type: 'string' },
    million: { type: 'boolean', default: false },
    corpus: { type: 'string' },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
  },
});

const available = [
  'scale',
  'ann',
  'peer',
  'graph',
  'langgraph',
  'safety',
  'locomo',
  'rest',
  'infer',
  'consolidation',
  'ingestion',
  'collections',
  'sync',
  'postgres',
  'fleet',
].filter((name) => existsSync(new URL(`./suites/${name}.mjs`, import.meta.url)));
const selected = values.suite
  ? values.suite
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean)
  : available;
for (const name of selected) {
  if (!available.includes(name)) {
    console.error(`Unknown suite "${name}": choose from ${available.join(', ')}.`);
    process.exit(2);
  }
}

const outDir = values.out;
mkdirSync(outDir, { recursive: true });
const started = new Date();
// A full run's files carry "-full", so a quick run the same day does not overwrite them.
const date = `${started.toISOString().slice(0, 10)}${values.full ? '-full' : ''}${values.million ? '-million' : ''}`;
const begin = performance.now();
const elapsed = () => `${((performance.now() - begin) / 1000).toFixed(0).padStart(4)} s`;
const machine = environment();
console.error(
  `engram bench (${values.full ? 'full' : 'quick'}): ${selected.join(', ')} — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}${machine.memory ? `; new memory ${machine.memory.firstTouchMicrosecondsPerPage} µs a page at first touch` : ''}`,
);

// Suites may leave a corpus they built here for a later suite of the same run (scale → ann).
const cacheDir = mkdtempSync(join(tmpdir(), 'engram-bench-cache-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));
const sections = [];
const targets = [];
const written = [];
for (const name of selected) {
  const suiteBegin = performance.now();
  const progress = (message) => console.error(`[${elapsed()}] ${name}: ${message}`);
  progress('starting');
  const { run } = await import(`./suites/${name}.mjs`);
  let output;
  try {
    output = await run({
      full: values.full,
      data: values.data,
      progress,
      outDir,
      cacheDir,
      million: values.million,
      corpus: values.corpus,
    });
  } catch (error) {
    console.error(error);
    output = {
      suite: name,
      results: { failed: true, error: String(error?.stack ?? error) },
      markdown: `### ${name}\n\nFailed: ${String(error?.message ?? error)}\n`,
    };
  }
  const seconds = Number(((performance.now() - suiteBegin) / 1000).toFixed(1));
  const record = {
    suite: name,
    date: started.toISOString(),
    mode: values.full ? 'full' : 'quick',
    seconds,
    environment: machine,
    results: output.results,
  };
  const file = join(outDir, `${date}-${name}.json`);
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  written.push(file);
  for (const chart of output.charts ?? []) {
    const chartFile = join(outDir, `${date}-${chart.file}`);
    writeFileSync(chartFile, chart.svg);
    written.push(chartFile);
    output.markdown += `\n![${chart.file}](${date}-${chart.file})\n`;
  }
  sections.push(output.markdown);
  targets.push(...(output.targets ?? []));
  progress(`done in ${seconds} s`);
}

const command = `npm run bench${values.full || values.suite || values.data || values.million ? ' --' : ''}${values.full ? ' --full' : ''}${values.suite ? ` --suite ${values.suite}` : ''}${values.data ? ' --data <path>' : ''}${values.million ? ' --million' : ''}`;
const lines = [
  `# engram benchmarks — ${started.toISOString().slice(0, 10)} (${values.full ? 'full' : 'quick'})`,
  '',
  `\`${command}\` on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGb} GB), Node ${machine.node}, ${machine.platform}; load average at start ${machine.loadAverage.join(' / ')}${machine.memory ? `; new memory ${machine.memory.firstTouchMicrosecondsPerPage} µs a 4 KB page at first touch, writes ${machine.memory.writeGigabytesPerSecond} GB/s once touched` : ''}; ${elapsed().trim()} in all.`,
  'Timings are wall-clock on a shared machine: compare figures within one run, not across machines.',
  '',
];
if (targets.length > 0) {
  lines.push('## Targets', '', '| target | goal | measured | met |', '|---|---|---:|:---:|');
  for (const target of targets) {
    const value = typeof target.value === 'number' ? target.value.toLocaleString('en') : target.value;
    lines.push(
      `| ${target.target} | ${target.goal} | ${value}${target.unit ? ` ${target.unit}` : ''} | ${target.met ? 'yes' : '**no**'} |`,
    );
  }
  lines.push('');
}
lines.push(...sections);
const summary = join(outDir, `${date}-summary.md`);
writeFileSync(summary, `${lines.join('\n')}\n`);
written.push(summary);
console.error(`[${elapsed()}] wrote:\n  ${written.join('\n  ')}`);
console.log(lines.join('\n'));
