/**
 * Via (RFC 3261 §20.42, §25.1; received/rport RFC 3581):
 *   sent-protocol LWS sent-by *( SEMI via-params )
 *   sent-protocol = protocol-name SLASH protocol-version SLASH transport   (SLASH = SWS "/" SWS)
 *   sent-by = host [ COLON port ]                                          (COLON = SWS ":" SWS)
 */
import { HOSTCHAR, parseUint, scanToken, skipWs } from './syntax.js';
import { scanParams } from './name-addr.js';
import { formatParams } from './uri.js';
import type { SipParams, Via } from './types.js';

/** transports as usually written: a Via naming one of them needs no slicing and upper-casing */
const COMMON_TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WSS', 'WS', 'SCTP'];

/** "SIP/2.0/UDP" and the like, written plainly: the constant strings and where they end */
function commonSentProtocol(s: string, i: number): { transport: string; end: number } | undefined {
  if (!s.startsWith('SIP/2.0/', i)) return undefined;
  const from = i + 8;
  const end = scanToken(s, from);
  for (const transport of COMMON_TRANSPORTS) {
    if (end - from === transport.length && s.startsWith(transport, from)) return { transport, end };
  }
  return undefined;
}

function scanVia(s: string, i: number): { value: Via; end: number } | undefined {
  i = skipWs(s, i);
  let protocol: string;
  let transport: string;
  const common = commonSentProtocol(s, i);
  if (common !== undefined) {
    protocol = 'SIP/2.0';
    transport = common.transport;
    i = common.end;
  } else {
    const parts: string[] = [];
    for (let k = 0; k < 3; k++) {
      if (k > 0) {
        i = skipWs(s, i);
        if (s.charCodeAt(i) !== 47) return undefined;
        i = skipWs(s, i + 1);
      }
      const end = scanToken(s, i);
      if (end === i) return undefined;
      parts.push(s.slice(i, end));
      i = end;
    }
    protocol = (parts[0] as string).toUpperCase() + '/' + (parts[1] as string);
    transport = (parts[2] as string).toUpperCase();
  }
  const hostStart = skipWs(s, i);
  if (hostStart === i) return undefined; // LWS is mandatory before sent-by
  i = hostStart;
  let host: string;
  if (s.charCodeAt(i) === 91) {
    const close = s.indexOf(']', i);
    if (close === -1) return undefined;
    host = s.slice(i, close + 1).toLowerCase();
    if (!/^\[[0-9a-f:.]+\]$/.test(host)) return undefined;
    i = close + 1;
  } else {
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c >= 128 || HOSTCHAR[c] !== 1) break;
      i++;
    }
    // the loop took only host characters: empty is the one way to be malformed here
    if (i === start) return undefined;
    host = s.slice(start, i).toLowerCase();
  }
  let port: number | undefined;
  const afterHost = skipWs(s, i);
  if (s.charCodeAt(afterHost) === 58) {
    const ps = skipWs(s, afterHost + 1);
    let pe = ps;
    while (pe < s.length && s.charCodeAt(pe) >= 48 && s.charCodeAt(pe) <= 57) pe++;
    port = parseUint(s.slice(ps, pe), 65535);
    if (port === undefined) return undefined;
    i = pe;
  }
  const params: SipParams = new Map();
  const end = scanParams(s, i, params);
  if (end === -1 || (end < s.length && s.charCodeAt(end) !== 44)) return undefined;
  const branch = params.get('branch');
  return {
    value: {
      protocol,
      transport,
      host,
      port,
      params,
      branch: branch === null ? undefined : branch,
    },
    end,
  };
}

/** Parse one Via value (one element of the list); undefined when malformed. */
export function parseVia(value: string): Via | undefined {
  const r = scanVia(value, 0);
  return r !== undefined && r.end === value.length ? r.value : undefined;
}

/** Parse a Via field value that may hold several comma-separated vias. */
export function parseViaList(value: string): Via[] | undefined {
  const out: Via[] = [];
  let i = 0;
  for (;;) {
    const r = scanVia(value, i);
    if (r === undefined) return undefined;
    out.push(r.value);
    if (r.end >= value.length) return out;
    i = r.end + 1;
  }
}

export function formatVia(via: Via): string {
  let out = via.protocol + '/' + via.transport + ' ' + via.host;
  if (via.port !== undefined) out += ':' + String(via.port);
  // keep `branch` in sync with the convenience field
  if (via.branch !== undefined && via.params.get('branch') !== via.branch) {
    const params = new Map(via.params);
    params.set('branch', via.branch);
    return out + formatParams(params, '');
  }
  return out + formatParams(via.params, '');
}
