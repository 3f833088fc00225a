import cluster, { type Worker } from 'node:cluster';
import { ConflictError, describeError, InvalidInputError, NotFoundError, TimeoutError, UnavailableError } from '../lib/index.js';

/**
 * Request/response over the cluster IPC channel, so SIP workers can use what only the primary
 * holds (the embedded PGlite database is single-process; the in-memory location store must be
 * one set for all workers). Calls are JSON; a call that gets no answer in time rejects with
 * TimeoutError, never hangs.
 */
interface RpcRequest {
  type: 'rpc-req';
  id: number;
  op: string;
  args: unknown[];
}
interface RpcResponse {
  type: 'rpc-res';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
  /** the error's class, so callers can still tell a conflict from an outage */
  errorName?: string;
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
  worker.on('message', (m: unknown) => {
    if (!isRpc(m, 'rpc-req')) return;
    const req = m as RpcRequest;
    const handler = handlers[req.op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    const reply = (res: Omit<RpcResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: 'rpc-res', id: req.id, ...res } satisfies RpcResponse);
    };
    if (handler === undefined) {
      reply({ ok: false, error: `unknown operation ${req.op}` });
      return;
    }
    handler(...req.args).then(
      (value) => reply({ ok: true, value }),
      (err: unknown) => reply({ ok: false, error: describeError(err), errorName: err instanceof Error ? err.name : 'Error' }),
    );
  });
}

/** Worker side: a function that calls the primary. */
export function rpcClient(timeoutMs = 5000): (op: string, ...args: unknown[]) => Promise<unknown> {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (m: unknown) => {
    if (!isRpc(m, 'rpc-res')) return;
    const res = m as RpcResponse;
    const p = pending.get(res.id);
    if (p === undefined) return;
    pending.delete(res.id);
    clearTimeout(p.timer);
    if (res.ok) p.resolve(res.value);
    else {
      const Known = res.errorName !== undefined ? ERRORS[res.errorName] : undefined;
      p.reject(Known !== undefined ? new Known(res.error ?? res.errorName ?? 'error') : new UnavailableError(res.error ?? 'primary failed'));
    }
  });
  return (op, ...args) =>
    new Promise((resolve, reject) => {
      if (!cluster.isWorker || process.send === undefined) {
        reject(new UnavailableError('not a cluster worker'));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new TimeoutError(`the primary did not answer ${op} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      pending.set(id, { resolve, reject, timer });
      process.send({ type: 'rpc-req', id, op, args } satisfies RpcRequest);
    });
}
