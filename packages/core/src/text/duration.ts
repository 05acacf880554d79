const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A schedule's interval: "90s", "30m", "24h", "7d" → milliseconds; null when it is not such a duration or is under
 * `minimumMs` (default one minute: what the servers' `--consolidate-every` accepts).
 */
export function parseScheduleDuration(text: string, minimumMs = 60_000): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/i.exec(text);
  if (!match) return null;
  const milliseconds = Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
  return milliseconds >= minimumMs ? milliseconds : null;
}
