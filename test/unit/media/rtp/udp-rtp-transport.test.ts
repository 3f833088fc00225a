/**
 * UdpRtpTransport's decisions on fake sockets and fake time: symmetric RTP latching (RFC 4961),
 * the silence rule, garbage accounting, RTCP demux with rtcp-mux (RFC 5761), and the relay's
 * payload-type mapping.
 */
import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import {
  PortAllocator,
  RtpRelay,
  readPayloadType,
  readSequence,
  serializeRtcpCompound,
  serializeRtp,
  UdpRtpTransport,
  type RawRtpEndpoint,
  type UdpBinder,
} from '../../../../src/media/rtp/index.js';
import type { SocketAddress } from '../../../../src/media/types.js';
import type { UdpMessageHandler, UdpSocket } from '../../../../src/platform/index.js';

/** a UdpSocket that records what is sent and lets the test deliver datagrams */
class FakeSocket implements UdpSocket {
  readonly local = { address: '192.0.2.1', port: 0, family: 4 as const };
  readonly engine = 'dgram' as const;
  readonly sent: { data: Buffer; port: number; address: string }[] = [];
  closed = false;
  private handler: UdpMessageHandler = () => {};
  onMessage(handler: UdpMessageHandler): void {
    this.handler = handler;
  }
  onError(): void {}
  send(data: Uint8Array, port: number, address: string): void {
    this.sent.push({ data: Buffer.from(data), port, address });
  }
  flush(): void {}
  /** what sendAt() queued, in call order; cancelScheduled() empties it */
  readonly scheduled: { data: Buffer; port: number; address: string; delayMs: number }[] = [];
  schedulesOffThread = false;
  sendAt(data: Uint8Array, port: number, address: string, delayMs: number): void {
    this.scheduled.push({ data: Buffer.from(data), port, address, delayMs });
  }
  cancelScheduled(): number {
    return this.scheduled.splice(0).length;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  stats() {
    return { received: 0, sent: this.sent.length, sendErrors: 0, dropped: 0, scheduled: this.scheduled.length };
  }
  /** a datagram arrives */
  deliver(data: Uint8Array, from: { address: string; port: number }): void {
    this.handler(Buffer.from(data), from.address, from.port);
  }
}

async function setup(options: { rtcpMux?: boolean; latching?: { packets?: number; silenceMs?: number }; offThread?: boolean } = {}) {
  const sockets: FakeSocket[] = [];
  const bind: UdpBinder = async () => {
    const s = new FakeSocket();
    s.schedulesOffThread = options.offThread ?? false;
    sockets.push(s);
    return s;
  };
  const scheduler = new FakeScheduler();
  const allocator = new PortAllocator({ minPort: 30000, maxPort: 30009, bind, random: () => 0 });
  const transport = await UdpRtpTransport.create({
    allocator,
    scheduler,
    bindAddress: '192.0.2.1',
    rtcpMux: options.rtcpMux ?? true,
    ...(options.latching ? { latching: options.latching } : {}),
  });
  const latched: SocketAddress[] = [];
  transport.on('latched', (to) => latched.push(to));
  return { transport, rtp: sockets[0]!, rtcp: sockets[1], scheduler, allocator, latched };
}

const rtp = (seq: number, ssrc = 1) =>
  serializeRtp({ marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrcs: [], payload: new Uint8Array(20) });

const sdp = { address: '198.51.100.7', port: 4000, family: 'IPv4' } as const;
const nat = { address: '203.0.113.9', port: 61000 };
const nat2 = { address: '203.0.113.9', port: 62000 };

t.test('latches to the source of the first valid packet', async (t) => {
  const { transport, rtp: sock, latched } = await setup();
  transport.setRemote(sdp);
  sock.deliver(Buffer.from('junk'), nat);
  t.same(transport.remote, sdp, 'garbage does not latch');
  t.equal(transport.counters.discarded, 1);
  sock.deliver(rtp(1), nat);
  t.same(transport.remote, { ...nat, family: 'IPv4' });
  t.equal(latched.length, 1);
  transport.sendRawRtp(rtp(50));
  t.same(sock.sent.map((s) => [s.address, s.port]), [[nat.address, nat.port]], 'media goes where it came from');
  transport.close();
});

t.test('a packet from port 0 is taken but never latched onto (nothing can be sent there)', async (t) => {
  const { transport, rtp: sock, latched, scheduler } = await setup();
  transport.setRemote(sdp);
  scheduler.advance(5000);
  for (let i = 0; i < 5; i++) sock.deliver(rtp(1 + i), { address: '198.51.100.7', port: 0 });
  t.same(transport.remote, sdp, 'the send address stays the SDP one');
  t.same(latched, []);
  t.equal(transport.stats().packetsReceived, 5, 'the packets count as received');
  transport.close();
});

t.test('no latched event when media comes from where the SDP said', async (t) => {
  const { transport, rtp: sock, latched } = await setup();
  transport.setRemote(sdp);
  sock.deliver(rtp(1), sdp);
  t.same(latched, []);
  t.same(transport.remote, sdp);
  transport.close();
});

t.test('re-latch needs consecutive packets with one SSRC while the old source sends', async (t) => {
  const { transport, rtp: sock, latched, scheduler } = await setup();
  transport.setRemote(sdp);
  sock.deliver(rtp(1), sdp);
  // interleaved: the new source never gets 3 in a row
  for (let i = 0; i < 10; i++) {
    scheduler.advance(10);
    sock.deliver(rtp(100 + i, 2), nat);
    sock.deliver(rtp(100 + i, 2), nat);
    sock.deliver(rtp(2 + i), sdp);
  }
  t.same(transport.remote, sdp, 'two in a row are not enough');
  // changing SSRC resets the count
  sock.deliver(rtp(200, 3), nat);
  sock.deliver(rtp(201, 4), nat);
  sock.deliver(rtp(202, 3), nat);
  t.same(transport.remote, sdp, 'three from one address but not one SSRC');
  sock.deliver(rtp(203, 3), nat);
  sock.deliver(rtp(204, 3), nat);
  t.same(transport.remote, { ...nat, family: 'IPv4' }, 'three in a row with one SSRC move it');
  t.equal(latched.length, 1);
  t.equal(transport.counters.relatches, 1);
  transport.close();
});

t.test('after the configured silence any new source takes over at once', async (t) => {
  const { transport, rtp: sock, scheduler, latched } = await setup({ latching: { packets: 50, silenceMs: 500 } });
  transport.setRemote(sdp);
  sock.deliver(rtp(1), sdp);
  scheduler.advance(499);
  sock.deliver(rtp(1, 9), nat);
  t.same(transport.remote, sdp, 'not silent long enough');
  scheduler.advance(1);
  sock.deliver(rtp(2, 9), nat2);
  t.same(transport.remote, { ...nat2, family: 'IPv4' });
  t.same(latched, [{ ...nat2, family: 'IPv4' }]);
  transport.close();
});

t.test('setRemote (a new SDP) latches afresh', async (t) => {
  const { transport, rtp: sock } = await setup();
  transport.setRemote(sdp);
  sock.deliver(rtp(1), sdp);
  transport.setRemote({ ...sdp, port: 5000 });
  sock.deliver(rtp(2), nat);
  t.same(transport.remote, { ...nat, family: 'IPv4' }, 'first packet after the new SDP latches');
  transport.close();
});

t.test('rtcp-mux: RTCP on the RTP port is told apart (RFC 5761 §4)', async (t) => {
  const { transport, rtp: sock } = await setup();
  transport.setRemote(sdp);
  const seen: string[] = [];
  transport.on('rtp', () => seen.push('rtp'));
  transport.on('rtcp', () => seen.push('rtcp'));
  sock.deliver(rtp(1), sdp);
  sock.deliver(serializeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [] }]), sdp);
  sock.deliver(Buffer.from([0x80, 200, 0, 99, 1, 2, 3, 4]), sdp);
  t.same(seen, ['rtp', 'rtcp']);
  t.equal(transport.counters.rtcpReceived, 1);
  t.equal(transport.counters.discarded, 1, 'a broken SR is discarded');
  t.equal(transport.stats().packetsReceived, 1);
  transport.close();
});

