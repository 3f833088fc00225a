/**
 * <transfer> for MCP sessions (VoiceXML 2.0 §2.3.7, 2.1 §9): blind by REFER to the caller
 * (RFC 3515); bridge by a new leg from the MCP, bridged to the caller's endpoint in the media
 * engine, rung through our own SIP node so the calls layer (dial plan, users, trunks) routes it.
 * The outcome values are the specification's.
 */
import { randomBytes } from 'node:crypto';
import { INTERNAL_LEG_HEADER, internalLegSignature } from '../../calls/index.js';
import { describeError, type Logger, type Scheduler } from '../../lib/index.js';
import type { MediaEngineApi } from '../../media/index.js';
import type { ua } from '../../sip/index.js';
import type { ConnectionInfo, TransferRequest, TransferResult } from '../vxml/platform.js';

export interface TransferDeps {
  ua: ua.UserAgentService;
  engine: MediaEngineApi;
  scheduler: Scheduler;
  logger: Logger;
  /** where new legs are sent: our own SIP listener, so the calls layer routes them */
  via: () => { protocol: 'udp' | 'tcp'; address: string; port: number } | undefined;
  /** the domain of destinations given as bare numbers */
  domain: () => string;
  /** the node secret: legs we place carry its signature so the calls layer routes them as internal */
  secret?: string | Buffer;
}

export interface TransferSession {
  dialog: ua.UaDialog;
  endpointId: string;
  connection: ConnectionInfo;
  /**
   * a consultation transfer that connected keeps the caller bridged to the new party after the
   * VoiceXML session ends: from then on the transfer owns the caller's dialog and endpoint
   */
  handOff(): void;
}

export type SessionTransfer = (session: TransferSession, request: TransferRequest, signal: AbortSignal) => Promise<TransferResult>;

export function createSessionTransfer(deps: TransferDeps): SessionTransfer {
  return async (session, request, signal) => {
    const started = deps.scheduler.now();
    const elapsed = (): number => Math.round(deps.scheduler.now() - started);
    const dest = normaliseDest(request.dest, deps.domain());
    if (dest === undefined) return { outcome: 'unknown', durationMs: 0, unsupported: 'destination' };
    if (request.type === 'blind') return blind(session.dialog, dest, request, elapsed);
    return bridge(deps, session, dest, request, signal, elapsed);
  };
}

async function blind(dialog: ua.UaDialog, dest: string, request: TransferRequest, elapsed: () => number): Promise<TransferResult> {
  try {
    const headers: [string, string][] = request.aai !== undefined ? [['User-to-User', `${Buffer.from(request.aai).toString('hex')};encoding=hex`]] : [];
    const response = await dialog.refer({ referTo: `<${dest}>`, headers });
    if (response.status >= 200 && response.status < 300) return { outcome: 'transferred', durationMs: elapsed() };
    return { outcome: response.status === 486 || response.status === 600 ? 'busy' : 'network_busy', durationMs: elapsed() };
  } catch {
    return { outcome: 'network_busy', durationMs: elapsed() };
  }
}

