import { parseMessage, serializeMessage, formatUri, type SipMessage } from '../../../../src/sip/message/index.js';

/** Compare two messages field by field; Content-Length is excluded (serialize rewrites it). */
export function sameMessage(a: SipMessage, b: SipMessage): string | undefined {
  if (a.kind !== b.kind) return 'kind';
  if (a.kind === 'request' && b.kind === 'request') {
    if (a.method !== b.method) return 'method';
    if (formatUri(a.uri) !== formatUri(b.uri)) return 'uri';
  }
  if (a.kind === 'response' && b.kind === 'response') {
    if (a.status !== b.status) return 'status';
    if (a.reason !== b.reason) return 'reason';
  }
  const ha = [...a.headers.entries()].filter(([n]) => n !== 'Content-Length');
  const hb = [...b.headers.entries()].filter(([n]) => n !== 'Content-Length');
  if (JSON.stringify(ha) !== JSON.stringify(hb)) return 'headers';
  if (!a.body.equals(b.body)) return 'body';
  return undefined;
}

/** parse -> serialize -> parse gives an equal message, and serialize is then a fixpoint */
export function roundTrip(msg: SipMessage): string | undefined {
  const once = serializeMessage(msg);
  const r = parseMessage(once);
  if (!r.ok) return 'reparse failed: ' + r.error.reason;
  const diff = sameMessage(msg, r.message);
  if (diff !== undefined) return 'differs in ' + diff;
  if (!serializeMessage(r.message).equals(once)) return 'serialize not a fixpoint';
  return undefined;
}

