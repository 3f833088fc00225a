/**
 * SDES-SRTP (RFC 4568) on a socket that exists before the keys do: when we offer SRTP, our
 * transport is open before the answer brings the remote key. Until setKeys, packets are dropped.
 */
import { InvalidInputError } from '../../lib/index.js';
import type { SdesCryptoLine } from '../sdp/index.js';
import type { PacketProtection } from '../types.js';
import { createSdesProtection } from './sdes-protection.js';
import { SDES_SUITES, type SdesSuite } from './suites.js';

/** the suite to answer an offer with: the offered one when we have it, else the mandatory one */
export function answerSuite(offered: string | undefined): SdesSuite {
  return SDES_SUITES.find((s) => s === offered) ?? 'AES_CM_128_HMAC_SHA1_80';
}

/** SRTP whose keys may arrive after the socket exists (we offered); until then packets are dropped. */
export class DeferredProtection implements PacketProtection {
  private inner: PacketProtection | undefined;

  setKeys(local: SdesCryptoLine, remote: SdesCryptoLine): void {
    const result = createSdesProtection({ local, remote });
    if (!result.ok) throw new InvalidInputError(`unusable SDES key: ${result.error}`, 488, 400);
    this.inner = result.value;
  }

  get ready(): boolean {
    return this.inner !== undefined;
  }

  protectRtp(packet: Uint8Array): Uint8Array {
    return this.inner?.protectRtp(packet) ?? new Uint8Array(0);
  }

  unprotectRtp(packet: Uint8Array): Uint8Array | undefined {
    return this.inner?.unprotectRtp(packet);
  }

  protectRtcp(packet: Uint8Array): Uint8Array {
    return this.inner?.protectRtcp(packet) ?? new Uint8Array(0);
  }

  unprotectRtcp(packet: Uint8Array): Uint8Array | undefined {
    return this.inner?.unprotectRtcp(packet);
  }
}
