import { statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** What the numbers were measured on (timings only compare within one machine and one run). */
export function environment() {
  const processors = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: processors[0]?.model?.trim() ?? 'unknown',
    cores: processors.length,
    memoryGb: Math.round(totalmem() / 1e9),
    loadAverage: loadavg().map((value) => Number(value.toFixed(2))),
  };
}

/** A SQLite file's size with its WAL. */
export function fileBytes(path) {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // no such file
    }
  }
  return total;
}
