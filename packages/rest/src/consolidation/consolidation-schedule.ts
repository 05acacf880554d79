import type { ConsolidationReport, Memory } from '@engram/core';
import { runExclusively } from './consolidation-runs.js';

/** A tenant's memory for one scheduled run, and what to do with it afterwards. */
export interface ScheduledMemory {
  memory: Memory;
  /** Called after the run (e.g. close a memory opened just for it). */
  release(): Promise<void>;
}

export interface TenantConsolidationScheduleOptions {
  /** How often, in milliseconds (at least one minute). */
  everyMs: number;
  /** The tenants to consolidate, read at each run (keys created or revoked in between count). */
  tenants: () => Promise<string[]>;
  memoryOf: (tenant: string) => Promise<ScheduledMemory>;
  log: (message: string) => void;
}

export interface TenantConsolidationSchedule {
  /** Runs every tenant now (a run already going is not doubled): what the timer calls. */
  run(): Promise<void>;
  /** Stops the timer; a run in progress finishes. */
  stop(): void;
  /** Settles once no run is in progress. */
  idle(): Promise<void>;
}

function summary(report: ConsolidationReport): string {
  return (
    `${report.scanned} scanned, ${report.forgetting?.forgotten.length ?? 0} forgotten` +
    `${report.forgetting?.archive ? ` (archived to ${report.forgetting.archive})` : ''}, ` +
    `${report.compression?.clusters.length ?? 0} patterns, in ${Math.round(report.durationMs)} ms`
  );
}

/**
 * `--consolidate-every` of the REST server (and of the MCP server with API keys): every `everyMs`,
 * applies `consolidate()` to each tenant's store in turn, each archiving to its own archive. One
 * tenant failing (no archive, a run of its own already going) is logged and the others go ahead;
 * runs never overlap. Only long-running servers start one: the SDK never consolidates by surprise.
 */
export function scheduleTenantConsolidation(options: TenantConsolidationScheduleOptions): TenantConsolidationSchedule {
  const { log } = options;
  let running: Promise<void> | undefined;
  const runAll = async () => {
    let tenants: string[];
    try {
      tenants = await options.tenants();
    } catch (error) {
      log(`consolidation: could not list the tenants: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    for (const tenant of tenants) {
      try {
        const { memory, release } = await options.memoryOf(tenant);
        try {
          const report = await runExclusively(memory, () => memory.consolidate({ dryRun: false }));
          log(`consolidation of tenant ${tenant}: ${summary(report)}`);
        } finally {
          await release();
        }
      } catch (error) {
        log(`consolidation of tenant ${tenant} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  };
  const run = () => {
    running ??= runAll().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void run(), options.everyMs);
  timer.unref();
  return { run, stop: () => clearInterval(timer), idle: async () => void (await running) };
}
