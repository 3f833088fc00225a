/** Plain UDP peers for the RTP integration tests: real sockets on loopback, ports from the OS. */
import dgram from 'node:dgram';
import { PortAllocator, isRtcpPacket, serializeRtp } from '../../../src/media/rtp/index.js';
import type { RtpPacket, SocketAddress } from '../../../src/media/types.js';

export interface UdpPeer {
  readonly socket: dgram.Socket;
  readonly address: SocketAddress;
  /** RTP datagrams received so far (RTCP is kept apart in `rtcp`) */
  readonly rtp: Buffer[];
  readonly rtcp: Buffer[];
  send(data: Uint8Array, to: SocketAddress): void;
  /** resolves once `count` RTP datagrams have arrived in total; rejects after `deadlineMs` so a broken path fails instead of hanging */
  waitRtp(count: number, deadlineMs?: number): Promise<Buffer[]>;
  waitRtcp(count: number, deadlineMs?: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function udpPeer(host: string): Promise<UdpPeer> {
  const family = host.includes(':') ? 'IPv6' : 'IPv4';
  const socket = dgram.createSocket(family === 'IPv6' ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (msg) => {
    (isRtcpPacket(msg) ? rtcp : rtp).push(msg);
    for (const w of [...waiters]) w();
  });
  const waitFor = (list: Buffer[], count: number, deadlineMs: number, what: string) =>
    new Promise<Buffer[]>((resolve, reject) => {
      const check = () => {
        if (list.length < count) return false;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(onMessage), 1);
        resolve(list.slice(0, count));
        return true;
      };
      const onMessage = () => void check();
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(onMessage), 1);
        reject(new Error(`peer ${host}:${socket.address().port} got ${list.length} ${what} datagrams, waited for ${count}`));
      }, deadlineMs);
      waiters.push(onMessage);
      check();
    });
  return {
    socket,
    address: { address: host, port: socket.address().port, family },
    rtp,
    rtcp,
    send: (data, to) => socket.send(data, to.port, to.address),
    waitRtp: (count, deadlineMs = 5000) => waitFor(rtp, count, deadlineMs, 'RTP'),
    waitRtcp: (count, deadlineMs = 5000) => waitFor(rtcp, count, deadlineMs, 'RTCP'),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** an allocator over 200 ports somewhere in 20000–59999, so parallel runs rarely meet (and skip each other's ports when they do) */
export function randomAllocator(): PortAllocator {
  const minPort = 20000 + 2 * Math.floor(Math.random() * 20000);
  return new PortAllocator({ minPort, maxPort: minPort + 199 });
}

export function rtpBytes(seq: number, options: Partial<RtpPacket> = {}): Buffer {
  return serializeRtp({
    marker: false,
    payloadType: 0,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * 160) >>> 0,
    ssrc: 0x11111111,
    csrcs: [],
    payload: Uint8Array.from({ length: 160 }, (_, i) => (seq + i) & 0xff),
    ...options,
  });
}
