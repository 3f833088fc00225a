/**
 * Pure helpers for the header fields and small bodies a user agent reads and writes: RSeq/RAck
 * (RFC 3262 §7), Session-Expires/Min-SE (RFC 4028 §4, §5), Replaces (RFC 3891 §6.1), Refer-To
 * (RFC 3515 §2.1), message/sipfrag (RFC 3420) and DTMF INFO bodies. Never throw on bad input.
 */
import { formatUri, parseNameAddr, splitList, unescapeUriPart, type SipMessage, type SipUri } from '../message/index.js';

export interface RAck {
  rseq: number;
  cseq: number;
  method: string;
}

/** `RAck: response-num CSeq-num Method` (RFC 3262 §7.2) */
export function parseRAck(value: string | undefined): RAck | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value);
  if (m === null) return undefined;
  return { rseq: Number(m[1]), cseq: Number(m[2]), method: (m[3] as string).toUpperCase() };
}

/** `RSeq: 1*DIGIT` (RFC 3262 §7.1) */
export function parseRSeq(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,10}\s*$/.test(value)) return undefined;
  return Number(value);
}

export type Refresher = 'uac' | 'uas';

export interface SessionExpires {
  /** seconds */
  interval: number;
  refresher: Refresher | undefined;
}

/** `Session-Expires: delta-seconds *(;se-params)` (RFC 4028 §4) */
export function parseSessionExpires(value: string | undefined): SessionExpires | undefined {
  if (value === undefined) return undefined;
  const [first, ...params] = value.split(';');
  const interval = first === undefined ? NaN : Number(first.trim());
  if (!Number.isInteger(interval) || interval <= 0) return undefined;
  let refresher: Refresher | undefined;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim().toLowerCase());
    if (k === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
  }
  return { interval, refresher };
}

export function formatSessionExpires(se: SessionExpires): string {
  return se.refresher === undefined ? String(se.interval) : `${String(se.interval)};refresher=${se.refresher}`;
}

/** `Min-SE: delta-seconds` (RFC 4028 §5) */
export function parseMinSE(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.split(';')[0]?.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** does the message list `tag` in Supported or Require? */
export function supports(msg: SipMessage, tag: string): boolean {
  const t = tag.toLowerCase();
  return msg.supported.some((s) => s.toLowerCase() === t) || msg.require.some((s) => s.toLowerCase() === t);
}

export function requires(msg: SipMessage, tag: string): boolean {
  const t = tag.toLowerCase();
  return msg.require.some((s) => s.toLowerCase() === t);
}

/** does the peer's Allow list this method? (absent Allow: unknown, so false) */
export function allows(msg: SipMessage, method: string): boolean {
  return msg.headers.getAll('Allow').some((m) => m.trim().toUpperCase() === method);
}

/** A Replaces value (RFC 3891 §6.1): which dialog to replace, from the receiver's point of view. */
export interface ReplacesTarget {
  callId: string;
  /** compared with the receiver's local tag (RFC 3891 §3) */
  toTag: string;
  /** compared with the receiver's remote tag */
  fromTag: string;
  earlyOnly: boolean;
}

export function parseReplaces(value: string | undefined): ReplacesTarget | undefined {
  if (value === undefined) return undefined;
  const [callId, ...params] = value.split(';').map((s) => s.trim());
  if (callId === undefined || callId === '') return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    const v = eq === -1 ? '' : p.slice(eq + 1).trim();
    if (name === 'to-tag') toTag = v;
    else if (name === 'from-tag') fromTag = v;
    else if (name === 'early-only') earlyOnly = true;
  }
  if (toTag === undefined || fromTag === undefined) return undefined;
  return { callId, toTag, fromTag, earlyOnly };
}

export function formatReplaces(r: ReplacesTarget): string {
  return `${r.callId};to-tag=${r.toTag};from-tag=${r.fromTag}${r.earlyOnly ? ';early-only' : ''}`;
}

