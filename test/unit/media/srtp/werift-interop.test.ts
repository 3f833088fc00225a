// Cross-check against an independent implementation: werift's SrtpSession/SrtcpSession
// (AES_CM_128_HMAC_SHA1_80 only), keyed with the same master keys as our SDES pair.
import t from 'tap';
import { SrtcpSession, SrtpSession, ProtectionProfileAes128CmHmacSha1_80, RtpPacket } from 'werift';
import { createSdesProtection, generateSdesCrypto, parseSdesKeyParams } from '../../../../src/media/srtp/index.js';

function material(keyParams: string): { key: Buffer; salt: Buffer } {
  const parsed = parseSdesKeyParams(keyParams);
  if (!parsed.ok) throw new Error(parsed.error);
  return { key: Buffer.from(parsed.value.masterKey), salt: Buffer.from(parsed.value.masterSalt) };
}

t.test('our SRTP/SRTCP and werift decrypt each other', async (t) => {
  const ours = generateSdesCrypto('AES_CM_128_HMAC_SHA1_80', 1);
  const theirs = generateSdesCrypto('AES_CM_128_HMAC_SHA1_80', 1);
  const protection = createSdesProtection({ local: ours, remote: theirs });
  if (!protection.ok) return t.fail(protection.error);
  const o = material(ours.keyParams);
  const w = material(theirs.keyParams);
  const keys = { localMasterKey: w.key, localMasterSalt: w.salt, remoteMasterKey: o.key, remoteMasterSalt: o.salt };
  const srtp = new SrtpSession({ keys, profile: ProtectionProfileAes128CmHmacSha1_80 });
  const srtcp = new SrtcpSession({ keys, profile: ProtectionProfileAes128CmHmacSha1_80 });

  for (const seq of [1000, 1001, 1002]) {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0;
    header.writeUInt16BE(seq, 2);
    header.writeUInt32BE(seq * 160, 4);
    header.writeUInt32BE(0xcafe, 8);
    const plain = Buffer.concat([header, Buffer.from(`hello ${seq}`)]);
    const decrypted = srtp.decrypt(Buffer.from(protection.value.protectRtp(plain)));
    t.ok(decrypted.equals(plain), `werift decrypts our SRTP seq ${seq}`);
    const parsed = RtpPacket.deSerialize(plain);
    const fromWerift = srtp.encrypt(parsed.payload, parsed.header);
    const back = protection.value.unprotectRtp(fromWerift);
    t.ok(back !== undefined && Buffer.from(back).equals(plain), `we decrypt werift's SRTP seq ${seq}`);
  }
  const report = Buffer.alloc(28);
  report[0] = 0x80;
  report[1] = 200;
  report.writeUInt16BE(6, 2);
  report.writeUInt32BE(0xcafe, 4);
  t.ok(srtcp.decrypt(Buffer.from(protection.value.protectRtcp(report))).equals(report), 'werift decrypts our SRTCP');
  const back = protection.value.unprotectRtcp(srtcp.encrypt(report));
  t.ok(back !== undefined && Buffer.from(back).equals(report), "we decrypt werift's SRTCP");
});
