import cluster, { type Worker } from 'node:cluster';
import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { describeError, fnv1a32, randomToken, SystemScheduler, type Logger } from '../lib/index.js';
import { createMetrics, createRedisBus, nativeUdpAvailable, openUdpSocket, shareMetricsWithPrimary, type Config } from '../platform/index.js';
import type { LocationChange, MemoryLocationStore, PacketAffinity, SipServer, transport } from '../sip/index.js';
import { createSipServer, portsOf } from './sip-role.js';
import { rpcClient, serveRpc, type RpcHandlers } from './ipc-rpc.js';
import { authSecret, createLocationStore, subscriberServices } from './subscriber-services.js';
import { LocationReplica, RpcDirectory } from './worker-adapters.js';
import type { DirectorySnapshot } from './subscriber-directory.js';
import { tlsMaterial } from './tls-material.js';
import { SIP_WORKER_INDEX_ENV } from './is-sip-worker.js';
import { startWorkerMcp } from './mcp-worker.js';

/**
 * The SIP role on several cores. Node 20's dgram has no SO_REUSEPORT, so the workers are
 * `node:cluster` processes: the primary owns the listening sockets and every worker receives on
 * the same UDP socket (the kernel wakes one of them per datagram) and gets TCP/TLS/WS
 * connections handed over by the primary.
 *
 * Nothing in the kernel keeps a transaction on one worker, so each UDP message is owned by the
 * worker `hash(Call-ID) mod N`: a worker that receives a message it does not own passes the
 * bytes, with their source address, to the owner's private loopback relay socket, and the owner
 * handles them as if it had received them itself. Responses leave through the shared socket, so
 * they carry the right source port. Stream connections need no relay: a connection lives in one
 * worker and all its messages arrive there. Stateless OPTIONS are answered by whoever got them.
 *
 * Messages between the primary and the workers (over the cluster IPC channel):
 *   worker → primary  {type:'sip-ready', index, ports, relayPort}
 *   primary → workers {type:'sip-peers', relayPorts}   once every worker is ready, when one exits (its
 *                                                    port 0: the others keep its calls), and after a restart
 *   primary → worker  {type:'sip-shutdown'}
 *   primary → workers {type:'sip-directory-changed'}   after any provisioning change (RpcDirectory's cache)
 *   primary → workers {type:'sip-directory-snapshot', snapshot}   the whole directory, after each reload that left it current
 *   primary → workers {type:'sip-location', changes}   every write to the in-memory location store, batched per turn
 *
 * With the embedded (in-memory) location store every worker keeps a copy of it (LocationReplica)
 * and of the subscriber directory: a REGISTER then costs one IPC round trip (the write, checked
 * and versioned by the primary) instead of three (HA1, read, write), and an INVITE's lookup none.
 */

const INDEX_ENV = SIP_WORKER_INDEX_ENV;
/** set for workers that bind the SIP UDP port themselves: the port */
const REUSE_PORT_ENV = 'OCX_SIP_WORKER_UDP_REUSEPORT';

/**
 * A port free for SIP over UDP and TCP on the bind address (and on :: when IPv6 listens too),
 * for workers that each bind UDP themselves: port 0 would give each a different one.
 */
