import os from 'node:os';

/**
 * This host's first address of a family on a non-loopback interface (link-local IPv6 skipped):
 * what a server bound to a wildcard puts in SDP and SIP headers when nothing is configured.
 */
export function firstExternalAddress(family: 'IPv4' | 'IPv6'): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || a.family !== family) continue;
      if (family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      return a.address;
    }
  }
  return undefined;
}
