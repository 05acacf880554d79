export interface RateLimitOptions {
  /** Tokens added per second (the sustained request rate). */
  perSecond: number;
  /** Bucket size (the largest burst). Default: twice `perSecond`. */
  burst?: number;
}

/**
 * One token bucket per key. `take` answers whether a request may go now, and if not, in how many
 * seconds a token will be there (the Retry-After). Idle buckets are forgotten.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perSecond: number;
  private readonly burst: number;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.perSecond > 0)) throw new RangeError('rateLimit.perSecond must be above 0');
    this.perSecond = options.perSecond;
    this.burst = Math.max(1, options.burst ?? options.perSecond * 2);
  }

  take(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (this.buckets.size > 100_000) this.forgetFull();
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  private forgetFull(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