async function freeSipPort(config: Config): Promise<number> {
  const addresses = [config.sip.bind, ...(config.sip.ipv6 && !config.sip.bind.includes(':') ? ['::'] : [])];
  for (let attempt = 0; attempt < 20; attempt++) {
    const probe = dgram.createSocket({ type: config.sip.bind.includes(':') ? 'udp6' : 'udp4' });
    const port = await new Promise<number>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind({ address: config.sip.bind, port: 0, exclusive: true }, () => resolve(probe.address().port));
    });
    probe.close();
    const free = await Promise.all(addresses.flatMap((address) => [udpFree(address, port), config.sip.tcpPort === 0 ? tcpFree(address, port) : Promise.resolve(true)]));
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${config.sip.bind}`);
}

function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    s.once('error', () => resolve(false));
    s.bind({ address, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function tcpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host: address, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

interface ReadyMessage {
  type: 'sip-ready';
  index: number;
  ports: Record<string, number>;
  relayPort: number;
}
interface PeersMessage {
  type: 'sip-peers';
  relayPorts: number[];
}
interface ShutdownMessage {
  type: 'sip-shutdown';
}
/** provisioning changed: workers drop what they cached from the primary's directory */
interface DirectoryChangedMessage {
  type: 'sip-directory-changed';
}
interface DirectorySnapshotMessage {
  type: 'sip-directory-snapshot';
  snapshot: DirectorySnapshot;
}
interface LocationChangesMessage {
  type: 'sip-location';
  changes: LocationChange[];
}
type ClusterMessage = ReadyMessage | PeersMessage | ShutdownMessage | DirectoryChangedMessage | DirectorySnapshotMessage | LocationChangesMessage;

function isClusterMessage(m: unknown): m is ClusterMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('sip-');
}


const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;
const CALL_ID = [0x63, 0x61, 0x6c, 0x6c, 0x2d, 0x69, 0x64]; // "call-id"

/**
 * The Call-ID of a SIP message read straight from its bytes, for routing it to its owner without
 * parsing it first. Undefined whenever the bytes are anything but plain: no header, an empty or
 * folded value, a byte above 0x7f (the parser would read such a message its own way, and both
 * must agree on the owner). The value is what the parser gives: trimmed of spaces and tabs.
 */
export function rawCallId(data: Uint8Array): string | undefined {
  const end = data.length;
  // the first header line starts after the start line
  let at = data.indexOf(LF);
  while (at >= 0 && at + 1 < end) {
    const line = at + 1;
    // an empty line ends the headers
    if (data[line] === CR || data[line] === LF) return undefined;
    const nameEnd = callIdNameEnd(data, line);
    if (nameEnd >= 0) {
      let p = nameEnd;
      while (data[p] === SP || data[p] === HT) p++;
      if (data[p] === COLON) return callIdValue(data, p + 1);
    }
    at = data.indexOf(LF, line);
  }
  return undefined;
}

/** where the header name starting at `line` ends when it is Call-ID (any case) or its compact form i; -1 otherwise */
function callIdNameEnd(data: Uint8Array, line: number): number {
  if (((data[line] ?? 0) | 0x20) === 0x69) return line + 1;
  for (let k = 0; k < CALL_ID.length; k++) if (((data[line + k] ?? 0) | 0x20) !== CALL_ID[k]) return -1;
  return line + CALL_ID.length;
}

function callIdValue(data: Uint8Array, from: number): string | undefined {
  let start = from;
  while (data[start] === SP || data[start] === HT) start++;
  let stop = start;
  for (; stop < data.length; stop++) {
    const b = data[stop] as number;
    if (b === CR || b === LF) break;
    if (b > 0x7e) return undefined;
  }
  // folded onto the next line: leave it to the parser
  const next = data[stop] === CR ? stop + 2 : stop + 1;
  if (next < data.length && (data[next] === SP || data[next] === HT)) return undefined;
  let last = stop;
  while (last > start && (data[last - 1] === SP || data[last - 1] === HT)) last--;
  if (last === start) return undefined;
  return Buffer.from(data.buffer, data.byteOffset + start, last - start).toString('latin1');
}

/** The worker that owns a Call-ID: FNV-1a, cheap and the same in every process. */
export function ownerOf(callId: string, workers: number): number {
  return fnv1a32(callId) % workers;
}

export interface SipWorkers {
  ports: Record<string, number>;
  allReady(): boolean;
  /** tell every worker that provisioning changed */
  directoryChanged(): void;
  stop(): Promise<void>;
}

/** What the primary holds that workers keep copies of (the embedded defaults). */
export interface WorkerCopies {
  /** the in-memory location store: every write is sent to every worker */
  location?: MemoryLocationStore;
  /** the directory: its whole content is sent after every reload that left it current */
  directory?: { onLoaded(listener: () => void): () => void; snapshot(): DirectorySnapshot | undefined };
}

/** Primary side: fork `config.sip.workers` SIP workers and supervise them. */
export async function startSipWorkers(config: Config, logger: Logger, rpc: (index: number) => RpcHandlers, copies: WorkerCopies = {}): Promise<SipWorkers> {
  const count = config.sip.workers;
  // made once here, so workers do not race to create the same files
  if (config.sip.transports.some((t) => t === 'tls' || t === 'wss') && config.sip.tls.certFile === undefined) {
    await tlsMaterial({ dataDir: path.resolve(config.dataDir), hostnames: ['127.0.0.1', '::1', config.sip.bind] }, logger);
  }
  const log = logger.child({ component: 'sip-cluster' });
  const workers: (Worker | undefined)[] = new Array<Worker | undefined>(count).fill(undefined);
  const relayPorts: number[] = new Array<number>(count).fill(0);
  const ready = new Set<number>();
  let ports: Record<string, number> = {};
  let stopping = false;

  const broadcastPeers = () => {
    for (const w of workers) w?.send({ type: 'sip-peers', relayPorts } satisfies PeersMessage);
  };

  let resolveFirst!: () => void;
  let rejectFirst!: (err: Error) => void;
  const firstReady = new Promise<void>((resolve, reject) => {
    resolveFirst = resolve;
    rejectFirst = reject;
  });

  // With the native UDP engine every worker binds the SIP port itself (SO_REUSEPORT) and the
  // kernel spreads datagrams over them at random; a port 0 is settled here first, so that all
  // workers bind the same one. With node:dgram the cluster module shares the primary's socket.
  const reusePort = config.net.udpEngine !== 'dgram' && config.sip.transports.includes('udp') && nativeUdpAvailable().ok;
  const udpPort = reusePort && config.sip.udpPort === 0 ? await freeSipPort(config) : config.sip.udpPort;
  const workerEnv = (index: number): Record<string, string> => ({
    [INDEX_ENV]: String(index),
    ...(reusePort ? { [REUSE_PORT_ENV]: String(udpPort) } : {}),
  });
  if (reusePort) log.info({ port: udpPort, workers: count }, 'SIP workers bind the UDP port each (SO_REUSEPORT, random spread)');

  const fork = (index: number) => {
    const worker = cluster.fork(workerEnv(index));
    workers[index] = worker;
    serveRpc(worker, rpc(index));
    worker.on('message', (m: unknown) => {
      if (!isClusterMessage(m) || m.type !== 'sip-ready') return;
      relayPorts[index] = m.relayPort;
      ports = m.ports;
      ready.add(index);
      if (ready.size === count) {
        broadcastPeers();
        resolveFirst();
      }
    });
    worker.on('exit', (code, signal) => {
      ready.delete(index);
      workers[index] = undefined;
      if (stopping) return;
      log.error({ worker: index, code, signal }, 'SIP worker exited; starting a new one');
      // until its replacement is ready, the others handle what it owned themselves instead of
      // passing it to a relay port nobody reads any more (passOn skips an owner with port 0)
      if (relayPorts[index] !== 0) {
        relayPorts[index] = 0;
        broadcastPeers();
      }
      if (ready.size + 1 < count && relayPorts.every((p) => p === 0)) {
        rejectFirst(new Error(`SIP worker ${index} exited with ${code ?? signal} during start`));
        return;
      }
      fork(index);
    });
  };
  const toWorkers = (m: ClusterMessage) => {
    for (const w of workers) if (w !== undefined && w.isConnected()) w.send(m);
  };
  // every write to the location store reaches every worker's copy, in one message per turn,
  // except the worker that made it (it has it already)
  let changes: LocationChange[] = [];
  const flushChanges = () => {
    const batch = changes;
    changes = [];
    workers.forEach((w, index) => {
      if (w === undefined || !w.isConnected()) return;
      const origin = String(index);
      const theirs = batch.filter((c) => c.origin !== origin).map(({ aor, version, bindings }) => ({ aor, version, bindings }));
      if (theirs.length > 0) w.send({ type: 'sip-location', changes: theirs } satisfies LocationChangesMessage);
    });
  };
  const unwatch: (() => void)[] = [];
  if (copies.location !== undefined) {
    unwatch.push(
      copies.location.onChange((change) => {
        if (changes.push(change) === 1) setImmediate(flushChanges);
      }),
    );
  }
  if (copies.directory !== undefined) {
    const directory = copies.directory;
    unwatch.push(
      directory.onLoaded(() => {
        const snapshot = directory.snapshot();
        if (snapshot !== undefined) toWorkers({ type: 'sip-directory-snapshot', snapshot } satisfies DirectorySnapshotMessage);
      }),
    );
  }

  for (let i = 0; i < count; i++) fork(i);
  await firstReady;
  log.info({ workers: count }, 'SIP role running on worker processes');

  return {
    get ports() {
      return ports;
    },
    allReady: () => ready.size === count,
    directoryChanged() {
      for (const w of workers) {
        if (w !== undefined && w.isConnected()) w.send({ type: 'sip-directory-changed' } satisfies DirectoryChangedMessage);
      }
    },
    async stop() {
      stopping = true;
      for (const u of unwatch) u();
      const alive = workers.filter((w): w is Worker => w !== undefined && !w.isDead());
      await Promise.all(
        alive.map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              try {
                w.send({ type: 'sip-shutdown' } satisfies ShutdownMessage);
              } catch {
                w.kill('SIGKILL');
              }
            }),
        ),
      );
    },
  };
}

/**
 * Worker side: run the SIP server with Call-ID affinity and a relay socket, report to the
 * primary, stop when it says so. Resolves when the worker has stopped.
 */
export async function runSipWorker(loaded: Config, logger: Logger, version: string): Promise<void> {
  const index = Number(process.env[INDEX_ENV]);
  // the primary settled the UDP port (and a TCP port that followed it) for SO_REUSEPORT
  const reusePort = process.env[REUSE_PORT_ENV];
  const config: Config =
    reusePort === undefined
      ? loaded
      : { ...loaded, sip: { ...loaded.sip, udpPort: Number(reusePort), tcpPort: loaded.sip.tcpPort === 0 && loaded.sip.udpPort === 0 ? Number(reusePort) : loaded.sip.tcpPort } };
  const count = config.sip.workers;
  const log = logger.child({ worker: index });
  const metrics = createMetrics({ defaultMetrics: config.metrics.enabled });
  shareMetricsWithPrimary(metrics);

  let relayPorts: number[] = [];
  const relay = await openUdpSocket({ address: '127.0.0.1', port: 0, engine: config.net.udpEngine, recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024, logger: log });
  relay.onError((err) => log.warn({ err: describeError(err) }, 'relay socket error'));

  /** pass a datagram to the worker owning `callId`; false when that is this worker (or none is known) */
  const passOn = (callId: string | undefined, packet: transport.InboundPacket): boolean => {
    if (callId === undefined || relayPorts.length !== count) return false;
    const owner = ownerOf(callId, count);
    if (owner === index) return false;
    const port = relayPorts[owner];
    if (port === undefined || port === 0) return false;
    // one buffer: the socket copies the bytes into its send queue anyway
    const head = `${packet.source.address} ${packet.source.port} ${packet.local.address} ${packet.local.port}\n`;
    const out = Buffer.allocUnsafe(head.length + packet.data.length);
    out.write(head, 0, 'latin1');
    packet.data.copy(out, head.length);
    relay.send(out, port, '127.0.0.1');
    return true;
  };
  const affinity: PacketAffinity = {
    forward: (message, packet) => passOn(message.callId, packet),
    // most datagrams name their Call-ID plainly: one that is not ours is passed on unparsed
    forwardRaw: (packet) => passOn(rawCallId(packet.data), packet),
  };

  // the directory always lives in the primary (the embedded database is single-process); the
  // location store too unless Redis shares it between processes
  const call = rpcClient();
  const scheduler = new SystemScheduler();
  const nodeId = `${randomToken(4)}-w${index}`;
  const redis = config.bus.kind === 'redis' && config.bus.url !== undefined;
  const replica = redis ? undefined : new LocationReplica(call);
  const location = replica ?? createLocationStore(config, scheduler, log);
  const bus = redis && config.bus.url !== undefined ? createRedisBus({ url: config.bus.url, logger: log, scheduler }) : undefined;
  const directory = new RpcDirectory(call);
  process.on('message', (m: unknown) => {
    if (!isClusterMessage(m)) return;
    if (m.type === 'sip-location') for (const change of m.changes) replica?.apply(change);
    else if (m.type === 'sip-directory-changed') directory.invalidate();
    else if (m.type === 'sip-directory-snapshot') {
      try {
        directory.useSnapshot(m.snapshot);
      } catch (err) {
        log.warn({ err: describeError(err) }, 'the directory the primary sent is unusable; asking it per lookup');
      }
    }
  });
  // copies of what the primary holds; until they arrive, lookups ask the primary
  const copies = Promise.all([
    replica?.load().then((aors) => log.debug({ aors }, 'location copy loaded')),
    directory.loadSnapshot().then((held) => log.debug({ held }, held ? 'directory copy loaded' : 'directory lookups go to the primary')),
  ]).catch((err: unknown) => log.warn({ err: describeError(err) }, 'could not copy the location store or directory; asking the primary per lookup'));
  const secret = await authSecret(config);
  const services = subscriberServices({
    location,
    directory,
    secret,
    algorithms: config.sip.authAlgorithms,
    registrar: config.sip.registrar,
    scheduler,
    nodeId,
    bus,
    logger: log,
  });
  let bound: transport.TransportAddress[] = [];
  // the MCP (with a media engine on this worker's slice of the port range): ahead of the proxy, it claims only dialog@ and annc@
  const mcp = config.roles.includes('mcp')
    ? await startWorkerMcp({
        config,
        index,
        count,
        metrics: config.metrics.enabled ? metrics : undefined,
        scheduler,
        logger: log,
        secret,
        sipListener: () => {
          const udp = bound.find((b) => b.protocol === 'udp');
          return udp === undefined ? undefined : { protocol: 'udp', address: udp.address === '0.0.0.0' ? '127.0.0.1' : udp.address === '::' ? '::1' : udp.address, port: udp.port };
        },
      })
    : undefined;
  if (mcp !== undefined) services.splice(1, 0, mcp.service);
  const sip: SipServer = await createSipServer(config, log, config.metrics.enabled ? metrics.sip : undefined, version, {
    affinity,
    services,
    scheduler,
    nodeId,
    ...(reusePort !== undefined ? { udpSpreadOver: count } : {}),
  });
  await copies;
  bound = await sip.start();

  relay.onMessage((data) => {
    const nl = data.indexOf(10);
    if (nl < 0) return;
    const [address, port, localAddress, localPort] = data.subarray(0, nl).toString('latin1').split(' ');
    if (address === undefined || port === undefined || localAddress === undefined || localPort === undefined) return;
    const packet: transport.InboundPacket = {
      data: data.subarray(nl + 1),
      source: { protocol: 'udp', address, port: Number(port) },
      local: { protocol: 'udp', address: localAddress, port: Number(localPort) },
      connectionId: undefined,
      framingError: undefined,
    };
    sip.injectPacket(packet);
  });

  // Ctrl-C reaches the whole process group: the primary decides when workers stop.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});

  await new Promise<void>((resolve) => {
    process.on('message', (m: unknown) => {
      if (!isClusterMessage(m)) return;
      if (m.type === 'sip-peers') relayPorts = m.relayPorts;
      if (m.type === 'sip-shutdown') resolve();
    });
    process.once('disconnect', () => resolve());
    process.send?.({ type: 'sip-ready', index, ports: portsOf(bound, config), relayPort: relay.local.port } satisfies ReadyMessage);
  });
  await sip.shutdown(config.sip.shutdownGraceMs);
  await mcp?.close();
  await location.close();
  await bus?.close();
  await relay.close();
  // the IPC channel would keep this process alive
  if (cluster.worker?.isConnected() === true) cluster.worker.disconnect();
}
