/**
 * A dialog usage where opencx is the user agent (RFC 3261 §12-§15), on either side of the
 * initial INVITE: target-refresh offers (re-INVITE §14, UPDATE RFC 3311), BYE (§15), REFER
 * with its implicit subscription (RFC 3515), INFO/DTMF, session timers (RFC 4028) and any other
 * request. The RFC 3261 dialog state (route set, CSeq, target, §14 glare rules) is the sans-I/O
 * `Dialog`; this class adds the transactions, timers and events.
 */
import { ClosedError, ConflictError, TypedEmitter, type Logger } from '../../lib/index.js';
import type { Dialog, DialogId } from '../dialog/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { OutboundTarget, TransportProtocol } from '../transport/index.js';
import { IncomingDialogRequest, IncomingOffer, IncomingRefer, referNotifyOf, type IncomingInfo, type ReferNotify, type ResponseOptions } from './dialog-requests.js';
import { Retransmitter, type UaHost } from './ua-host.js';
import { negotiateAsUas, roleOf, SessionTimer, type ActiveSession } from './session-timer.js';
import {
  allows,
  dtmfRelayBody,
  formatReferTo,
  formatSessionExpires,
  parseDtmfBody,
  parseMinSE,
  parseSessionExpires,
  sdpOf,
  sipfrag,
  type ReplacesTarget,
} from './ua-messages.js';

export type DialogEndCause = 'bye' | 'session-expired' | 'no-ack' | 'error' | 'closed';

export interface DialogEnd {
  by: 'local' | 'remote';
  cause: DialogEndCause;
  /** the BYE that ended it, when the peer sent one */
  request?: SipRequest;
  /** the response that ended it (481/408 to an in-dialog request, §12.2.1.2) */
  status?: number;
}

export interface OfferAnswer {
  status: number;
  sdp: string | undefined;
  response: SipResponse;
}

export interface InDialogSendOptions {
  body?: Buffer | string;
  contentType?: string;
  headers?: [string, string][];
}

export interface UaDialogEvents {
  /** a re-INVITE (§14.2): answer with offer.accept({ sdp }) or offer.reject(488) */
  reinvite: [offer: IncomingOffer];
  /** an UPDATE carrying an offer (RFC 3311 §5.2) */
  update: [offer: IncomingOffer];
  refer: [refer: IncomingRefer];
  /** NOTIFY about a REFER we sent (RFC 3515 §2.4.5) */
  notify: [notify: ReferNotify];
  info: [info: IncomingInfo];
  /** any other request; answered 405 when nobody listens */
  request: [request: IncomingDialogRequest];
  /** the session timer was (re)negotiated by a refresh in either direction (RFC 4028) */
  refreshed: [session: ActiveSession | undefined];
  ended: [end: DialogEnd];
}
type Events = { [K in keyof UaDialogEvents]: UaDialogEvents[K] };

export interface UaDialogInit {
  host: UaHost;
  dialog: Dialog;
  /** the peer's message that formed the dialog (its Allow says whether UPDATE can refresh) */
  peerMessage: SipRequest | SipResponse;
  localSdp: string | undefined;
  remoteSdp: string | undefined;
  session: ActiveSession | undefined;
  protocol: TransportProtocol;
  /** next hop override kept from the initial INVITE (a trunk without Record-Route) */
  target?: OutboundTarget | undefined;
  /** UAC: the ACK sent for the initial 2xx, resent if that 2xx comes again (§13.2.2.4) */
  initialAck?: SipRequest | undefined;
}

/** §14.1: give up after this many 491s in a row */
const MAX_GLARE_RETRIES = 3;

export class UaDialog extends TypedEmitter<Events> {
  readonly dialog: Dialog;
  readonly protocol: TransportProtocol;
  private readonly host: UaHost;
  private readonly logger: Logger;
  private readonly target: OutboundTarget | undefined;
  #localSdp: string | undefined;
  #remoteSdp: string | undefined;
  #peerAllowsUpdate: boolean;
  #ended: DialogEnd | undefined;
  /** our 2xx to an INVITE awaiting its ACK (§13.3.1.4) */
  #awaitingAck: { cseq: number; retransmitter: Retransmitter } | undefined;
  /** the last ACK we sent for a 2xx, resent when the 2xx is retransmitted (§13.2.2.4) */
  #lastAck: { cseq: number; ack: SipRequest } | undefined;
  #updatePending = false;
  readonly #sessionTimer: SessionTimer;

