/**
 * Debian's Chromium for the browser tests (`apt-get install -y chromium`; `.ci/run` installs it).
 * When it is missing, CI (CI=true) fails loudly and a local run skips with the reason — the same
 * rule as the Postgres suites (tests/support/postgres.ts).
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.ENGRAM_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. Throws in CI. */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `Chromium was not found at ${CHROMIUM_PATH}: install it (Debian: \`apt-get install -y chromium\`) or set ENGRAM_CHROMIUM to its path`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`Browser tests cannot run in CI: ${reason}`);
  return reason;
}

/** Flags for a headless Chromium in a container: no sandbox (no user namespaces), no background traffic. */
export const CHROMIUM_ARGUMENTS = ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage', '--disable-gpu'];
