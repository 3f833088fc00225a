/**
 * A SIP dialog (RFC 3261 §12), sans I/O: it is created from messages, updated by the messages it
 * sees, and builds the requests to send; the transaction layer moves them. Top Via is not added
 * here: whoever sends knows the transport and branch (§8.1.1.7, §18.1.1).
 */
import { ClosedError, ConflictError, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { createRequest, formatNameAddr, formatUri, type NameAddr, type SipMessage, type SipRequest, type SipResponse, type SipUri } from '../message/index.js';
import { transition, type DialogState } from './dialog-state.js';

export interface DialogId {
  callId: string;
  localTag: string;
  remoteTag: string;
}

/** the key a DialogStore files a dialog under */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\n${id.localTag}\n${id.remoteTag}`;
}

export type DialogRole = 'uac' | 'uas';

export interface DialogOptions {
  /** the request went over TLS; with a sips Request-URI that makes the dialog secure (§12.1.1, §12.1.2) */
  secureTransport?: boolean;
  /** our Contact value (`<sip:...>`), sent in target refresh requests (§12.2.1.1, §8.1.1.8) */
  localContact?: string;
  /** first CSeq of a UAS dialog's own requests (§12.1.1 leaves it empty); random below 2^31 otherwise */
  initialLocalSeq?: number;
  /** source of randomness for CSeq and glare timers, [0, 1); tests pin it */
  random?: () => number;
}

/** What to do with an in-dialog request (§12.2.2, §14.2). */
export type RequestVerdict =
  | { accept: true }
  | { accept: false; status: 400 | 481 | 491 | 500; reason: string; headers: [string, string][] };

/** the methods whose Contact replaces the remote target (§12.2, RFC 3311 §5.2, RFC 6665 §4.1.1) */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY']);
/** methods that carry our Contact (target refreshes and REFER, RFC 3515 §2.4.1) */
const CARRIES_CONTACT = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

export interface InDialogRequestOptions {
  headers?: [string, string][];
  body?: Buffer;
  contentType?: string;
}

export class Dialog {
  readonly id: DialogId;
  readonly role: DialogRole;
  /** §12.1.1: sips Request-URI over TLS */
  readonly secure: boolean;
  #state: DialogState;
  #localSeq: number | undefined;
  #remoteSeq: number | undefined;
  /** From (UAC) or To (UAS) value, with our tag */
  readonly localUri: string;
  /** To (UAC) or From (UAS) value, with the remote tag */
  readonly remoteUri: string;
  #remoteTarget: SipUri;
  #routeSet: NameAddr[];
  #localContact: string | undefined;
  readonly #initialInviteSeq: number | undefined;
  /** CSeq of the INVITE we sent and whose final response has not arrived (§14.1) */
  #localInviteSeq: number | undefined;
  /** CSeq of the INVITE we received and have not answered finally (§14.2) */
  #remoteInviteSeq: number | undefined;
  readonly #random: () => number;
  #glareTimer: TimerHandle | undefined;
  readonly #terminatedListeners: Array<(d: Dialog) => void> = [];

  private constructor(init: {
    id: DialogId;
    role: DialogRole;
    state: DialogState;
    secure: boolean;
    localUri: string;
    remoteUri: string;
    remoteTarget: SipUri;
    routeSet: NameAddr[];
    localSeq: number | undefined;
    remoteSeq: number | undefined;
    initialInviteSeq: number | undefined;
    options: DialogOptions;
  }) {
    this.id = init.id;
    this.role = init.role;
    this.#state = init.state;
    this.secure = init.secure;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.#remoteTarget = init.remoteTarget;
    this.#routeSet = init.routeSet;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
    this.#initialInviteSeq = init.initialInviteSeq;
    this.#localContact = init.options.localContact;
    this.#random = init.options.random ?? Math.random;
  }

  /**
   * UAS side (§12.1.1): from the request and the 101–299 response with a To tag that we send.
   * Undefined when the pair cannot make a dialog (no Contact, no tag, no Call-ID or CSeq).
   */
  static asUas(req: SipRequest, res: SipResponse, options: DialogOptions = {}): Dialog | undefined {
    const callId = req.callId;
    const localTag = res.toTag;
    const cseq = req.cseq;
    const target = firstContactUri(req);
    const localUri = res.headers.get('To');
    const remoteUri = req.headers.get('From');
    if (callId === undefined || localTag === undefined || cseq === undefined || target === undefined) return undefined;
    if (localUri === undefined || remoteUri === undefined || res.status <= 100 || res.status >= 300) return undefined;
    const early = res.status < 200;
    const dialog = new Dialog({
      // a From without tag (RFC 2543 peer) counts as a null tag (§12.1.1)
      id: { callId, localTag, remoteTag: req.fromTag ?? '' },
      role: 'uas',
      state: early ? 'early' : 'confirmed',
      secure: options.secureTransport === true && req.uri.scheme === 'sips',
      localUri,
      remoteUri,
      remoteTarget: target,
      routeSet: [...req.recordRoutes],
      localSeq: options.initialLocalSeq,
      remoteSeq: cseq.seq,
      initialInviteSeq: req.method === 'INVITE' ? cseq.seq : undefined,
      options,
    });
    if (early && req.method === 'INVITE') dialog.#remoteInviteSeq = cseq.seq;
    return dialog;
  }

  /**
   * UAC side (§12.1.2): from the request we sent and a 101–299 response carrying a To tag. A
   * provisional response without Contact keeps the Request-URI as target until the 2xx.
   */
  static asUac(req: SipRequest, res: SipResponse, options: DialogOptions = {}): Dialog | undefined {
    const callId = req.callId;
    const localTag = req.fromTag;
    const remoteTag = res.toTag;
    const cseq = req.cseq;
    const localUri = req.headers.get('From');
    const remoteUri = res.headers.get('To');
    if (callId === undefined || localTag === undefined || remoteTag === undefined || cseq === undefined) return undefined;
    if (localUri === undefined || remoteUri === undefined || res.status <= 100 || res.status >= 300) return undefined;
    const early = res.status < 200;
    const target = firstContactUri(res) ?? (early ? req.uri : undefined);
    if (target === undefined) return undefined;
    const dialog = new Dialog({
      id: { callId, localTag, remoteTag },
      role: 'uac',
      state: early ? 'early' : 'confirmed',
      secure: options.secureTransport === true && req.uri.scheme === 'sips',
      localUri,
      remoteUri,
      remoteTarget: target,
      // §12.1.2: the route set is the Record-Route of the response, in reverse order
      routeSet: [...res.recordRoutes].reverse(),
      localSeq: cseq.seq,
      remoteSeq: undefined,
      initialInviteSeq: req.method === 'INVITE' ? cseq.seq : undefined,
      options: { ...options, localContact: options.localContact ?? req.headers.get('Contact') ?? '' },
    });
    if (dialog.#localContact === '') dialog.#localContact = undefined;
    if (early && req.method === 'INVITE') dialog.#localInviteSeq = cseq.seq;
    return dialog;
  }

  get state(): DialogState {
    return this.#state;
  }
  get localSeq(): number | undefined {
    return this.#localSeq;
  }
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }
  get remoteTarget(): SipUri {
    return this.#remoteTarget;
  }
  get routeSet(): readonly NameAddr[] {
    return this.#routeSet;
  }
  /** whoever sent the initial request generated the Call-ID (§14.1 glare timers) */
  get ownsCallId(): boolean {
    return this.role === 'uac';
  }
  /** §14.1: no new INVITE while another INVITE transaction is in progress in either direction */
  get canSendInvite(): boolean {
    return this.#localInviteSeq === undefined && this.#remoteInviteSeq === undefined && this.#state !== 'terminated';
  }

  set localContact(value: string | undefined) {
    this.#localContact = value;
  }

  /** Checks an incoming in-dialog request and updates the dialog (§12.2.2, §14.2). */
  receiveRequest(req: SipRequest): RequestVerdict {
    if (this.#state === 'terminated') return reject(481, 'Call/Transaction Does Not Exist');
    // ACK and CANCEL reuse the CSeq number of the INVITE (§13.2.2.4, §9.1): no ordering check
    if (req.method === 'ACK' || req.method === 'CANCEL') return { accept: true };
    const cseq = req.cseq;
    if (cseq === undefined) return reject(400, 'Bad CSeq');
    // §12.2.2: lower than the remote sequence number means out of order
    if (this.#remoteSeq !== undefined && cseq.seq < this.#remoteSeq) return reject(500, 'Server Internal Error');
    this.#remoteSeq = cseq.seq;
    if (req.method === 'INVITE') {
      // §14.2: our own INVITE is still pending: glare
      if (this.#localInviteSeq !== undefined) return reject(491, 'Request Pending');
      // §14.2: a second INVITE before we answered the first: 500 with Retry-After 0–10 s
      if (this.#remoteInviteSeq !== undefined && cseq.seq > this.#remoteInviteSeq) {
        return reject(500, 'Server Internal Error', [['Retry-After', String(Math.floor(this.#random() * 11))]]);
      }
      this.#remoteInviteSeq = cseq.seq;
    }
    if (TARGET_REFRESH.has(req.method)) {
      const target = firstContactUri(req);
      if (target !== undefined) this.#remoteTarget = target;
    }
    return { accept: true };
  }

  /** Tell the dialog about a response we send to an in-dialog request (or to the initial INVITE). */
  responseSent(res: SipResponse): void {
    const cseq = res.cseq;
    if (cseq === undefined || res.status < 200 || this.#state === 'terminated') return;
    if (cseq.method === 'INVITE' && cseq.seq === this.#remoteInviteSeq) this.#remoteInviteSeq = undefined;
    const ok = res.status < 300;
    if (this.#state === 'early' && cseq.method === 'INVITE' && cseq.seq === this.#initialInviteSeq) {
      // §13.3.1.4 confirms with the 2xx; §12.3 a non-2xx final ends the early dialog
      this.#setState(ok ? 'confirmed' : 'terminated');
      return;
    }
    if (cseq.method === 'BYE' && ok) this.#setState('terminated'); // §15.1.2
  }

  /** A response to a request this dialog sent (§12.2.1.2, §13.2.2.4). */
  receiveResponse(res: SipResponse): void {
    const cseq = res.cseq;
    if (cseq === undefined || res.status < 200 || this.#state === 'terminated') return;
    if (cseq.method === 'INVITE' && cseq.seq === this.#localInviteSeq) this.#localInviteSeq = undefined;
    const initial = cseq.method === 'INVITE' && cseq.seq === this.#initialInviteSeq;
    if (res.status < 300) {
      if (this.#state === 'early' && initial) {
        // §13.2.2.4: recompute the route set and target from the 2xx, then confirm
        this.#routeSet = [...res.recordRoutes].reverse();
        this.#remoteTarget = firstContactUri(res) ?? this.#remoteTarget;
        this.#setState('confirmed');
      } else if (TARGET_REFRESH.has(cseq.method)) {
        this.#remoteTarget = firstContactUri(res) ?? this.#remoteTarget; // §12.2.1.2
      }
      return;
    }
    if (this.#state === 'early' && initial) this.#setState('terminated'); // §12.3
    else if (res.status === 481 || res.status === 408) this.#setState('terminated'); // §12.2.1.2
  }

  /**
   * A request inside the dialog (§12.2.1.1). Throws ClosedError on a terminated dialog and
   * ConflictError for an INVITE while another INVITE is in progress (§14.1): caller errors.
   * Sending BYE ends the dialog at once (§15.1.1).
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (this.#state === 'terminated') throw new ClosedError(`dialog ${this.id.callId} is terminated`);
    if (method === 'ACK' || method === 'CANCEL') throw new ConflictError(`${method} is not built with createRequest (use createAck / the INVITE transaction)`);
    if (method === 'INVITE' && !this.canSendInvite) throw new ConflictError('an INVITE transaction is already in progress on this dialog (RFC 3261 §14.1)');
    // §12.2.1.1: local sequence number incremented by one; an empty one starts below 2^31 (§8.1.1.5)
    const seq = this.#localSeq === undefined ? 1 + Math.floor(this.#random() * 0x3fffffff) : this.#localSeq + 1;
    this.#localSeq = seq;
    if (method === 'INVITE') this.#localInviteSeq = seq;
    const req = this.#build(method, seq, options);
    if (method === 'BYE') this.#setState('terminated');
    return req;
  }

  /** ACK for a 2xx: same CSeq number as the INVITE, method ACK (§13.2.2.4), routed like any in-dialog request. */
  createAck(inviteSeq: number, options: InDialogRequestOptions = {}): SipRequest {
    return this.#build('ACK', inviteSeq, options);
  }

  /** §14.1: after a 491, the Call-ID owner waits 2.1–4 s, the other side 0–2 s, in 10 ms units. */
  glareRetryDelayMs(): number {
    return this.ownsCallId ? 2100 + 10 * Math.floor(this.#random() * 191) : 10 * Math.floor(this.#random() * 201);
  }

  /** Schedule `retry` after the §14.1 delay; cancelled by terminate(). Replaces a pending retry. */
  scheduleGlareRetry(scheduler: Scheduler, retry: () => void): TimerHandle {
    this.#glareTimer?.cancel();
    const handle = scheduler.setTimeout(() => {
      this.#glareTimer = undefined;
      if (this.#state !== 'terminated') retry();
    }, this.glareRetryDelayMs());
    this.#glareTimer = handle;
    return handle;
  }

  onTerminated(listener: (d: Dialog) => void): void {
    this.#terminatedListeners.push(listener);
  }

  /** idempotent */
  terminate(): void {
    if (this.#state !== 'terminated') this.#setState('terminated');
  }

  #setState(to: DialogState): void {
    this.#state = transition(this.#state, to);
    if (to !== 'terminated') return;
    this.#glareTimer?.cancel();
    this.#glareTimer = undefined;
    for (const listener of this.#terminatedListeners.splice(0)) {
      try {
        listener(this);
      } catch {
        // a listener that throws must not break the dialog (STYLE.md §6)
      }
    }
  }

  #build(method: string, seq: number, options: InDialogRequestOptions): SipRequest {
    const headers: [string, string][] = [];
    const { requestUri, routes } = this.#routing();
    for (const r of routes) headers.push(['Route', r]);
    headers.push(['Max-Forwards', '70']);
    headers.push(['From', this.localUri]);
    headers.push(['To', this.remoteUri]);
    headers.push(['Call-ID', this.id.callId]);
    headers.push(['CSeq', `${seq} ${method}`]);
    if (CARRIES_CONTACT.has(method) && this.#localContact !== undefined) headers.push(['Contact', this.#localContact]);
    if (options.headers !== undefined) headers.push(...options.headers);
    if (options.contentType !== undefined) headers.push(['Content-Type', options.contentType]);
    return createRequest({ method, uri: requestUri, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  }

  /** §12.2.1.1: loose routing keeps the target in the Request-URI; a strict first hop takes its place. */
  #routing(): { requestUri: SipUri; routes: string[] } {
    const first = this.#routeSet[0];
    if (first === undefined) return { requestUri: requestUriFrom(this.#remoteTarget), routes: [] };
    if (first.uri.params.has('lr')) return { requestUri: requestUriFrom(this.#remoteTarget), routes: this.#routeSet.map(formatNameAddr) };
    const rest = this.#routeSet.slice(1).map(formatNameAddr);
    rest.push(`<${formatUri(this.#remoteTarget)}>`);
    return { requestUri: requestUriFrom(first.uri), routes: rest };
  }
}

function reject(status: 400 | 481 | 491 | 500, reason: string, headers: [string, string][] = []): RequestVerdict {
  return { accept: false, status, reason, headers };
}

function firstContactUri(msg: SipMessage): SipUri | undefined {
  const c = msg.contacts[0];
  return c === undefined || c === '*' ? undefined : c.uri;
}

/** Strip what a Request-URI may not carry (§19.1.1 table: `method` parameter, headers; §12.2.1.1). */
function requestUriFrom(uri: SipUri): SipUri {
  const params = new Map(uri.params);
  params.delete('method');
  return { ...uri, params, headers: new Map() };
}
