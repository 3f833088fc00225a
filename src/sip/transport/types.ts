/**
 * The transport contract (STYLE.md §5): transports move bytes between addresses and know
 * nothing of transactions. The transaction layer and the SIP service send through
 * `SipTransport.send` and receive `InboundPacket`s.
 */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Via transport token for each protocol (RFC 3261 §18, RFC 7118 §5) */
export const VIA_TRANSPORT: Record<TransportProtocol, string> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS',
  ws: 'WS',
  wss: 'WSS',
};

export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'udp';
}

/** An address as seen on a socket. `address` is an IP literal without brackets. */
export interface TransportAddress {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

/** One SIP message's worth of bytes (a datagram, or one framed message from a stream). */
export interface InboundPacket {
  data: Buffer;
  source: TransportAddress;
  /** the local listener it arrived on */
  local: TransportAddress;
  /** stream transports: the connection it came on, so responses go back over it (RFC 3261 §18.2.2) */
  connectionId: string | undefined;
  /**
   * stream transports: set when the framing itself is broken (negative or non-numeric
   * Content-Length, oversize message). The receiver may answer 400 on the same connection;
   * the transport closes the connection right after (RFC 4475 §3.1.2.3).
   */
  framingError: string | undefined;
}

export interface OutboundTarget {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** prefer this existing connection (responses, requests to a registered flow) */
  connectionId?: string | undefined;
}

export interface SipTransportEvents {
  message: [packet: InboundPacket];
  /** a connection closed (peer close, idle timeout, error); flows bound to it are gone */
  connectionClosed: [connectionId: string, reason: string];
  error: [err: Error];
}
