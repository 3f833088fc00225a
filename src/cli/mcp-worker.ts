/**
 * The Media Control Platform inside a SIP worker process (`sip.workers` > 1 with the `mcp` role).
 *
 * One event loop carries a few hundred IVR calls: every call plays and receives 50 RTP packets a
 * second, and the interpreter, the prompt player and the recorder all run on that loop. So an MCP
 * node with several SIP workers runs one MCP in each, each with its own media engine on its own
 * slice of the media port range. An RFC 5552/4240 INVITE is owned by the worker that owns its
 * Call-ID (cluster.ts), which answers it with an SDP of its own ports: the RTP then reaches that
 * worker's sockets directly, and the in-dialog requests (ACK, BYE, INFO) follow the Call-ID there.
 *
 * What stays with the primary: the database (hosted applications are fetched over HTTP from the
 * control role like any other URL) and the recording spool's recovery at start. The B2BUA (dial-plan
 * VoiceXML targets, bridge transfers) runs only with one SIP process, so a worker's MCP serves the
 * SIP entries (`dialog@`, `annc@`) and blind transfers.
 */
import type { Logger, Scheduler } from '../lib/index.js';
import { openBlobStore, type Config, type Metrics } from '../platform/index.js';
import type { SipService } from '../sip/index.js';

export interface WorkerMcp {
  service: SipService;
  close(): Promise<void>;
}

export async function startWorkerMcp(options: {
  config: Config;
  index: number;
  count: number;
  metrics: Metrics | undefined;
  scheduler: Scheduler;
  logger: Logger;
  secret: string;
  sipListener: () => { protocol: 'udp' | 'tcp'; address: string; port: number } | undefined;
}): Promise<WorkerMcp> {
  const { config, index, count, scheduler } = options;
  const [{ localEngine, processNodeId, workerPortRange }, { startMcpRole }, { localSipHost }] = await Promise.all([
    import('./media-role.js'),
    import('./mcp-role.js'),
    import('./calls-role.js'),
  ]);
  const log = options.logger.child({ component: 'media' });
  const range = workerPortRange(config.media.portMin, config.media.portMax, index, count);
  // unique per worker even when media.nodeId is configured: every worker is an engine of its own
  const nodeId = processNodeId(config.media.nodeId);
  const workerConfig: Config = { ...config, media: { ...config.media, ...range } };
  const blobs = openBlobStore(config.blobs, config.dataDir, log);
  const engine = localEngine(workerConfig, blobs, nodeId, options.metrics, scheduler, log);
  log.info({ ports: `${range.portMin}-${range.portMax}` }, 'media engine of this SIP worker');
  const mcp = await startMcpRole({
    config: { ...workerConfig, mcp: { ...config.mcp, maxSessions: Math.max(1, Math.ceil(config.mcp.maxSessions / count)) } },
    engine,
    blobs,
    scheduler,
    logger: options.logger,
    secret: options.secret,
    sipListener: options.sipListener,
    localHost: () => localSipHost(config),
    // dial-plan targets come from the B2BUA, which does not run in workers
    hostedAppUrl: () => Promise.resolve(undefined),
  });
  return {
    service: mcp.service,
    close: async () => {
      await mcp.close();
      await engine.close();
      await blobs.close();
    },
  };
}
