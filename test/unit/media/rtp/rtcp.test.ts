import t from 'tap';
import {
  ntpFromWallMs,
  ntpMiddle32,
  parseRtcpCompound,
  serializeRtcpCompound,
  serializeRtcpPacket,
  type ReportBlock,
  type RtcpPacket,
} from '../../../../src/media/rtp/index.js';

const block: ReportBlock = {
  ssrc: 0x11223344,
  fractionLost: 64,
  cumulativeLost: -3,
  highestSequence: 0x0001_0005,
  jitter: 123,
  lastSr: 0xabcd1234,
  delaySinceLastSr: 65536,
};

t.test('SR round trip with report blocks (§6.4.1)', async (t) => {
  const sr: RtcpPacket = {
    type: 'sr',
    ssrc: 0xcafebabe,
    sender: { ntpSeconds: 0xe0000000, ntpFraction: 0x80000000, rtpTimestamp: 160, packetCount: 50, octetCount: 8000 },
    reports: [block, { ...block, ssrc: 2, cumulativeLost: 0x7fffff, fractionLost: 255 }],
  };
  const buf = serializeRtcpPacket(sr);
  t.equal(buf.length, 8 + 20 + 2 * 24);
  t.equal(buf[0], 0x82, 'V=2, RC=2');
  t.equal(buf[1], 200);
  t.equal(buf.readUInt16BE(2), buf.length / 4 - 1, 'length in words minus one');
  const parsed = parseRtcpCompound(buf);
  t.same(parsed, { ok: true, packets: [sr] });
});

t.test('cumulative lost is clamped to 24-bit signed', async (t) => {
  const buf = serializeRtcpPacket({ type: 'rr', ssrc: 1, reports: [{ ...block, cumulativeLost: 1e9 }, { ...block, cumulativeLost: -1e9 }] });
  const parsed = parseRtcpCompound(buf);
  t.ok(parsed.ok);
  if (!parsed.ok) return;
  const rr = parsed.packets[0];
  t.equal(rr?.type, 'rr');
  if (rr?.type !== 'rr') return;
  t.equal(rr.reports[0]?.cumulativeLost, 0x7fffff);
  t.equal(rr.reports[1]?.cumulativeLost, -0x800000);
});

t.test('compound RR + SDES CNAME + BYE round trip (§6.1, 6.5, 6.6)', async (t) => {
  const packets: RtcpPacket[] = [
    { type: 'rr', ssrc: 7, reports: [block] },
    {
      type: 'sdes',
      chunks: [
        { ssrc: 7, items: [{ type: 1, value: 'user@host' }] },
        { ssrc: 8, items: [{ type: 1, value: 'abc' }, { type: 2, value: 'Zoë' }] },
      ],
    },
    { type: 'bye', ssrcs: [7, 8], reason: 'hangup' },
  ];
  const buf = serializeRtcpCompound(packets);
  t.equal(buf.length % 4, 0, '32-bit aligned');
  t.same(parseRtcpCompound(buf), { ok: true, packets });
  const bare: RtcpPacket[] = [{ type: 'rr', ssrc: 9, reports: [] }, { type: 'bye', ssrcs: [9] }];
  t.same(parseRtcpCompound(serializeRtcpCompound(bare)), { ok: true, packets: bare }, 'BYE without reason');
});

t.test('unknown packet types are kept as bytes', async (t) => {
  const app: RtcpPacket = { type: 'other', packetType: 204, count: 1, body: new Uint8Array([0, 0, 0, 1, 0x41, 0x42, 0x43, 0x44]) };
  const parsed = parseRtcpCompound(serializeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [] }, app]));
  t.ok(parsed.ok);
  if (parsed.ok) t.same(parsed.packets[1], app);
});

t.test('malformed compounds are errors, never throws', async (t) => {
  const good = serializeRtcpCompound([
    { type: 'rr', ssrc: 1, reports: [block] },
    { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, value: 'x' }] }] },
  ]);
  const badVersion = Buffer.from(good);
  badVersion[0] = 0x41;
  const overlong = Buffer.from(good);
  overlong.writeUInt16BE(200, 2);
  const lyingCount = Buffer.from(good.subarray(0, 8 + 24));
  lyingCount[0] = 0x83; // RC=3 with one block
  const sdesNoNull = Buffer.from([0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 0x61, 0x62]);
  const padMiddle = Buffer.from(good);
  padMiddle[0] = padMiddle[0]! | 0x20;
  const byeReason = Buffer.from([0x81, 203, 0, 2, 0, 0, 0, 1, 9, 0x61, 0x62, 0x63]);
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['3 bytes', good.subarray(0, 3)],
    ['truncated', good.subarray(0, good.length - 4)],
    ['version 1', badVersion],
    ['length past the datagram', overlong],
    ['report count past the packet', lyingCount],
    ['SDES without a terminating null', sdesNoNull],
    ['padding on a packet that is not last', padMiddle],
    ['BYE reason past the packet', byeReason],
    ['trailing 2 bytes', Buffer.concat([good, Buffer.from([0x80, 0xc9])])],
  ];
  for (const [name, buf] of cases) {
    let result;
    t.doesNotThrow(() => {
      result = parseRtcpCompound(buf);
    }, name);
    t.match(result, { ok: false, error: String }, name);
  }
});

t.test('NTP conversion and the middle 32 bits (§4, §6.4.1)', async (t) => {
  const ntp = ntpFromWallMs(Date.UTC(2000, 0, 1) + 500);
  t.equal(ntp.seconds, 3155673600, 'NTP seconds of 2000-01-01 (RFC 5905 era 0)');
  t.equal(ntp.fraction, 0x80000000, 'half a second');
  t.equal(ntpMiddle32(0x12345678, 0x9abcdef0), 0x56789abc);
});
