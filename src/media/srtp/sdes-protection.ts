/**
 * PacketProtection for an SRTP stream keyed by SDES (RFC 4568): we protect with the key in our
 * own a=crypto line and unprotect with the one in the peer's (§6.1: each side's key protects
 * what that side sends).
 */
import type { PacketProtection } from '../types.js';
import { parseSdesKeyParams } from './key-params.js';
import { SrtpContext } from './srtp-context.js';
import { sdesSuiteInfo } from './suites.js';

export interface SdesKeys {
  suite: string;
  keyParams: string;
}

export type SdesProtectionResult = { ok: true; value: SdesProtection } | { ok: false; error: string };

export class SdesProtection implements PacketProtection {
  constructor(
    private readonly outbound: SrtpContext,
    private readonly inbound: SrtpContext,
  ) {}

  protectRtp(packet: Uint8Array): Uint8Array {
    return this.outbound.protectRtp(packet);
  }

  unprotectRtp(packet: Uint8Array): Uint8Array | undefined {
    return this.inbound.unprotectRtp(packet);
  }

  protectRtcp(packet: Uint8Array): Uint8Array {
    return this.outbound.protectRtcp(packet);
  }

  unprotectRtcp(packet: Uint8Array): Uint8Array | undefined {
    return this.inbound.unprotectRtcp(packet);
  }
}

function contextFor(keys: SdesKeys, side: string): { ok: true; value: SrtpContext } | { ok: false; error: string } {
  const suite = sdesSuiteInfo(keys.suite);
  if (suite === undefined) return { ok: false, error: `${side} crypto suite ${keys.suite} is not supported` };
  const parsed = parseSdesKeyParams(keys.keyParams, suite);
  if (!parsed.ok) return { ok: false, error: `${side} key params: ${parsed.error}` };
  const { masterKey, masterSalt, mki } = parsed.value;
  return { ok: true, value: new SrtpContext(mki === undefined ? { suite, masterKey, masterSalt } : { suite, masterKey, masterSalt, mki }) };
}

/**
 * Both directions of an SDES-keyed SRTP session. The remote keys come from the network, so a
 * bad suite or key gives { ok: false } rather than a throw. The two suites must match: RFC 4568
 * §7.1.2 has the answerer echo the offerer's chosen suite and tag.
 */
export function createSdesProtection(keys: { local: SdesKeys; remote: SdesKeys }): SdesProtectionResult {
  if (keys.local.suite !== keys.remote.suite) return { ok: false, error: `crypto suites differ: ${keys.local.suite} / ${keys.remote.suite}` };
  const local = contextFor(keys.local, 'local');
  if (!local.ok) return local;
  const remote = contextFor(keys.remote, 'remote');
  if (!remote.ok) return remote;
  return { ok: true, value: new SdesProtection(local.value, remote.value) };
}
