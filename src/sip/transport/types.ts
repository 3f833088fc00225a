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

/** what SipTransport.send takes, as bytes: a text message is sent as UTF-8 */
export function messageBytes(data: Buffer | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

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

/**
 * What every transport (UDP, TCP, TLS, WS, WSS, in-memory) offers the layers above. Events are
 * typed by SipTransportEvents; `on` returns an unsubscribe function.
 */
export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** the bound local address (the actual port when 0 was asked for) */
  readonly local: TransportAddress;
  /** open connections (always 0 for UDP) */
  readonly connectionCount: number;
  on<K extends keyof SipTransportEvents>(event: K, listener: (...args: SipTransportEvents[K]) => void): () => void;
  off<K extends keyof SipTransportEvents>(event: K, listener: (...args: SipTransportEvents[K]) => void): void;
  /**
   * sends one message; rejects with a named error (never throws synchronously). A string is the
   * message as text, sent as UTF-8 (what serializeMessageText gives for a message without a body).
   */
  send(target: OutboundTarget, data: Buffer | string): Promise<void>;
  /** graceful shutdown: stop accepting new connections, keep existing ones */
  stopAccepting(): Promise<void>;
  /** closes the listener and every connection; idempotent */
  close(): Promise<void>;
}

/** TLS material for TLS and WSS listeners (PEM), also used by their client side. */
export interface TlsSettings {
  cert: string | Buffer;
  key: string | Buffer;
  /** trusted CAs for verifying peers; the system store when absent */
  ca?: string | Buffer | Array<string | Buffer> | undefined;
  /** verify peer certificates on outbound connections (default false: development setups use self-signed certs) */
  rejectUnauthorized?: boolean | undefined;
  /** ask inbound clients for a certificate (mutual TLS); default false */
  requestCert?: boolean | undefined;
}

/** Limits shared by the connection-oriented transports. */
export interface ConnectionLimits {
  /** close a connection with no traffic for this long (default 300 s) */
  idleTimeoutMs: number;
  /** concurrent inbound connections allowed from one source IP; excess ones are closed at once (default 256) */
  maxConnectionsPerIp: number;
  /** largest message accepted (default 65535 bytes) */
  maxMessageSize: number;
  /** after a framing error, how long the connection stays open so a 400 can be written (default 2 s) */
  framingErrorGraceMs: number;
  /** outbound connection setup deadline (default 10 s) */
  connectTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = {
  idleTimeoutMs: 300_000,
  maxConnectionsPerIp: 256,
  maxMessageSize: 65_535,
  framingErrorGraceMs: 2_000,
  connectTimeoutMs: 10_000,
};

/** SipTransportEvents as a type alias, which TypedEmitter's EventMap constraint accepts (an interface has no index signature). */
export type SipTransportEventMap = { [K in keyof SipTransportEvents]: SipTransportEvents[K] };
