/**
 * Where a forwarded request goes (RFC 3261 §16.6 items 6-7, §18.1.1; RFC 3263 in its simplest
 * form): the transport comes from the URI (`transport` parameter, `sips` means TLS), the port
 * from the URI or the scheme default, the address from an A/AAAA lookup. NAPTR/SRV are not done
 * here yet.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Scheduler } from '../../lib/index.js';
import { UnavailableError } from '../../lib/index.js';
import type { SipUri } from '../message/index.js';
import type { OutboundTarget, TransportProtocol } from '../transport/index.js';

/** host name -> one IP literal (no brackets); rejects when the name does not resolve */
export type HostResolver = (host: string) => Promise<string>;

export const systemResolver: HostResolver = async (host) => (await lookup(host)).address;

const TRANSPORTS: Readonly<Record<string, TransportProtocol>> = { udp: 'udp', tcp: 'tcp', tls: 'tls', ws: 'ws', wss: 'wss' };

/** Via/URI hosts keep IPv6 brackets (RFC 5118); transport addresses do not. */
export function bareHost(host: string): string {
  return host.length > 1 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** §19.1.2: 5061 for TLS (and WSS in practice), 5060 otherwise. */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
}

/** RFC 3263 §4.1 without NAPTR: the transport parameter, else TLS for sips (§26.2), else UDP. */
export function uriTransport(uri: SipUri): TransportProtocol {
  const param = uri.params.get('transport');
  if (typeof param === 'string') {
    const known = TRANSPORTS[param.toLowerCase()];
    if (known !== undefined) return uri.scheme === 'sips' && known === 'tcp' ? 'tls' : known;
  }
  return uri.scheme === 'sips' ? 'tls' : 'udp';
}

/**
 * A small positive cache in front of the resolver: trunks and peer proxies are few names
 * looked up thousands of times a second.
 */
export class CachingResolver {
  private readonly cache = new Map<string, { address: string; until: number }>();

  constructor(
    private readonly resolver: HostResolver,
    private readonly scheduler: Scheduler,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  async resolve(host: string): Promise<string> {
    const bare = bareHost(host);
    if (isIP(bare) !== 0) return bare;
    const now = this.scheduler.now();
    const hit = this.cache.get(bare);
    if (hit !== undefined && hit.until > now) return hit.address;
    let address: string;
    try {
      address = await this.resolver(bare);
    } catch (err) {
      throw new UnavailableError(`cannot resolve ${bare}`, { cause: err });
    }
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(bare, { address, until: now + this.ttlMs });
    return address;
  }

  /** §16.6 item 7 / §18.1.1: the outbound target for a URI (maddr wins over the host, §19.1.1). */
  async targetFor(uri: SipUri): Promise<OutboundTarget> {
    const protocol = uriTransport(uri);
    const maddr = uri.params.get('maddr');
    const host = typeof maddr === 'string' && maddr !== '' ? maddr : uri.host;
    const address = await this.resolve(host);
    return { protocol, address, port: uri.port ?? defaultPort(protocol) };
  }
}
