import t from 'tap';
import {
  isRtcpPacket,
  isValidRtp,
  parseRtp,
  readMarker,
  readPayloadType,
  readSequence,
  readSsrc,
  readTimestamp,
  rtpLayout,
  serializeRtp,
  serializeRtpInto,
  writePayloadType,
  type RtpParseErrorCode,
} from '../../../../src/media/rtp/index.js';
import type { RtpPacket } from '../../../../src/media/types.js';

const base: RtpPacket = {
  marker: true,
  payloadType: 0,
  sequenceNumber: 0xfffe,
  timestamp: 0xfffffff0,
  ssrc: 0xdeadbeef,
  csrcs: [],
  payload: new Uint8Array([1, 2, 3, 4, 5]),
};

t.test('a minimal packet has the RFC 3550 §5.1 layout', async (t) => {
  const buf = serializeRtp(base);
  t.equal(buf.length, 12 + 5);
  t.equal(buf[0], 0x80, 'V=2, no P/X, CC=0');
  t.equal(buf[1], 0x80, 'marker set, PT 0');
  t.equal(buf.readUInt16BE(2), 0xfffe);
  t.equal(buf.readUInt32BE(4), 0xfffffff0);
  t.equal(buf.readUInt32BE(8), 0xdeadbeef);
});

t.test('round trip with CSRCs, extension and padding', async (t) => {
  const packet: RtpPacket = {
    ...base,
    marker: false,
    payloadType: 101,
    csrcs: [1, 0xffffffff, 3],
    extension: { profile: 0xbede, data: new Uint8Array([0x10, 0xaa, 0, 0, 0x21, 1, 2, 0]) },
  };
  const buf = serializeRtp(packet, { paddingBytes: 3 });
  t.equal(buf[0], 0x80 | 0x20 | 0x10 | 3, 'P, X and CC=3');
  t.equal(buf.length, 12 + 12 + 4 + 8 + 5 + 3);
  const parsed = parseRtp(buf);
  if (!parsed.ok) throw new Error(parsed.error.message);
  t.same(parsed.packet.csrcs, [1, 0xffffffff, 3]);
  t.equal(parsed.packet.payloadType, 101);
  t.equal(parsed.packet.marker, false);
  t.equal(parsed.packet.sequenceNumber, 0xfffe);
  t.equal(parsed.packet.timestamp, 0xfffffff0);
  t.equal(parsed.packet.ssrc, 0xdeadbeef);
  t.equal(parsed.packet.extension?.profile, 0xbede);
  t.same([...(parsed.packet.extension?.data ?? [])], [0x10, 0xaa, 0, 0, 0x21, 1, 2, 0]);
  t.same([...parsed.packet.payload], [1, 2, 3, 4, 5], 'padding stripped');
  t.same(serializeRtp(parsed.packet, { paddingBytes: 3 }), buf, 'serialize(parse(x)) = x');
});

t.test('an extension not a multiple of 4 octets is zero-padded (§5.3.1)', async (t) => {
  const buf = serializeRtp({ ...base, extension: { profile: 1, data: new Uint8Array([9, 9, 9]) } });
  const parsed = parseRtp(buf);
  t.ok(parsed.ok);
  if (parsed.ok) t.same([...(parsed.packet.extension?.data ?? [])], [9, 9, 9, 0]);
});

t.test('bad input gives a typed error, never a throw', async (t) => {
  const good = serializeRtp(base);
  const withCsrc = serializeRtp({ ...base, csrcs: [1, 2] });
  const withExt = serializeRtp({ ...base, payload: new Uint8Array(0), extension: { profile: 1, data: new Uint8Array(8) } });
  const cases: [string, Uint8Array, RtpParseErrorCode][] = [
    ['empty', new Uint8Array(0), 'too-short'],
    ['11 bytes', good.subarray(0, 11), 'too-short'],
    ['version 0', Buffer.from([0x00, ...good.subarray(1)]), 'bad-version'],
    ['version 1', Buffer.from([0x40, ...good.subarray(1)]), 'bad-version'],
    ['version 3', Buffer.from([0xc0, ...good.subarray(1)]), 'bad-version'],
    ['CSRC count past the end', withCsrc.subarray(0, 16), 'truncated-csrc'],
    ['CC=15 on a bare header', Buffer.from([0x8f, ...good.subarray(1, 12)]), 'truncated-csrc'],
    ['X bit with no extension header', Buffer.from([0x90, ...good.subarray(1, 12)]), 'truncated-extension'],
    ['extension longer than the packet', withExt.subarray(0, withExt.length - 4), 'truncated-extension'],
    ['padding count 0', Buffer.from([0xa0, ...good.subarray(1, good.length - 1), 0]), 'bad-padding'],
    ['padding count past the header', Buffer.from([0xa0, ...good.subarray(1, good.length - 1), 200]), 'bad-padding'],
  ];
  for (const [name, buf, code] of cases) {
    let result;
    t.doesNotThrow(() => {
      result = parseRtp(buf);
    }, name);
    t.match(result, { ok: false, error: { code } }, name);
    t.equal(isValidRtp(buf), false, `${name}: isValidRtp says no too`);
  }
  t.equal(isValidRtp(good), true, 'a good packet is valid');
  t.equal(isValidRtp(withCsrc), true, 'with CSRCs');
  t.equal(isValidRtp(withExt), true, 'with an extension');
});

