import type { Logger, Scheduler } from '../../lib/index.js';
import { InvalidInputError, NotFoundError, TypedEmitter, UnavailableError, describeError, randomToken, sipStatusFor } from '../../lib/index.js';
import type { EndpointDescription, MediaEngineApi, PlayItem } from '../../media/index.js';
import type { Bus } from '../../platform/index.js';
import { ua } from '../../sip/index.js';
import type { EndCause } from '../call/call-state.js';
import { CallLimits, type LimitSpec } from '../limits/rate-limits.js';
import { presentCallerId } from '../numbering/index.js';
import { shouldFailover } from '../trunks/gateway-selection.js';
import type { Branch, BranchGroup, CallRouter, RouteDecision } from './call-router.js';
import type { ApplicationHost, CdrRecord, CdrSink } from './ports.js';
import { ACTIVE_CALL_PREFIX, CALL_EVENTS_TOPIC, Call, betterFailure, type CallEvent, type CallView, type FormerLeg, type Leg } from './call-model.js';
import { MidCallMedia } from './mid-call.js';
import { CallTransfers } from './transfer.js';

export { ACTIVE_CALL_PREFIX, CALL_EVENTS_TOPIC, type CallEvent, type CallView, type Leg } from './call-model.js';

type IncomingInvite = ua.IncomingInvite;
type UaDialog = ua.UaDialog;
type OutgoingInvite = ua.OutgoingInvite;

export interface B2buaOptions {
  ua: ua.UserAgentService;
  media: MediaEngineApi;
  router: CallRouter;
  cdrs: CdrSink;
  bus?: Bus;
  scheduler: Scheduler;
  logger: Logger;
  /** host used in From of calls we originate (our own domain or address) */
  localHost: () => string;
  /** ring-no-answer for a branch group that sets none; default 60 s */
  ringTimeoutMs?: number;
  /** what a held party hears (RFC 3264 §8.4 hold); default a soft two-tone pattern */
  musicOnHold?: PlayItem[];
  tenantLimits?: (tenant: string) => LimitSpec;
  /**
   * A call answered this long is ended: both legs get BYE and the CDR says `max-duration`
   * (a stuck call never bills forever). Default 4 h; 0 means no limit.
   */
  maxCallDurationMs?: number;
  /** runs VoiceXML applications (the MCP); absent: such calls get 480 */
  applications?: ApplicationHost;
}

/** the default of B2buaOptions.maxCallDurationMs */
export const DEFAULT_MAX_CALL_DURATION_MS = 4 * 3600_000;

/**
 * The B2BUA (DESIGN.md `calls`): every call it takes is two SIP dialogs (the caller's A leg, the
 * callee's B leg) joined by a bridge in the media engine, so it can be recorded, held with music,
 * transferred, and ended cleanly from either side, the API, or a failure. Each call writes a CDR
 * (call + legs) before its resources are released, publishes events on the bus, and keeps a view
 * of itself in the bus KV so any node can list active calls. Transfers (transfer.ts) and hold and
 * DTMF interworking (mid-call.ts) live beside it and reach the calls through narrow host objects.
 */
export class B2bua {
  private readonly calls = new Map<string, Call>();
  private readonly events: TypedEmitter<{ event: [CallEvent] }>;
  private readonly limits: CallLimits;
  private readonly log: Logger;
  private readonly transfers: CallTransfers;
  private readonly midCall: MidCallMedia;
  private closed = false;

  constructor(private readonly options: B2buaOptions) {
    this.log = options.logger.child({ component: 'b2bua' });
    this.events = new TypedEmitter((err, event) => this.log.warn({ err: describeError(err), event }, 'call event listener threw'));
    this.limits = new CallLimits(options.scheduler);
    this.midCall = new MidCallMedia({ options, log: this.log, emit: (event) => this.emit(event), calls: () => this.calls.values() });
    this.transfers = new CallTransfers({
      options,
      log: this.log,
      inviteBranch: (call, branch, sdp, timeoutMs) => this.inviteBranch(call, branch, sdp, timeoutMs),
      releaseLeg: (call, leg, reason) => this.releaseLeg(call, leg, reason),
      watchDialog: (call, leg) => this.watchDialog(call, leg),
      freeMedia: (call) => this.freeMedia(call),
      legOf: (target) => this.legOf(target),
      emit: (event) => this.emit(event),
      end: (call, cause) => this.end(call, cause),
      finish: (call, cause) => this.finish(call, cause),
      watchDtmf: (call) => this.midCall.watchDtmf(call),
      publishState: (call) => this.publishState(call),
    });
    options.ua.on('invite', (incoming) => void this.onInvite(incoming));
    options.media.onEvent((e) => {
      if (e.type === 'dtmf' && e.source === 'rfc4733') this.midCall.onDigit(e.endpointId, e.digit, e.durationMs);
      if (e.type === 'engine.lost') {
        for (const call of this.calls.values()) {
          if ([call.a, call.b].some((l) => l !== undefined && e.endpointIds.includes(l.endpoint.id))) void this.end(call, { status: 503, reason: 'Media Node Lost', by: 'system' });
        }
      }
    });
  }

