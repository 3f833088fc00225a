/**
 * The transaction timers (RFC 3261 §17: A-M) without a scheduler timer, a closure and a handle
 * per transaction. The machines arm their timers with a handful of durations (T1 and its
 * doublings, 64*T1, T4, the 200 ms of §17.2.1), and two deadlines armed with the same duration
 * fall due in the order they were armed (the clock only moves forward). So each duration keeps
 * a FIFO of deadlines and one scheduler timer for the oldest live one: arming pushes a small
 * object, cancelling marks it, and a FIFO whose deadlines are all cancelled drops its timer.
 *
 * At 2,000 calls/s every call leaves three transactions waiting out Timers J, L and M (32 s):
 * with a Node timer each, that was a Timeout, a handle with its cancel closure and the machine's
 * bound callbacks per transaction, all kept for those 32 s; now it is one object per deadline.
 */
import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';

/** What a deadline calls: the machine, with the name it armed the timer under. */
export interface DeadlineOwner {
  fireDeadline(name: string): void;
}

class Deadline implements TimerHandle {
  constructor(
    readonly due: number,
    public owner: DeadlineOwner | undefined,
    readonly name: string,
    private readonly fifo: Fifo,
  ) {}

  /** idempotent */
  cancel(): void {
    if (this.owner === undefined) return;
    this.owner = undefined;
    this.fifo.dropped();
  }
}

/** the deadlines of one duration, oldest first */
class Fifo {
  entries: (Deadline | undefined)[] = [];
  head = 0;
  live = 0;
  timer: TimerHandle | undefined;
  running = false;

  constructor(
    private readonly queues: DeadlineQueues,
    readonly delay: number,
  ) {}

  /** a deadline was cancelled: with none left, the scheduler timer goes too */
  dropped(): void {
    this.live--;
    if (this.live > 0) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.entries.length = 0;
    this.head = 0;
  }

  /** bound once per duration: what the scheduler timer runs */
  readonly run = (): void => {
    this.queues.runDue(this);
  };
}

export class DeadlineQueues {
  private readonly fifos = new Map<number, Fifo>();
  private closed = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
  ) {}

  /** Call owner.fireDeadline(name) after delayMs, unless the handle is cancelled first. */
  arm(owner: DeadlineOwner, name: string, delayMs: number): TimerHandle {
    const delay = Math.max(0, delayMs);
    let fifo = this.fifos.get(delay);
    if (fifo === undefined) {
      fifo = new Fifo(this, delay);
      this.fifos.set(delay, fifo);
    }
    const deadline = new Deadline(this.scheduler.now() + delay, this.closed ? undefined : owner, name, fifo);
    if (this.closed) return deadline;
    fifo.entries.push(deadline);
    fifo.live++;
    if (fifo.timer === undefined && !fifo.running) fifo.timer = this.scheduler.setTimeout(fifo.run, delay);
    return deadline;
  }

  /** live deadlines (tests) */
  get size(): number {
    let n = 0;
    for (const fifo of this.fifos.values()) n += fifo.live;
    return n;
  }

  /** Fire every deadline of `fifo` that is due, then wait for the next one. */
  runDue(fifo: Fifo): void {
    fifo.timer = undefined;
    fifo.running = true;
    const now = this.scheduler.now();
    const entries = fifo.entries;
    // only what was armed before this run: a handler re-arming with a zero delay waits for the next
    const end = entries.length;
    while (fifo.head < end && fifo.head < entries.length) {
      const deadline = entries[fifo.head];
      if (deadline !== undefined && deadline.due > now) break;
      entries[fifo.head++] = undefined;
      const owner = deadline?.owner;
      if (deadline === undefined || owner === undefined) continue;
      deadline.owner = undefined;
      fifo.live--;
      try {
        owner.fireDeadline(deadline.name);
      } catch (err) {
        this.logger.error({ err, timer: deadline.name }, 'transaction timer handler threw');
      }
    }
    fifo.running = false;
    // keep the array from growing without end: drop the fired prefix now and then
    if (fifo.head === entries.length) {
      entries.length = 0;
      fifo.head = 0;
    } else if (fifo.head > 1024 && fifo.head * 2 > entries.length) {
      entries.splice(0, fifo.head);
      fifo.head = 0;
    }
    if (fifo.live > 0 && fifo.timer === undefined && !this.closed) {
      const next = entries[fifo.head];
      const wait = next === undefined ? fifo.delay : Math.max(0, next.due - this.scheduler.now());
      fifo.timer = this.scheduler.setTimeout(fifo.run, wait);
    }
  }

  /** Cancel every deadline and timer. Idempotent. */
  close(): void {
    this.closed = true;
    for (const fifo of this.fifos.values()) {
      for (let i = fifo.head; i < fifo.entries.length; i++) {
        const deadline = fifo.entries[i];
        if (deadline !== undefined) deadline.owner = undefined;
      }
      fifo.live = 0;
      fifo.timer?.cancel();
      fifo.timer = undefined;
      fifo.entries.length = 0;
      fifo.head = 0;
    }
    this.fifos.clear();
  }
}
