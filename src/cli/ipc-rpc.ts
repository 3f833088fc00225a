import cluster, { type Worker } from 'node:cluster';
import { ConflictError, describeError, InvalidInputError, NotFoundError, TimeoutError, UnavailableError } from '../lib/index.js';

/**
 * Request/response over the cluster IPC channel, so SIP workers can use what only the primary
 * holds (the embedded PGlite database is single-process; the in-memory location store must be
 * one set for all workers). Calls are JSON; a call that gets no answer in time rejects with
 * TimeoutError, never hangs.
 *
 * Under load a worker makes several calls per turn of its event loop (one per datagram read in
 * that turn), and every process.send() is a JSON encode plus a write on the channel and a wake-up
 * on the other side. So calls and answers are batched: whatever is queued during one turn leaves
 * as one message, {type:'rpc-req', reqs:[...]} / {type:'rpc-res', res:[...]}, on setImmediate.
 */
interface RpcRequest {
  id: number;
  op: string;
  args: unknown[];
}
interface RpcResponse {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  /** the error's class, so callers can still tell a conflict from an outage */
  errorName?: string;
}
interface RpcRequestBatch {
  type: 'rpc-req';
  reqs: RpcRequest[];
}
interface RpcResponseBatch {
  type: 'rpc-res';
  res: RpcResponse[];
}

/** Collects items during one event-loop turn and hands them over together. */
function batcher<T>(flush: (items: T[]) => void): (item: T) => void {
  let queued: T[] = [];
  const send = () => {
    const items = queued;
    queued = [];
    flush(items);
  };
  return (item) => {
    if (queued.push(item) === 1) setImmediate(send);
  };
}

/** Errors whose class matters to callers (optimistic-concurrency retries, 404s) cross the channel by name. */
const ERRORS: Record<string, new (message: string) => Error> = {
  ConflictError,
  NotFoundError,
  InvalidInputError,
  TimeoutError,
};

function isRpc(m: unknown, type: string): boolean {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;
}

export type RpcHandlers = Record<string, (...args: never[]) => Promise<unknown>>;

/** Primary side: answer workers' calls with the handlers. */
export function serveRpc(worker: Worker, handlers: RpcHandlers): void {
  const reply = batcher<RpcResponse>((res) => {
    if (worker.isConnected()) worker.send({ type: 'rpc-res', res } satisfies RpcResponseBatch);
  });
  const serve = (req: RpcRequest) => {
    const handler = handlers[req.op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (handler === undefined) {
      reply({ id: req.id, ok: false, error: `unknown operation ${req.op}` });
      return;
    }
    handler(...req.args).then(
      (value) => reply({ id: req.id, ok: true, value }),
      (err: unknown) => reply({ id: req.id, ok: false, error: describeError(err), errorName: err instanceof Error ? err.name : 'Error' }),
    );
  };
  worker.on('message', (m: unknown) => {
    if (!isRpc(m, 'rpc-req')) return;
    for (const req of (m as RpcRequestBatch).reqs) serve(req);
  });
}

/** how often a worker looks for calls the primary has not answered in time */
const SWEEP_MS = 250;

/** Worker side: a function that calls the primary. */
export function rpcClient(timeoutMs = 5000): (op: string, ...args: unknown[]) => Promise<unknown> {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; op: string; deadline: number }>();
  // One sweep for every pending call instead of a timer per call (two calls per REGISTER under
  // load): a call times out between timeoutMs and timeoutMs + SWEEP_MS after it was made.
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () => {
    const now = performance.now();
    // every call gets the same timeout, so the Map (insertion order) is in deadline order
    for (const [id, p] of pending) {
      if (p.deadline > now) break;
      pending.delete(id);
      p.reject(new TimeoutError(`the primary did not answer ${p.op} within ${timeoutMs} ms`));
    }
    if (pending.size === 0 && sweeper !== undefined) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const settle = (res: RpcResponse) => {
    const p = pending.get(res.id);
    if (p === undefined) return;
    pending.delete(res.id);
    if (res.ok) p.resolve(res.value);
    else {
      const Known = res.errorName !== undefined ? ERRORS[res.errorName] : undefined;
      p.reject(Known !== undefined ? new Known(res.error ?? res.errorName ?? 'error') : new UnavailableError(res.error ?? 'primary failed'));
    }
  };
  process.on('message', (m: unknown) => {
    if (!isRpc(m, 'rpc-res')) return;
    for (const res of (m as RpcResponseBatch).res) settle(res);
  });
  const request = batcher<RpcRequest>((reqs) => {
    try {
      process.send?.({ type: 'rpc-req', reqs } satisfies RpcRequestBatch);
    } catch (err) {
      // the channel is closing: fail these calls now rather than at their timeout
      for (const r of reqs) settle({ id: r.id, ok: false, error: describeError(err) });
    }
  });
  return (op, ...args) =>
    new Promise((resolve, reject) => {
      if (!cluster.isWorker || process.send === undefined) {
        reject(new UnavailableError('not a cluster worker'));
        return;
      }
      const id = nextId++;
      pending.set(id, { resolve, reject, op, deadline: performance.now() + timeoutMs });
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, Math.min(SWEEP_MS, timeoutMs));
        sweeper.unref();
      }
      request({ id, op, args });
    });
}
