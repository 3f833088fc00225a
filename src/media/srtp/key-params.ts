/**
 * SDES key material (RFC 4568 §6.1): make our own inline key and read the peer's. Parsing
 * never throws: the key params come from a remote SDP.
 */
import { randomBytes } from 'node:crypto';
import { sdesSuiteInfo, type SdesSuite } from './suites.js';

/** One a=crypto attribute's worth of key material (the engine's NegotiatedStream.crypto). */
export interface SdesCrypto {
  tag: number;
  suite: SdesSuite;
  /** 'inline:<base64 key||salt>' */
  keyParams: string;
}

export interface SdesKeyMaterial {
  masterKey: Uint8Array;
  masterSalt: Uint8Array;
  /** packets this key may protect (the '|2^31' part), when given */
  lifetime?: number;
  /** master key identifier carried in every packet when given (RFC 3711 §3.1) */
  mki?: { value: number; length: number };
}

export type SdesKeyParamsResult = { ok: true; value: SdesKeyMaterial } | { ok: false; error: string };

/** A fresh random master key and salt for `suite`, written as RFC 4568 inline key params. */
export function generateSdesCrypto(suite: SdesSuite, tag: number): SdesCrypto {
  const info = sdesSuiteInfo(suite);
  // suite is typed, so info exists; the fallback keeps the types honest without a throw
  const length = (info?.keyLength ?? 16) + (info?.saltLength ?? 14);
  return { tag, suite, keyParams: `inline:${randomBytes(length).toString('base64')}` };
}

// RFC 4568 §6.1: base64 key||salt, then optional "|lifetime" and "|mki-value:mki-length"
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const LIFETIME = /^(2\^)?(\d{1,15})$/;
const MKI = /^(\d{1,10}):(\d{1,3})$/;

/**
 * Reads 'inline:<key||salt>[|lifetime][|mki:length]' for a suite with the given key and salt
 * lengths (default AES_CM_128: 16 + 14 bytes). Only the first key of a multi-key list (';')
 * is used: we do not switch keys by MKI mid-stream.
 */
export function parseSdesKeyParams(keyParams: string, lengths: { keyLength: number; saltLength: number } = { keyLength: 16, saltLength: 14 }): SdesKeyParamsResult {
  const first = keyParams.trim().split(';')[0] ?? '';
  const colon = first.indexOf(':');
  if (colon < 0) return { ok: false, error: 'key params lack a key method' };
  // RFC 4568 §6.1: "inline" is the only key method defined; compare case-insensitively like other SDP tokens
  if (first.slice(0, colon).toLowerCase() !== 'inline') return { ok: false, error: `unsupported key method '${first.slice(0, colon)}'` };
  const parts = first.slice(colon + 1).split('|');
  const keySalt = parts[0] ?? '';
  if (!BASE64.test(keySalt)) return { ok: false, error: 'key||salt is not base64' };
  const bytes = Buffer.from(keySalt, 'base64');
  if (bytes.length !== lengths.keyLength + lengths.saltLength) {
    return { ok: false, error: `key||salt is ${bytes.length} bytes, expected ${lengths.keyLength + lengths.saltLength}` };
  }
  const material: SdesKeyMaterial = {
    masterKey: new Uint8Array(bytes.subarray(0, lengths.keyLength)),
    masterSalt: new Uint8Array(bytes.subarray(lengths.keyLength)),
  };
  let rest = parts.slice(1);
  if (rest.length > 2) return { ok: false, error: 'too many fields after key||salt' };
  const lifetimeMatch = rest[0] === undefined ? null : LIFETIME.exec(rest[0]);
  if (lifetimeMatch !== null) {
    const digits = Number(lifetimeMatch[2]);
    const lifetime = lifetimeMatch[1] === undefined ? digits : 2 ** digits;
    // RFC 3711 §9.2: at most 2^48 SRTP packets per master key
    if (!(lifetime >= 1 && lifetime <= 2 ** 48)) return { ok: false, error: 'key lifetime out of range' };
    material.lifetime = lifetime;
    rest = rest.slice(1);
  }
  if (rest[0] !== undefined) {
    const mkiMatch = MKI.exec(rest[0]);
    if (mkiMatch === null) return { ok: false, error: `bad lifetime or MKI '${rest[0]}'` };
    const value = Number(mkiMatch[1]);
    const length = Number(mkiMatch[2]);
    // RFC 4568 §6.1: MKI length 1..128 bytes; we carry values up to 32 bits
    if (length < 1 || length > 128 || value > 0xffffffff) return { ok: false, error: 'MKI out of range' };
    material.mki = { value, length };
    rest = rest.slice(1);
  }
  if (rest.length > 0) return { ok: false, error: 'unexpected fields after MKI' };
  return { ok: true, value: material };
}
