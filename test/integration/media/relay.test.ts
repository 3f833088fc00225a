/**
 * Two plain UDP peers talk RTP through two UdpRtpTransports joined by an RtpRelay, on real
 * loopback sockets (IPv4 and IPv6): packets arrive intact both ways, the payload type map is
 * applied, a peer that moves its source port is followed (symmetric RTP), garbage is dropped
 * without stopping the flow, and every port goes back to the allocator.
 */
import t from 'tap';
import { parseRtp, RtpRelay, UdpRtpTransport } from '../../../src/media/rtp/index.js';
import type { RtpPacket, SocketAddress } from '../../../src/media/types.js';
import { randomAllocator, rtpBytes, udpPeer, type UdpPeer } from './rtp-helpers.js';

function parsed(buf: Buffer): RtpPacket {
  const r = parseRtp(buf);
  if (!r.ok) throw new Error(`peer got invalid RTP: ${r.error.message}`);
  return r.packet;
}

function nextLatch(transport: UdpRtpTransport, deadlineMs = 5000): Promise<SocketAddress> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no latched event'));
    }, deadlineMs);
    const off = transport.on('latched', (to) => {
      clearTimeout(timer);
      off();
      resolve(to);
    });
  });
}

for (const host of ['127.0.0.1', '::1']) {
  const family = host === '::1' ? 'IPv6' : 'IPv4';
  t.test(`relay between two peers over ${family}`, async (t) => {
    const allocator = randomAllocator();
    const peers: UdpPeer[] = [];
    t.teardown(() => Promise.all(peers.map((p) => p.close())));
    const peerA = await udpPeer(host);
    const peerB = await udpPeer(host);
    peers.push(peerA, peerB);

    const options = { allocator, family, bindAddress: host, rtcpMux: true } as const;
    const legA = await UdpRtpTransport.create(options);
    const legB = await UdpRtpTransport.create(options);
    t.equal(legA.local.family, family);
    t.equal(legA.local.port % 2, 0, 'even RTP port');
    legA.setRemote(peerA.address);
    legB.setRemote(peerB.address);
    const errors: Error[] = [];
    legA.on('error', (e) => errors.push(e));
    legB.on('error', (e) => errors.push(e));
    // telephone-event is 101 on A's SDP and 96 on B's; PCMU is 0 on both
    const relay = new RtpRelay({ a: legA, b: legB, aToB: { 101: 96 }, bToA: { 96: 101 } });

    // A → B: 20 PCMU packets across the 16-bit wrap and one telephone-event packet
    const sentAtoB = Array.from({ length: 20 }, (_, i) => rtpBytes(65530 + i, { timestamp: 0xffffff00 + i * 160 }));
    sentAtoB.push(rtpBytes(65550, { payloadType: 101, marker: true, payload: new Uint8Array([5, 0x8a, 0, 160]) }));
    for (const b of sentAtoB) peerA.send(b, legA.local);
    const gotB = (await peerB.waitRtp(sentAtoB.length)).map(parsed);
    t.same(
      gotB.map((p) => p.sequenceNumber),
      sentAtoB.map((b) => parsed(b).sequenceNumber),
      'sequence numbers intact (and in order on loopback)',
    );
    t.same(gotB.map((p) => p.timestamp), sentAtoB.map((b) => parsed(b).timestamp), 'timestamps intact across the 32-bit wrap');
    t.ok(gotB.every((p) => p.ssrc === 0x11111111), 'SSRC intact');
    t.same(
      gotB.slice(0, 20).map((p) => Buffer.from(p.payload).toString('hex')),
      sentAtoB.slice(0, 20).map((b) => Buffer.from(parsed(b).payload).toString('hex')),
      'payload bytes intact',
    );
    t.same(gotB.slice(0, 20).map((p) => p.payloadType), Array(20).fill(0), 'PCMU stays 0');
    t.equal(gotB[20]?.payloadType, 96, 'telephone-event 101 on A is 96 on B');
    t.equal(gotB[20]?.marker, true, 'marker kept through the rewrite');
    t.same([...(gotB[20]?.payload ?? [])], [5, 0x8a, 0, 160]);

    // B → A
    const sentBtoA = Array.from({ length: 10 }, (_, i) => rtpBytes(7000 + i, { ssrc: 0x22222222 }));
    sentBtoA.push(rtpBytes(7010, { ssrc: 0x22222222, payloadType: 96, payload: new Uint8Array([1, 0, 0, 80]) }));
    for (const b of sentBtoA) peerB.send(b, legB.local);
    const gotA = (await peerA.waitRtp(sentBtoA.length)).map(parsed);
    t.same(gotA.map((p) => p.sequenceNumber), sentBtoA.map((b) => parsed(b).sequenceNumber));
    t.same(gotA.map((p) => p.timestamp), sentBtoA.map((b) => parsed(b).timestamp));
    t.ok(gotA.every((p) => p.ssrc === 0x22222222));
    t.equal(gotA[10]?.payloadType, 101, 'and 96 back to 101');
    t.same(Buffer.from(gotA[0]!.payload), Buffer.from(parsed(sentBtoA[0]!).payload));

    // garbage: not RTP, an RTP header cut short, a wrong version; none crashes or stops the flow
    const before = legA.counters.discarded;
    peerA.send(Buffer.from('hello, not rtp'), legA.local);
    peerA.send(rtpBytes(1).subarray(0, 9), legA.local);
    peerA.send(Buffer.from([0x40, ...rtpBytes(2).subarray(1)]), legA.local);
    peerA.send(rtpBytes(65551, { timestamp: 0xffffff00 + 21 * 160 }), legA.local);
    const afterGarbage = await peerB.waitRtp(sentAtoB.length + 1);
    t.equal(parsed(afterGarbage.at(-1)!).sequenceNumber, 65551 & 0xffff, 'the flow goes on after garbage');
    t.equal(legA.counters.discarded - before, 3, 'three datagrams discarded and counted');
    t.equal(peerB.rtp.length, sentAtoB.length + 1, 'garbage was not forwarded');

    // A moves to a new source port mid-stream (NAT rebinding): legA re-latches after a few packets
    const peerA2 = await udpPeer(host);
    peers.push(peerA2);
    const latched = nextLatch(legA);
    for (let i = 0; i < 5; i++) peerA2.send(rtpBytes(2 + i), legA.local);
    const to = await latched;
    t.same(to, peerA2.address, 'latched to the new source');
    t.same(legA.remote, peerA2.address, 'remote follows');
    await peerB.waitRtp(sentAtoB.length + 1 + 5);
    // the other direction now reaches the new port
    peerB.send(rtpBytes(7011, { ssrc: 0x22222222 }), legB.local);
    const [back] = await peerA2.waitRtp(1);
    t.equal(parsed(back!).sequenceNumber, 7011, 'B reaches A at its new port');
    t.equal(peerA.rtp.length, sentBtoA.length, 'nothing more went to the old port');

    t.same(relay.stats(), { aToB: sentAtoB.length + 1 + 5, bToA: sentBtoA.length + 1 });
    t.equal(legA.stats().packetsReceived, sentAtoB.length + 1 + 5);
    t.equal(legB.stats().packetsSent, sentAtoB.length + 1 + 5);

    relay.stop();
    relay.stop();
    peerA2.send(rtpBytes(8), legA.local);
    peerB.send(rtpBytes(7012, { ssrc: 0x22222222 }), legB.local);
    // a round trip through a third socket orders us after those datagrams were handled
    const probe = await udpPeer(host);
    peers.push(probe);
    probe.send(rtpBytes(1), probe.address);
    await probe.waitRtp(1);
    await new Promise((resolve) => setImmediate(resolve));
    t.same(relay.stats(), { aToB: sentAtoB.length + 1 + 5, bToA: sentBtoA.length + 1 }, 'stopped relay forwards nothing');

    t.equal(allocator.inUse(), 2, 'two muxed ports in use');
    legA.close();
    legB.close();
    legA.close();
    await Promise.all([legA.whenClosed(), legB.whenClosed()]);
    t.equal(allocator.inUse(), 0, 'ports back in the allocator');
    t.same(errors, [], 'no socket errors');
  });
}
