/**
 * SRTP key derivation and the AES counter-mode keystream (RFC 3711 §4.1.1, §4.3). Pure
 * functions over node:crypto so the RFC's appendix B vectors can check them directly.
 */
import { createCipheriv } from 'node:crypto';

/** Key derivation labels (RFC 3711 §4.3.1 and §4.3.2). */
export const KDF_LABEL = {
  rtpEncryption: 0x00,
  rtpAuthentication: 0x01,
  rtpSalt: 0x02,
  rtcpEncryption: 0x03,
  rtcpAuthentication: 0x04,
  rtcpSalt: 0x05,
} as const;

export interface SessionKeys {
  encryptionKey: Buffer;
  authenticationKey: Buffer;
  salt: Buffer;
}

/**
 * `length` bytes of AES-CM keystream (RFC 3711 §4.1.1) for a 128-bit IV. Node's aes-128-ctr
 * increments the whole 128-bit block as a big-endian counter, which is exactly IV + i for the
 * at most 2^16 blocks one SRTP packet needs.
 */
export function aesCmKeystream(key: Uint8Array, iv: Uint8Array, length: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** XOR `data` with the AES-CM keystream for `iv`, returning a new buffer. */
export function aesCmTransform(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * One session key (RFC 3711 §4.3.1) with key_derivation_rate 0, the SDES default: r = 0, so
 * x = (label || 0^48) XOR master_salt and the key is AES-CM(master_key, x · 2^16).
 */
export function deriveSessionKey(masterKey: Uint8Array, masterSalt: Uint8Array, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(masterSalt).copy(iv, 0, 0, 14);
  // key_id = label (8 bits) || r (48 bits), right-aligned against the 112-bit salt: byte 7
  iv[7] = (iv[7] ?? 0) ^ label;
  return aesCmKeystream(masterKey, iv, length);
}

/** The three SRTP (rtcp=false) or SRTCP (rtcp=true) session keys for one master key. */
export function deriveSessionKeys(masterKey: Uint8Array, masterSalt: Uint8Array, rtcp: boolean): SessionKeys {
  const labels = rtcp
    ? [KDF_LABEL.rtcpEncryption, KDF_LABEL.rtcpAuthentication, KDF_LABEL.rtcpSalt]
    : [KDF_LABEL.rtpEncryption, KDF_LABEL.rtpAuthentication, KDF_LABEL.rtpSalt];
  return {
    encryptionKey: deriveSessionKey(masterKey, masterSalt, labels[0] ?? 0, 16),
    // HMAC-SHA1 session authentication key n_a = 160 bits (RFC 3711 §4.2.1, §8.2)
    authenticationKey: deriveSessionKey(masterKey, masterSalt, labels[1] ?? 0, 20),
    salt: deriveSessionKey(masterKey, masterSalt, labels[2] ?? 0, 14),
  };
}

/**
 * The AES-CM IV for one packet (RFC 3711 §4.1.1):
 * IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i the 48-bit packet index (SRTCP: 31-bit).
 */
export function packetIv(sessionSalt: Uint8Array, ssrc: number, index: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(sessionSalt).copy(iv, 0, 0, 14);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const high = Math.floor(index / 2 ** 32);
  const low = index >>> 0;
  iv.writeUInt16BE((iv.readUInt16BE(8) ^ (high & 0xffff)) & 0xffff, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ low) >>> 0, 10);
  return iv;
}
