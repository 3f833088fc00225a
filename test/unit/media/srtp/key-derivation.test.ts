import t from 'tap';
import { aesCmKeystream, deriveSessionKey, deriveSessionKeys, KDF_LABEL } from '../../../../src/media/srtp/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('RFC 3711 appendix B.2: AES-CM keystream', async (t) => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  // blocks 0..0xFF01 of keystream; the RFC lists the first three and the last three
  const stream = aesCmKeystream(key, iv, 0xff02 * 16);
  const block = (i: number) => stream.subarray(i * 16, i * 16 + 16).toString('hex').toUpperCase();
  t.equal(block(0), 'E03EAD0935C95E80E166B16DD92B4EB4');
  t.equal(block(1), 'D23513162B02D0F72A43A2FE4A5F97AB');
  t.equal(block(2), '41E95B3BB0A2E8DD477901E4FCA894C0');
  t.equal(block(0xfeff), 'EC8CDF7398607CB0F2D21675EA9EA1E4');
  t.equal(block(0xff00), '362B7C3C6773516318A077D7FC5073AE');
  t.equal(block(0xff01), '6A2CC3787889374FBEB4C81B17BA6C44');
});

t.test('RFC 3711 appendix B.3: session keys from the master key', async (t) => {
  const masterKey = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
  const masterSalt = hex('0EC675AD498AFEEBB6960B3AABE6');
  t.equal(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpEncryption, 16).toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  t.equal(deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpSalt, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
  t.equal(
    deriveSessionKey(masterKey, masterSalt, KDF_LABEL.rtpAuthentication, 94).toString('hex').toUpperCase(),
    'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCEE049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC256D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2',
  );
  const keys = deriveSessionKeys(masterKey, masterSalt, false);
  t.equal(keys.authenticationKey.length, 20, 'HMAC-SHA1 key is 160 bits');
  t.equal(keys.encryptionKey.toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
  const rtcp = deriveSessionKeys(masterKey, masterSalt, true);
  t.not(rtcp.encryptionKey.toString('hex'), keys.encryptionKey.toString('hex'), 'SRTCP keys use their own labels');
});
