/**
 * A "pike"-like per-source limit: one token bucket per source IP, refilled continuously at
 * `ratePerSecond` up to `burst`. A flooding address runs dry without touching anyone else's
 * bucket. Buckets are created lazily, refilled on use (no timers), bounded by `maxTracked`
 * (the oldest goes first) and dropped by sweep() once full again.
 */
import type { Clock } from '../../lib/index.js';

export interface SourceRateLimiterOptions {
  clock: Clock;
  ratePerSecond: number;
  burst: number;
  /** most sources tracked at once; default 100 000 */
  maxTracked?: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxTracked: number;
  private readonly perMs: number;

  constructor(private readonly options: SourceRateLimiterOptions) {
    this.maxTracked = options.maxTracked ?? 100_000;
    this.perMs = options.ratePerSecond / 1000;
  }

  /** take one token for this source; false when it has none left */
  allow(source: string): boolean {
    const now = this.options.clock.now();
    let bucket = this.buckets.get(source);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxTracked) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      bucket = { tokens: this.options.burst, updated: now };
      this.buckets.set(source, bucket);
    } else {
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updated) * this.perMs);
      bucket.updated = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** forget sources whose bucket has refilled (they would start full anyway) */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [source, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updated) * this.perMs >= this.options.burst) this.buckets.delete(source);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
