/**
 * The two messages the transaction layer writes itself: the ACK for a non-2xx final response
 * (§17.1.1.3) and 100 Trying (§8.2.6.1, §17.2.1).
 */
import { createRequest, createResponse, type SipRequest, type SipResponse } from '../message/index.js';

/**
 * §17.1.1.3: same Request-URI, Call-ID, From and CSeq number as the INVITE, CSeq method ACK,
 * To from the response (with its tag), exactly one Via equal to the INVITE's top Via (same
 * branch), and the INVITE's Route header fields.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: [string, string][] = [];
  const topVia = invite.headers.getAll('Via')[0];
  if (topVia !== undefined) headers.push(['Via', topVia]);
  for (const route of invite.headers.getAll('Route')) headers.push(['Route', route]);
  headers.push(['Max-Forwards', String(invite.maxForwards ?? 70)]);
  const from = invite.headers.get('From');
  if (from !== undefined) headers.push(['From', from]);
  const to = response.headers.get('To') ?? invite.headers.get('To');
  if (to !== undefined) headers.push(['To', to]);
  const callId = invite.headers.get('Call-ID');
  if (callId !== undefined) headers.push(['Call-ID', callId]);
  headers.push(['CSeq', `${invite.cseq?.seq ?? 0} ACK`]);
  return createRequest({ method: 'ACK', uri: invite.uri, headers });
}

/** §8.2.6.1: a 100 Trying carries no To tag and copies Timestamp (createResponse does both). */
export function buildTrying(request: SipRequest): SipResponse {
  return createResponse(request, 100);
}
