import type { Clock } from '../../lib/index.js';

/**
 * Concurrent-call and calls-per-second limits per key (a tenant, a trunk). Pure counters on an
 * injected clock: the B2BUA asks before it routes and answers 503 when a limit says no.
 */
export interface LimitSpec {
  /** most calls at once; 0 or absent = unlimited */
  maxConcurrent?: number;
  /** most new calls per second; 0 or absent = unlimited */
  callsPerSecond?: number;
}

interface Bucket {
  active: number;
  tokens: number;
  refilledAt: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: 'concurrency' | 'rate'; key: string };

export class CallLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock) {}

  /**
   * Take one call slot under every key, or none (all-or-nothing): a call through trunk T of tenant
   * X counts against both. The returned release() is idempotent.
   */
  admit(limits: readonly { key: string; spec: LimitSpec }[]): Admission {
    const now = this.clock.now();
    for (const { key, spec } of limits) {
      const b = this.bucket(key, spec, now);
      if (spec.maxConcurrent !== undefined && spec.maxConcurrent > 0 && b.active >= spec.maxConcurrent) return { ok: false, reason: 'concurrency', key };
      if (spec.callsPerSecond !== undefined && spec.callsPerSecond > 0 && b.tokens < 1) return { ok: false, reason: 'rate', key };
    }
    const taken: Bucket[] = [];
    for (const { key, spec } of limits) {
      const b = this.bucket(key, spec, now);
      b.active++;
      if (spec.callsPerSecond !== undefined && spec.callsPerSecond > 0) b.tokens -= 1;
      taken.push(b);
    }
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        for (const b of taken) b.active = Math.max(0, b.active - 1);
      },
    };
  }

  active(key: string): number {
    return this.buckets.get(key)?.active ?? 0;
  }

  private bucket(key: string, spec: LimitSpec, now: number): Bucket {
    let b = this.buckets.get(key);
    const rate = spec.callsPerSecond ?? 0;
    if (b === undefined) {
      b = { active: 0, tokens: Math.max(1, rate), refilledAt: now };
      this.buckets.set(key, b);
    } else if (rate > 0) {
      // token bucket with a burst of one second's worth
      b.tokens = Math.min(Math.max(1, rate), b.tokens + ((now - b.refilledAt) / 1000) * rate);
      b.refilledAt = now;
    }
    return b;
  }
}