t.test('rtpLayout finds the payload behind CSRCs and the extension, before the padding', async (t) => {
  const padded = serializeRtp({ ...base, csrcs: [1, 2], extension: { profile: 1, data: new Uint8Array(4) } }, { paddingBytes: 4 });
  // 12 header + 8 CSRC + 4 extension header + 4 extension data; 5 bytes of payload; 4 of padding
  t.same(rtpLayout(padded), { ok: true, payloadStart: 28, payloadEnd: 33 });
  t.same(rtpLayout(serializeRtp(base)), { ok: true, payloadStart: 12, payloadEnd: 17 });
  const big = serializeRtp({ ...base, payload: new Uint8Array(65000) });
  t.same(rtpLayout(big), { ok: true, payloadStart: 12, payloadEnd: 65012 }, 'a payload near the UDP limit');
  const longExtension = serializeRtp({ ...base, extension: { profile: 1, data: new Uint8Array(80000) } });
  t.same(rtpLayout(longExtension), { ok: true, payloadStart: 80016, payloadEnd: 80021 }, 'a payload starting past 64 KiB (not from UDP, still right)');
});

t.test('serializeRtpInto lays out the same bytes as serializeRtp, or nothing when they do not fit', async (t) => {
  const packets: RtpPacket[] = [
    base,
    { ...base, marker: false, csrcs: [7, 0xffffffff], sequenceNumber: 3 },
    { ...base, extension: { profile: 0xbede, data: new Uint8Array([1, 2, 3]) } },
  ];
  const out = new Uint8Array(64).fill(0xaa);
  for (const packet of packets) {
    const expected = serializeRtp(packet);
    const length = serializeRtpInto(packet, out);
    t.equal(length, expected.length);
    t.same([...out.subarray(0, length)], [...expected]);
  }
  const padded = serializeRtpInto(base, out, { paddingBytes: 3 });
  t.same([...out.subarray(0, padded)], [...serializeRtp(base, { paddingBytes: 3 })], 'with padding');
  const small = new Uint8Array(16).fill(0x55);
  t.equal(serializeRtpInto(base, small), 0, '17 bytes do not fit in 16');
  t.same([...small], new Array<number>(16).fill(0x55), 'and nothing was written');
});

t.test('random bytes never throw', async (t) => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const len = rand() % 40;
    const buf = Uint8Array.from({ length: len }, rand);
    if (len > 0) buf[0] = (buf[0]! & 0x3f) | 0x80; // mostly version 2 so the deeper checks run
    const r = parseRtp(buf);
    if (r.ok) t.ok(r.packet.payload.length <= len, 'payload inside the buffer');
  }
  t.pass('2000 random buffers parsed without a throw');
});

t.test('RTP/RTCP demux on the second octet (RFC 5761 §4)', async (t) => {
  const rtcp = Buffer.from([0x81, 201, 0, 1, 0, 0, 0, 1]);
  t.ok(isRtcpPacket(rtcp), 'RR');
  t.ok(isRtcpPacket(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1])), 'SR');
  t.ok(isRtcpPacket(Buffer.from([0x80, 223, 0, 1, 0, 0, 0, 1])), '223 is the top of the range');
  t.notOk(isRtcpPacket(Buffer.from([0x80, 224, 0, 1, 0, 0, 0, 1])), '224 is RTP PT 96 with marker');
  t.notOk(isRtcpPacket(Buffer.from([0x80, 191, 0, 1, 0, 0, 0, 1])), '191 is RTP PT 63 with marker');
  t.notOk(isRtcpPacket(serializeRtp({ ...base, payloadType: 0 })), 'PCMU with marker (0x80) is RTP');
  t.notOk(isRtcpPacket(serializeRtp({ ...base, payloadType: 101 })), 'telephone-event with marker is RTP');
  t.notOk(isRtcpPacket(rtcp.subarray(0, 4)), 'too short');
});

t.test('peek and poke helpers read the header in place', async (t) => {
  const buf = serializeRtp({ ...base, payloadType: 101 });
  t.equal(readSequence(buf), 0xfffe);
  t.equal(readTimestamp(buf), 0xfffffff0);
  t.equal(readSsrc(buf), 0xdeadbeef);
  t.equal(readPayloadType(buf), 101);
  t.equal(readMarker(buf), true);
  writePayloadType(buf, 96);
  t.equal(readPayloadType(buf), 96);
  t.equal(readMarker(buf), true, 'marker kept');
  const parsed = parseRtp(buf);
  t.ok(parsed.ok && parsed.packet.payloadType === 96);
});
