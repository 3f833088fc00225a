/**
 * What a SIP Request-URI asks the Media Control Platform for: a VoiceXML dialog (RFC 5552 §2.1,
 * RFC 4240 §4) or an announcement (RFC 4240 §3). Pure: the URI in, a description or a reason
 * out — never an exception.
 */
type SipUri = import('../../sip/index.js').message.SipUri;
import { message } from '../../sip/index.js';

export interface DialogEntry {
  kind: 'dialog';
  /** absolute http(s) URL of the initial VoiceXML document */
  url: string;
  /** RFC 5552 §2.1: fetch controls for the initial document */
  maxageS?: number;
  maxstaleS?: number;
  method: 'get' | 'post';
  /** RFC 5552: application-to-application information, exposed as session.connection.aai */
  aai?: string;
  /** every Request-URI parameter, unescaped (session.connection.protocol.sip.requesturi) */
  params: Record<string, string>;
}

export interface AnnouncementEntry {
  kind: 'annc';
  /** the audio (or VoiceXML-less prompt) to play: http(s) or file URL */
  play: string;
  /** how many times to play it; Infinity for "forever" (bounded by duration) */
  repeat: number;
  /** pause between repetitions, ms */
  delayMs: number;
  /** upper bound of the whole announcement, ms; undefined for none */
  durationMs?: number;
  locale?: string;
  params: Record<string, string>;
}

export type EntryRequest = DialogEntry | AnnouncementEntry;

export type EntryParse = { ok: true; entry: EntryRequest } | { ok: false; status: number; reason: string };

/** The reserved user parts of RFC 4240 §3 and RFC 5552 §2.1. */
export const ENTRY_USERS = ['dialog', 'annc'] as const;

export function isEntryUri(uri: SipUri): boolean {
  const user = uri.user?.toLowerCase();
  return user === 'dialog' || user === 'annc';
}

export function parseEntryUri(uri: SipUri): EntryParse {
  const params: Record<string, string> = {};
  for (const [name, value] of uri.params) {
    if (value === null) {
      params[name.toLowerCase()] = '';
      continue;
    }
    try {
      params[name.toLowerCase()] = message.unescapeUriPart(value);
    } catch {
      return { ok: false, status: 400, reason: `Bad URI parameter ${name}` };
    }
  }
  const user = uri.user?.toLowerCase();
  if (user === 'dialog') return dialogEntry(params);
  if (user === 'annc') return announcementEntry(params);
  return { ok: false, status: 404, reason: 'Not Found' };
}

function dialogEntry(params: Record<string, string>): EntryParse {
  const url = params['voicexml'];
  if (url === undefined || url === '') return { ok: false, status: 400, reason: 'Missing voicexml parameter' };
  if (!isFetchableUrl(url)) return { ok: false, status: 400, reason: 'Bad voicexml URL' };
  const entry: DialogEntry = { kind: 'dialog', url, method: params['method']?.toLowerCase() === 'post' ? 'post' : 'get', params };
  const maxage = seconds(params['maxage']);
  const maxstale = seconds(params['maxstale']);
  if (maxage !== undefined) entry.maxageS = maxage;
  if (maxstale !== undefined) entry.maxstaleS = maxstale;
  if (params['aai'] !== undefined) entry.aai = params['aai'];
  return { ok: true, entry };
}

function announcementEntry(params: Record<string, string>): EntryParse {
  const play = params['play'];
  if (play === undefined || play === '') return { ok: false, status: 400, reason: 'Missing play parameter' };
  if (!isFetchableUrl(play, true)) return { ok: false, status: 400, reason: 'Bad play URL' };
  const repeatRaw = params['repeat']?.toLowerCase();
  let repeat = 1;
  if (repeatRaw === 'forever') repeat = Infinity;
  else if (repeatRaw !== undefined) {
    const n = Number(repeatRaw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) return { ok: false, status: 400, reason: 'Bad repeat parameter' };
    repeat = n;
  }
  const delay = millis(params['delay']);
  const duration = millis(params['duration']);
  if (delay === null || duration === null) return { ok: false, status: 400, reason: 'Bad delay or duration parameter' };
  // RFC 4240 §3: an endless announcement needs a bound, or it holds a port for ever
  if (repeat === Infinity && duration === undefined) return { ok: false, status: 400, reason: 'repeat=forever needs duration' };
  const entry: AnnouncementEntry = { kind: 'annc', play, repeat, delayMs: delay ?? 0, params };
  if (duration !== undefined) entry.durationMs = duration;
  if (params['locale'] !== undefined) entry.locale = params['locale'];
  return { ok: true, entry };
}

function isFetchableUrl(text: string, allowFile = false): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' || (allowFile && u.protocol === 'file:');
  } catch {
    return false;
  }
}

function seconds(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** a non-negative integer of ms; null when present but not one */
function millis(text: string | undefined): number | undefined | null {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 86_400_000 ? n : null;
}
