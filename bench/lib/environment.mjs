import { execFileSync } from 'node:child_process';
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
    memory: memoryProbe(),
  };
}

/**
 * What fresh memory costs on this machine today, measured in a child process: 64 MB written twice.
 * The first pass takes a page fault per 4 KB page (the kernel zero-fills a page, and on a virtual
 * machine whose host hands out memory lazily the host faults too); the second only writes. Zeroing
 * 4 KB at the second pass's speed takes ~0.2 µs, so on an ordinary machine a fault costs little
 * more; on the virtual machine these benchmarks ran on, 2026-12-05, it cost 12 µs (64 MB: 0.8 s the
 * first time, 3 ms the second). Every figure that touches new memory — a process
 * opening a 1M-memory index (~60k pages), a server whose heap grows — scales with it, so a run
 * records it beside the load average. Null when it cannot be measured.
 */
export function memoryProbe() {
  const script = `
    const bytes = 64 * 1024 * 1024;
    const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const a = new Uint8Array(bytes);
    let c = cpu(); let t = performance.now(); a.fill(1);
    const firstMs = performance.now() - t; const firstCpuMs = cpu() - c;
    t = performance.now(); a.fill(2);
    const secondMs = performance.now() - t;
    console.log(JSON.stringify({ firstMs, firstCpuMs, secondMs, pages: bytes / 4096, bytes }));`;
  try {
    const probe = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 }));
    return {
      firstTouchMicrosecondsPerPage: Number(((probe.firstCpuMs * 1000) / probe.pages).toFixed(2)),
      writeGigabytesPerSecond: Number((probe.bytes / 1e9 / (Math.max(probe.secondMs, 0.001) / 1000)).toFixed(1)),
    };
  } catch {
    return null;
  }
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
