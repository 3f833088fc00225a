/**
 * Real time, faster: delays are divided by `factor`, so a conformance run waits 0.5 s for a
 * 5 s noinput timeout. The interpreter still sees consistent (scaled) durations.
 */
import { SystemScheduler } from '../../../lib/index.js';
import type { Scheduler, TimerHandle } from '../../../lib/index.js';

export class ScaledScheduler implements Scheduler {
  private readonly inner = new SystemScheduler();

  constructor(private readonly factor: number) {}

  now(): number {
    return this.inner.now() * this.factor;
  }

  wallNow(): number {
    return this.inner.wallNow();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.inner.setTimeout(fn, delayMs / this.factor);
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    return this.inner.setInterval(fn, intervalMs / this.factor);
  }
}