  onEvent(listener: (event: CallEvent) => void): () => void {
    return this.events.on('event', listener);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  list(): CallView[] {
    return [...this.calls.values()].map((c) => this.view(c));
  }

  get(callId: string): CallView | undefined {
    const c = this.calls.get(callId);
    return c === undefined ? undefined : this.view(c);
  }

  // --- inbound INVITE

  private async onInvite(incoming: IncomingInvite): Promise<void> {
    if (this.closed) return incoming.reject(503, { reason: 'Shutting Down' });
    const req = incoming.request;
    let decision;
    try {
      decision = await this.options.router.route(req, incoming.source.address);
    } catch (err) {
      this.log.warn({ err: describeError(err) }, 'routing failed');
      return incoming.reject(sipStatusFor(err) === 500 ? 500 : sipStatusFor(err), { reason: 'Routing Failed' });
    }
    if (decision.kind === 'challenge') return incoming.reject(407, { headers: decision.headers });
    // RFC 3891 §3: an INVITE with Replaces takes the place of a dialog we have; it is no new call
    if (incoming.request.headers.get('Replaces') !== undefined) {
      // the dialog it names is the target; a 403 (another user's credentials, fraud control) still stands
      if (decision.kind === 'reject' && decision.status === 403) return incoming.reject(403, { reason: decision.reason });
      return this.transfers.onReplacingInvite(incoming);
    }
    if (decision.kind === 'reject') return incoming.reject(decision.status, { reason: decision.reason });
    // a VoiceXML application answers this call itself (the MCP): no second leg, nothing to anchor here
    if (decision.kind === 'application') {
      if (this.options.applications === undefined) return incoming.reject(480, { reason: 'IVR Not Available' });
      return this.options.applications.handle(incoming, decision);
    }

    const fromUser = req.from?.uri.user ?? 'anonymous';
    const call = new Call(`call-${randomToken(9)}`, incoming, decision.tenant, decision.direction, fromUser, decision.to, this.options.scheduler.wallNow());
    // limits: the tenant's, the inbound trunk's (calls from a carrier) and the outbound trunk's
    const trunks = [decision.inboundTrunk, decision.groups.flatMap((g) => g.branches).find((b) => b.trunk !== undefined)?.trunk].filter((x): x is NonNullable<typeof x> => x !== undefined);
    const admission = this.limits.admit([
      { key: `tenant:${call.tenant}`, spec: this.options.tenantLimits?.(call.tenant) ?? {} },
      ...trunks.map((trunk) => ({ key: `trunk:${trunk.id}`, spec: { maxConcurrent: trunk.maxConcurrentCalls ?? 0, callsPerSecond: trunk.callsPerSecond ?? 0 } })),
    ]);
    if (!admission.ok) {
      this.log.info({ key: admission.key, reason: admission.reason }, 'call refused by a limit');
      return incoming.reject(503, { reason: admission.reason === 'rate' ? 'Call Rate Limit' : 'Too Many Calls', headers: [['Retry-After', '5']] });
    }
    call.release = admission.release;
    call.callerUser = decision.callerUser;
    this.calls.set(call.id, call);
    this.emit({ type: 'call.created', call: this.view(call) });
    incoming.on('cancelled', () => {
      call.cancelled = true;
      void this.end(call, { status: 487, reason: 'Request Terminated', by: 'caller' });
    });
    incoming.on('failed', (reason) => void this.end(call, { status: 408, reason, by: 'system' }));

    // the caller's offer is answered by the A-leg endpoint (RFC 3264); no common codec → 488
    let a: EndpointDescription;
    try {
      a = await this.options.media.createEndpoint({ kind: 'rtp', ...(incoming.sdp !== undefined ? { remoteSdp: incoming.sdp } : {}), labels: { call: call.id, leg: 'a' } });
    } catch (err) {
      const status = sipStatusFor(err);
      incoming.reject(status === 500 ? 503 : status, { reason: describeError(err).slice(0, 100) });
      return this.finish(call, { status: status === 500 ? 503 : status, reason: 'Media Refused', by: 'system' });
    }
    call.a = { id: `${call.id}-a`, role: 'a', endpoint: a, label: `caller ${fromUser}` };
    if (call.ended) return void this.options.media.deleteEndpoint(a.id).catch(() => undefined);
    await this.connect(call, decision.groups, a.id, decision.resume);
  }



  /** Ring the groups in order; the first answer wins, is bridged to A, and A is answered. */
  private async connect(call: Call, groups: BranchGroup[], nearEndpoint: string, resume?: () => Promise<RouteDecision | undefined>): Promise<void> {
    let best: { status: number; reason: string } | undefined;
    for (const group of groups) {
      if (call.ended) return;
      const outcome = await this.ringGroup(call, group, nearEndpoint);
      if (outcome.ok) return;
      best = best === undefined ? outcome : betterFailure(best, outcome);
      if (call.ended) return;
      // 6xx ends the search (§16.7 item 5); a trunk group goes on only on 408/5xx/no answer
      if (outcome.status >= 600) break;
      if (group.failover && !shouldFailover(outcome.status)) break;
    }
    // forwarding (busy, no answer, unreachable): the dial plan's next rule when this one allows it
    if (!call.ended && resume !== undefined && (best === undefined || best.status < 600)) {
      const next = await resume().catch(() => undefined);
      if (next?.kind === 'connect' && !call.ended) {
        this.log.info({ callId: call.id, status: best?.status, rule: next.rule }, 'call forwarded by the dial plan');
        if (call.state === 'ringing') call.move('routing');
        return this.connect(call, next.groups, nearEndpoint, next.resume);
      }
      if (next?.kind === 'reject') best = { status: next.status, reason: next.reason };
    }
    if (!call.ended) {
      const final = best ?? { status: 480, reason: 'Temporarily Unavailable' };
      if (call.incoming === undefined) return void this.end(call, { status: final.status, reason: final.reason, by: 'callee' });
      call.incoming.reject(final.status >= 500 && final.status < 600 ? 503 : final.status, { reason: final.reason });
      await this.finish(call, { status: final.status, reason: final.reason, by: 'callee' });
    }
  }

  private ringGroup(call: Call, group: BranchGroup, nearEndpoint: string): Promise<{ ok: true } | { ok: false; status: number; reason: string }> {
    return new Promise((resolve) => {
      let open = group.branches.length;
      let best: { status: number; reason: string } | undefined;
      let done = false;
      const settle = (r: { ok: true } | { ok: false; status: number; reason: string }): void => {
        if (done) return;
        done = true;
        resolve(r);
      };
      for (const branch of group.branches) {
        void this.startBranch(call, branch, group.timeoutMs ?? this.options.ringTimeoutMs ?? 60_000, nearEndpoint, {
          answered: () => settle({ ok: true }),
          failed: (status, reason) => {
            best = best === undefined ? { status, reason } : betterFailure(best, { status, reason });
            if (--open === 0) settle({ ok: false, ...best });
          },
        });
      }
      if (open === 0) settle({ ok: false, status: 480, reason: 'Temporarily Unavailable' });
    });
  }

  private async startBranch(
    call: Call,
    branch: Branch,
    timeoutMs: number,
    nearEndpoint: string,
    report: { answered: () => void; failed: (status: number, reason: string) => void },
  ): Promise<void> {
    let b: EndpointDescription;
    try {
      b = await this.options.media.createEndpoint({ kind: 'rtp', near: nearEndpoint, labels: { call: call.id, leg: 'b' } });
    } catch (err) {
      return report.failed(503, `media: ${describeError(err)}`);
    }
    if (call.ended) {
      await this.options.media.deleteEndpoint(b.id).catch(() => undefined);
      return report.failed(487, 'Request Terminated');
    }
    const out = this.inviteBranch(call, branch, b.localSdp, timeoutMs);
    call.pending.add(out);
    call.branchEndpoints.set(out, b);
    let ringingSent = false;
    out.on('provisional', (info) => {
      if (call.ended || call.state === 'answered') return;
      if (call.state === 'routing') call.move('ringing');
      this.emit({ type: 'leg.ringing', callId: call.id, legId: `${call.id}-b`, status: info.status });
      if (info.sdp !== undefined && call.bridgeId === undefined && call.a !== undefined) {
        // early media (RFC 3960 gateway model): bridge now, tell the caller with 183 + our answer
        void this.earlyMedia(call, b, info.sdp);
      } else if (!ringingSent) {
        ringingSent = true;
        call.incoming?.progress(180);
      }
    });
    out.on('failed', (failure) => {
      call.pending.delete(out);
      call.branchEndpoints.delete(out);
      void this.options.media.deleteEndpoint(b.id).catch(() => undefined);
      this.log.info({ callId: call.id, branch: branch.label, status: failure.status, cause: failure.cause }, 'branch failed');
      report.failed(failure.cause === 'no-answer' || failure.cause === 'timeout' ? 408 : failure.status, failure.reason);
    });
    out.on('answered', (dialog, sdp) => void this.onAnswered(call, out, dialog, sdp, b, branch, report.answered));
  }

  /**
   * The INVITE of one branch: the branch's route set, next hop and credentials, the caller's
   * identity as the trunk presents it (RFC 3325 / Remote-Party-ID), or `from` when given.
   */
  private inviteBranch(call: Call, branch: Branch, sdp: string, timeoutMs: number, from?: string): OutgoingInvite {
    const local = this.options.localHost();
    const headers: [string, string][] = branch.routes.map((r): [string, string] => ['Route', r]);
    let fromHeader = from ?? `<sip:${call.from}@${local}>`;
    const trunk = branch.trunk;
    if (from === undefined && trunk !== undefined && trunk.callerIdStyle !== 'none') {
      const presented = presentCallerId({ number: call.from, privacy: 'none', trusted: true, style: trunk.callerIdStyle, domain: local });
      fromHeader = presented.from;
      headers.push(...presented.headers);
    }
    return this.options.ua.invite({
      requestUri: branch.requestUri,
      from: fromHeader,
      to: branch.to,
      sdp,
      headers,
      ...sessionTimerLike(call.incoming?.request),
      ...(branch.target !== undefined ? { target: branch.target } : {}),
      ...(branch.credentials !== undefined ? { credentials: branch.credentials } : {}),
      ...(branch.responseTimeoutMs !== undefined ? { responseTimeoutMs: branch.responseTimeoutMs } : {}),
      timeoutMs,
    });
  }

  private async earlyMedia(call: Call, b: EndpointDescription, sdp: string): Promise<void> {
    const a = call.a;
    if (a === undefined) return;
    try {
      await this.options.media.updateEndpoint(b.id, { remoteSdp: sdp });
      const bridge = await this.options.media.bridge(a.endpoint.id, b.id);
      call.bridgeId = bridge.bridgeId;
      call.incoming?.progress(183, { sdp: a.endpoint.localSdp });
    } catch (err) {
      this.log.warn({ err: describeError(err), callId: call.id }, 'early media not bridged');
    }
  }

  private async onAnswered(call: Call, out: OutgoingInvite, dialog: UaDialog, sdp: string | undefined, b: EndpointDescription, branch: Branch, won: () => void): Promise<void> {
    call.pending.delete(out);
    call.branchEndpoints.delete(out);
    if (call.ended || call.b !== undefined) {
      // a late or second answer (parallel forking): not wanted
      void dialog.bye().catch(() => undefined);
      void this.options.media.deleteEndpoint(b.id).catch(() => undefined);
      return;
    }
    call.b = { id: `${call.id}-b`, role: 'b', endpoint: b, dialog, label: branch.label, answeredAt: this.options.scheduler.wallNow(), ...(branch.trunk !== undefined ? { trunk: branch.trunk.name } : {}) };
    if (branch.trunk !== undefined) call.trunk = branch.trunk.name;
    won();
    // the other branches stop ringing (§16.7 item 10 for a forking proxy; the same for us)
    for (const other of [...call.pending]) other.cancel();
    this.watchDialog(call, call.b);
    const a = call.a;
    const incoming = call.incoming;
    if (a === undefined) return void this.end(call, { status: 500, reason: 'No Caller Leg', by: 'system' });
    try {
      if (sdp !== undefined) await this.options.media.updateEndpoint(b.id, { remoteSdp: sdp });
      if (call.bridgeId !== undefined) {
        await this.options.media.unbridge(call.bridgeId).catch(() => undefined);
        call.bridgeId = undefined;
      }
      const bridge = await this.options.media.bridge(a.endpoint.id, b.id);
      call.bridgeId = bridge.bridgeId;
      this.emit({ type: 'call.bridged', callId: call.id, bridgeId: bridge.bridgeId, transcoding: bridge.transcoding });
    } catch (err) {
      this.log.warn({ err: describeError(err), callId: call.id }, 'answer could not be bridged');
      incoming?.reject(488, { reason: 'Not Acceptable Here' });
      return void this.end(call, { status: 488, reason: 'Media Bridge Failed', by: 'system' });
    }
    if (call.ended) return;
    if (incoming === undefined) {
      // click-to-dial: the A leg was answered first, the call is up now
      call.answeredAt = this.options.scheduler.wallNow();
      this.limitDuration(call);
      call.move('answered');
      this.emit({ type: 'leg.answered', callId: call.id, legId: call.b.id });
      await this.midCall.watchDtmf(call);
      await this.publishState(call);
      return;
    }
    try {
      const aDialog = await incoming.accept({ sdp: a.endpoint.localSdp });
      a.dialog = aDialog;
      a.answeredAt = this.options.scheduler.wallNow();
      call.answeredAt = a.answeredAt;
      this.limitDuration(call);
      if (aDialog.remoteSdp !== undefined && incoming.sdp === undefined) {
        // late offer (RFC 3261 §13.2.1): the caller's answer came in the ACK
        await this.options.media.updateEndpoint(a.endpoint.id, { remoteSdp: aDialog.remoteSdp });
      }
      call.move('answered');
      this.emit({ type: 'leg.answered', callId: call.id, legId: call.b.id });
      this.watchDialog(call, a);
      await this.midCall.watchDtmf(call);
      await this.publishState(call);
    } catch (err) {
      this.log.warn({ err: describeError(err), callId: call.id }, 'caller never acknowledged the answer');
      void this.end(call, { status: 408, reason: 'No ACK', by: 'system' });
    }
  }

  private watchDialog(call: Call, leg: Leg): void {
    const dialog = leg.dialog;
    if (dialog === undefined) return;
    // the dialog id is what a Replaces header names (RFC 3891 §3): operators trace transfers by it
    this.log.debug({ callId: call.id, legId: leg.id, dialog: dialog.id }, 'leg dialog');
    leg.detach?.();
    const offs: (() => void)[] = [];
    leg.detach = () => {
      for (const off of offs.splice(0)) off();
    };
    const onEnded = (end: ua.DialogEnd): void => {
      // a leg transferred away is no longer part of the call; our own BYE ends it through end()
      if (call.ended || (leg !== call.a && leg !== call.b)) return;
      if (end.by === 'local' && (end.cause === 'bye' || end.cause === 'closed')) return;
      if (end.cause === 'session-expired' || end.cause === 'no-ack') {
        // RFC 4028 §10: no refresh in time (or our 2xx to a re-INVITE never ACKed): the leg's
        // dialog is gone, so is the call: the other leg gets BYE
        return void this.end(call, { status: 408, reason: end.cause, by: 'system' });
      }
      const by = leg.role === 'a' ? 'caller' : 'callee';
      void this.end(call, { status: end.cause === 'bye' ? 200 : 408, reason: end.cause === 'bye' ? 'Normal Clearing' : String(end.cause), by });
    };
    offs.push(dialog.on('reinvite', (offer) => void this.midCall.onReoffer(call, leg, offer)));
    offs.push(dialog.on('refer', (refer) => void this.transfers.onRefer(call, leg, refer)));
    offs.push(dialog.on('update', (offer) => void this.midCall.onReoffer(call, leg, offer)));
    offs.push(
      dialog.on('info', (info) => {
        // DTMF relay (SIP INFO application/dtmf-relay): passed to the other leg as RFC 4733, or as
        // INFO again when that phone has no telephone-event either
        const other = leg.role === 'a' ? call.b : call.a;
        if (other === undefined || info.dtmf === undefined) return;
        if (other.dtmfInfo === true && other.dialog !== undefined) void other.dialog.sendDtmf(info.dtmf.signal, info.dtmf.duration).catch(() => undefined);
        else void this.options.media.sendDtmf(other.endpoint.id, info.dtmf.signal, info.dtmf.duration).catch(() => undefined);
      }),
    );
    // last: the dialog may have ended already (see whenEnded), and then the call ends now
    offs.push(dialog.whenEnded(onEnded));
  }

  /**
   * A leg that leaves its call while its dialog lives on a little (a transferor about to get its
   * NOTIFY and BYE): re-offers are answered with what it has, nothing else reaches the call.
   */
  private releaseLeg(call: Call, leg: Leg, reason: string): void {
    leg.detach?.();
    delete leg.detach;
    if (call.a === leg) call.a = undefined;
    if (call.b === leg) call.b = undefined;
    call.formerLegs.push({ leg, endAt: this.options.scheduler.wallNow(), reason });
    const dialog = leg.dialog;
    if (dialog === undefined) return;
    const offs = [
      dialog.on('reinvite', (offer) => offer.accept({ sdp: leg.endpoint.localSdp })),
      dialog.on('update', (offer) => offer.accept(offer.sdp === undefined ? {} : { sdp: leg.endpoint.localSdp })),
      dialog.on('refer', (refer) => refer.reject(481)),
    ];
    leg.detach = () => {
      for (const off of offs.splice(0)) off();
    };
  }

  /** The call and leg whose dialog (or pending INVITE) this is. */
  private legOf(target: UaDialog | IncomingInvite): { call: Call; leg: Leg } | undefined {
    for (const call of this.calls.values()) {
      if (call.ended) continue;
      for (const leg of [call.a, call.b]) {
        if (leg !== undefined && leg.dialog === target) return { call, leg };
      }
    }
    return undefined;
  }

  /** Music off and bridge down: the call's media is free to be joined elsewhere. */
  private async freeMedia(call: Call): Promise<void> {
    if (call.mohPlayId !== undefined) await this.options.media.stopPlay(call.mohPlayId).catch(() => undefined);
    call.mohPlayId = undefined;
    call.heldBy = undefined;
    if (call.bridgeId !== undefined) await this.options.media.unbridge(call.bridgeId).catch(() => undefined);
    call.bridgeId = undefined;
  }



  // --- control (REST)

  async hangup(callId: string): Promise<boolean> {
    const call = this.calls.get(callId);
    if (call === undefined) return false;
    await this.end(call, { status: 200, reason: 'Ended By API', by: 'api' });
    return true;
  }

  async record(callId: string, on: boolean): Promise<{ recordingId?: string; key?: string }> {
    const call = this.mustGet(callId);
    if (call.bridgeId === undefined) throw new InvalidInputError(`call ${callId} is not bridged`);
    if (on && call.recordingId === undefined) {
      const r = await this.options.media.record({ target: { bridgeId: call.bridgeId }, channels: 2, key: `recordings/${call.id}.wav` });
      call.recordingId = r.recordingId;
      call.recordingKey = r.key;
      return r;
    }
    if (!on && call.recordingId !== undefined) {
      await this.options.media.stopRecord(call.recordingId).catch(() => undefined);
      const key = call.recordingKey;
      call.recordingId = undefined;
      return key !== undefined ? { key } : {};
    }
    return {};
  }

  /**
   * Click-to-dial: ring the user's phones first; when one answers, place the call to `to` as if
   * the user had dialled it (dial plan, trunks, users) and bridge the two.
   */
  async originate(request: { from: string; to: string; tenant?: string; ringSeconds?: number }): Promise<CallView> {
    if (this.closed) throw new UnavailableError('shutting down');
    const [user = '', domain = ''] = request.from.split('@');
    if (user === '' || domain === '') throw new InvalidInputError(`"from" must be user@domain, got "${request.from}"`);
    const first = await this.options.router.ringUser(user, domain);
    if (first.kind !== 'connect') throw new NotFoundError(first.kind === 'reject' ? `${request.from}: ${first.reason}` : `${request.from} cannot be rung`);
    const call = new Call(`call-${randomToken(9)}`, undefined, request.tenant ?? first.tenant, 'internal', user, request.to, this.options.scheduler.wallNow());
    this.calls.set(call.id, call);
    let a: EndpointDescription;
    try {
      a = await this.options.media.createEndpoint({ kind: 'rtp', labels: { call: call.id, leg: 'a' } });
    } catch (err) {
      await this.finish(call, { status: 503, reason: 'Media Refused', by: 'system' });
      throw err;
    }
    call.originator = request.from;
    call.callerUser = request.from;
    call.a = { id: `${call.id}-a`, role: 'a', endpoint: a, label: `originator ${request.from}` };
    this.emit({ type: 'call.created', call: this.view(call) });
    void this.ringOriginator(call, first.groups, request.ringSeconds ?? 30);
    return this.view(call);
  }

  private async ringOriginator(call: Call, groups: BranchGroup[], ringSeconds: number): Promise<void> {
    const a = call.a;
    if (a === undefined) return;
    const local = this.options.localHost();
    const branches = groups.flatMap((g) => g.branches);
    const answered = await new Promise<{ dialog: UaDialog; sdp: string | undefined } | undefined>((resolve) => {
      let open = branches.length;
      if (open === 0) resolve(undefined);
      for (const branch of branches) {
        // the originator's phone shows whom it is about to be connected to
        const shown = `"Call ${call.to.replace(/["\\]/g, '')}" <sip:${call.to.includes('@') ? call.to : `${call.to}@${local}`}>`;
        const out = this.inviteBranch(call, branch, a.endpoint.localSdp, ringSeconds * 1000, shown);
        call.pending.add(out);
        out.on('answered', (dialog, sdp) => {
          call.pending.delete(out);
          for (const other of [...call.pending]) other.cancel();
          resolve({ dialog, sdp });
        });
        out.on('failed', () => {
          call.pending.delete(out);
          if (--open === 0) resolve(undefined);
        });
      }
    });
    if (answered === undefined || call.ended) {
      if (answered !== undefined) void answered.dialog.bye().catch(() => undefined);
      return void this.end(call, { status: 480, reason: 'Originator Did Not Answer', by: 'callee' });
    }
    a.dialog = answered.dialog;
    a.answeredAt = this.options.scheduler.wallNow();
    if (answered.sdp !== undefined) await this.options.media.updateEndpoint(a.endpoint.id, { remoteSdp: answered.sdp }).catch(() => undefined);
    this.watchDialog(call, a);
    const [user = '', domain = ''] = (call.originator ?? '').split('@');
    let decision;
    try {
      decision = await this.options.router.routeAs(user, domain, call.to);
    } catch (err) {
      return void this.end(call, { status: 500, reason: `Routing Failed: ${describeError(err)}`, by: 'system' });
    }
    if (decision.kind !== 'connect') return void this.end(call, { status: decision.kind === 'reject' ? decision.status : 403, reason: decision.kind === 'reject' ? decision.reason : 'Forbidden', by: 'system' });
    call.direction = decision.direction;
    // the originator hears ringback while the other side rings
    const ringback = await this.options.media
      .play({ endpointId: a.endpoint.id, items: [{ kind: 'tone', frequenciesHz: [440, 480], durationMs: 2000, levelDbfs: -18 }, { kind: 'silence', durationMs: 4000 }], loop: true })
      .catch(() => undefined);
    await this.connect(call, decision.groups, a.endpoint.id, decision.resume);
    if (ringback !== undefined) await this.options.media.stopPlay(ringback.playId).catch(() => undefined);
  }

  /** Put the B party on hold (music) or take it off, from the API: media-level, no re-INVITE needed. */
  async holdFromApi(callId: string, on: boolean): Promise<CallView> {
    const call = this.mustGet(callId);
    const b = call.b;
    if (b === undefined || (call.state !== 'answered' && call.state !== 'held')) throw new InvalidInputError(`call ${callId} is not connected`);
    if (on && call.heldBy === undefined) await this.midCall.hold(call, 'a', b);
    else if (!on && call.heldBy !== undefined) await this.midCall.unhold(call);
    return this.view(call);
  }

  /** RFC 4733 digits into one leg (IVR navigation on behalf of an agent). */
  async sendDtmf(callId: string, leg: 'a' | 'b', digits: string): Promise<void> {
    const call = this.mustGet(callId);
    const target = leg === 'a' ? call.a : call.b;
    if (target === undefined) throw new InvalidInputError(`call ${callId} has no ${leg} leg yet`);
    await this.options.media.sendDtmf(target.endpoint.id, digits);
  }

  private mustGet(callId: string): Call {
    const call = this.calls.get(callId);
    if (call === undefined) throw new NotFoundError(`no active call ${callId}`);
    return call;
  }

  // --- ending

  /** End a call from any state: BYE/CANCEL/reject what is open, free media, write the CDR. */
  private async end(call: Call, cause: EndCause): Promise<void> {
    if (call.ended) return;
    call.ended = true;
    for (const out of [...call.pending]) out.cancel();
    const incoming = call.incoming;
    if (incoming !== undefined && incoming.pending && !call.cancelled) incoming.reject(cause.status >= 400 ? cause.status : 480, { reason: cause.reason });
    const byes: Promise<unknown>[] = [];
    for (const leg of [call.a, call.b]) {
      if (leg?.dialog !== undefined && !leg.dialog.ended) byes.push(leg.dialog.bye().catch(() => undefined));
    }
    await Promise.all(byes);
    await this.finish(call, cause);
  }

  /** From the answer on, the call may last maxCallDurationMs; then both legs get BYE (CDR reason `max-duration`). */
  private limitDuration(call: Call): void {
    const limit = this.options.maxCallDurationMs ?? DEFAULT_MAX_CALL_DURATION_MS;
    if (limit <= 0 || call.durationTimer !== undefined) return;
    call.durationTimer = this.options.scheduler.setTimeout(() => {
      this.log.info({ callId: call.id, limitMs: limit }, 'call reached its maximum duration');
      void this.end(call, { status: 200, reason: 'max-duration', by: 'system' });
    }, limit);
  }

  private async finish(call: Call, cause: EndCause): Promise<void> {
    call.ended = true;
    call.durationTimer?.cancel();
    call.durationTimer = undefined;
    if (call.state !== 'ended') call.state = 'ended';
    const stats = call.b !== undefined ? await this.options.media.endpointStats(call.b.endpoint.id).catch(() => undefined) : undefined;
    if (call.recordingId !== undefined) await this.options.media.stopRecord(call.recordingId).catch(() => undefined);
    const endpoints = [call.a?.endpoint.id, call.b?.endpoint.id, ...[...call.branchEndpoints.values()].map((e) => e.id)].filter((id): id is string => id !== undefined);
    await Promise.all(endpoints.map((id) => this.options.media.deleteEndpoint(id).catch(() => undefined)));
    call.release?.();
    const endAt = this.options.scheduler.wallNow();
    const duration = (endAt - call.createdAt) / 1000;
    const billable = call.answeredAt !== undefined ? (endAt - call.answeredAt) / 1000 : 0;
    const base = {
      callId: call.id,
      tenant: call.tenant,
      direction: call.direction,
      from: call.from,
      to: call.to,
      setupAt: call.createdAt,
      endAt,
      status: cause.status,
      reason: cause.reason,
      endedBy: cause.by,
      ...(call.trunk !== undefined ? { trunk: call.trunk } : {}),
      ...(call.recordingKey !== undefined ? { recordingKey: call.recordingKey } : {}),
    };
    const records: CdrRecord[] = [
      {
        ...base,
        ...(call.answeredAt !== undefined ? { answerAt: call.answeredAt } : {}),
        durationSec: round(duration),
        billableSec: billable > 0 ? Math.ceil(billable) : 0,
        ...(stats?.codec !== undefined ? { codec: stats.codec } : {}),
        ...(stats !== undefined ? { packetsLost: stats.packetsLost, jitterMs: stats.jitterMs, ...(stats.rttMs !== undefined ? { rttMs: stats.rttMs } : {}) } : {}),
      },
    ];
    const legs: FormerLeg[] = [...call.formerLegs, ...[call.a, call.b].flatMap((leg) => (leg === undefined ? [] : [{ leg, endAt, reason: cause.reason }]))];
    for (const { leg, endAt: legEnd, reason } of legs) {
      records.push({
        ...base,
        legId: leg.id,
        endAt: legEnd,
        reason,
        ...(leg.answeredAt !== undefined ? { answerAt: leg.answeredAt } : {}),
        durationSec: round((legEnd - call.createdAt) / 1000),
        billableSec: leg.answeredAt !== undefined ? Math.ceil(Math.max(0, legEnd - leg.answeredAt) / 1000) : 0,
        ...(leg.trunk !== undefined ? { trunk: leg.trunk } : {}),
      });
    }
    try {
      await this.options.cdrs.write(records);
    } catch (err) {
      this.log.error({ err: describeError(err), callId: call.id }, 'CDR not written');
    }
    this.calls.delete(call.id);
    this.emit({ type: 'call.ended', callId: call.id, cause });
    await this.options.bus?.delete(ACTIVE_CALL_PREFIX + call.id).catch(() => false);
  }

  private emit(event: CallEvent): void {
    this.events.emit('event', event);
    this.options.bus?.publish(CALL_EVENTS_TOPIC, JSON.stringify(event)).catch(() => undefined);
  }

  private async publishState(call: Call): Promise<void> {
    await this.options.bus?.set(ACTIVE_CALL_PREFIX + call.id, JSON.stringify(this.view(call)), { ttlMs: 4 * 3600_000 }).catch(() => undefined);
  }

  private view(call: Call): CallView {
    return {
      id: call.id,
      state: call.state,
      tenant: call.tenant,
      direction: call.direction,
      from: call.from,
      to: call.to,
      createdAt: call.createdAt,
      ...(call.answeredAt !== undefined ? { answeredAt: call.answeredAt } : {}),
      legs: [call.a, call.b].flatMap((l) => (l === undefined ? [] : [{ id: l.id, role: l.role, label: l.label, endpointId: l.endpoint.id, ...(l.trunk !== undefined ? { trunk: l.trunk } : {}) }])),
      ...(call.bridgeId !== undefined ? { bridgeId: call.bridgeId } : {}),
      ...(call.recordingId !== undefined ? { recordingId: call.recordingId } : {}),
      ...(call.heldBy !== undefined ? { heldBy: call.heldBy } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.calls.values()].map((c) => this.end(c, { status: 503, reason: 'Shutting Down', by: 'system' })));
  }
}

/** RFC 4028 §4: the interval asked for when the caller supports timers without naming one */
const DEFAULT_SESSION_EXPIRES = 1800;

/**
 * RFC 4028 on the outbound leg: a caller that asked for a session timer (Session-Expires, or
 * `timer` in Supported/Require) gets one on the B leg too, with the same interval; each leg then
 * refreshes and expires on its own. (100rel is in Supported on every outbound INVITE already.)
 */
function sessionTimerLike(caller: ua.IncomingInvite['request'] | undefined): { sessionExpires?: number } {
  if (caller === undefined) return {};
  const asked = ua.parseSessionExpires(caller.headers.get('Session-Expires'));
  if (asked !== undefined) return { sessionExpires: asked.interval };
  return [...caller.supported, ...caller.require].some((tag) => tag.toLowerCase() === 'timer') ? { sessionExpires: DEFAULT_SESSION_EXPIRES } : {};
}

/** CDRs count whole seconds; billable time rounds up (a 0.4 s answered call is billed 1 s) */
function round(s: number): number {
  return Math.max(0, Math.round(s));
}
