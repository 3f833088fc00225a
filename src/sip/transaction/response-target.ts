/**
 * Where a server transaction sends its responses: RFC 3261 §18.2.2 with RFC 3581 §4 (rport).
 * Pure, so the server core and the tests can use it without a transaction.
 */
import type { Via } from '../message/types.js';
import type { OutboundTarget, TransportProtocol } from '../transport/types.js';
import type { ReceiveContext } from './types.js';

/** §19.1.2 default ports: 5061 for TLS (and WSS in practice), 5060 otherwise. */
function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
}

/** Via hosts keep IPv6 brackets (RFC 5118); transport addresses do not. */
function bare(host: string): string {
  return host.length > 1 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function numericPort(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (!/^[0-9]{1,5}$/.test(value)) return undefined;
  const port = Number(value);
  return port > 0 && port <= 65535 ? port : undefined;
}

/**
 * The response target for a request that arrived with `topVia` at `ctx`.
 *
 * §18.2.1 obliges the receiver to add `received` whenever sent-by differs from the packet's
 * source, so "received, else the source address" is the address the RFC asks for whether or
 * not the caller already stamped the Via; a sent-by host name is never resolved here.
 */
export function responseTarget(topVia: Via | undefined, ctx: ReceiveContext): OutboundTarget {
  const source = ctx.source;
  const protocol = source.protocol;
  if (topVia === undefined) {
    // Nothing to go on: answer where it came from (the only sane place for a 400).
    return withConnection({ protocol, address: source.address, port: source.port }, ctx.connectionId);
  }
  const received = topVia.params.get('received');
  const address = received !== undefined && received !== null && received !== '' ? bare(received) : source.address;
  const sentByPort = topVia.port ?? defaultPort(protocol);

  if (protocol !== 'udp') {
    // §18.2.2: reliable transports answer over the connection the request came on; if it has
    // gone, a new connection goes to `received` (or the source) at the sent-by port. RFC 3581
    // §4 confines rport to unreliable transports.
    return withConnection({ protocol, address, port: sentByPort }, ctx.connectionId);
  }

  // §18.2.2: maddr wins for unreliable transports (port from sent-by, or 5060).
  const maddr = topVia.params.get('maddr');
  if (maddr !== undefined && maddr !== null && maddr !== '') {
    return { protocol, address: bare(maddr), port: topVia.port ?? 5060 };
  }

  // RFC 3581 §4: with rport the response goes to the source port (the value the server filled
  // in, or the packet's own source port if the caller left the flag empty) and to `received`.
  if (topVia.params.has('rport')) {
    const rport = numericPort(topVia.params.get('rport')) ?? source.port;
    return { protocol, address, port: rport };
  }

  // §18.2.2: received (or source) address, sent-by port or 5060.
  return { protocol, address, port: topVia.port ?? 5060 };
}

function withConnection(target: OutboundTarget, connectionId: string | undefined): OutboundTarget {
  return connectionId === undefined ? target : { ...target, connectionId };
}
