import path from 'node:path';
import { SystemScheduler, type Logger, type Scheduler } from '../lib/index.js';
import type { Config, SipMetrics } from '../platform/index.js';
import { SipServer, type PacketAffinity, type SipService, type transport } from '../sip/index.js';
import { tlsMaterial } from './tls-material.js';

type ListenerConfig = transport.ListenerConfig;

export function sipListeners(config: Config, tls: transport.TlsSettings | undefined, udp: { spreadOver?: number } = {}): ListenerConfig[] {
  const sip = config.sip;
  const addresses = [sip.bind];
  if (sip.ipv6 && !sip.bind.includes(':')) addresses.push('::');
  const out: ListenerConfig[] = [];
  for (const address of addresses) {
    for (const protocol of sip.transports) {
      const port = { udp: sip.udpPort, tcp: sip.tcpPort, tls: sip.tlsPort, ws: sip.wsPort, wss: sip.wssPort }[protocol];
      const secure = protocol === 'tls' || protocol === 'wss';
      out.push({ protocol, address, port, ...(secure ? { tls } : {}), ...(protocol === 'udp' ? { udpEngine: config.net.udpEngine, recvBufferSize: sip.udpReceiveBufferBytes, ioThread: sip.udpIoThread, ...udp } : {}) });
    }
  }
  return out;
}

/** The port map of the start line: udp, tcp, tls, ws, wss (and udp6... when IPv6 listeners run beside IPv4 ones). */
export function portsOf(bound: transport.TransportAddress[], config: Config): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const l of bound) {
    const key = l.address.includes(':') && config.sip.ipv6 && !config.sip.bind.includes(':') ? `${l.protocol}6` : l.protocol;
    ports[key] = l.port;
  }
  return ports;
}

/** The SIP role's server as the configuration describes it (not started). */
export async function createSipServer(
  config: Config,
  logger: Logger,
  sipMetrics: SipMetrics | undefined,
  version: string,
  extra: { affinity?: PacketAffinity; services?: SipService[]; scheduler?: Scheduler; nodeId?: string; udpSpreadOver?: number } = {},
): Promise<SipServer> {
  const secure = config.sip.transports.some((t) => t === 'tls' || t === 'wss');
  const hostnames = [config.sip.bind, config.sip.advertisedHost ?? ''].filter((h) => h !== '' && h !== '0.0.0.0' && h !== '::');
  const tls = secure
    ? await tlsMaterial({ ...config.sip.tls, dataDir: path.resolve(config.dataDir), hostnames: ['127.0.0.1', '::1', ...hostnames] }, logger)
    : undefined;
  return new SipServer({
    listeners: sipListeners(
      config,
      tls === undefined ? undefined : { cert: tls.cert, key: tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}) },
      extra.udpSpreadOver !== undefined ? { spreadOver: extra.udpSpreadOver } : {},
    ),
    scheduler: extra.scheduler ?? new SystemScheduler(),
    logger: logger.child({ component: 'sip' }),
    metrics: sipMetrics,
    timers: config.sip.timers,
    maxMessageSize: config.sip.maxMessageSize,
    idleTimeoutMs: config.sip.idleTimeoutMs,
    maxConnectionsPerSource: config.sip.maxConnectionsPerSource,
    userAgent: `opencx/${version}`,
    affinity: extra.affinity,
    advertisedHost: config.sip.advertisedHost,
    ...(extra.nodeId !== undefined ? { nodeId: extra.nodeId } : {}),
    ...(extra.services !== undefined ? { services: extra.services } : {}),
  });
}

