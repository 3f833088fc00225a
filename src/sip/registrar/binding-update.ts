/**
 * The sans-I/O heart of REGISTER processing (RFC 3261 §10.3 steps 6–8, RFC 5626 §6, RFC 3327):
 * `parseContacts` validates the Contact set without touching the store (400/423 cost no round
 * trip); `applyContacts` computes the new binding set of an AOR from the current one.
 */
import { formatUri, unquote, type Contact } from '../message/index.js';
import type { Binding, BindingSource } from './location-store.js';

export interface ExpiryLimits {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
}

/** One Contact of the request, validated. */
export interface RequestedContact {
  contact: string;
  /** seconds, already capped at maxExpires; 0 removes */
  expires: number;
  q: number;
  instanceId: string | undefined;
  regId: number | undefined;
}

export type ParsedContacts =
  | { kind: 'query' }
  | { kind: 'wildcard' }
  | { kind: 'contacts'; contacts: RequestedContact[]; flows: boolean };

export interface Rejection {
  status: number;
  reason: string;
  headers?: [string, string][];
}

const Q_VALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;
const MAX_EXPIRES_VALUE = 0xffffffff;

function parseExpiresParam(v: string | null | undefined): number | undefined {
  if (v === undefined || v === null || !/^\d{1,10}$/.test(v)) return undefined;
  return Math.min(Number(v), MAX_EXPIRES_VALUE);
}

function stripQuotes(v: string): string {
  return v.startsWith('"') ? unquote(v) : v;
}

export function parseContacts(contacts: readonly Contact[], expiresHeader: number | undefined, limits: ExpiryLimits): ParsedContacts | Rejection {
  if (contacts.length === 0) return { kind: 'query' }; // §10.3 step 6 / §10.2.3: a query
  if (contacts.includes('*')) {
    // §10.3 step 6: "*" only alone and only with Expires: 0
    if (contacts.length !== 1) return { status: 400, reason: 'Wildcard Contact with other contacts' };
    if (expiresHeader !== 0) return { status: 400, reason: 'Wildcard Contact requires Expires: 0' };
    return { kind: 'wildcard' };
  }
  const out: RequestedContact[] = [];
  let tooBrief = false;
  let flows = false;
  for (const c of contacts) {
    if (c === '*') continue;
    if (c.uri.scheme !== 'sip' && c.uri.scheme !== 'sips') return { status: 400, reason: 'Contact must be a SIP URI' };
    const raw = c.params.get('expires');
    if (raw === null) return { status: 400, reason: 'Invalid Contact expires' };
    const fromParam = parseExpiresParam(raw);
    if (raw !== undefined && fromParam === undefined) return { status: 400, reason: 'Invalid Contact expires' };
    // §10.3 step 6: the contact's expires parameter, else the Expires header, else the local default
    let expires = fromParam ?? expiresHeader ?? limits.defaultExpires;
    if (expires > 0 && expires < limits.minExpires) tooBrief = true;
    // §10.3 step 6: the registrar MAY shorten the interval
    expires = Math.min(expires, limits.maxExpires);
    const qRaw = c.params.get('q');
    let q = 1;
    if (qRaw !== undefined) {
      if (qRaw === null || !Q_VALUE.test(qRaw)) return { status: 400, reason: 'Invalid q-value' };
      q = Number(qRaw);
    }
    const instanceRaw = c.params.get('+sip.instance');
    const instanceId = instanceRaw === undefined || instanceRaw === null ? undefined : stripQuotes(instanceRaw);
    const regIdRaw = c.params.get('reg-id');
    let regId: number | undefined;
    if (regIdRaw !== undefined) {
      if (regIdRaw === null || !/^\d{1,10}$/.test(regIdRaw) || Number(regIdRaw) < 1 || Number(regIdRaw) > 0x7fffffff) {
        return { status: 400, reason: 'Invalid reg-id' };
      }
      // RFC 5626 §6: a reg-id without +sip.instance is ignored
      if (instanceId !== undefined) regId = Number(regIdRaw);
    }
    if (regId !== undefined) flows = true;
    const uri = { ...c.uri, headers: new Map<string, string>() };
    out.push({ contact: formatUri(uri), expires, q, instanceId, regId });
  }
  if (tooBrief) {
    // §10.3 step 6: 423 with Min-Expires, the whole request is refused
    return { status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(limits.minExpires)]] };
  }
  return { kind: 'contacts', contacts: out, flows };
}

