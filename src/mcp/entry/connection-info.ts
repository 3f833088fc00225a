/**
 * session.connection.* (VoiceXML 2.0 §5.1.4) filled from the INVITE, with the SIP details RFC
 * 5552 §2.3 names: protocol.sip.requesturi (the Request-URI and its parameters), protocol.sip.headers
 * and protocol.sip.media. Diversion (RFC 5806) and History-Info (RFC 7044) give the redirect list.
 */
type SipRequest = import('../../sip/index.js').message.SipRequest;
import { message } from '../../sip/index.js';
import type { ConnectionInfo } from '../vxml/platform.js';

export function connectionInfoFromInvite(invite: SipRequest, options: { aai?: string; media?: Array<Record<string, unknown>> } = {}): ConnectionInfo {
  const requestUri = message.formatUri(invite.uri);
  const params: Record<string, string> = { uri: requestUri };
  for (const [name, value] of invite.uri.params) {
    try {
      params[name.toLowerCase()] = value === null ? '' : message.unescapeUriPart(value);
    } catch {
      params[name.toLowerCase()] = value ?? '';
    }
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of invite.headers.entries()) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  const local = invite.to !== undefined ? message.formatUri(invite.to.uri) : requestUri;
  const remote = invite.from !== undefined ? message.formatUri(invite.from.uri) : '';
  const aai = options.aai ?? params['aai'] ?? userToUser(invite);
  const info: ConnectionInfo = {
    local: { uri: local },
    remote: { uri: remote },
    protocol: {
      name: 'sip',
      version: '2.0',
      sip: { requesturi: params, headers, media: options.media ?? [] },
    },
    redirect: redirects(invite),
    originator: 'remote',
  };
  if (aai !== undefined) info.aai = aai;
  return info;
}

/** RFC 7433 User-to-User: the hex or text payload before its parameters */
function userToUser(invite: SipRequest): string | undefined {
  const raw = invite.headers.get('User-to-User');
  if (raw === undefined) return undefined;
  const payload = raw.split(';')[0]?.trim() ?? '';
  const encoding = /;\s*encoding=hex/i.test(raw);
  if (encoding && /^[0-9a-f]*$/i.test(payload) && payload.length % 2 === 0) return Buffer.from(payload, 'hex').toString('utf8');
  return payload;
}

function redirects(invite: SipRequest): ConnectionInfo['redirect'] {
  const out: ConnectionInfo['redirect'] = [];
  for (const value of invite.headers.getAll('Diversion')) {
    const parsed = message.parseNameAddr(value);
    if (parsed === undefined) continue;
    const entry: ConnectionInfo['redirect'][number] = { uri: message.formatUri(parsed.uri) };
    const reason = parsed.params.get('reason');
    const privacy = parsed.params.get('privacy');
    const screen = parsed.params.get('screen');
    if (reason !== undefined && reason !== null) entry.reason = reason.replace(/^"|"$/g, '');
    if (privacy !== undefined && privacy !== null) entry.pi = privacy;
    if (screen !== undefined && screen !== null) entry.si = screen;
    out.push(entry);
  }
  return out;
}