  constructor(init: UaDialogInit) {
    super((err, event) => init.host.logger.error({ err, event }, 'UaDialog listener threw'));
    this.host = init.host;
    this.logger = init.host.logger;
    this.dialog = init.dialog;
    this.protocol = init.protocol;
    this.target = init.target;
    this.#localSdp = init.localSdp;
    this.#remoteSdp = init.remoteSdp;
    this.#peerAllowsUpdate = allows(init.peerMessage, 'UPDATE');
    const ackSeq = init.initialAck?.cseq?.seq;
    if (init.initialAck !== undefined && ackSeq !== undefined) this.#lastAck = { cseq: ackSeq, ack: init.initialAck };
    this.#sessionTimer = new SessionTimer(init.host.scheduler, () => this.#refresh(), () => this.#expire());
    this.#sessionTimer.start(init.session);
  }

  get id(): DialogId {
    return this.dialog.id;
  }
  get callId(): string {
    return this.dialog.id.callId;
  }
  get role(): 'uac' | 'uas' {
    return this.dialog.role;
  }
  get localSdp(): string | undefined {
    return this.#localSdp;
  }
  get remoteSdp(): string | undefined {
    return this.#remoteSdp;
  }
  get session(): ActiveSession | undefined {
    return this.#sessionTimer.session;
  }
  get ended(): boolean {
    return this.#ended !== undefined;
  }
  get endReason(): DialogEnd | undefined {
    return this.#ended;
  }

  /**
   * `listener` with the dialog's end: at once when it has ended already, else on 'ended'. A
   * dialog can end before whoever accepted it gets to listen: an ACK and a BYE read in one batch
   * are both handled before the accept() promise resumes its caller. Returns the unsubscribe.
   */
  whenEnded(listener: (end: DialogEnd) => void): () => void {
    const ended = this.#ended;
    if (ended === undefined) return this.on('ended', listener);
    listener(ended);
    return () => undefined;
  }

  /** The ACK of a 2xx to an INVITE we answered inside the dialog (§13.3.1.4). */
  handleAck(ack: SipRequest): void {
    const pending = this.#awaitingAck;
    if (pending === undefined || ack.cseq?.seq !== pending.cseq) return;
    pending.retransmitter.stop();
    this.#awaitingAck = undefined;
    const sdp = sdpOf(ack);
    if (sdp !== undefined) this.#remoteSdp = sdp; // §14.2: an offerless re-INVITE's answer
  }

  /** §13.2.2.4: a retransmitted 2xx for an INVITE we already ACKed gets the same ACK again. */
  handleRetransmitted2xx(response: SipResponse): void {
    const last = this.#lastAck;
    if (last !== undefined && response.cseq?.seq === last.cseq) this.host.sendAck(last.ack, this.target);
  }

  /** A request inside this dialog (§12.2.2), with the server transaction to answer on. */
  handleRequest(req: SipRequest, responder: { respond(r: SipResponse): void }): void {
    const verdict = this.dialog.receiveRequest(req);
    if (!verdict.accept) {
      // §12.2.2 out of order -> 500; §14.2 glare -> 491, second INVITE -> 500 with Retry-After
      responder.respond(createResponse(req, verdict.status, verdict.reason, { headers: verdict.headers }));
      return;
    }
    const answer = (status: number, options: ResponseOptions): void => this.#respond(req, responder, status, options);
    switch (req.method) {
      case 'BYE':
        answer(200, {});
        this.#end({ by: 'remote', cause: 'bye', request: req });
        return;
      case 'INVITE':
      case 'UPDATE':
        this.#receiveOffer(req, answer);
        return;
      case 'REFER':
        this.#receiveRefer(req, answer);
        return;
      case 'NOTIFY':
        this.#receiveNotify(req, answer);
        return;
      case 'INFO':
        answer(200, {});
        this.emit('info', { request: req, contentType: req.contentType, body: req.body, dtmf: parseDtmfBody(req.contentType, req.body) });
        return;
      case 'OPTIONS':
        answer(200, { headers: [['Allow', this.host.allow], ['Supported', this.host.supported]] });
        return;
      default: {
        const incoming = new IncomingDialogRequest(req, answer);
        if (this.listenerCount('request') === 0) answer(405, { headers: [['Allow', this.host.allow]] });
        else this.emit('request', incoming);
      }
    }
  }

