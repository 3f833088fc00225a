/**
 * UdpRtpTransport on real loopback sockets with fake time: RTCP reports and BYE on a separate
 * RTCP port, RTT from the peer's report, the no-RTP timeout, SRTP hooks, and port accounting.
 */
import t from 'tap';
import { FakeScheduler } from '../../../src/lib/index.js';
import {
  ntpMiddle32,
  parseRtcpCompound,
  parseRtp,
  serializeRtcpCompound,
  UdpRtpTransport,
  type RtcpPacket,
} from '../../../src/media/rtp/index.js';
import type { PacketProtection, RtpPacket } from '../../../src/media/types.js';
import { randomAllocator, rtpBytes, udpPeer, type UdpPeer } from './rtp-helpers.js';

const HOST = '127.0.0.1';

/** resolve when the transport has seen `count` RTP packets (real sockets, fake timers) */
function received(transport: UdpRtpTransport, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${transport.stats().packetsReceived} of ${count} RTP packets arrived`)), 5000);
    const check = () => {
      if (transport.stats().packetsReceived >= count) {
        clearTimeout(timer);
        off();
        resolve();
      }
    };
    const off = transport.onRawRtp(check);
    check();
  });
}

function rtcpOf(buf: Buffer): RtcpPacket[] {
  const r = parseRtcpCompound(buf);
  if (!r.ok) throw new Error(r.error);
  return r.packets;
}

t.test('RTCP SR/RR, RTT and BYE on a separate RTCP port', async (t) => {
  const scheduler = new FakeScheduler({ wallStart: Date.UTC(2026, 0, 1) });
  const allocator = randomAllocator();
  const peers: UdpPeer[] = [];
  t.teardown(() => Promise.all(peers.map((p) => p.close())));
  const peerRtp = await udpPeer(HOST);
  const peerRtcp = await udpPeer(HOST);
  peers.push(peerRtp, peerRtcp);

  const leg = await UdpRtpTransport.create({ allocator, bindAddress: HOST, scheduler, cname: 'leg@opencx' });
  t.equal(leg.kind, 'rtp');
  t.equal(leg.localRtcp.port, leg.local.port + 1, 'RTCP on RTP + 1');
  t.equal(allocator.inUse(), 2);
  leg.setRemote(peerRtp.address, peerRtcp.address);
  const rtcpSeen: Uint8Array[] = [];
  leg.on('rtcp', (p) => rtcpSeen.push(p));
  const rtpSeen: RtpPacket[] = [];
  leg.on('rtp', (p) => rtpSeen.push(p));

  for (let i = 0; i < 10; i++) peerRtp.send(rtpBytes(100 + i, { ssrc: 0xaaaa }), leg.local);
  await received(leg, 10);
  t.equal(rtpSeen.length, 10, "parsed packets for 'rtp' listeners");
  t.equal(rtpSeen[3]?.sequenceNumber, 103);
  for (let i = 0; i < 5; i++) {
    leg.sendRtp({ marker: false, payloadType: 0, sequenceNumber: 500 + i, timestamp: 8000 + i * 160, ssrc: 0xbbbb, csrcs: [], payload: new Uint8Array(160) });
  }
  await peerRtp.waitRtp(5);

  scheduler.advance(5000);
  const [sr] = await peerRtcp.waitRtcp(1);
  const packets = rtcpOf(sr!);
  t.equal(packets[0]?.type, 'sr', 'we sent, so a Sender Report (§6.4.1)');
  if (packets[0]?.type !== 'sr') return;
  t.equal(packets[0].ssrc, 0xbbbb);
  t.equal(packets[0].sender.packetCount, 5);
  t.equal(packets[0].sender.octetCount, 5 * 160);
  t.equal(packets[0].reports[0]?.ssrc, 0xaaaa, 'with a report block about the peer');
  t.equal(packets[0].reports[0]?.cumulativeLost, 0);
  t.same(packets[1], { type: 'sdes', chunks: [{ ssrc: 0xbbbb, items: [{ type: 1, value: 'leg@opencx' }] }] }, 'and SDES CNAME (§6.5.1)');

  // the peer answers 150 ms later with an RR that held our SR for 50 ms: RTT 100 ms
  scheduler.advance(150);
  const lsr = ntpMiddle32(packets[0].sender.ntpSeconds, packets[0].sender.ntpFraction);
  const rr = serializeRtcpCompound([
    {
      type: 'rr',
      ssrc: 0xaaaa,
      reports: [{ ssrc: 0xbbbb, fractionLost: 64, cumulativeLost: 1, highestSequence: 504, jitter: 80, lastSr: lsr, delaySinceLastSr: 65536 / 20 }],
    },
    { type: 'sdes', chunks: [{ ssrc: 0xaaaa, items: [{ type: 1, value: 'peer' }] }] },
  ]);
  const gotRtcp = new Promise<void>((resolve) => leg.on('rtcp', () => resolve()));
  peerRtcp.send(rr, leg.localRtcp);
  await gotRtcp;
  t.equal(rtcpSeen.length, 1);
  const stats = leg.stats();
  t.ok(stats.rttMs !== undefined && Math.abs(stats.rttMs - 100) < 0.1, `rtt ${stats.rttMs} ms`);
  t.equal(stats.remoteFractionLost, 0.25);
  t.equal(stats.remoteJitterMs, 10);
  t.equal(stats.packetsReceived, 10);
  t.equal(stats.packetsSent, 5);

  // garbage on the RTCP port is counted, not fatal
  peerRtcp.send(Buffer.from([0x80, 201, 0, 50]), leg.localRtcp);
  for (let i = 0; i < 1000 && leg.counters.discarded === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  t.equal(leg.counters.discarded, 1, 'bad RTCP discarded');

  // no RTP sent for two intervals: the next report is an RR
  scheduler.advance(10_000);
  const reports = await peerRtcp.waitRtcp(3);
  t.equal(rtcpOf(reports[2]!)[0]?.type, 'rr', 'silent sender reports with RR');

  leg.close();
  await leg.whenClosed();
  const all = await peerRtcp.waitRtcp(4);
  const bye = rtcpOf(all[3]!);
  t.equal(bye[0]?.type, 'rr', 'compound starts with a report (§6.1)');
  t.same(bye.at(-1), { type: 'bye', ssrcs: [0xbbbb] }, 'BYE on close (§6.6)');
  t.equal(allocator.inUse(), 0, 'both ports released');
  t.equal(scheduler.pending, 0, 'no timers left');
});

t.test('no-RTP timeout fires once per silence, on fake time', async (t) => {
  const scheduler = new FakeScheduler();
  const allocator = randomAllocator();
  const peer = await udpPeer(HOST);
  t.teardown(() => peer.close());
  const leg = await UdpRtpTransport.create({ allocator, bindAddress: HOST, scheduler, rtcpMux: true, rtpTimeoutMs: 30_000 });
  t.teardown(() => leg.close());
  leg.setRemote(peer.address);
  let timeouts = 0;
  leg.on('timeout', () => timeouts++);

  scheduler.advance(20_000);
  peer.send(rtpBytes(1), leg.local);
  await received(leg, 1);
  scheduler.advance(29_999);
  t.equal(timeouts, 0, 'RTP at 20 s moved the deadline to 50 s');
  scheduler.advance(1);
  t.equal(timeouts, 1, 'fires 30 s after the last packet');
  scheduler.advance(120_000);
  t.equal(timeouts, 1, 'once');

  peer.send(rtpBytes(2), leg.local);
  await received(leg, 2);
  scheduler.advance(30_000);
  t.equal(timeouts, 2, 'media came back and stopped again: reported again');
});

t.test('SRTP hooks: protect on send, unprotect on receive, failures discarded', async (t) => {
  // a stand-in for SRTP: one trailing tag byte 0xA5 that must be there on receive
  const tagged = (p: Uint8Array) => Buffer.concat([p, Buffer.from([0xa5])]);
  const untag = (p: Uint8Array) => (p.at(-1) === 0xa5 ? p.subarray(0, p.length - 1) : undefined);
  const protection: PacketProtection = { protectRtp: tagged, unprotectRtp: untag, protectRtcp: tagged, unprotectRtcp: untag };
  const scheduler = new FakeScheduler();
  const allocator = randomAllocator();
  const peer = await udpPeer(HOST);
  t.teardown(() => peer.close());
  const leg = await UdpRtpTransport.create({ allocator, bindAddress: HOST, scheduler, rtcpMux: true, protection });
  t.equal(leg.kind, 'srtp');
  leg.setRemote(peer.address);
  const seen: number[] = [];
  leg.on('rtp', (p) => seen.push(p.sequenceNumber));

  peer.send(rtpBytes(1), leg.local); // no tag: fails authentication
  peer.send(tagged(rtpBytes(2)), leg.local);
  await received(leg, 1);
  t.same(seen, [2]);
  t.equal(leg.counters.discarded, 1);

  leg.sendRawRtp(rtpBytes(9));
  const [out] = await peer.waitRtp(1);
  t.equal(out?.at(-1), 0xa5, 'protected on the wire');
  const inner = parseRtp(out!.subarray(0, out!.length - 1));
  t.ok(inner.ok && inner.packet.sequenceNumber === 9);

  leg.close();
  await leg.whenClosed();
  t.equal(allocator.inUse(), 0);
});

t.test('without a remote nothing is sent, and a second close is harmless', async (t) => {
  const allocator = randomAllocator();
  const leg = await UdpRtpTransport.create({ allocator, bindAddress: HOST, scheduler: new FakeScheduler() });
  leg.sendRawRtp(rtpBytes(1));
  leg.sendRtcp(Buffer.alloc(8));
  t.equal(leg.counters.notSent, 2);
  leg.close();
  leg.close();
  await leg.whenClosed();
  t.equal(allocator.inUse(), 0);
});
