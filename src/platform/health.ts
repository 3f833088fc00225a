import { SystemScheduler, describeError, type Scheduler } from '../lib/index.js';

/**
 * Readiness checks (GET /readyz). Each layer registers a named check (the bus is connected, the
 * database answers, the SIP sockets are bound); /readyz is 200 only when all of them pass.
 * A check that throws, rejects or takes longer than `timeoutMs` counts as failed, so one stuck
 * dependency cannot make the probe itself hang.
 */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface CheckResult {
  name: string;
  ok: boolean;
  /** why it failed, when it threw or timed out */
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: CheckResult[];
}

export interface HealthRegistryOptions {
  scheduler?: Scheduler;
  /** per-check deadline; default 2000 ms */
  timeoutMs?: number;
}

export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly scheduler: Scheduler;
  private readonly timeoutMs: number;

  constructor(options: HealthRegistryOptions = {}) {
    this.scheduler = options.scheduler ?? new SystemScheduler();
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** add (or replace) a check; returns a function that removes it */
  register(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  async evaluate(): Promise<ReadinessReport> {
    const checks = await Promise.all([...this.checks].map(([name, check]) => this.run(name, check)));
    return { ready: checks.every((c) => c.ok), checks };
  }

  private run(name: string, check: ReadinessCheck): Promise<CheckResult> {
    return new Promise<CheckResult>((resolve) => {
      const timer = this.scheduler.setTimeout(() => resolve({ name, ok: false, error: `timed out after ${this.timeoutMs} ms` }), this.timeoutMs);
      const done = (r: CheckResult): void => {
        timer.cancel();
        resolve(r);
      };
      try {
        Promise.resolve(check()).then(
          (ok) => done({ name, ok: ok === true }),
          (err: unknown) => done({ name, ok: false, error: describeError(err) }),
        );
      } catch (err) {
        done({ name, ok: false, error: describeError(err) });
      }
    });
  }
}
