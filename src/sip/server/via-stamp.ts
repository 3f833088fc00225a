import type { SipRequest } from '../message/index.js';
import type { TransportAddress } from '../transport/index.js';

function bare(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: a server notes on the top Via where the request really came
 * from — `received` when the source address differs from the sent-by host, `rport=<port>` when
 * the client asked for it — so responses find their way back through NAT.
 *
 * `forceRport` treats every request as if it carried `rport` (Kamailio's force_rport), which is
 * what phones behind NAT need in practice: responses go to the source port, not to the Via port.
 * Returns false when the request has no Via to stamp.
 */
export function stampVia(req: SipRequest, source: TransportAddress, forceRport: boolean): boolean {
  const via = req.topVia;
  if (via === undefined) return false;
  const wantsRport = via.params.has('rport') || forceRport;
  const needsReceived = bare(via.host).toLowerCase() !== source.address.toLowerCase();
  if (!wantsRport && !needsReceived) return true;
  if (needsReceived || wantsRport) via.params.set('received', source.address);
  if (wantsRport) via.params.set('rport', String(source.port));
  req.replaceTopVia(via);
  return true;
}
