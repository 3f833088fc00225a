import { newTag, stableToken } from '../../lib/index.js';
import { reasonPhrase, type SipHeaderList, type SipRequest } from '../message/index.js';

/** Headers a response copies from its request (RFC 3261 §8.2.6.2). */
const COPIED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/**
 * The bytes of a response to a request the parser refused, built from whatever headers it could
 * recover (RFC 3261 §8.2.6). Without a Via there is nobody to address: undefined.
 * The reason phrase carries the parser's reason, stripped of anything that would break the line.
 */
export function statelessErrorResponse(status: number, reason: string, headers: SipHeaderList | undefined, userAgent: string): Buffer | undefined {
  if (headers === undefined || !headers.has('Via')) return undefined;
  const safeReason = reason.replace(/[\r\n\0]+/g, ' ').slice(0, 120) || reasonPhrase(status);
  let text = `SIP/2.0 ${status} ${safeReason}\r\n`;
  for (const name of COPIED) {
    for (const value of name === 'Via' ? headers.getAll(name) : [headers.get(name)]) {
      if (value === undefined) continue;
      let clean = value.replace(/[\r\n]+/g, ' ');
      // §8.2.6.2: a final response carries a To tag
      if (name === 'To' && !/;\s*tag\s*=/i.test(clean)) clean += `;tag=${newTag()}`;
      text += `${name}: ${clean}\r\n`;
    }
  }
  text += `Server: ${userAgent}\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.from(text, 'utf8');
}

/**
 * RFC 3261 §8.2.7: a stateless UAS must give a retransmitted request the same To tag, so the tag
 * is derived from what identifies the request (Call-ID, From tag, CSeq, branch) rather than drawn
 * at random.
 */
export function statelessToTag(req: SipRequest): string {
  const existing = req.toTag;
  if (existing !== undefined) return existing;
  // the parser validated (and cached) Call-ID, From and CSeq already: reading them is free
  const key = `${req.callId ?? ''}\u0001${req.fromTag ?? ''}\u0001${req.cseq?.seq ?? ''}\u0001${req.topVia?.branch ?? ''}`;
  return stableToken(key);
}