  /**
   * Re-INVITE with a new offer (§14.1). Resolves with the final status and the answer; a 491
   * is retried after the §14.1 random delay (at most three times).
   */
  reinvite(options: { sdp?: string; headers?: [string, string][] } = {}): Promise<OfferAnswer> {
    return this.#reinvite(options, 0);
  }

  /** UPDATE (RFC 3311 §5.1), with an offer or (no sdp) as a bare session refresh. */
  async update(options: { sdp?: string; headers?: [string, string][] } = {}): Promise<OfferAnswer> {
    if (this.#updatePending) throw new ConflictError('an UPDATE is already pending on this dialog (RFC 3311 §5.1)');
    this.#updatePending = true;
    try {
      const res = await this.#send('UPDATE', this.#offerOptions(options, 'UPDATE'));
      return this.#offerAnswered(res, options.sdp, 'uac');
    } finally {
      this.#updatePending = false;
    }
  }

  /** §15.1.1: BYE ends the dialog at once; resolves with the BYE's response. */
  async bye(options: { headers?: [string, string][]; cause?: DialogEndCause } = {}): Promise<SipResponse | undefined> {
    if (this.#ended !== undefined || this.dialog.state === 'terminated') return undefined;
    const pending = this.#send('BYE', { headers: options.headers ?? [] });
    this.#end({ by: 'local', cause: options.cause ?? 'bye' });
    return pending;
  }

  /**
   * REFER (RFC 3515 §2.4.1) asking the peer to call `referTo`; with `replaces` (a dialog of ours
   * with the target, or its Replaces value) the peer's INVITE replaces that dialog (RFC 3891).
   * Progress arrives as 'notify' events.
   */
  refer(options: { referTo: string; replaces?: UaDialog | ReplacesTarget; headers?: [string, string][] }): Promise<SipResponse> {
    const r = options.replaces;
    // the target matches to-tag against its local tag, which is our remote tag (RFC 3891 §3)
    const replaces = r instanceof UaDialog ? { callId: r.callId, toTag: r.id.remoteTag, fromTag: r.id.localTag, earlyOnly: false } : r;
    return this.#send('REFER', { headers: [['Refer-To', formatReferTo(options.referTo, replaces)], ...(options.headers ?? [])] });
  }

  /** INFO with any body (RFC 6086 legacy use) */
  info(options: InDialogSendOptions): Promise<SipResponse> {
    return this.#send('INFO', options);
  }

  /** one DTMF digit as INFO application/dtmf-relay */
  sendDtmf(signal: string, durationMs = 160): Promise<SipResponse> {
    return this.#send('INFO', { body: dtmfRelayBody({ signal, duration: durationMs }), contentType: 'application/dtmf-relay' });
  }

  /** any other in-dialog request (§12.2.1.1); INVITE and BYE have their own methods */
  sendRequest(method: string, options: InDialogSendOptions = {}): Promise<SipResponse> {
    const m = method.toUpperCase();
    if (m === 'INVITE' || m === 'BYE' || m === 'ACK' || m === 'CANCEL') {
      return Promise.reject(new ConflictError(`use the dialog's own method for ${m}`));
    }
    return this.#send(m, options);
  }

  /** hang up if still up (BYE, cause 'closed'); idempotent; resolves once the BYE is answered */
  close(): Promise<void> {
    if (this.#ended !== undefined) return Promise.resolve();
    return this.bye({ cause: 'closed' }).then(
      () => undefined,
      (err: unknown) => this.logger.debug({ err }, 'BYE on close failed'),
    );
  }

  async #reinvite(options: { sdp?: string; headers?: [string, string][] }, attempt: number): Promise<OfferAnswer> {
    const res = await this.#send('INVITE', this.#offerOptions({ ...options, sdp: options.sdp ?? this.#localSdp }, 'INVITE'));
    if (res.status === 491 && attempt < MAX_GLARE_RETRIES && !this.ended) {
      // §14.1: retry after a random delay that depends on who owns the Call-ID
      await new Promise<void>((resolve) => this.dialog.scheduleGlareRetry(this.host.scheduler, resolve));
      if (this.ended) return { status: 491, sdp: undefined, response: res };
      return this.#reinvite(options, attempt + 1);
    }
    return this.#offerAnswered(res, options.sdp, 'uac');
  }

  #offerOptions(options: { sdp?: string | undefined; headers?: [string, string][] }, method: 'INVITE' | 'UPDATE'): InDialogSendOptions {
    const headers: [string, string][] = [['Supported', this.host.supported]];
    if (method === 'INVITE') headers.push(['Allow', this.host.allow]);
    const session = this.#sessionTimer.session;
    if (session !== undefined) {
      // RFC 4028 §7.4: a refresh keeps the interval; we are the UAC of this transaction
      headers.push(['Session-Expires', formatSessionExpires({ interval: session.interval, refresher: session.refresher === 'local' ? 'uac' : 'uas' })]);
    }
    headers.push(...(options.headers ?? []));
    const out: InDialogSendOptions = { headers };
    if (options.sdp !== undefined) {
      out.body = options.sdp;
      out.contentType = 'application/sdp';
    }
    return out;
  }

  #offerAnswered(res: SipResponse, offered: string | undefined, side: 'uac'): OfferAnswer {
    const sdp = sdpOf(res);
    if (res.status >= 200 && res.status < 300) {
      if (offered !== undefined) this.#localSdp = offered;
      if (sdp !== undefined) this.#remoteSdp = sdp;
      this.#peerAllowsUpdate = this.#peerAllowsUpdate || allows(res, 'UPDATE');
      const se = parseSessionExpires(res.headers.get('Session-Expires'));
      // RFC 4028 §7.4: no Session-Expires in the 2xx means no session timer from now on
      this.#sessionTimer.start(se === undefined ? undefined : { interval: se.interval, refresher: roleOf(se, side) });
      this.emit('refreshed', this.#sessionTimer.session);
    }
    return { status: res.status, sdp, response: res };
  }

  #send(method: string, options: InDialogSendOptions): Promise<SipResponse> {
    if (this.#ended !== undefined && method !== 'BYE') return Promise.reject(new ClosedError(`dialog ${this.callId} has ended`));
    let req: SipRequest;
    try {
      const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
      req = this.dialog.createRequest(method, {
        ...(options.headers !== undefined ? { headers: options.headers } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
      });
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<SipResponse>((resolve) => {
      this.host.sendRequest(
        req,
        {
          onFinal: (res) => {
            if (method === 'INVITE' && res.status >= 200 && res.status < 300) this.#ack(res);
            this.#responseReceived(res);
            resolve(res);
          },
          onExtra2xx: (res) => this.handleRetransmitted2xx(res),
        },
        { target: this.target },
      );
    });
  }

  /** §13.2.2.4: ACK a 2xx to our re-INVITE, routed like any in-dialog request */
  #ack(res: SipResponse): void {
    const seq = res.cseq?.seq;
    if (seq === undefined || this.dialog.state === 'terminated') return;
    const ack = this.dialog.createAck(seq);
    this.#lastAck = { cseq: seq, ack };
    this.host.sendAck(ack, this.target);
  }

  #responseReceived(res: SipResponse): void {
    const wasLive = this.dialog.state !== 'terminated';
    this.dialog.receiveResponse(res);
    // §12.2.1.2: 481 or 408 to an in-dialog request ends the dialog
    // (the Dialog has already moved to terminated, so no BYE can follow a 408 here)
    if (wasLive && (this.dialog.state as string) === 'terminated' && this.#ended === undefined) {
      this.#end({ by: 'remote', cause: 'error', status: res.status });
    }
  }

  #respond(req: SipRequest, responder: { respond(r: SipResponse): void }, status: number, options: ResponseOptions): void {
    const headers: [string, string][] = [];
    const refresh = req.method === 'INVITE' || req.method === 'UPDATE';
    let session: ActiveSession | undefined | null = null;
    if (refresh && status >= 200 && status < 300) {
      headers.push(['Contact', this.host.contactFor(this.protocol)]);
      if (req.method === 'INVITE') headers.push(['Allow', this.host.allow], ['Supported', this.host.supported]);
      const negotiated = negotiateAsUas(req, this.host.sessionTimer ?? this.#currentSettings());
      if ('session' in negotiated) {
        if (negotiated.session !== undefined) {
          headers.push(['Session-Expires', formatSessionExpires(negotiated.session)]);
          if (negotiated.requireTimer) headers.push(['Require', 'timer']);
        }
        session = negotiated.session === undefined ? undefined : { interval: negotiated.session.interval, refresher: roleOf(negotiated.session, 'uas') };
      }
    }
    headers.push(...(options.headers ?? []));
    const res = createResponse(req, status, options.reason, {
      headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
      ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
    });
    this.dialog.responseSent(res);
    if (req.method === 'INVITE' && status >= 200 && status < 300) this.#retransmitUntilAck(req, res, responder);
    else responder.respond(res);
    if (session !== null) {
      const offer = sdpOf(req);
      if (offer !== undefined) this.#remoteSdp = offer;
      const answer = sdpOf(res);
      if (answer !== undefined) this.#localSdp = answer;
      this.#sessionTimer.start(session);
      this.emit('refreshed', session);
    }
  }

  /** what we negotiated last, so a refresh from the peer without our settings keeps the interval */
  #currentSettings(): { interval: number; minSE: number } | undefined {
    const s = this.#sessionTimer.session;
    return s === undefined ? undefined : { interval: s.interval, minSE: 90 };
  }