async function bridge(
  deps: TransferDeps,
  session: TransferSession,
  dest: string,
  request: TransferRequest,
  signal: AbortSignal,
  elapsed: () => number,
): Promise<TransferResult> {
  const far = await deps.engine.createEndpoint({ kind: 'rtp', near: session.endpointId, labels: { transfer: dest } });
  let ringback: string | undefined;
  const cleanup = async (): Promise<void> => {
    if (ringback !== undefined) await deps.engine.stopPlay(ringback).catch(() => undefined);
    await deps.engine.deleteEndpoint(far.id).catch(() => undefined);
  };
  const target = deps.via();
  const callId = `${randomBytes(12).toString('hex')}@mcp`;
  const headers: [string, string][] = [];
  if (deps.secret !== undefined) headers.push([INTERNAL_LEG_HEADER, internalLegSignature(deps.secret, callId)]);
  if (request.aai !== undefined) headers.push(['User-to-User', `${Buffer.from(request.aai).toString('hex')};encoding=hex`]);
  const from = session.connection.remote.uri !== '' ? session.connection.remote.uri : session.connection.local.uri;
  const invite = deps.ua.invite({
    requestUri: dest,
    from: `<${from}>`,
    to: `<${dest}>`,
    sdp: far.localSdp,
    timeoutMs: Math.max(1000, request.connecttimeoutMs),
    callId,
    headers,
    ...(target !== undefined ? { target } : {}),
  });
  if (request.transferaudio === undefined) {
    ringback = (await deps.engine.play({ endpointId: session.endpointId, items: [{ kind: 'tone', frequenciesHz: [440, 480], durationMs: 2000 }, { kind: 'silence', durationMs: 4000 }], loop: true }).catch(() => undefined))?.playId;
  }
  const callerGone = new Promise<'near'>((resolve) => {
    if (session.dialog.ended) resolve('near');
    session.dialog.once('ended', () => resolve('near'));
    signal.addEventListener('abort', () => resolve('near'), { once: true });
  });
  const first = await Promise.race([invite.done, callerGone]);
  if (first === 'near') {
    invite.cancel();
    await cleanup();
    return { outcome: 'near_end_disconnect', durationMs: elapsed() };
  }
  if (!first.ok) {
    await cleanup();
    const status = first.failure.status;
    const outcome: TransferResult['outcome'] = status === 486 || status === 600 ? 'busy' : first.failure.cause === 'no-answer' || status === 408 || status === 480 || status === 487 ? 'noanswer' : 'network_busy';
    return { outcome, durationMs: elapsed() };
  }
  const leg = first.dialog;
  if (ringback !== undefined) await deps.engine.stopPlay(ringback).catch(() => undefined);
  ringback = undefined;
  try {
    if (first.sdp !== undefined) await deps.engine.updateEndpoint(far.id, { remoteSdp: first.sdp });
    const { bridgeId } = await deps.engine.bridge(session.endpointId, far.id);
    const farGone = new Promise<'far'>((resolve) => leg.once('ended', () => resolve('far')));
    if (request.type === 'consultation') {
      // VoiceXML 2.1 §2.3.7.3: once the far end answers, the caller is transferred and the session
      // ends; the two parties stay bridged until either hangs up, then the other gets BYE
      session.handOff();
      void (async () => {
        const end = await Promise.race([farGone, new Promise<'near'>((resolve) => (session.dialog.ended ? resolve('near') : session.dialog.once('ended', () => resolve('near'))))]);
        await deps.engine.unbridge(bridgeId).catch(() => undefined);
        if (end === 'far' && !session.dialog.ended) await session.dialog.bye().catch(() => undefined);
        if (end === 'near' && !leg.ended) await leg.bye().catch(() => undefined);
        await cleanup();
        await deps.engine.deleteEndpoint(session.endpointId).catch(() => undefined);
      })();
      return { outcome: 'transferred', durationMs: elapsed() };
    }
    const maxtime = new Promise<'maxtime'>((resolve) => {
      if (request.maxtimeMs > 0) deps.scheduler.setTimeout(() => resolve('maxtime'), request.maxtimeMs);
    });
    const end = await Promise.race([farGone, callerGone, maxtime]);
    await deps.engine.unbridge(bridgeId).catch(() => undefined);
    if (end !== 'far' && !leg.ended) await leg.bye().catch(() => undefined);
    await cleanup();
    return { outcome: end === 'far' ? 'far_end_disconnect' : end === 'near' ? 'near_end_disconnect' : 'maxtime_disconnect', durationMs: elapsed() };
  } catch (err) {
    deps.logger.warn({ err: describeError(err), dest }, 'bridge transfer failed after answer');
    if (!leg.ended) await leg.bye().catch(() => undefined);
    await cleanup();
    return { outcome: 'network_disconnect', durationMs: elapsed() };
  }
}

/** tel:, sip:, sips: as given; a bare number or user becomes sip:<it>@<our domain> */
function normaliseDest(dest: string, domain: string): string | undefined {
  const d = dest.trim();
  if (/^sips?:[^\s<>]+$/i.test(d)) return d;
  const tel = /^tel:([+0-9*#-]+)/i.exec(d);
  if (tel !== null) return `sip:${(tel[1] ?? '').replace(/-/g, '')}@${domain}`;
  if (/^[+0-9A-Za-z*#._-]+$/.test(d)) return `sip:${d}@${domain}`;
  return undefined;
}