t.test('without mux negotiated, RTCP on the RTP port is still RTCP, and answered from there', async (t) => {
  const { transport, rtp: sock, rtcp } = await setup({ rtcpMux: false });
  transport.setRemote(sdp);
  const seen: string[] = [];
  transport.on('rtp', () => seen.push('rtp'));
  transport.on('rtcp', () => seen.push('rtcp'));
  sock.deliver(rtp(1), sdp);
  t.same(transport.remoteRtcpAddress, { ...sdp, port: sdp.port + 1 }, 'RTCP to RTP + 1 by default');
  sock.deliver(serializeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [] }]), sdp);
  t.same(seen, ['rtp', 'rtcp']);
  t.equal(transport.stats().packetsReceived, 1, 'not counted as RTP');
  t.same(transport.remoteRtcpAddress, sdp, 'the peer muxes: RTCP goes to its RTP port');
  transport.sendRtcp(serializeRtcpCompound([{ type: 'rr', ssrc: 5, reports: [] }]));
  t.equal(sock.sent.length, 1, 'sent from the RTP socket');
  t.equal(rtcp!.sent.length, 0);
  transport.close();
});

t.test('close releases the ports once, even when called twice', async (t) => {
  const { transport, rtp: sock, rtcp, allocator } = await setup({ rtcpMux: false });
  t.ok(rtcp, 'an RTCP socket without mux');
  t.equal(allocator.inUse(), 2);
  transport.close();
  transport.close();
  await transport.whenClosed();
  t.ok(sock.closed && rtcp!.closed);
  t.equal(allocator.inUse(), 0);
  sock.deliver(rtp(1), sdp);
  t.equal(transport.stats().packetsReceived, 0, 'nothing is handled after close');
});

