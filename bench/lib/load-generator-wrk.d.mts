// Types of load-generator-wrk.mjs, for its test.

/** What one run answers: a summary shaped like autocannon's, one latency (ms) per response, wrk's CPU. */
export interface WrkRun {
  result: {
    requests: { total: number };
    /** Seconds. */
    duration: number;
    latency: { p99: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  latencies: number[];
  cpuMs: number;
  gc: null;
}

export interface WrkGenerator {
  name: string;
  run(url: string, route: 'search' | 'add' | 'get', options?: { duration?: number; amount?: number }): Promise<WrkRun>;
  stop(): void;
}

export function wrkVersion(): string | null;
export function startWrkGenerator(queries: string[], ids: string[], options: { connections: number }): WrkGenerator;