/** RFC 3515 §2.1 with RFC 3891 §5: the Refer-To target and the Replaces it may embed. */
export interface ReferTarget {
  uri: SipUri;
  /** the Refer-To value as received */
  raw: string;
  replaces: ReplacesTarget | undefined;
}

export function parseReferTo(value: string | undefined): ReferTarget | undefined {
  if (value === undefined) return undefined;
  const na = parseNameAddr(value.trim());
  if (na === undefined) return undefined;
  let replaces: ReplacesTarget | undefined;
  for (const [k, v] of na.uri.headers) if (k.toLowerCase() === 'replaces') replaces = parseReplaces(unescapeUriPart(v));
  return { uri: na.uri, raw: value, replaces };
}

/** `<uri?Replaces=...>`: the embedded header is %-escaped (RFC 3261 §19.1.1, RFC 3891 §5 example). */
export function formatReferTo(uri: SipUri | string, replaces: ReplacesTarget | undefined): string {
  const base = typeof uri === 'string' ? uri.replace(/^<|>$/g, '') : formatUri(uri);
  if (replaces === undefined) return `<${base}>`;
  const escaped = encodeURIComponent(formatReplaces(replaces));
  return `<${base}${base.includes('?') ? '&' : '?'}Replaces=${escaped}>`;
}

/** The status line of a message/sipfrag body (RFC 3420, RFC 3515 §2.4.5). */
export function parseSipfragStatus(body: Buffer): { status: number; reason: string } | undefined {
  const line = body.toString('utf8').split(/\r?\n/)[0] ?? '';
  const m = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(line.trim());
  return m === null ? undefined : { status: Number(m[1]), reason: (m[2] as string).trim() };
}

export function sipfrag(status: number, reason: string): Buffer {
  return Buffer.from(`SIP/2.0 ${String(status)} ${reason}\r\n`, 'utf8');
}

export interface Dtmf {
  /** 0-9, *, #, A-D, or an event number as a string */
  signal: string;
  /** milliseconds; undefined when the body carries none */
  duration: number | undefined;
}

/**
 * DTMF in INFO: `application/dtmf-relay` (`Signal=5` / `Duration=160` lines) and
 * `application/dtmf` (the bare digit or event code).
 */
export function parseDtmfBody(contentType: string | undefined, body: Buffer): Dtmf | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  const text = body.toString('utf8').trim();
  if (type === 'application/dtmf') {
    return /^[0-9A-Da-d*#]{1,2}$/.test(text) ? { signal: text.toUpperCase(), duration: undefined } : undefined;
  }
  if (type !== 'application/dtmf-relay') return undefined;
  let signal: string | undefined;
  let duration: number | undefined;
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq === -1) continue;
    const k = line.slice(0, eq).trim().toLowerCase();
    const v = line.slice(eq + 1).trim();
    if (k === 'signal' && /^[0-9A-Da-d*#]{1,2}$/.test(v)) signal = v.toUpperCase();
    else if (k === 'duration' && /^\d{1,6}$/.test(v)) duration = Number(v);
  }
  return signal === undefined ? undefined : { signal, duration };
}

export function dtmfRelayBody(d: Dtmf): Buffer {
  return Buffer.from(`Signal=${d.signal}\r\nDuration=${String(d.duration ?? 160)}\r\n`, 'utf8');
}

/** `application/sdp; x` -> `application/sdp` */
export function mediaType(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t === undefined || t === '' ? undefined : t;
}

/** the SDP of a message, when its body is one */
export function sdpOf(msg: SipMessage): string | undefined {
  if (msg.body.length === 0 || mediaType(msg.contentType) !== 'application/sdp') return undefined;
  return msg.body.toString('utf8');
}

/** the Event package of an Event header (RFC 6665 §8.2.1): `refer;id=1` -> `refer` */
export function eventPackage(value: string | undefined): string | undefined {
  const p = value?.split(';')[0]?.trim().toLowerCase();
  return p === '' ? undefined : p;
}

/** Reason header of a BYE or CANCEL (RFC 3326), raw values */
export function reasonHeaders(msg: SipMessage): string[] {
  return msg.headers.getAll('Reason').flatMap((v) => splitList(v));
}

