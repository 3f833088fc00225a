/**
 * Time is injected (STYLE.md §4): everything that owns a timer takes a Scheduler, so unit tests
 * run on FakeScheduler and Timer B (32 s) is tested in microseconds of real time.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** milliseconds, monotonic: for durations and timers */
  now(): number;
  /** milliseconds since the Unix epoch: for timestamps that leave the process */
  wallNow(): number;
}

export interface Scheduler extends Clock {
  /** run fn once after delayMs; the handle cancels it (cancel is idempotent) */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** run fn every intervalMs until cancelled */
  setInterval(fn: () => void, intervalMs: number): TimerHandle;
}

/** The real clock: performance.now() and Node timers. Timers are unref'd so they never hold the process open. */
export class SystemScheduler implements Scheduler {
  now(): number {
    return performance.now();
  }

  wallNow(): number {
    return Date.now();
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    const t = setInterval(fn, Math.max(1, intervalMs));
    t.unref();
    return { cancel: () => clearInterval(t) };
  }
}

interface FakeTimer {
  id: number;
  due: number;
  interval: number | undefined;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Fake time for tests: nothing fires until advance()/runAll() moves the clock. Timers due at
 * the same instant fire in the order they were set.
 */
export class FakeScheduler implements Scheduler {
  private current: number;
  private readonly wallOffset: number;
  private nextId = 1;
  private timers: FakeTimer[] = [];

  constructor(options: { start?: number; wallStart?: number } = {}) {
    this.current = options.start ?? 0;
    this.wallOffset = (options.wallStart ?? 1_700_000_000_000) - this.current;
  }

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.current + this.wallOffset;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, Math.max(0, delayMs), undefined);
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    const step = Math.max(1, intervalMs);
    return this.add(fn, step, step);
  }

  /** number of timers still pending */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** move time forward by ms, firing every timer that falls due, in due order */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue();
      if (next === undefined || next.due > target) break;
      this.current = next.due;
      this.fire(next);
    }
    this.current = target;
  }

  /** fire timers until none is left (intervals excluded after maxSteps to avoid spinning forever) */
  runAll(maxSteps = 10_000): void {
    for (let i = 0; i < maxSteps; i++) {
      const next = this.nextDue();
      if (next === undefined) return;
      this.current = Math.max(this.current, next.due);
      this.fire(next);
    }
  }

  private add(fn: () => void, delay: number, interval: number | undefined): TimerHandle {
    const timer: FakeTimer = { id: this.nextId++, due: this.current + delay, interval, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  private nextDue(): FakeTimer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }

  private fire(timer: FakeTimer): void {
    if (timer.interval === undefined) {
      timer.cancelled = true;
    } else {
      timer.due += timer.interval;
    }
    timer.fn();
  }
}
