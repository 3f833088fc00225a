/**
 * Choosing the response a forking proxy sends upstream (RFC 3261 §16.7 items 6-7), pure.
 */
import { createResponse, SipResponseMessage, type SipRequest, type SipResponse } from '../message/index.js';

/** §16.7 item 6: "give preference to 401, 407, 415, 420, and 484 if the 4xx class is chosen" */
const PREFERRED_4XX = new Set([401, 407, 415, 420, 484]);

function rank(status: number): number {
  // 6xx first (§16.7 item 6), then the lowest class; preferred 4xx before other 4xx.
  if (status >= 600) return 0;
  const klass = Math.floor(status / 100);
  if (klass === 4) return PREFERRED_4XX.has(status) ? 40 : 41;
  return klass * 10;
}

/**
 * The best of the final responses received (each still carrying our Via). Without any, a 408
 * built from `request` (§16.7 item 6: "if no final response has been received, 408"). A 503
 * becomes 500 (§16.7 item 6: the 503 concerned the next hop, not us). 401/407 challenges of
 * every branch are merged into the chosen one (§16.7 item 7).
 */
export function selectBestResponse(finals: readonly SipResponse[], request: SipRequest): SipResponse {
  let best: SipResponse | undefined;
  for (const r of finals) {
    if (r.status < 200) continue;
    if (best === undefined || rank(r.status) < rank(best.status)) best = r;
  }
  if (best === undefined) return createResponse(request, 408);
  let chosen = best;
  if (chosen.status === 503) {
    chosen = new SipResponseMessage({ status: 500, reason: 'Server Internal Error', headers: chosen.headers.clone(), body: Buffer.alloc(0) });
    chosen.headers.remove('Content-Type');
    chosen.headers.remove('Retry-After');
  }
  if (chosen.status === 401 || chosen.status === 407) chosen = mergeChallenges(chosen, finals);
  return chosen;
}

/** §16.7 item 7: every WWW-Authenticate and Proxy-Authenticate of the 401/407 responses. */
function mergeChallenges(chosen: SipResponse, finals: readonly SipResponse[]): SipResponse {
  const headers = chosen.headers.clone();
  for (const r of finals) {
    if (r === chosen || (r.status !== 401 && r.status !== 407)) continue;
    for (const name of ['WWW-Authenticate', 'Proxy-Authenticate']) {
      for (const v of r.headers.getAll(name)) headers.append(name, v);
    }
  }
  return new SipResponseMessage({ status: chosen.status, reason: chosen.reason, headers, body: chosen.body, version: chosen.version });
}
