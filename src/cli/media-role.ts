import os from 'node:os';
import path from 'node:path';
import type { Logger, Scheduler } from '../lib/index.js';
import { describeError } from '../lib/index.js';
import { LocalMediaEngine, MediaNode, RemoteMediaEngine, recoverSpool, type MediaEngineApi } from '../media/index.js';
import { openBlobStore, registerMediaMetrics, type BlobStore, type Bus, type Config, type Metrics } from '../platform/index.js';

export interface MediaRole {
  engine: LocalMediaEngine;
  node: MediaNode;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** The spool directory recordings are written to while they run. */
export function spoolDirOf(config: Config): string {
  return config.media.spoolDir ?? path.join(config.dataDir, 'spool', 'recordings');
}

/**
 * The `media` role: a local engine on the configured port range, served on the bus as a media
 * node so `calls`/`mcp` nodes elsewhere can drive it. Recordings a crash left in the spool are
 * repaired and uploaded before the node announces itself.
 */
export async function startMediaRole(config: Config, bus: Bus, metrics: Metrics | undefined, scheduler: Scheduler, logger: Logger): Promise<MediaRole> {
  const log = logger.child({ component: 'media' });
  const blobs = openBlobStore(config.blobs, config.dataDir, log);
  await recoverSpoolInto(config, blobs, log);
  const nodeId = config.media.nodeId ?? processNodeId();
  const engine = localEngine(config, blobs, nodeId, metrics, scheduler, log);
  const node = new MediaNode({
    nodeId,
    bus,
    engine,
    scheduler,
    logger: log,
    load: () => {
      const l = engine.load();
      return { endpoints: l.endpoints, portsFree: l.portsFree };
    },
  });
  // the node subscribes to its request topic: wait for the bus rather than fail on a slow connect
  await bus.whenConnected(15_000);
  await node.start();
  log.info({ nodeId, ports: `${config.media.portMin}-${config.media.portMax}`, codecs: config.media.codecs }, 'media node serving on the bus');
  return {
    engine,
    node,
    blobs,
    close: async () => {
      await node.close();
      await engine.close();
      await blobs.close();
    },
  };
}

/** This host and process as a media node id (host names reduced to id-safe characters). */
export function processNodeId(prefix = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-')): string {
  return `${prefix}-${process.pid}`;
}

/** Repair and upload the recordings a crash left in the spool. */
async function recoverSpoolInto(config: Config, blobs: BlobStore, log: Logger): Promise<void> {
  const spoolDir = spoolDirOf(config);
  try {
    const report = await recoverSpool(spoolDir, blobs, log);
    if (report.recovered.length > 0 || report.failed.length > 0) {
      log.info({ recovered: report.recovered.length, failed: report.failed.length }, 'recordings left by an earlier run were recovered');
    }
  } catch (err) {
    log.warn({ err: describeError(err), spoolDir }, 'recording spool could not be checked');
  }
}

/** The spool's recovery on its own, for a node whose engines run in worker processes. */
export async function recoverRecordings(config: Config, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'media' });
  const blobs = openBlobStore(config.blobs, config.dataDir, log);
  try {
    await recoverSpoolInto(config, blobs, log);
  } finally {
    await blobs.close();
  }
}

/** A media engine on the configured port range, with its metrics; no bus service. */
export function localEngine(config: Config, blobs: BlobStore, nodeId: string, metrics: Metrics | undefined, scheduler: Scheduler, log: Logger): LocalMediaEngine {
  const engine = new LocalMediaEngine({
    bindAddress: config.media.bind,
    udpEngine: config.net.udpEngine,
    ...(config.media.advertisedAddress !== undefined ? { advertisedAddress: config.media.advertisedAddress } : {}),
    portMin: config.media.portMin,
    portMax: config.media.portMax,
    codecs: [...config.media.codecs],
    noRtpTimeoutMs: config.media.noRtpTimeoutMs,
    jitterBufferMaxMs: config.media.jitterBufferMaxMs,
    promptLeadMs: config.media.promptLeadMs,
    spoolDir: spoolDirOf(config),
    blobs,
    idPrefix: `${nodeId}~`,
    scheduler,
    logger: log,
  });
  if (metrics !== undefined) {
    registerMediaMetrics(metrics, () => ({ ...engine.load(), ...engine.trafficTotals(), ...engine.tickHealth() }));
  }
  return engine;
}

/**
 * The share of the media port range that SIP worker `index` of `count` owns: disjoint, even-aligned
 * slices (RTP on even ports, RTCP on the next odd one), so workers never race for a port.
 */
export function workerPortRange(portMin: number, portMax: number, index: number, count: number): { portMin: number; portMax: number } {
  const first = portMin + (portMin % 2);
  const pairs = Math.floor((portMax - first + 1) / 2);
  const per = Math.floor(pairs / count);
  if (per < 1) throw new Error(`media port range ${portMin}-${portMax} is too small for ${count} workers`);
  const lo = first + index * per * 2;
  return { portMin: lo, portMax: lo + per * 2 - 1 };
}

/**
 * The engine a `calls` or `mcp` role uses: the local one when this process runs the media role,
 * else media nodes elsewhere over the bus.
 */
export function mediaEngineFor(config: Config, local: MediaRole | undefined, bus: Bus, scheduler: Scheduler, logger: Logger): MediaEngineApi {
  if (local !== undefined) return local.engine;
  return new RemoteMediaEngine({ bus, scheduler, logger: logger.child({ component: 'media-client' }), requestTimeoutMs: config.media.requestTimeoutMs });
}
