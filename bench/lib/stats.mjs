// Timing helpers: medians and tail percentiles of wall-clock samples, in milliseconds.

export function percentile(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const round = (value, digits = 3) => Number(value.toFixed(digits));

export function summary(samples) {
  return {
    p50: round(percentile(samples, 50)),
    p95: round(percentile(samples, 95)),
    p99: round(percentile(samples, 99)),
    runs: samples.length,
  };
}

/** Runs `run(input)` once per input after `warmup` unmeasured runs; returns p50/p95/p99. */
export async function measure(inputs, run, { warmup = 20 } = {}) {
  for (const input of inputs.slice(0, warmup)) await run(input);
  const samples = [];
  for (const input of inputs) {
    const begin = performance.now();
    await run(input);
    samples.push(performance.now() - begin);
  }
  return summary(samples);
}

/**
 * Interleaves several contenders over the same inputs (a, b, a, b, …) so that machine load hits
 * them alike; returns one summary per contender.
 */
export async function interleave(inputs, contenders, { warmup = 5 } = {}) {
  const names = Object.keys(contenders);
  for (const input of inputs.slice(0, warmup)) for (const name of names) await contenders[name](input);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (const input of inputs) {
    for (const name of names) {
      const begin = performance.now();
      await contenders[name](input);
      samples[name].push(performance.now() - begin);
    }
  }
  return Object.fromEntries(names.map((name) => [name, summary(samples[name])]));
}

export const formatCount = (value) => value.toLocaleString('en');
export const formatBytes = (bytes) => {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} KB`;
};
export const formatMs = (value) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));
