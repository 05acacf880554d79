import type { LazyMemory } from './memory-source.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "24h", "7d" → milliseconds; null when it is not such a duration or under a minute. */
export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/i.exec(text);
  if (!match) return null;
  const milliseconds = Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
  return milliseconds >= 60_000 ? milliseconds : null;
}

/**
 * Runs `consolidate({ dryRun: false })` every `everyMs` in a long-running server (never in the
 * SDK: only a server started with a schedule does this). A run never overlaps the previous one;
 * a failure is logged and the next run goes ahead. Returns a function that stops the schedule.
 */
export function scheduleConsolidation(memory: LazyMemory, everyMs: number, log: (message: string) => void): () => void {
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
  return () => clearInterval(timer);
}
