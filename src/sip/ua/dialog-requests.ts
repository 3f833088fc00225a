/**
 * Requests a UaDialog receives and hands to its owner to answer: an offer in a re-INVITE or
 * UPDATE (RFC 3261 §14.2, RFC 3311 §5.2), a REFER with its implicit subscription (RFC 3515
 * §2.4), and any other request. Each can be answered once; later answers are ignored.
 */
import type { SipRequest, SipResponse } from '../message/index.js';
import { eventPackage, parseReferTo, parseSipfragStatus, sdpOf, type ReferTarget, type ReplacesTarget, type Dtmf } from './ua-messages.js';

export interface AnswerOptions {
  sdp?: string | undefined;
  headers?: [string, string][] | undefined;
}

export interface RejectOptions {
  reason?: string | undefined;
  headers?: [string, string][] | undefined;
}

export interface ResponseOptions {
  reason?: string | undefined;
  headers?: [string, string][] | undefined;
  body?: Buffer | undefined;
  contentType?: string | undefined;
}

/** how a request is answered: the dialog fills in Contact, session timer and retransmissions */
export type Answerer = (status: number, options: ResponseOptions) => void;

abstract class AnswerOnce {
  #answered = false;

  constructor(
    readonly request: SipRequest,
    private readonly answerer: Answerer,
  ) {}

  get answered(): boolean {
    return this.#answered;
  }

  protected answer(status: number, options: ResponseOptions): boolean {
    if (this.#answered) return false;
    if (status >= 200) this.#answered = true;
    this.answerer(status, options);
    return true;
  }
}

/** A re-INVITE or UPDATE with (or, for re-INVITE, without) an offer. */
export class IncomingOffer extends AnswerOnce {
  readonly method: 'INVITE' | 'UPDATE';

  constructor(request: SipRequest, answerer: Answerer) {
    super(request, answerer);
    this.method = request.method === 'UPDATE' ? 'UPDATE' : 'INVITE';
  }

  /** the offer; undefined for an offerless re-INVITE (the answer then comes in the ACK, §14.2) */
  get sdp(): string | undefined {
    return sdpOf(this.request);
  }

  /** 200 with the answer (or, for an offerless re-INVITE, our offer) */
  accept(options: AnswerOptions = {}): void {
    const body = options.sdp === undefined ? undefined : Buffer.from(options.sdp, 'utf8');
    this.answer(200, { headers: options.headers, body, contentType: body === undefined ? undefined : 'application/sdp' });
  }

  /** e.g. 488 Not Acceptable Here (§14.2: the session stays as it was) */
  reject(status: number, options: RejectOptions = {}): void {
    this.answer(status, { reason: options.reason, headers: options.headers });
  }
}

/** A REFER (RFC 3515): accept() sends 202 and the first NOTIFY; notify() reports progress. */
export class IncomingRefer extends AnswerOnce {
  readonly referTo: ReferTarget | undefined;
  #subscribed = false;
  #terminated = false;

  constructor(
    request: SipRequest,
    answerer: Answerer,
    private readonly sendNotify: (status: number, reason: string, final: boolean) => Promise<SipResponse>,
  ) {
    super(request, answerer);
    this.referTo = parseReferTo(request.headers.get('Refer-To'));
  }

  /** the dialog to replace at the target (RFC 3891), when Refer-To embeds Replaces */
  get replaces(): ReplacesTarget | undefined {
    return this.referTo?.replaces;
  }

  /** 202 Accepted, then the NOTIFY with `100 Trying` RFC 3515 §2.4.4 asks for at once */
  accept(): void {
    if (!this.answer(202, {})) return;
    this.#subscribed = true;
    this.notify(100, 'Trying').catch(() => undefined);
  }

  reject(status: number, options: RejectOptions = {}): void {
    this.answer(status, { reason: options.reason, headers: options.headers });
  }

  /**
   * NOTIFY with a message/sipfrag status line (RFC 3515 §2.4.5); a final status (>= 200)
   * terminates the implicit subscription. Resolves with the NOTIFY's response.
   */
  notify(status: number, reason: string): Promise<SipResponse> {
    if (!this.#subscribed || this.#terminated) return Promise.reject(new Error('no active refer subscription'));
    const final = status >= 200;
    if (final) this.#terminated = true;
    return this.sendNotify(status, reason, final);
  }
}

/** An INFO, already answered 200; `dtmf` is set for application/dtmf-relay and application/dtmf. */
export interface IncomingInfo {
  request: SipRequest;
  contentType: string | undefined;
  body: Buffer;
  dtmf: Dtmf | undefined;
}

/** A NOTIFY for a REFER we sent (RFC 3515 §2.4.5), already answered 200. */
export interface ReferNotify {
  request: SipRequest;
  /** the sipfrag status line: 100 Trying, 180, 200 OK, a failure... */
  status: number | undefined;
  reason: string | undefined;
  /** Subscription-State: terminated (the final report) */
  terminated: boolean;
}

/** A NOTIFY of the refer event package (RFC 3515 §2.4.5) as a ReferNotify; undefined for other packages. */
export function referNotifyOf(req: SipRequest): ReferNotify | undefined {
  if (eventPackage(req.headers.get('Event')) !== 'refer') return undefined;
  const frag = parseSipfragStatus(req.body);
  const state = req.headers.get('Subscription-State')?.split(';')[0]?.trim().toLowerCase();
  return { request: req, status: frag?.status, reason: frag?.reason, terminated: state === 'terminated' };
}

/** Any other in-dialog request: the owner answers it (default 405 when nobody listens). */
export class IncomingDialogRequest extends AnswerOnce {
  respond(status: number, options: ResponseOptions = {}): void {
    this.answer(status, options);
  }
}
