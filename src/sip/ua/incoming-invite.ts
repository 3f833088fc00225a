/**
 * An initial INVITE that opencx answers as UAS (RFC 3261 §13.3): provisional responses, reliable
 * ones with PRACK (RFC 3262 §3), the 2xx retransmitted until its ACK (§13.3.1.4), rejection,
 * and CANCEL (§9.2). The states live in incoming-invite-state.ts.
 */
import { ConflictError, TimeoutError, TypedEmitter, newTag } from '../../lib/index.js';
import { Dialog, type DialogId } from '../dialog/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import type { ReceiveContext } from '../transaction/index.js';
import type { OutboundTarget, TransportAddress } from '../transport/index.js';
import { incomingInviteMachine, type IncomingInviteState } from './incoming-invite-state.js';
import { negotiateAsUas, roleOf, type ActiveSession } from './session-timer.js';
import { UaDialog } from './ua-dialog.js';
import { Retransmitter, type UaHost } from './ua-host.js';
import { formatSessionExpires, parseRAck, parseReplaces, requires, sdpOf, supports, type ReplacesTarget } from './ua-messages.js';
import type { UsageMachine } from './usage-machine.js';

export interface IncomingInviteEvents {
  /** the caller cancelled (§9.2): the INVITE has been answered 487 */
  cancelled: [cancel: SipRequest];
  /** a PRACK acknowledged a reliable provisional response (RFC 3262 §3) */
  prack: [prack: SipRequest];
  /** our 2xx was never ACKed (§13.3.1.4) or a reliable 1xx never PRACKed (RFC 3262 §3) */
  failed: [reason: string];
}
type Events = { [K in keyof IncomingInviteEvents]: IncomingInviteEvents[K] };

export interface ProgressOptions {
  sdp?: string;
  /** send it reliably (RFC 3262); default: when the caller requires 100rel. Ignored when the caller does not support it. */
  reliable?: boolean;
  headers?: [string, string][];
}

export interface AcceptOptions {
  sdp?: string;
  headers?: [string, string][];
}

export interface InviteResponder {
  respond(response: SipResponse): void;
}

interface ReliableInFlight {
  rseq: number;
  retransmitter: Retransmitter;
}

interface Accepted {
  response: SipResponse;
  session: ActiveSession | undefined;
  retransmitter: Retransmitter;
  resolve(dialog: UaDialog): void;
  reject(err: Error): void;
}

export class IncomingInvite extends TypedEmitter<Events> {
  readonly request: SipRequest;
  readonly source: TransportAddress;
  /** the connection a stream transport delivered the INVITE on */
  readonly connectionId: string | undefined;
  readonly localTag = newTag();
  readonly #host: UaHost;
  readonly #responder: InviteResponder;
  readonly #done: (invite: IncomingInvite) => void;
  readonly #machine: UsageMachine<IncomingInviteState> = incomingInviteMachine();
  #dialog: Dialog | undefined;
  /** RFC 3262 §3: the first RSeq is random in 1..2^31-1 */
  #rseq: number;
  #reliable: ReliableInFlight | undefined;
  /** RFC 3262 §3: one unacknowledged reliable provisional at a time; later ones wait here */
  #reliableQueue: SipResponse[] = [];
  #accepted: Accepted | undefined;
  #localSdp: string | undefined;

  constructor(host: UaHost, request: SipRequest, responder: InviteResponder, ctx: ReceiveContext, done: (invite: IncomingInvite) => void) {
    super((err, event) => host.logger.error({ err, event }, 'IncomingInvite listener threw'));
    this.#host = host;
    this.request = request;
    this.source = ctx.source;
    this.connectionId = ctx.connectionId;
    this.#responder = responder;
    this.#done = done;
    this.#rseq = 1 + Math.floor(host.random() * 0x7ffffffe);
  }

  get state(): IncomingInviteState {
    return this.#machine.state;
  }
  /** (Call-ID, our tag, the caller's tag): the id the dialog will have */
  get id(): DialogId {
    return { callId: this.request.callId ?? '', localTag: this.localTag, remoteTag: this.request.fromTag ?? '' };
  }
  get sdp(): string | undefined {
    return sdpOf(this.request);
  }
  /** RFC 3891: the dialog this INVITE wants to replace */
  get replaces(): ReplacesTarget | undefined {
    return parseReplaces(this.request.headers.get('Replaces'));
  }
  /** RFC 3262: the caller supports (or requires) reliable provisional responses */
  get supports100rel(): boolean {
    return supports(this.request, '100rel');
  }
  /** still waiting for our final answer */
  get pending(): boolean {
    return this.#machine.is('received', 'early');
  }

