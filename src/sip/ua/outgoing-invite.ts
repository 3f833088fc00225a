/**
 * An initial INVITE that opencx sends as UAC (RFC 3261 §13.2): provisional responses with PRACK
 * for reliable ones (RFC 3262 §4), the ACK for the 2xx (§13.2.2.4), forked 2xx hung up
 * (§13.2.2.4), digest challenges answered once per realm (§22.2), 422 retried with the peer's
 * Min-SE (RFC 4028 §7.3), CANCEL (§9.1) and a Timer C style ring-no-answer limit. The states
 * live in outgoing-invite-state.ts.
 */
import { InvalidInputError, TypedEmitter, newCallId, newTag, type TimerHandle } from '../../lib/index.js';
import { answerChallenge, selectChallenge } from '../auth/index.js';
import { Dialog } from '../dialog/index.js';
import { createRequest, formatAuthHeader, formatUri, parseAuthHeader, parseNameAddr, parseUri, type AuthHeader, type SipHeaderList, type SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import { buildCancel } from '../proxy/index.js';
import type { OutboundTarget, TransportProtocol } from '../transport/index.js';
import { outgoingInviteMachine, type OutgoingInviteState } from './outgoing-invite-state.js';
import { MIN_SE_FLOOR, roleOf } from './session-timer.js';
import { UaDialog } from './ua-dialog.js';
import type { OutboundRequest, UaHost } from './ua-host.js';
import { parseMinSE, parseRSeq, parseSessionExpires, requires, sdpOf } from './ua-messages.js';
import type { UsageMachine } from './usage-machine.js';

export interface Credentials {
  username: string;
  password: string;
}

/** credentials for a realm, or undefined to give up on it */
export type CredentialLookup = (realm: string) => Credentials | undefined;

export interface InviteOptions {
  requestUri: string | SipUri;
  /** name-addr or URI; our tag is added */
  from: string;
  /** name-addr or URI */
  to: string;
  sdp?: string;
  headers?: [string, string][];
  credentials?: Credentials | CredentialLookup;
  /** next hop override (a trunk gateway); else Route / Request-URI resolution (§8.1.2) */
  target?: OutboundTarget;
  /** transport when the URI names none (no target given) */
  transport?: TransportProtocol;
  /** ring-no-answer: CANCEL when no final response came in this many ms (Timer C style, §16.6 item 11) */
  timeoutMs?: number;
  /**
   * give up on a next hop that sent no response at all (not even 100 Trying) within this many
   * ms: the INVITE fails with 408, cause 'timeout', as at Timer B (64*T1, §17.1.1.2) but sooner,
   * so a trunk fails over from a dead gateway in seconds (Kamailio's fr_timer). The client
   * transaction runs its course: a late 1xx gets the CANCEL of §9.1, a late 2xx an ACK and BYE.
   */
  responseTimeoutMs?: number;
  callId?: string;
  /** RFC 4028 Session-Expires to ask for, seconds; default the service's; false for none */
  sessionExpires?: number | false;
  /** RFC 3262: 'supported' (default) lists 100rel in Supported, 'required' in Require */
  reliableProvisional?: 'supported' | 'required' | 'none';
}

export interface ProvisionalInfo {
  status: number;
  reason: string;
  sdp: string | undefined;
  /** sent reliably (RFC 3262): we PRACKed it */
  reliable: boolean;
  response: SipResponse;
}

export type FailureCause = 'response' | 'timeout' | 'transport' | 'cancelled' | 'no-answer';

export interface InviteFailure {
  status: number;
  reason: string;
  /** the response's headers (Retry-After, Reason, Warning... for failover); empty when synthesized */
  headers: SipHeaderList | undefined;
  response: SipResponse | undefined;
  cause: FailureCause;
}

export type InviteResult = { ok: true; dialog: UaDialog; sdp: string | undefined } | { ok: false; failure: InviteFailure };

export interface OutgoingInviteEvents {
  provisional: [info: ProvisionalInfo];
  answered: [dialog: UaDialog, sdp: string | undefined, response: SipResponse];
  failed: [failure: InviteFailure];
}
type Events = { [K in keyof OutgoingInviteEvents]: OutgoingInviteEvents[K] };

interface EarlyDialog {
  dialog: Dialog;
  lastRseq: number | undefined;
}

export class OutgoingInvite extends TypedEmitter<Events> {
  readonly callId: string;
  readonly localTag = newTag();
  /** settles once: answered or failed; never rejects */
  readonly done: Promise<InviteResult>;
  readonly #host: UaHost;
  readonly #options: InviteOptions;
  readonly #machine: UsageMachine<OutgoingInviteState> = outgoingInviteMachine();
  readonly #requestUri: SipUri;
  readonly #from: string;
  readonly #to: string;
  readonly #protocol: TransportProtocol;
  #cseq: number;
  #sessionExpires: number | undefined;
  #current: OutboundRequest | undefined;
  #auth = new Map<string, [string, string]>();
  #triedSessionRetry = false;
  #early = new Map<string, EarlyDialog>();
  #gotProvisional = false;
  #cancelPending = false;
  #cancelCause: FailureCause = 'cancelled';
  #timerC: TimerHandle | undefined;
  #started = false;
  #responseTimer: TimerHandle | undefined;
  /** gave up for want of any response (responseTimeoutMs); a late 1xx is CANCELled */
  #abandoned: SipRequest | undefined;
  #cancelGuard: TimerHandle | undefined;
  #dialog: UaDialog | undefined;
  #ack: SipRequest | undefined;
  #settle!: (result: InviteResult) => void;

  /** @internal use UserAgentService.invite() */
  constructor(host: UaHost, options: InviteOptions) {
    super((err, event) => host.logger.error({ err, event }, 'OutgoingInvite listener threw'));
    this.#host = host;
    this.#options = options;
    const uri = typeof options.requestUri === 'string' ? parseUri(options.requestUri) : options.requestUri;
    if (uri === undefined) throw new InvalidInputError(`not a SIP URI: ${String(options.requestUri)}`);
    this.#requestUri = uri;
    this.#from = nameAddr(options.from) + ';tag=' + this.localTag;
    this.#to = nameAddr(options.to);
    this.callId = options.callId ?? newCallId();
    this.#cseq = 1 + Math.floor(host.random() * 0xffff);
    this.#protocol = options.target?.protocol ?? transportOf(uri) ?? options.transport ?? 'udp';
    const se = options.sessionExpires;
    this.#sessionExpires = se === false ? undefined : (se ?? host.sessionTimer?.interval);
    this.done = new Promise<InviteResult>((resolve) => {
      this.#settle = resolve;
    });
  }

  get state(): OutgoingInviteState {
    return this.#machine.state;
  }

  /** the INVITE as last sent (after a challenge, the authenticated one) */
  get request(): SipRequest | undefined {
    return this.#current?.request;
  }

  /** @internal */
  /** Sends the INVITE; idempotent (the user agent starts every call it creates). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.#options.timeoutMs !== undefined) {
      this.#timerC = this.#host.scheduler.setTimeout(() => this.#cancel('no-answer'), this.#options.timeoutMs);
    }
    this.#send();
  }

  /** §9.1: CANCEL the INVITE (sent once a provisional response has arrived). */
  cancel(): void {
    this.#cancel('cancelled');
  }

  #cancel(cause: FailureCause): void {
    if (!this.#machine.is('calling', 'proceeding')) return;
    this.#cancelCause = cause;
    this.#machine.transition('cancelling');
    // §9.1: no CANCEL before a provisional response; it goes out when one arrives
    if (this.#gotProvisional) this.#sendCancel();
    else this.#cancelPending = true;
  }

  #sendCancel(): void {
    const current = this.#current;
    if (current === undefined) return;
    current.ready
      .then(() => {
        const cancel = buildCancel(current.request);
        this.#host.sendRequest(cancel, { onFinal: () => undefined }, { target: current.target, keepVia: true });
        // §9.1: without a final response within 64*T1 the INVITE counts as cancelled
        this.#cancelGuard = this.#host.scheduler.setTimeout(() => this.#fail(487, 'Request Terminated', undefined, this.#cancelCause), 64 * this.#host.t1);
      })
      .catch(() => undefined);
  }

  #build(): SipRequest {
    const host = this.#host;
    const reliable = this.#options.reliableProvisional ?? 'supported';
    const supported = reliable === 'none' ? host.supported.split(/\s*,\s*/).filter((t) => t !== '100rel').join(', ') : host.supported;
    const headers: [string, string][] = [
      ['Max-Forwards', '70'],
      ['From', this.#from],
      ['To', this.#to],
      ['Call-ID', this.callId],
      ['CSeq', `${String(this.#cseq)} INVITE`],
      ['Contact', host.contactFor(this.#protocol)],
      ['Allow', host.allow],
      ['Supported', supported],
    ];
    if (reliable === 'required') headers.push(['Require', '100rel']);
    if (this.#sessionExpires !== undefined) {
      // RFC 4028 §7.1: ask for an interval; the refresher is left to the UAS
      headers.push(['Session-Expires', String(this.#sessionExpires)]);
      headers.push(['Min-SE', String(Math.min(this.#sessionExpires, Math.max(MIN_SE_FLOOR, host.sessionTimer?.minSE ?? MIN_SE_FLOOR)))]);
    }
    headers.push(...(this.#options.headers ?? []));
    for (const value of this.#auth.values()) headers.push(value);
    const sdp = this.#options.sdp;
    if (sdp !== undefined) headers.push(['Content-Type', 'application/sdp']);
    return createRequest({ method: 'INVITE', uri: this.#requestUri, headers, ...(sdp !== undefined ? { body: Buffer.from(sdp, 'utf8') } : {}) });
  }

  #send(): void {
    const request = this.#build();
    this.#armResponseTimer(request);
    this.#current = this.#host.sendRequest(
      request,
      {
        onProvisional: (res) => this.#provisional(request, res),
        onFinal: (res, local) => this.#final(request, res, local),
        onExtra2xx: (res) => this.#extra2xx(request, res),
      },
      { target: this.#options.target, ...(this.#options.transport !== undefined ? { protocol: this.#options.transport } : {}) },
    );
  }

  /** each INVITE sent (the first, one answering a challenge) must draw some response in time */
  #armResponseTimer(request: SipRequest): void {
    this.#responseTimer?.cancel();
    const ms = this.#options.responseTimeoutMs;
    if (ms === undefined || ms <= 0) return;
    this.#responseTimer = this.#host.scheduler.setTimeout(() => {
      if (request !== this.#current?.request || !this.#machine.is('calling', 'cancelling') || this.#gotProvisional) return;
      this.#abandoned = request;
      // a CANCEL waiting for a provisional (§9.1) ends here too, as cancelled, not timed out
      if (this.#machine.is('cancelling')) this.#fail(487, 'Request Terminated', undefined, this.#cancelCause);
      else this.#fail(408, 'Request Timeout', undefined, 'timeout');
    }, ms);
  }

  /** §9.1: a provisional response to an INVITE we gave up on: now the CANCEL can go */
  #cancelAbandoned(request: SipRequest): void {
    const current = this.#current;
    this.#abandoned = undefined;
    if (current?.request !== request) return;
    this.#host.sendRequest(buildCancel(request), { onFinal: () => undefined }, { target: current.target, keepVia: true });
  }

  #provisional(request: SipRequest, res: SipResponse): void {
    if (request === this.#abandoned) return this.#cancelAbandoned(request);
    if (request !== this.#current?.request || this.#machine.is('answered', 'failed')) return;
    this.#responseTimer?.cancel();
    this.#gotProvisional = true;
    if (this.#cancelPending) {
      this.#cancelPending = false;
      this.#sendCancel();
    }
    if (this.#machine.is('calling')) this.#machine.transition('proceeding');
    if (res.status === 100) return;
    const reliable = this.#prackIfReliable(request, res);
    if (reliable === 'duplicate') return;
    this.emit('provisional', { status: res.status, reason: res.reason, sdp: sdpOf(res), reliable: reliable === 'prack', response: res });
  }

  /** RFC 3262 §4: PRACK each reliable provisional once, in RSeq order, inside its early dialog */
  #prackIfReliable(request: SipRequest, res: SipResponse): 'prack' | 'duplicate' | 'unreliable' {
    const tag = res.toTag;
    let early = tag === undefined ? undefined : this.#early.get(tag);
    if (early === undefined && tag !== undefined) {
      const dialog = Dialog.asUac(request, res, { random: () => this.#host.random() });
      if (dialog !== undefined) {
        early = { dialog, lastRseq: undefined };
        this.#early.set(tag, early);
      }
    }
    const rseq = parseRSeq(res.headers.get('RSeq'));
    if (!requires(res, '100rel') || rseq === undefined || early === undefined) return 'unreliable';
    // RFC 3262 §4: a retransmission, or one out of order, is not PRACKed again
    if (early.lastRseq !== undefined && rseq !== early.lastRseq + 1) return 'duplicate';
    early.lastRseq = rseq;
    const prack = early.dialog.createRequest('PRACK', { headers: [['RAck', `${String(rseq)} ${String(request.cseq?.seq ?? 0)} INVITE`]] });
    // the PRACK's response is not fed to the dialog: a 481 to a PRACK that crossed the 2xx
    // (RFC 3262 §3) must not end the call as §12.2.1.2 would for other requests
    this.#host.sendRequest(prack, { onFinal: () => undefined }, { target: this.#options.target });
    return 'prack';
  }

  #final(request: SipRequest, res: SipResponse, local: 'timeout' | 'transport' | undefined): void {
    const status = res.status;
    if (request === this.#current?.request) this.#responseTimer?.cancel();
    if (request !== this.#current?.request || this.#machine.is('answered', 'failed')) {
      // a 2xx after we gave up (shutdown, the §9.1 CANCEL guard): the call is up, so hang it up
      if (status >= 200 && status < 300 && !this.#machine.is('answered')) this.#ackAndBye(request, res);
      return;
    }
    if (status >= 200 && status < 300) {
      this.#answered(request, res);
      return;
    }
    if (this.#machine.is('calling', 'proceeding')) {
      if ((status === 401 || status === 407) && this.#retryWithCredentials(request, res)) return;
      if (status === 422 && this.#retryWithMinSE(res)) return;
    }
    const cause: FailureCause = this.#machine.is('cancelling') ? this.#cancelCause : (local ?? 'response');
    this.#fail(status, res.reason, local === undefined ? res : undefined, cause);
  }

  /** §22.2: answer a 401/407 once per realm with the configured credentials; CSeq goes up by one */
  #retryWithCredentials(request: SipRequest, res: SipResponse): boolean {
    const credentials = this.#options.credentials;
    if (credentials === undefined) return false;
    const headerName = res.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const challenges = res.headers.getAll(headerName).map(parseAuthHeader).filter((c): c is AuthHeader => c !== undefined);
    const challenge = selectChallenge(challenges);
    if (challenge === undefined) return false;
    const realm = challenge.params.get('realm') ?? '';
    const key = headerName + '\n' + realm;
    if (this.#auth.has(key)) return false; // already answered this realm: the credentials are wrong
    const creds = typeof credentials === 'function' ? credentials(realm) : credentials;
    if (creds === undefined) return false;
    const answer = answerChallenge(challenge, { username: creds.username, password: creds.password, method: 'INVITE', uri: formatUri(request.uri), body: request.body });
    if (answer === undefined) return false;
    this.#auth.set(key, [res.status === 401 ? 'Authorization' : 'Proxy-Authorization', formatAuthHeader(answer)]);
    this.#cseq++;
    this.#send();
    return true;
  }

  /** RFC 4028 §7.3: a 422 is retried once with Session-Expires raised to the peer's Min-SE */
  #retryWithMinSE(res: SipResponse): boolean {
    const minSE = parseMinSE(res.headers.get('Min-SE'));
    if (minSE === undefined || this.#triedSessionRetry) return false;
    this.#triedSessionRetry = true;
    this.#sessionExpires = Math.max(minSE, this.#sessionExpires ?? 0);
    this.#cseq++;
    this.#send();
    return true;
  }

  #answered(request: SipRequest, res: SipResponse): void {
    const tag = res.toTag ?? '';
    const early = this.#early.get(tag);
    let dialog: Dialog | undefined;
    if (early !== undefined) {
      dialog = early.dialog;
      dialog.receiveResponse(res); // §13.2.2.4: route set and target from the 2xx, confirmed
    } else {
      dialog = Dialog.asUac(request, res, { random: () => this.#host.random() });
    }
    for (const [t, e] of this.#early) if (t !== tag) e.dialog.terminate();
    this.#early.clear();
    if (dialog === undefined) {
      this.#fail(502, 'Bad 2xx (no Contact or tag)', res, 'response');
      return;
    }
    const seq = request.cseq?.seq ?? this.#cseq;
    this.#ack = dialog.createAck(seq);
    this.#host.sendAck(this.#ack, this.#options.target);
    const se = parseSessionExpires(res.headers.get('Session-Expires'));
    const ua = new UaDialog({
      host: this.#host,
      dialog,
      peerMessage: res,
      localSdp: this.#options.sdp,
      remoteSdp: sdpOf(res),
      // RFC 4028 §7.2: no Session-Expires in the 2xx, no session timer
      session: se === undefined ? undefined : { interval: se.interval, refresher: roleOf(se, 'uac') },
      protocol: this.#protocol,
      target: this.#options.target,
      initialAck: this.#ack,
    });
    this.#dialog = ua;
    this.#clearTimers();
    const cancelled = this.#machine.is('cancelling');
    this.#machine.transition('answered');
    this.#host.dialogStarted(ua);
    if (cancelled) {
      // §9.1: the 2xx crossed our CANCEL: the call is up, so it is ACKed and hung up
      ua.bye({ cause: 'closed' }).catch(() => undefined);
      const failure: InviteFailure = { status: 487, reason: 'Request Terminated', headers: undefined, response: res, cause: this.#cancelCause };
      this.emit('failed', failure);
      this.#settle({ ok: false, failure });
      return;
    }
    this.emit('answered', ua, sdpOf(res), res);
    this.#settle({ ok: true, dialog: ua, sdp: sdpOf(res) });
  }

  /** §13.2.2.4: a 2xx retransmission gets the same ACK; a 2xx from another fork is ACKed and hung up */
  #extra2xx(request: SipRequest, res: SipResponse): void {
    if (this.#dialog !== undefined && res.toTag === this.#dialog.id.remoteTag) {
      if (this.#ack !== undefined) this.#host.sendAck(this.#ack, this.#options.target);
      return;
    }
    this.#ackAndBye(request, res);
  }

  #ackAndBye(request: SipRequest, res: SipResponse): void {
    const fork = Dialog.asUac(request, res, { random: () => this.#host.random() });
    if (fork === undefined) return;
    this.#host.sendAck(fork.createAck(request.cseq?.seq ?? this.#cseq), this.#options.target);
    this.#host.sendRequest(fork.createRequest('BYE'), { onFinal: () => undefined }, { target: this.#options.target });
  }

  #fail(status: number, reason: string, res: SipResponse | undefined, cause: FailureCause): void {
    if (this.#machine.is('answered', 'failed')) return;
    this.#clearTimers();
    for (const e of this.#early.values()) e.dialog.terminate();
    this.#early.clear();
    this.#machine.transition('failed');
    const failure: InviteFailure = { status, reason, headers: res?.headers, response: res, cause };
    this.emit('failed', failure);
    this.#settle({ ok: false, failure });
  }

  #clearTimers(): void {
    this.#timerC?.cancel();
    this.#timerC = undefined;
    this.#responseTimer?.cancel();
    this.#responseTimer = undefined;
    this.#cancelGuard?.cancel();
    this.#cancelGuard = undefined;
  }

  /** @internal service shutdown */
  close(): void {
    this.cancel();
    this.#clearTimers();
    if (this.#machine.is('cancelling')) this.#fail(487, 'Request Terminated', undefined, 'cancelled');
  }
}

function nameAddr(value: string): string {
  const v = value.trim();
  if (parseNameAddr(v) !== undefined && (v.includes('<') || !v.includes(';'))) return v.includes('<') ? v : `<${v}>`;
  return `<${v.replace(/^<|>$/g, '')}>`;
}

function transportOf(uri: SipUri): TransportProtocol | undefined {
  const t = uri.params.get('transport');
  if (typeof t !== 'string') return uri.scheme === 'sips' ? 'tls' : undefined;
  const lower = t.toLowerCase();
  return lower === 'udp' || lower === 'tcp' || lower === 'tls' || lower === 'ws' || lower === 'wss' ? lower : undefined;
}
