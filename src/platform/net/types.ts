import type { Logger } from '../../lib/index.js';

/** Which implementation carries a socket: the batched native addon or Node's dgram. */
export type UdpEngine = 'native' | 'dgram';

export type UdpMessageHandler = (data: Buffer, address: string, port: number) => void;

export interface UdpStats {
  /** datagrams handed to the message handler */
  received: number;
  /** datagrams the kernel accepted */
  sent: number;
  /** sends refused: by the kernel, or before it (not an address literal, bad port, wrong family) */
  sendErrors: number;
  /**
   * datagrams given up: send queue full, still queued at close, sent after close, truncated on
   * receive; scheduled ones over the scheduleLimit, still waiting at close, or refused by a full
   * socket buffer when their time came
   */
  dropped: number;
  /** sendAt() datagrams waiting for their time now */
  scheduled: number;
}

/**
 * A bound UDP socket over bytes and addresses (STYLE.md §5). Both engines pass the same contract
 * (test/unit/platform/net). Sending never throws: a refused send is counted and reported to the
 * error handler on a later turn of the event loop.
 */
export interface UdpSocket {
  readonly local: { address: string; port: number; family: 4 | 6 };
  readonly engine: UdpEngine;
  /**
   * The one receive handler (a later call replaces it). `data` stays valid after the handler
   * returns, so it may be kept (a jitter buffer does). A handler that throws is reported to the
   * error handler and the next datagram is delivered as usual.
   */
  onMessage(handler: UdpMessageHandler): void;
  /** The one error handler; without one, errors are logged as warnings. */
  onError(handler: (err: Error) => void): void;
  /**
   * Queue a datagram to an IP literal of the socket's family. The bytes are copied at once; a
   * string is sent as its UTF-8 bytes (the native engine writes them straight into its queue).
   */
  send(data: Uint8Array | string, port: number, address: string): void;
  /** Send what is queued now instead of at the end of this event-loop turn (native engine). */
  flush(): void;
  /** true when sendAt() datagrams are sent by a native thread at their time (native engine); false: dgram fallback */
  readonly schedulesOffThread: boolean;
  /**
   * Queue a datagram to go out `delayMs` from now (≤ 0: as soon as possible). The bytes are copied at once.
   * Datagrams scheduled on one socket leave in the order of their due times (ties: in call order). They are
   * independent of send(): a send() may overtake them. Never throws (a refused one is counted and reported
   * like send()). At most `scheduleLimit` (default 4096) may wait per socket; more are dropped and counted.
   * A datagram never leaves before its time; it may leave up to about a millisecond after it (the
   * native sender wakes on a 1 ms grain), later when the thread is starved of CPU.
   */
  sendAt(data: Uint8Array, port: number, address: string, delayMs: number): void;
  /** Drop every datagram of this socket that sendAt() queued and that has not left yet; returns how many. */
  cancelScheduled(): number;
  /** Stop receiving and release the port; what the kernel does not take at once is dropped. Safe to call twice. */
  close(): Promise<void>;
  stats(): UdpStats;
  /**
   * The kernel socket buffers granted, in bytes (what was asked for, or less where
   * net.core.rmem_max / wmem_max capped it). Optional: engines that cannot tell leave it out.
   */
  bufferSizes?(): { recv: number; send: number };
}

export interface OpenUdpSocketOptions {
  /** IPv4 or IPv6 literal to bind; an IPv6 socket bound to :: also receives IPv4 (as ::ffff:a.b.c.d) */
  address: string;
  /** 0 = any free port */
  port: number;
  recvBufferSize?: number | undefined;
  sendBufferSize?: number | undefined;
  /** SO_REUSEPORT: several sockets (in several processes) bind the same port; native engine only */
  reusePort?: boolean | undefined;
  /**
   * With reusePort: spread datagrams at random over this many sockets of the port (a classic BPF
   * program attached to the group) instead of the kernel's per-flow hash, which would pin one
   * busy peer (a trunk, an SBC) to one worker.
   */
  spreadOver?: number | undefined;
  /** default 'auto': native when the addon is built, else dgram (with one warning per process) */
  engine?: UdpEngine | 'auto' | undefined;
  /**
   * How the native engine hands over received bytes: 'batch' = one Buffer per received batch
   * and a view of it per datagram; 'copy' = a pooled Buffer copied per datagram. Both stay valid.
   */
  receiveBuffers?: 'batch' | 'copy' | undefined;
  /**
   * Native engine: the socket gets its own I/O thread, which runs recvmmsg and sendmmsg so the
   * JS thread only hands datagrams over (native/udp/iothread.c). For one busy socket (SIP's
   * listener); the dgram engine ignores it.
   */
  ioThread?: boolean | undefined;
  /** datagrams the native send queue holds before dropping (default 4096) */
  sendQueueLimit?: number | undefined;
  /** sendAt() datagrams that may wait per socket; more are dropped and counted (default 4096) */
  scheduleLimit?: number | undefined;
  logger?: Logger | undefined;
}