  /** §13.3.1.4: the 2xx goes out at T1, 2T1... up to T2 until the ACK; 64*T1 without it ends the dialog with BYE */
  #retransmitUntilAck(req: SipRequest, res: SipResponse, responder: { respond(r: SipResponse): void }): void {
    this.#awaitingAck?.retransmitter.stop();
    const seq = req.cseq?.seq ?? 0;
    const retransmitter = new Retransmitter(
      this.host.scheduler,
      this.host.t1,
      this.host.t2,
      64 * this.host.t1,
      () => responder.respond(res),
      () => {
        this.#awaitingAck = undefined;
        this.#sendByeQuietly('no-ack');
      },
    );
    this.#awaitingAck = { cseq: seq, retransmitter };
    retransmitter.start();
  }

  #receiveOffer(req: SipRequest, answer: (status: number, options: ResponseOptions) => void): void {
    // RFC 4028 §9: a refresh below our Min-SE is refused with 422
    const negotiated = negotiateAsUas(req, this.host.sessionTimer);
    if ('reject' in negotiated) {
      answer(422, { headers: [['Min-SE', String(negotiated.reject)]] });
      return;
    }
    // RFC 3311 §5.2: an UPDATE crossing ours is glare
    if (req.method === 'UPDATE' && this.#updatePending && sdpOf(req) !== undefined) {
      answer(491, {});
      return;
    }
    const offer = new IncomingOffer(req, answer);
    const sdp = offer.sdp;
    const event = req.method === 'UPDATE' ? 'update' : 'reinvite';
    // a refresh that changes nothing (same SDP, or an UPDATE without a body) is answered here
    const unchanged = (sdp !== undefined && sdp === this.#remoteSdp) || (sdp === undefined && req.method === 'UPDATE');
    if (unchanged || this.listenerCount(event) === 0) {
      offer.accept(req.method === 'UPDATE' && sdp === undefined ? {} : { sdp: this.#localSdp });
      return;
    }
    this.emit(event, offer);
  }

  #referCount = 0;

  #receiveRefer(req: SipRequest, answer: (status: number, options: ResponseOptions) => void): void {
    const referSeq = req.cseq?.seq ?? 0;
    const first = this.#referCount++ === 0;
    const sendNotify = (status: number, reason: string, final: boolean): Promise<SipResponse> =>
      this.#send('NOTIFY', {
        headers: [
          // RFC 3515 §2.4.6: the id parameter tells apart the subscriptions of several REFERs
          ['Event', first ? 'refer' : `refer;id=${String(referSeq)}`],
          ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
        ],
        body: sipfrag(status, reason),
        contentType: 'message/sipfrag;version=2.0',
      });
    const refer = new IncomingRefer(req, answer, sendNotify);
    if (refer.referTo === undefined) {
      answer(400, { reason: 'Bad Refer-To' }); // RFC 3515 §2.4.2: exactly one valid Refer-To
      return;
    }
    if (this.listenerCount('refer') === 0) {
      answer(603, {});
      return;
    }
    this.emit('refer', refer);
  }

  #receiveNotify(req: SipRequest, answer: (status: number, options: ResponseOptions) => void): void {
    const notify = referNotifyOf(req);
    // RFC 6665 §4.1.3: an event package we did not subscribe to
    answer(notify === undefined ? 489 : 200, {});
    if (notify !== undefined) this.emit('notify', notify);
  }

  /** RFC 4028 §10: time to refresh; UPDATE when the peer allows it, else a re-INVITE with our SDP */
  #refresh(): void {
    if (this.ended) return;
    const session = this.#sessionTimer.session;
    if (session === undefined) return;
    const deadline = session.interval * 1000 - session.interval * 500;
    const useUpdate = this.#peerAllowsUpdate && !this.#updatePending;
    if (!useUpdate && !this.dialog.canSendInvite) {
      // an INVITE transaction is in progress: it refreshes the session when it succeeds
      this.#sessionTimer.expireAt(deadline);
      return;
    }
    const done = useUpdate ? this.update() : this.reinvite({});
    done
      .then((r) => this.#refreshAnswered(r, deadline, useUpdate))
      .catch((err: unknown) => {
        this.logger.debug({ err }, 'session refresh failed');
        this.#sessionTimer.expireAt(deadline);
      });
  }

  #refreshAnswered(r: OfferAnswer, deadline: number, viaUpdate: boolean): void {
    if (r.status >= 200 && r.status < 300) return;
    if (r.status === 422 && !this.ended) {
      // RFC 4028 §7.3 / §10: retry with the peer's Min-SE
      const minSE = parseMinSE(r.response.headers.get('Min-SE'));
      const current = this.#sessionTimer.session;
      if (minSE !== undefined && current !== undefined) {
        this.#sessionTimer.start({ interval: Math.max(minSE, current.interval), refresher: 'local' });
        const retry = viaUpdate ? this.update() : this.reinvite({});
        retry.catch(() => this.#sessionTimer.expireAt(deadline));
        return;
      }
    }
    this.#sessionTimer.expireAt(deadline);
  }

  /** RFC 4028 §10: no refresh in time: BYE */
  #expire(): void {
    if (this.ended) return;
    this.#sendByeQuietly('session-expired');
  }

  #sendByeQuietly(cause?: DialogEndCause): void {
    if (this.dialog.state === 'terminated') return;
    this.bye(cause === undefined ? {} : { cause }).catch((err: unknown) => this.logger.debug({ err }, 'BYE failed'));
  }

  #end(end: DialogEnd): void {
    if (this.#ended !== undefined) return;
    this.#ended = end;
    this.#sessionTimer.stop();
    this.#awaitingAck?.retransmitter.stop();
    this.#awaitingAck = undefined;
    this.dialog.terminate();
    this.host.dialogEnded(this);
    this.emit('ended', end);
  }
}
