/**
 * parseSdp: text to a session description, never a throw. sdp-transform does the line grammar;
 * this adds the checks RFC 4566 makes mandatory and that the offer/answer code relies on, since
 * sdp-transform quietly leaves fields out when a line does not match its grammar.
 */
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';

export type ParseSdpResult = { ok: true; sdp: SessionDescription } | { ok: false; error: string };

/** Longest SDP we look at; a SIP body is bounded anyway and this keeps regex work bounded. */
const MAX_SDP_LENGTH = 65536;

const isConnection = (c: { version?: unknown; ip?: unknown }): boolean => (c.version === 4 || c.version === 6) && typeof c.ip === 'string' && c.ip !== '';

const isPort = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;

export function parseSdp(text: string): ParseSdpResult {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'empty SDP' };
  if (text.length > MAX_SDP_LENGTH) return { ok: false, error: `SDP longer than ${MAX_SDP_LENGTH} characters` };
  // RFC 4566 §5: the description starts with v= (leading blank lines tolerated)
  if (!/^v=/.test(text.replace(/^\s+/, ''))) return { ok: false, error: 'SDP does not start with v=' };
  let sdp: SessionDescription;
  try {
    sdp = parse(text);
  } catch (err) {
    return { ok: false, error: 'SDP parse failed: ' + (err instanceof Error ? err.message : String(err)) };
  }
  return checkSdp(sdp);
}

function checkSdp(sdp: SessionDescription): ParseSdpResult {
  // the library's types promise fields it only fills when the line matched, so read them as unknown
  const session = sdp as Partial<SessionDescription>;
  if (session.version !== 0) return { ok: false, error: 'missing or unsupported v= line (RFC 4566 §5.1)' };
  const origin = session.origin as Partial<SessionDescription['origin']> | undefined;
  if (origin === undefined || origin.sessionId === undefined || typeof origin.sessionVersion !== 'number' || typeof origin.address !== 'string') {
    return { ok: false, error: 'missing or malformed o= line (RFC 4566 §5.2)' };
  }
  const conn = session.connection as { version?: unknown; ip?: unknown } | undefined;
  if (conn !== undefined && !isConnection(conn)) return { ok: false, error: 'malformed session-level c= line (RFC 4566 §5.7)' };
  const media = Array.isArray(session.media) ? session.media : [];
  if (media.length === 0) return { ok: false, error: 'no m= line' };
  for (const [i, m] of media.entries()) {
    const error = checkMedia(m, i, session.connection !== undefined);
    if (error !== undefined) return { ok: false, error };
  }
  return { ok: true, sdp };
}

function checkMedia(m: MediaDescription, index: number, sessionConnection: boolean): string | undefined {
  const media = m as Partial<MediaDescription>;
  if (typeof media.type !== 'string' || !isPort(media.port) || typeof media.protocol !== 'string') {
    return `malformed m= line #${index + 1} (RFC 4566 §5.14)`;
  }
  if (media.payloads === undefined || String(media.payloads).trim() === '') return `m= line #${index + 1} has no formats`;
  // RFC 4566 §5.7: c= at session level or in every media section; a disabled stream (port 0)
  // is let off because several UAs drop c= from the m-lines they reject
  if (!sessionConnection && media.connection === undefined && media.port !== 0) {
    return `no c= line for m= line #${index + 1} (RFC 4566 §5.7)`;
  }
  const conn = media.connection as { version?: unknown; ip?: unknown } | undefined;
  if (conn !== undefined && !isConnection(conn)) {
    return `malformed c= line for m= line #${index + 1}`;
  }
  return undefined;
}
