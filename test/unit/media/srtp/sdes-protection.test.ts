import t from 'tap';
import { createSdesProtection, generateSdesCrypto, ReplayWindow, type SdesSuite } from '../../../../src/media/srtp/index.js';
import type { PacketProtection } from '../../../../src/media/types.js';

function rtp(seq: number, options: { ssrc?: number; payload?: Buffer; timestamp?: number } = {}): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 111;
  header.writeUInt16BE(seq, 2);
  header.writeUInt32BE(options.timestamp ?? seq * 960, 4);
  header.writeUInt32BE(options.ssrc ?? 0x11223344, 8);
  return Buffer.concat([header, options.payload ?? Buffer.from(`payload ${seq}`)]);
}

function rtcpSenderReport(ssrc: number): Buffer {
  const p = Buffer.alloc(28);
  p[0] = 0x80;
  p[1] = 200;
  p.writeUInt16BE(6, 2);
  p.writeUInt32BE(ssrc, 4);
  p.writeUInt32BE(0xdeadbeef, 8);
  return p;
}

function pair(suite: SdesSuite): { alice: PacketProtection; bob: PacketProtection; aliceKey: string } {
  const a = generateSdesCrypto(suite, 1);
  const b = generateSdesCrypto(suite, 1);
  const alice = createSdesProtection({ local: a, remote: b });
  const bob = createSdesProtection({ local: b, remote: a });
  if (!alice.ok || !bob.ok) throw new Error('could not build the pair');
  return { alice: alice.value, bob: bob.value, aliceKey: a.keyParams };
}

for (const [suite, tagLength] of [
  ['AES_CM_128_HMAC_SHA1_80', 10],
  ['AES_CM_128_HMAC_SHA1_32', 4],
] as const) {
  t.test(`${suite}: RTP and RTCP round trip with swapped keys`, async (t) => {
    const { alice, bob } = pair(suite);
    for (let seq = 100; seq < 110; seq++) {
      const plain = rtp(seq);
      const wire = alice.protectRtp(plain);
      t.equal(wire.length, plain.length + tagLength, 'SRTP adds only the tag');
      t.same(Buffer.from(wire.subarray(0, 12)), plain.subarray(0, 12), 'header stays in clear');
      t.notSame(Buffer.from(wire.subarray(12, plain.length)), plain.subarray(12), 'payload is encrypted');
      const back = bob.unprotectRtp(wire);
      t.ok(back !== undefined && Buffer.from(back).equals(plain), `seq ${seq} comes back`);
      t.equal(alice.unprotectRtp(wire), undefined, 'the sender cannot read its own packets with the peer key');
    }
    const back = bob.protectRtp(rtp(5, { ssrc: 0x55 }));
    t.ok(alice.unprotectRtp(back), 'the other direction works');

    for (let i = 0; i < 3; i++) {
      const report = rtcpSenderReport(0x11223344);
      const wire = alice.protectRtcp(report);
      // SRTCP adds E||index (4 bytes) and an 80-bit tag for both suites (RFC 4568 §6.2)
      t.equal(wire.length, report.length + 4 + 10);
      t.equal(Buffer.from(wire).readUInt32BE(report.length), (0x80000000 | i) >>> 0, 'E flag and SRTCP index');
      const backRtcp = bob.unprotectRtcp(wire);
      t.ok(backRtcp !== undefined && Buffer.from(backRtcp).equals(report), 'RTCP comes back');
    }
  });
}

t.test('CSRCs and a header extension stay in clear and authenticated (RFC 3711 §3.1)', async (t) => {
  const { alice, bob } = pair('AES_CM_128_HMAC_SHA1_32');
  const header = Buffer.alloc(12 + 8 + 8);
  header[0] = 0x80 | 0x10 | 2; // X bit, CC = 2
  header[1] = 0;
  header.writeUInt16BE(42, 2);
  header.writeUInt32BE(0xabcdef, 8);
  header.writeUInt32BE(1, 12);
  header.writeUInt32BE(2, 16);
  header.writeUInt16BE(0xbede, 20); // RFC 8285 one-byte extension profile, one word
  header.writeUInt16BE(1, 22);
  header.writeUInt32BE(0x10ff0000, 24);
  const plain = Buffer.concat([header, Buffer.from('secret audio')]);
  const wire = Buffer.from(alice.protectRtp(plain));
  t.same(wire.subarray(0, header.length), header, 'whole header in clear');
  t.notOk(wire.includes(Buffer.from('secret audio')), 'payload encrypted');
  const back = bob.unprotectRtp(wire);
  t.ok(back !== undefined && Buffer.from(back).equals(plain));
  wire[25] = (wire[25] ?? 0) ^ 1;
  t.equal(bob.unprotectRtp(wire), undefined, 'extension bytes are authenticated');
  t.throws(() => alice.protectRtp(Buffer.from([0x80, 0])), { name: 'InvalidInputError' }, 'our own malformed RTP is a programming error');
});