t.test('relay maps payload types in place and stops cleanly', async (t) => {
  const make = () => {
    let listener: ((p: Uint8Array, from: SocketAddress) => void) | undefined;
    const sent: Uint8Array[] = [];
    const endpoint: RawRtpEndpoint = {
      onRawRtp: (l) => {
        listener = l;
        return () => {
          listener = undefined;
        };
      },
      sendRawRtp: (p) => sent.push(p),
    };
    return { endpoint, sent, receive: (p: Uint8Array) => listener?.(p, sdp) };
  };
  const a = make();
  const b = make();
  const relay = new RtpRelay({ a: a.endpoint, b: b.endpoint, aToB: new Map([[101, 96]]), bToA: { 96: 101, 8: 8 } });
  const dtmf = rtp(1);
  dtmf[1] = 0x80 | 101;
  a.receive(dtmf);
  a.receive(rtp(2));
  b.receive(Object.assign(rtp(3), { 1: 96 }));
  t.same(b.sent.map(readPayloadType), [96, 0]);
  t.equal(b.sent[0]![1]! & 0x80, 0x80, 'marker kept');
  t.same(b.sent.map(readSequence), [1, 2]);
  t.same(a.sent.map(readPayloadType), [101]);
  t.same(relay.stats(), { aToB: 2, bToA: 1 });
  relay.stop();
  a.receive(rtp(4));
  t.equal(b.sent.length, 2, 'nothing after stop');
});

t.test('the pacer: only over a socket that sends off-thread; packets go with their delay to the latched address; cancel drops them', async (t) => {
  const plain = await setup();
  t.equal(plain.transport.pacer, undefined, 'a socket without an off-thread sender offers no pacer');
  plain.transport.close();

  const { transport, rtp: sock } = await setup({ offThread: true });
  const pacer = transport.pacer;
  if (pacer === undefined) return t.fail('no pacer over an off-thread socket');
  const packet = (seq: number) => ({ marker: seq === 1, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 7, csrcs: [], payload: new Uint8Array(160).fill(seq) });
  pacer.sendAt(packet(1), 0);
  t.same(sock.scheduled, [], 'nothing before the remote address is known');
  t.equal(transport.counters.notSent, 1);
  transport.setRemote(sdp);
  sock.deliver(rtp(1), nat);
  for (let i = 1; i <= 3; i++) pacer.sendAt(packet(i), (i - 1) * 20);
  t.same(sock.scheduled.map((s) => [s.address, s.port, s.delayMs]), [[nat.address, nat.port, 0], [nat.address, nat.port, 20], [nat.address, nat.port, 40]]);
  t.same(sock.scheduled.map((s) => readSequence(s.data)), [1, 2, 3], 'serialized RTP, in order');
  t.equal(transport.stats().packetsSent, 3, 'counted as sent for the sender report');
  t.equal(pacer.cancel(), 3, 'cancel reports how many it dropped');
  t.same(sock.scheduled, []);
  transport.close();
  pacer.sendAt(packet(4), 0);
  t.same(sock.scheduled, [], 'nothing after close');
});
