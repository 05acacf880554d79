import type { LazyMemory } from './memory-source.js';

export { parseScheduleDuration as parseDuration } from '@engram/core';

/**
 * Runs `consolidate({ dryRun: false })` every `everyMs` in a long-running server (never in the
 * SDK: only a server started with a schedule does this). A run never overlaps the previous one;
 * a failure is logged and the next run goes ahead. Returns a function that stops the schedule,
 * whose `run()` runs it now (what the timer calls).
 */
export function scheduleConsolidation(
  memory: LazyMemory,
  everyMs: number,
  log: (message: string) => void,
): (() => void) & { run(): Promise<void> } {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const report = await (await memory.get()).consolidate({ dryRun: false });
      log(
        `consolidation: ${report.scanned} scanned, ${report.forgetting?.forgotten.length ?? 0} forgotten (archived to ${report.forgetting?.archive ?? '-'}), ${report.compression?.clusters.length ?? 0} patterns, in ${Math.round(report.durationMs)} ms`,
      );
    } catch (error) {
      log(`consolidation failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return Object.assign(() => clearInterval(timer), { run });
}
