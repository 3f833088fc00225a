/** Whether this process is a SIP worker of the cluster (cluster.ts), without loading the SIP stack. */
import cluster from 'node:cluster';

/** the environment variable that carries a worker's index (set by the primary in cluster.ts) */
export const SIP_WORKER_INDEX_ENV = 'OCX_SIP_WORKER_INDEX';

export function isSipWorker(): boolean {
  return cluster.isWorker && process.env[SIP_WORKER_INDEX_ENV] !== undefined;
}