t.test('a tampered packet fails authentication', async (t) => {
  const { alice, bob } = pair('AES_CM_128_HMAC_SHA1_80');
  const wire = Buffer.from(alice.protectRtp(rtp(1)));
  for (const at of [1, 3, 12, wire.length - 1]) {
    const bad = Buffer.from(wire);
    bad[at] = (bad[at] ?? 0) ^ 0x01;
    t.equal(bob.unprotectRtp(bad), undefined, `bit flip at byte ${at}`);
  }
  t.ok(bob.unprotectRtp(wire), 'the original still passes after the forgeries');
  const rtcpWire = Buffer.from(alice.protectRtcp(rtcpSenderReport(7)));
  rtcpWire[10] = (rtcpWire[10] ?? 0) ^ 0x80;
  t.equal(bob.unprotectRtcp(rtcpWire), undefined, 'tampered SRTCP');
  for (const junk of [Buffer.alloc(0), Buffer.alloc(5), Buffer.alloc(40, 0xff), Buffer.from([0x80, 0x00])]) {
    t.equal(bob.unprotectRtp(junk), undefined, 'junk RTP');
    t.equal(bob.unprotectRtcp(junk), undefined, 'junk RTCP');
  }
});

t.test('a replayed packet is dropped, a late but new one is not', async (t) => {
  const { alice, bob } = pair('AES_CM_128_HMAC_SHA1_80');
  const wires = [10, 11, 12, 13].map((seq) => alice.protectRtp(rtp(seq)));
  t.ok(bob.unprotectRtp(wires[0]!));
  t.ok(bob.unprotectRtp(wires[2]!));
  t.equal(bob.unprotectRtp(wires[0]!), undefined, 'replay of 10');
  t.ok(bob.unprotectRtp(wires[1]!), 'reordered 11 is still accepted');
  t.equal(bob.unprotectRtp(wires[1]!), undefined, 'replay of 11');
  t.ok(bob.unprotectRtp(wires[3]!));
  const rtcp = alice.protectRtcp(rtcpSenderReport(1));
  t.ok(bob.unprotectRtcp(rtcp));
  t.equal(bob.unprotectRtcp(rtcp), undefined, 'SRTCP replay');
});

t.test('replay window: too old is refused, window slides', async (t) => {
  const w = new ReplayWindow();
  t.ok(w.accepts(1000));
  w.record(1000);
  t.notOk(w.accepts(1000));
  t.ok(w.accepts(999));
  t.ok(w.accepts(1000 - 63));
  t.notOk(w.accepts(1000 - 64), 'outside the 64-packet window');
  w.record(1100);
  t.notOk(w.accepts(1000), 'slid past');
  t.ok(w.accepts(1099));
});

t.test('sequence numbers roll over 65535 → 0 (ROC)', async (t) => {
  const { alice, bob } = pair('AES_CM_128_HMAC_SHA1_80');
  const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
  const wires = seqs.map((seq) => alice.protectRtp(rtp(seq)));
  // deliver with one reordering across the wrap: 0 before 65535
  const order = [0, 1, 2, 3, 4, 6, 5, 7, 8, 9];
  for (const i of order) {
    const back = bob.unprotectRtp(wires[i]!);
    t.ok(back !== undefined && Buffer.from(back).equals(rtp(seqs[i]!)), `seq ${seqs[i]} decrypts`);
  }
  // the ROC is authenticated (RFC 3711 §4.2): a receiver still in ROC 0 rejects seq 0 of ROC 1
  const { alice: a2, aliceKey } = pair('AES_CM_128_HMAC_SHA1_80');
  for (const seq of [65534, 65535, 0]) a2.protectRtp(rtp(seq));
  const rocOne = a2.protectRtp(rtp(1));
  const fresh = createSdesProtection({ local: generateSdesCrypto('AES_CM_128_HMAC_SHA1_80', 1), remote: { suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: aliceKey } });
  t.ok(fresh.ok);
  if (fresh.ok) t.equal(fresh.value.unprotectRtp(rocOne), undefined, 'ROC 1 packet fails under ROC 0');
  t.equal(bob.unprotectRtp(wires[6]!), undefined, 'replay after the wrap is still caught');
});

t.test('MKI in the key params is carried and checked', async (t) => {
  const key = (b: number) => `inline:${Buffer.alloc(30, b).toString('base64')}|2^31|3:2`;
  const a = { suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: key(1) };
  const b = { suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: key(2) };
  const alice = createSdesProtection({ local: a, remote: b });
  const bob = createSdesProtection({ local: b, remote: a });
  if (!alice.ok || !bob.ok) return t.fail('pair');
  const plain = rtp(9);
  const wire = Buffer.from(alice.value.protectRtp(plain));
  t.equal(wire.length, plain.length + 2 + 10);
  t.equal(wire.readUInt16BE(plain.length), 3, 'MKI before the tag');
  t.ok(bob.value.unprotectRtp(wire));
  const wrongMki = Buffer.from(alice.value.protectRtp(rtp(10)));
  wrongMki.writeUInt16BE(4, plain.length);
  t.equal(bob.value.unprotectRtp(wrongMki), undefined, 'unknown MKI');
});

t.test('createSdesProtection refuses bad input without throwing', async (t) => {
  const good = generateSdesCrypto('AES_CM_128_HMAC_SHA1_80', 1);
  t.notOk(createSdesProtection({ local: good, remote: { suite: 'AES_CM_128_HMAC_SHA1_80', keyParams: 'inline:xx' } }).ok);
  t.notOk(createSdesProtection({ local: good, remote: { suite: 'F8_128_HMAC_SHA1_80', keyParams: good.keyParams } }).ok);
  t.notOk(createSdesProtection({ local: good, remote: generateSdesCrypto('AES_CM_128_HMAC_SHA1_32', 1) }).ok, 'suites differ');
});
