/**
 * The SDES crypto suites we speak (RFC 4568 §6.2). Both use AES-128 in counter mode and
 * HMAC-SHA1 (RFC 3711 §4.1.1, §4.2.1) with a 128-bit master key and a 112-bit master salt; they
 * differ only in how much of the HMAC travels with each SRTP packet.
 */
export type SdesSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SuiteInfo {
  readonly name: SdesSuite;
  /** master (and session) encryption key length in bytes */
  readonly keyLength: number;
  /** master (and session) salt length in bytes */
  readonly saltLength: number;
  /** SRTP authentication tag length in bytes */
  readonly srtpTagLength: number;
  /** SRTCP authentication tag length in bytes: 80 bits for both suites (RFC 4568 §6.2.2) */
  readonly srtcpTagLength: number;
}

const SUITES: ReadonlyMap<string, SuiteInfo> = new Map([
  ['AES_CM_128_HMAC_SHA1_80', { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, srtpTagLength: 10, srtcpTagLength: 10 }],
  ['AES_CM_128_HMAC_SHA1_32', { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, srtpTagLength: 4, srtcpTagLength: 10 }],
] as const);

/** The suites in our order of preference, for offers. */
export const SDES_SUITES: readonly SdesSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** Facts about a suite named in an a=crypto line; undefined for one we do not support. */
export function sdesSuiteInfo(name: string): SuiteInfo | undefined {
  return SUITES.get(name);
}
