/**
 * Replay protection by nonce-count (RFC 7616 §3.4.5, RFC 2617 §3.2.2): per nonce we remember
 * the highest nc accepted and refuse any request whose nc is not higher.
 *
 * Memory is bounded twice: entries expire with their nonce (swept on the Scheduler) and the map
 * never holds more than `maxEntries` (the oldest are dropped first). Tracking is per process:
 * a replay sent to another node within the nonce lifetime is not seen here (a shared store on
 * the bus would be needed for that).
 */
import type { Scheduler, TimerHandle } from '../../lib/index.js';
import { detachedString } from '../message/index.js';
import { makeRoom } from './bounded-map.js';

interface Entry {
  highest: number;
  expiresAt: number;
}

export class NonceCountTracker {
  private readonly entries = new Map<string, Entry>();
  private sweepTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * Accept nc for nonce when it is higher than any accepted before; records it. `expiresAt` is
   * the monotonic time (scheduler.now()) after which the nonce is dead anyway.
   */
  accept(nonce: string, nc: number, expiresAt: number): boolean {
    const entry = this.entries.get(nonce);
    if (entry !== undefined) {
      if (nc <= entry.highest) return false;
      entry.highest = nc;
      return true;
    }
    if (this.closed) return true;
    makeRoom(this.entries, this.maxEntries);
    // kept for the nonce's lifetime: not as a slice of the request it came in
    this.entries.set(detachedString(nonce), { highest: nc, expiresAt });
    this.scheduleSweep();
    return true;
  }

  close(): void {
    this.closed = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    this.entries.clear();
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined || this.closed) return;
    this.sweepTimer = this.scheduler.setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweep();
    }, this.ttlMs);
  }

  private sweep(): void {
    const now = this.scheduler.now();
    for (const [nonce, entry] of this.entries) {
      if (entry.expiresAt <= now) this.entries.delete(nonce);
    }
    if (this.entries.size > 0) this.scheduleSweep();
  }
}