  /** A provisional response (§13.3.1.1), reliable per RFC 3262 when asked and possible. */
  progress(status = 180, options: ProgressOptions = {}): void {
    if (!this.pending) return;
    if (status <= 100 || status >= 200) throw new ConflictError(`progress() takes 101-199, not ${String(status)}`);
    const reliable = (options.reliable ?? requires(this.request, '100rel')) && this.supports100rel;
    const headers: [string, string][] = [['Contact', this.#contact()]];
    if (reliable) headers.push(['Require', '100rel'], ['RSeq', '0']);
    headers.push(...(options.headers ?? []));
    const body = options.sdp === undefined ? undefined : Buffer.from(options.sdp, 'utf8');
    if (options.sdp !== undefined) this.#localSdp = options.sdp;
    const res = createResponse(this.request, status, undefined, {
      toTag: this.localTag,
      headers,
      ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
    });
    // §12.1.1: a provisional with a To tag creates the early dialog
    this.#dialog ??= Dialog.asUas(this.request, res, this.#dialogOptions());
    if (this.#machine.is('received')) this.#machine.transition('early');
    if (!reliable) {
      this.#responder.respond(res);
      return;
    }
    if (this.#reliable !== undefined) this.#reliableQueue.push(res);
    else this.#sendReliable(res);
  }

  /**
   * 2xx with our answer (§13.3.1.4); resolves with the dialog once the ACK arrives, rejects with
   * TimeoutError when it never does (the dialog is then hung up with BYE).
   */
  accept(options: AcceptOptions = {}): Promise<UaDialog> {
    if (!this.pending) return Promise.reject(new ConflictError(`INVITE already answered (${this.state})`));
    const negotiated = negotiateAsUas(this.request, this.#host.sessionTimer);
    const headers: [string, string][] = [['Contact', this.#contact()], ['Allow', this.#host.allow], ['Supported', this.#host.supported]];
    let session: ActiveSession | undefined;
    if ('session' in negotiated && negotiated.session !== undefined) {
      // RFC 4028 §9: Session-Expires with the refresher, Require: timer when the UAC supports it
      headers.push(['Session-Expires', formatSessionExpires(negotiated.session)]);
      if (negotiated.requireTimer) headers.push(['Require', 'timer']);
      session = { interval: negotiated.session.interval, refresher: roleOf(negotiated.session, 'uas') };
    }
    headers.push(...(options.headers ?? []));
    if (options.sdp !== undefined) this.#localSdp = options.sdp;
    const body = this.#localSdp === undefined ? undefined : Buffer.from(this.#localSdp, 'utf8');
    const res = createResponse(this.request, 200, undefined, {
      toTag: this.localTag,
      headers,
      ...(body !== undefined ? { body, contentType: 'application/sdp' } : {}),
    });
    const dialog = this.#dialog ?? Dialog.asUas(this.request, res, this.#dialogOptions());
    if (dialog === undefined) {
      // §12.1.1 needs the caller's Contact; without it there can be no dialog
      this.reject(400, { reason: 'Missing Contact' });
      return Promise.reject(new ConflictError('the INVITE has no Contact: no dialog possible'));
    }
    this.#dialog = dialog;
    this.#stopReliable();
    dialog.responseSent(res);
    this.#machine.transition('accepted');
    return new Promise<UaDialog>((resolve, reject) => {
      const host = this.#host;
      const retransmitter = new Retransmitter(host.scheduler, host.t1, host.t2, 64 * host.t1, () => this.#responder.respond(res), () => this.#noAck());
      this.#accepted = { response: res, session, retransmitter, resolve, reject };
      retransmitter.start();
    });
  }

  /** A final non-2xx (§13.3.1.3); ignored once answered. */
  reject(status: number, options: { reason?: string; headers?: [string, string][] } = {}): void {
    if (!this.pending) return;
    if (status < 300 || status > 699) throw new ConflictError(`reject() takes 300-699, not ${String(status)}`);
    this.#finishUnanswered(status, options.reason, options.headers ?? []);
  }

  /** @internal §9.2: CANCEL of a pending INVITE -> 487; false when it is already answered */
  receiveCancel(cancel: SipRequest): boolean {
    if (!this.pending) return false;
    this.#finishUnanswered(487, undefined, []);
    this.emit('cancelled', cancel);
    return true;
  }

  /** @internal RFC 3262 §3: a PRACK in the early dialog */
  receivePrack(prack: SipRequest, responder: InviteResponder): void {
    const dialog = this.#dialog;
    const verdict = dialog?.receiveRequest(prack);
    if (dialog === undefined || verdict === undefined || !verdict.accept) {
      responder.respond(createResponse(prack, verdict?.accept === false ? verdict.status : 481));
      return;
    }
    const rack = parseRAck(prack.headers.get('RAck'));
    const inFlight = this.#reliable;
    // RFC 3262 §3: RAck must name the outstanding reliable provisional; else 481
    if (rack === undefined || inFlight === undefined || rack.rseq !== inFlight.rseq || rack.cseq !== this.request.cseq?.seq || rack.method !== 'INVITE') {
      responder.respond(createResponse(prack, 481));
      return;
    }
    responder.respond(createResponse(prack, 200));
    inFlight.retransmitter.stop();
    this.#reliable = undefined;
    this.emit('prack', prack);
    const next = this.#reliableQueue.shift();
    if (next !== undefined && this.pending) this.#sendReliable(next);
  }

  /** @internal the ACK for our 2xx (§13.3.1.4), or another request proving the 2xx arrived: the dialog is confirmed */
  receiveAck(ack: SipRequest): void {
    const accepted = this.#accepted;
    if (accepted === undefined || !this.#machine.is('accepted')) return;
    accepted.retransmitter.stop();
    this.#machine.transition('confirmed');
    const dialog = this.#makeDialog(accepted, ack.method === 'ACK' ? sdpOf(ack) : undefined);
    this.#host.dialogStarted(dialog);
    this.#done(this);
    accepted.resolve(dialog);
  }

  /** @internal shutdown: a pending INVITE gets 503, an unACKed 2xx is hung up */
  close(): void {
    if (this.pending) this.#finishUnanswered(503, undefined, []);
    else if (this.#machine.is('accepted')) this.#noAck();
  }

  #sendReliable(res: SipResponse): void {
    const rseq = this.#rseq++;
    res.headers.set('RSeq', String(rseq));
    const host = this.#host;
    // RFC 3262 §3: retransmit at T1, doubling, until PRACK; after 64*T1 reject with 5xx
    const retransmitter = new Retransmitter(host.scheduler, host.t1, host.t2, 64 * host.t1, () => this.#responder.respond(res), () => {
      this.#reliable = undefined;
      this.#finishUnanswered(504, 'No PRACK', []);
      this.emit('failed', 'no PRACK for a reliable provisional response');
    });
    this.#reliable = { rseq, retransmitter };
    retransmitter.start();
  }

  #stopReliable(): void {
    this.#reliable?.retransmitter.stop();
    this.#reliable = undefined;
    this.#reliableQueue = [];
  }

  #finishUnanswered(status: number, reason: string | undefined, headers: [string, string][]): void {
    this.#stopReliable();
    const res = createResponse(this.request, status, reason, { toTag: this.localTag, headers });
    this.#dialog?.responseSent(res); // §12.3: a non-2xx final ends the early dialog
    this.#machine.transition('rejected');
    this.#responder.respond(res);
    this.#done(this);
  }

  /** §13.3.1.4: no ACK within 64*T1: the session is up as far as we know, so it ends with BYE */
  #noAck(): void {
    const accepted = this.#accepted;
    if (accepted === undefined || !this.#machine.is('accepted')) return;
    accepted.retransmitter.stop();
    this.#machine.transition('failed');
    const dialog = this.#makeDialog(accepted, undefined);
    dialog.bye({ cause: 'no-ack' }).catch(() => undefined);
    this.#done(this);
    this.emit('failed', 'no ACK for the 2xx');
    accepted.reject(new TimeoutError('no ACK received for the 2xx (RFC 3261 §13.3.1.4)'));
  }

  #makeDialog(accepted: Accepted, ackSdp: string | undefined): UaDialog {
    return new UaDialog({
      host: this.#host,
      dialog: this.#dialog as Dialog,
      peerMessage: this.request,
      localSdp: this.#localSdp,
      remoteSdp: this.sdp ?? ackSdp,
      session: accepted.session,
      protocol: this.source.protocol,
      target: this.#flowTarget(),
    });
  }

  /**
   * A caller on TCP/TLS/WS is reached back over its own connection (RFC 5626 §5.3 in spirit,
   * RFC 7118 §5: a WebSocket client's Contact host is not resolvable), and so is any caller whose
   * Contact names a `.invalid` host. Over UDP otherwise the §12.2.1.1 remote target is used.
   */
  #flowTarget(): OutboundTarget | undefined {
    const contact = this.request.contacts[0];
    const invalidHost = contact !== undefined && contact !== '*' && contact.uri.host.endsWith('.invalid');
    if (this.source.protocol === 'udp' && !invalidHost) return undefined;
    return { protocol: this.source.protocol, address: this.source.address, port: this.source.port, connectionId: this.connectionId };
  }

  #contact(): string {
    return this.#host.contactFor(this.source.protocol);
  }

  #dialogOptions(): { localContact: string; random: () => number } {
    return { localContact: this.#contact(), random: () => this.#host.random() };
  }
}
