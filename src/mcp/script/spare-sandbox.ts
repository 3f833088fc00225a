/**
 * A QuickJS sandbox made ahead of need. Creating one (a runtime, a context and the bootstrap
 * script) costs 1.5–3 ms of main-thread CPU per session, and the first one in a process also
 * compiles the QuickJS WebAssembly module (~70 ms). A session takes it between the caller's ACK
 * and its first prompt, so under load that work sat in front of every first prompt: here the
 * next session's sandbox is made on a timer of its own after one is taken, outside any call's
 * path to its first prompt, and the first one when the MCP starts.
 *
 * A spare holds nothing of a session: it is exactly what ScriptSandbox.create() returns, so a
 * session cannot tell a spare from a fresh one. Only one spare is kept (one idle runtime in the
 * WebAssembly heap); a session that finds none makes its own, as before.
 */
import type { Scheduler, TimerHandle } from '../../lib/index.js';
import { ScriptSandbox, type SandboxLimits } from './sandbox.js';

export class SpareSandbox {
  private spare: Promise<ScriptSandbox> | undefined;
  private refill: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly limits: SandboxLimits,
    private readonly scheduler: Scheduler,
  ) {
    this.refillSoon();
  }

  /** a sandbox for a new session, which owns (and closes) it: the spare when there is one */
  async take(): Promise<ScriptSandbox> {
    if (this.closed) return ScriptSandbox.create(this.limits);
    const spare = this.spare;
    this.spare = undefined;
    this.refillSoon();
    if (spare === undefined) return ScriptSandbox.create(this.limits);
    // a spare that failed to build says nothing about the next try: the session makes its own
    return spare.catch(() => ScriptSandbox.create(this.limits));
  }

  /** frees the spare; take() still works afterwards, without one */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.refill?.cancel();
    this.refill = undefined;
    const spare = this.spare;
    this.spare = undefined;
    void spare?.then(
      (s) => s.close(),
      () => undefined,
    );
  }

  /** on a timer, so that the session that took the spare reaches its first prompt first */
  private refillSoon(): void {
    if (this.closed || this.refill !== undefined) return;
    this.refill = this.scheduler.setTimeout(() => {
      this.refill = undefined;
      if (this.closed || this.spare !== undefined) return;
      const made = ScriptSandbox.create(this.limits);
      made.catch(() => undefined);
      this.spare = made;
    }, 0);
  }
}
