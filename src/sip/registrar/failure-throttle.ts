/**
 * Counts failed authentications per key in a fixed window and locks the key out for a while
 * once it reaches `maxFailures` (a brute-force brake, like Kamailio's pike + htable lockouts).
 * Work per call is one Map lookup; memory is bounded by `maxTracked` (the oldest entry goes) and
 * by sweep(), which the owner calls from its one housekeeping timer: no per-request timers.
 */
import type { Clock } from '../../lib/index.js';

export interface FailureThrottleOptions {
  clock: Clock;
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  /** most keys tracked at once; default 100 000 */
  maxTracked?: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  lockedUntil: number;
}

export class FailureThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly maxTracked: number;

  constructor(private readonly options: FailureThrottleOptions) {
    this.maxTracked = options.maxTracked ?? 100_000;
  }

  isLocked(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.lockedUntil > this.options.clock.now();
  }

  /** milliseconds left of a lockout (0 when not locked) */
  lockedFor(key: string): number {
    const entry = this.entries.get(key);
    return entry === undefined ? 0 : Math.max(0, entry.lockedUntil - this.options.clock.now());
  }

  /** count one failure; true when the key is (now) locked out */
  recordFailure(key: string): boolean {
    const now = this.options.clock.now();
    let entry = this.entries.get(key);
    if (entry === undefined || (now - entry.windowStart >= this.options.windowMs && entry.lockedUntil <= now)) {
      if (entry === undefined && this.entries.size >= this.maxTracked) {
        const oldest = this.entries.keys().next();
        if (oldest.done !== true) this.entries.delete(oldest.value);
      }
      entry = { windowStart: now, failures: 0, lockedUntil: 0 };
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    entry.failures++;
    if (entry.failures >= this.options.maxFailures && entry.lockedUntil <= now) entry.lockedUntil = now + this.options.lockoutMs;
    return entry.lockedUntil > now;
  }

  /** a success forgets the failures of that key (not a lockout in force) */
  recordSuccess(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.lockedUntil <= this.options.clock.now()) this.entries.delete(key);
  }

  /** drop entries whose window and lockout are both over */
  sweep(): void {
    const now = this.options.clock.now();
    for (const [key, entry] of this.entries) {
      if (now - entry.windowStart >= this.options.windowMs && entry.lockedUntil <= now) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
