import type { OutputStream } from './io.js';

/**
 * A one-line progress bar on stderr when it is a terminal (redrawn in place, at most every
 * 100 ms), nothing otherwise: logs and pipes get the final summary line only.
 */
export function progressBar(
  stream: OutputStream,
  label: string,
  quiet: boolean,
): { update(done: number, total: number): void; end(): void } {
  const enabled = !quiet && stream.isTTY === true;
  let last = 0;
  let drawn = false;
  return {
    update(done, total) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% (${done}/${total})`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\n');
    },
  };
}
