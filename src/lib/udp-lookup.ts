import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

/**
 * A `lookup` for dgram sockets that answers IP literals at once. Node's default goes through
 * dns.lookup, which defers even an IP literal to the next tick: one extra tick and two closures
 * per datagram sent, a measurable share of the CPU of a relay or a SIP server answering tens of
 * thousands of datagrams a second. Host names still go to dns.lookup. (dgram passes the family
 * as a bare number at run time; dns.lookup takes that too.)
 */
export function immediateIpLookup(hostname: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  dnsLookup(hostname, options, callback);
}