export function isRejection(v: ParsedContacts | Rejection): v is Rejection {
  return 'status' in v;
}

export type BindingChangeType = 'registered' | 'refreshed' | 'removed';

export interface BindingChange {
  type: BindingChangeType;
  binding: Binding;
}

export interface RegisterContext {
  aor: string;
  callId: string;
  cseq: number;
  /** wall-clock ms */
  now: number;
  path: string[];
  source: BindingSource;
  userAgent: string | undefined;
  maxBindings: number;
}

export type ApplyResult = { ok: true; bindings: Binding[]; changes: BindingChange[] } | ({ ok: false } & Rejection);

/**
 * §10.3 step 7: same Call-ID with a lower CSeq aborts the whole update. An equal CSeq is the same
 * request again (a retransmission answered statelessly, §8.2.7): it changes nothing and gets the
 * same 200, as Kamailio's usrloc does.
 */
function outOfOrder(existing: Binding, ctx: RegisterContext): boolean {
  return existing.callId === ctx.callId && ctx.cseq < existing.cseq;
}

function retransmitted(existing: Binding, ctx: RegisterContext): boolean {
  return existing.callId === ctx.callId && ctx.cseq === existing.cseq;
}

const OUT_OF_ORDER: Rejection = { status: 500, reason: 'Out of order CSeq for this binding' };

function sameFlow(b: Binding, c: RequestedContact): boolean {
  // RFC 5626 §6: instance + reg-id identify a flow; otherwise the Contact URI does (§10.3 step 7)
  if (c.regId !== undefined) return b.regId === c.regId && b.instanceId === c.instanceId;
  return b.regId === undefined && b.contact === c.contact;
}

export function applyContacts(current: readonly Binding[], parsed: ParsedContacts, ctx: RegisterContext): ApplyResult {
  if (parsed.kind === 'query') return { ok: true, bindings: [...current], changes: [] };
  if (parsed.kind === 'wildcard') {
    for (const b of current) if (outOfOrder(b, ctx)) return { ok: false, ...OUT_OF_ORDER };
    return { ok: true, bindings: [], changes: current.map((binding) => ({ type: 'removed', binding })) };
  }
  const next = [...current];
  const changes: BindingChange[] = [];
  for (const c of parsed.contacts) {
    const index = next.findIndex((b) => sameFlow(b, c));
    const existing = index >= 0 ? next[index] : undefined;
    if (existing !== undefined && outOfOrder(existing, ctx)) return { ok: false, ...OUT_OF_ORDER };
    if (existing !== undefined && retransmitted(existing, ctx)) continue;
    if (c.expires === 0) {
      if (existing !== undefined) {
        next.splice(index, 1);
        changes.push({ type: 'removed', binding: existing });
      }
      continue;
    }
    const binding: Binding = {
      aor: ctx.aor,
      contact: c.contact,
      q: c.q,
      expiresAt: ctx.now + c.expires * 1000,
      callId: ctx.callId,
      cseq: ctx.cseq,
      path: ctx.path,
      instanceId: c.instanceId,
      regId: c.regId,
      source: ctx.source,
      userAgent: ctx.userAgent,
      registeredAt: existing !== undefined && existing.contact === c.contact ? existing.registeredAt : ctx.now,
    };
    if (existing === undefined) {
      next.push(binding);
      changes.push({ type: 'registered', binding });
    } else {
      next[index] = binding;
      // a flow that came back with another Contact is a new registration of that flow (RFC 5626 §6)
      changes.push({ type: existing.contact === c.contact ? 'refreshed' : 'registered', binding });
    }
  }
  // Too many bindings: 403, not 503: another node shares the same store and would answer the
  // same, so inviting the UA to fail over (503) only moves the load (Kamailio answers 503 here).
  if (next.length > ctx.maxBindings && next.length > current.length) {
    return { ok: false, status: 403, reason: 'Too many registered contacts' };
  }
  return { ok: true, bindings: next, changes };
}

/** Contact header value for a binding in a 200 (§10.3 step 8: every current binding with its expires) */
export function contactHeaderValue(b: Binding, now: number): string {
  let out = `<${b.contact}>;expires=${Math.max(0, Math.ceil((b.expiresAt - now) / 1000))}`;
  if (b.q !== 1) out += `;q=${b.q}`;
  if (b.instanceId !== undefined) out += `;+sip.instance="${b.instanceId}"`;
  if (b.regId !== undefined) out += `;reg-id=${b.regId}`;
  return out;
}
