/**
 * The user-agent service: opencx as UAS and UAC (RFC 3261 §8, §12-§15) for the B2BUA. New
 * out-of-dialog INVITEs the owner claims become IncomingInvites; ua.invite() sends
 * OutgoingInvites; both end up as UaDialogs, which this service files by dialog id and feeds
 * with in-dialog requests, ACKs, CANCELs and 2xx retransmissions.
 *
 * In-dialog requests of our dialogs are claimed through `forwards()`: the server core's UAS
 * checks (§8.2) accept only application/sdp bodies, but a dialog takes message/sipfrag NOTIFYs
 * and DTMF INFOs too, and it applies the §12.2.2 checks itself.
 */
import { isIP } from 'node:net';
import { ClosedError, TypedEmitter, UnavailableError, newBranch, newTag, silentLogger, type Logger, type Scheduler } from '../../lib/index.js';
import { dialogKey, type DialogId } from '../dialog/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';
import { CachingResolver, defaultPort, systemResolver, type HostResolver } from '../proxy/index.js';
import type { Responder, SipCore, SipService } from '../server/index.js';
import type { ReceiveContext } from '../transaction/index.js';
import { VIA_TRANSPORT, type OutboundTarget, type TransportProtocol } from '../transport/index.js';
import { IncomingInvite } from './incoming-invite.js';
import { OutgoingInvite, type InviteOptions } from './outgoing-invite.js';
import { negotiateAsUas } from './session-timer.js';
import type { UaDialog } from './ua-dialog.js';
import type { ClientHandlers, OutboundRequest, SendOptions, SessionTimerSettings, UaHost } from './ua-host.js';
import { parseReplaces, type ReplacesTarget } from './ua-messages.js';

export interface UserAgentServiceOptions {
  /** which new out-of-dialog INVITEs this service answers; default all (first in the chain wins) */
  accepts?: (request: SipRequest, ctx: ReceiveContext) => boolean;
  /** new INVITEs to take ahead of a proxy in the same chain (SipService.claims); default none */
  claims?: (request: SipRequest) => boolean;
  /** called with each INVITE this service owns (also emitted as 'invite'); nobody listening -> 480 */
  onInvite?: (call: IncomingInvite) => void;
  /** RFC 4028 defaults; absent: no session timer unless the peer asks for one */
  sessionTimer?: SessionTimerSettings;
  /** A/AAAA lookup for next hops; default node:dns */
  resolver?: HostResolver;
  /** user part of our Contact */
  contactUser?: string;
  logger?: Logger;
  /** how long close() waits for the answers to its BYEs; default 2000 ms */
  closeGraceMs?: number;
  /** randomness for tags' companions: CSeq, RSeq, glare timers; tests pin it */
  random?: () => number;
}

export interface UserAgentServiceEvents {
  invite: [call: IncomingInvite];
  /** a dialog was established (either side) */
  dialog: [dialog: UaDialog];
  dialogEnded: [dialog: UaDialog];
}
type Events = { [K in keyof UserAgentServiceEvents]: UserAgentServiceEvents[K] };

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'PRACK', 'UPDATE', 'INFO', 'REFER', 'NOTIFY'] as const;
const EXTENSIONS = ['100rel', 'timer', 'replaces'] as const;

export class UserAgentService extends TypedEmitter<Events> implements SipService, UaHost {
  readonly name = 'user-agent';
  readonly methods = METHODS;
  readonly extensions = EXTENSIONS;
  readonly allow = [...METHODS, 'OPTIONS'].join(', ');
  readonly supported = EXTENSIONS.join(', ');
  readonly sessionTimer: SessionTimerSettings | undefined;
  logger: Logger;
  #core: SipCore | undefined;
  #resolver: CachingResolver | undefined;
  readonly #options: UserAgentServiceOptions;
  readonly #dialogs = new Map<string, UaDialog>();
  readonly #incomingByKey = new Map<string, IncomingInvite>();
  readonly #incomingByTxn = new Map<Responder, IncomingInvite>();
  readonly #outgoing = new Set<OutgoingInvite>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: UserAgentServiceOptions = {}) {
    const logger = options.logger ?? silentLogger;
    super((err, event) => logger.error({ err, event }, 'UserAgentService listener threw'));
    this.#options = options;
    this.logger = options.logger ?? silentLogger;
    this.sessionTimer = options.sessionTimer;
  }

  attach(core: SipCore): void {
    this.#core = core;
    if (this.#options.logger === undefined) this.logger = core.logger;
    this.#resolver = new CachingResolver(this.#options.resolver ?? systemResolver, core.scheduler);
  }

  // ---- lookups for the B2BUA ----

  /** live dialogs (tests assert this returns to zero) */
  get dialogCount(): number {
    return this.#dialogs.size;
  }

  /** INVITEs in progress, either direction */
  get pendingInviteCount(): number {
    return this.#incomingByKey.size + this.#outgoing.size;
  }

  findDialog(id: DialogId): UaDialog | undefined {
    return this.#dialogs.get(dialogKey(id));
  }

  dialogsOfCall(callId: string): UaDialog[] {
    return [...this.#dialogs.values()].filter((d) => d.callId === callId);
  }

  /**
   * RFC 3891 §3: the dialog a Replaces header names: to-tag is our local tag, from-tag the
   * remote one. An early-only Replaces matches nothing confirmed.
   */
  findByReplaces(replaces: string | ReplacesTarget): UaDialog | IncomingInvite | undefined {
    const r = typeof replaces === 'string' ? parseReplaces(replaces) : replaces;
    if (r === undefined) return undefined;
    const key = dialogKey({ callId: r.callId, localTag: r.toTag, remoteTag: r.fromTag });
    const incoming = this.#incomingByKey.get(key);
    if (incoming !== undefined) return incoming;
    return r.earlyOnly ? undefined : this.#dialogs.get(key);
  }

  dialogs(): IterableIterator<UaDialog> {
    return this.#dialogs.values();
  }

  // ---- UAC ----

  /** Send an initial INVITE; listen on the result's events or await its `done`. */
  invite(options: InviteOptions): OutgoingInvite {
    if (this.#closed || this.#core === undefined) throw new ClosedError('user agent is not attached or is closed');
    const call = new OutgoingInvite(this, options);
    this.#outgoing.add(call);
    call.done.then(() => this.#outgoing.delete(call)).catch(() => undefined);
    call.start();
    return call;
  }

  // ---- SipService ----

  forwards(req: SipRequest): boolean {
    if (this.#closed || req.toTag === undefined) return false;
    const key = keyOfRequest(req);
    return key !== undefined && (this.#dialogs.has(key) || this.#incomingByKey.has(key));
  }

  /** a new INVITE this service will answer as UAS, ahead of a proxy later in the chain */
  claims(req: SipRequest): boolean {
    if (this.#closed || req.toTag !== undefined || req.method !== 'INVITE') return false;
    return this.#options.claims?.(req) ?? false;
  }

  handleRequest(req: SipRequest, responder: Responder, ctx: ReceiveContext): boolean {
    if (this.#core === undefined || this.#closed || req.method === 'ACK') return false;
    if (req.toTag !== undefined) return this.#inDialog(req, responder);
    if (req.method !== 'INVITE') return false;
    if (this.#options.accepts !== undefined && !this.#options.accepts(req, ctx)) return false;
    // RFC 4028 §9: an interval below our Min-SE is refused before anybody sees the call
    const negotiated = negotiateAsUas(req, this.sessionTimer);
    if ('reject' in negotiated) {
      responder.respond(createResponse(req, 422, undefined, { toTag: newTag(), headers: [['Min-SE', String(negotiated.reject)]] }));
      return true;
    }
    const call = new IncomingInvite(this, req, responder, ctx, (c) => this.#forgetIncoming(c, responder));
    this.#incomingByKey.set(dialogKey(call.id), call);
    this.#incomingByTxn.set(responder, call);
    const listened = this.listenerCount('invite') > 0 || this.#options.onInvite !== undefined;
    this.emit('invite', call);
    try {
      this.#options.onInvite?.(call);
    } catch (err) {
      this.logger.error({ err }, 'onInvite threw');
    }
    if (!listened) call.reject(480);
    return true;
  }

  handleCancel(cancel: SipRequest, txn: Responder, invite: Responder | undefined): boolean {
    const call = invite === undefined ? undefined : this.#incomingByTxn.get(invite);
    if (call === undefined) return false;
    // §9.2: 200 to the CANCEL; the INVITE gets 487 if still unanswered
    txn.respond(createResponse(cancel, 200));
    call.receiveCancel(cancel);
    return true;
  }

  handleAck(ack: SipRequest): boolean {
    const key = keyOfRequest(ack);
    if (key === undefined) return false;
    const incoming = this.#incomingByKey.get(key);
    if (incoming !== undefined) {
      incoming.receiveAck(ack);
      return true;
    }
    const dialog = this.#dialogs.get(key);
    if (dialog === undefined) return false;
    dialog.handleAck(ack);
    return true;
  }

  /** a 2xx retransmission after the INVITE client transaction ended (§13.2.2.4): ACK it again */
  handleStrayResponse(response: SipResponse): boolean {
    if (response.cseq?.method !== 'INVITE' || response.status < 200 || response.status >= 300) return false;
    const { callId, fromTag, toTag } = response;
    if (callId === undefined || fromTag === undefined || toTag === undefined) return false;
    const dialog = this.#dialogs.get(dialogKey({ callId, localTag: fromTag, remoteTag: toTag }));
    if (dialog === undefined) return false;
    dialog.handleRetransmitted2xx(response);
    return true;
  }

  /**
   * Ends everything: pending INVITEs answered 503 or cancelled, dialogs hung up with BYE. Resolves
   * when every BYE has been answered, or after `closeGraceMs` (default 2 s) at the latest, so a
   * server shutdown still has its transactions while the BYEs go out. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const call of [...this.#incomingByKey.values()]) call.close();
    for (const call of [...this.#outgoing]) call.close();
    const byes = [...this.#dialogs.values()].map((d) => d.close());
    this.#incomingByKey.clear();
    this.#incomingByTxn.clear();
    this.#outgoing.clear();
    this.#dialogs.clear();
    if (byes.length === 0 || this.#core === undefined) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    const scheduler = this.#core.scheduler;
    this.#closing = new Promise<void>((resolve) => {
      const timer = scheduler.setTimeout(resolve, this.#options.closeGraceMs ?? 2000);
      void Promise.allSettled(byes).then(() => {
        timer.cancel();
        resolve();
      });
    });
    return this.#closing;
  }

  // ---- UaHost ----

  get scheduler(): Scheduler {
    return this.#requireCore().scheduler;
  }
  get t1(): number {
    return this.#requireCore().transactions.timers.t1;
  }
  get t2(): number {
    return this.#requireCore().transactions.timers.t2;
  }

  random(): number {
    return (this.#options.random ?? Math.random)();
  }

  contactFor(protocol: TransportProtocol): string {
    const core = this.#requireCore();
    const local = core.localAddress(protocol, 4) ?? core.localAddress(protocol, 6);
    if (local === undefined) throw new UnavailableError(`no ${protocol} listener for a Contact`);
    const user = this.#options.contactUser === undefined ? '' : this.#options.contactUser + '@';
    const scheme = protocol === 'tls' || protocol === 'wss' ? 'sips' : 'sip';
    const transport = protocol === 'udp' ? '' : `;transport=${protocol}`;
    return `<${scheme}:${user}${core.advertisedHost(local)}:${String(local.port)}${transport}>`;
  }

  sendRequest(request: SipRequest, handlers: ClientHandlers, options: SendOptions = {}): OutboundRequest {
    const out: { request: SipRequest; target: OutboundTarget | undefined; ready: Promise<void> } = { request, target: undefined, ready: Promise.resolve() };
    let final = false;
    const finish = (res: SipResponse, local?: 'timeout' | 'transport'): void => {
      if (final) return;
      final = true;
      handlers.onFinal(res, local);
    };
    out.ready = this.#targetFor(request, options).then((target) => {
      out.target = target;
      if (options.keepVia !== true) this.#stampVia(request, target);
      this.#requireCore().transactions.createClientTransaction(request, target, {
        onResponse: (res) => {
          if (res.status < 200) {
            if (!final) handlers.onProvisional?.(res);
          } else if (!final) finish(res);
          else if (res.status < 300) handlers.onExtra2xx?.(res);
        },
        // §8.1.3.1: Timer B/F is a 408, a transport failure a 503
        onTimeout: () => finish(createResponse(request, 408), 'timeout'),
        onTransportError: () => finish(createResponse(request, 503), 'transport'),
      });
    });
    out.ready.catch((err: unknown) => {
      this.logger.debug({ err, method: request.method }, 'UA request not sent');
      finish(createResponse(request, 503), 'transport');
    });
    return out;
  }

  sendAck(ack: SipRequest, target?: OutboundTarget): void {
    this.#targetFor(ack, { target })
      .then((t) => {
        // §13.2.2.4: the ACK for a 2xx is its own transaction as far as Via goes: a new branch
        if (ack.topVia === undefined) this.#stampVia(ack, t);
        return this.#requireCore().send(ack, t);
      })
      .catch((err: unknown) => this.logger.debug({ err }, 'ACK not sent'));
  }

  dialogStarted(dialog: UaDialog): void {
    if (dialog.ended) return;
    this.#dialogs.set(dialogKey(dialog.id), dialog);
    this.emit('dialog', dialog);
  }

  dialogEnded(dialog: UaDialog): void {
    const key = dialogKey(dialog.id);
    if (this.#dialogs.get(key) !== dialog) return;
    this.#dialogs.delete(key);
    this.emit('dialogEnded', dialog);
  }

  // ---- internals ----

  #inDialog(req: SipRequest, responder: Responder): boolean {
    const key = keyOfRequest(req);
    if (key === undefined) return false;
    const dialog = this.#dialogs.get(key);
    if (dialog !== undefined) {
      dialog.handleRequest(req, responder);
      return true;
    }
    const incoming = this.#incomingByKey.get(key);
    if (incoming === undefined) return false;
    if (req.method === 'PRACK') incoming.receivePrack(req, responder);
    else if (incoming.state === 'accepted') {
      // the peer got our 2xx even if its ACK was lost (a BYE racing the ACK): the dialog is up
      incoming.receiveAck(req);
      const confirmed = this.#dialogs.get(key);
      if (confirmed !== undefined) confirmed.handleRequest(req, responder);
      else responder.respond(createResponse(req, 481));
    } else if (req.method === 'BYE' && incoming.pending) {
      // §15: BYE in an early dialog: 200 to it, 487 to the INVITE
      responder.respond(createResponse(req, 200));
      incoming.receiveCancel(req);
    } else responder.respond(createResponse(req, 481));
    return true;
  }

  #forgetIncoming(call: IncomingInvite, responder: Responder): void {
    const key = dialogKey(call.id);
    if (this.#incomingByKey.get(key) === call) this.#incomingByKey.delete(key);
    if (this.#incomingByTxn.get(responder) === call) this.#incomingByTxn.delete(responder);
  }

  /** §8.1.2 / §18.1.1: the override, else the first Route, else the Request-URI */
  async #targetFor(request: SipRequest, options: SendOptions): Promise<OutboundTarget> {
    if (options.target !== undefined) return options.target;
    const resolver = this.#resolver;
    if (resolver === undefined) throw new ClosedError('user agent is not attached');
    const uri = request.routes[0]?.uri ?? request.uri;
    const target = await resolver.targetFor(uri);
    if (options.protocol !== undefined && !uri.params.has('transport') && uri.scheme !== 'sips') {
      return { protocol: options.protocol, address: target.address, port: uri.port ?? defaultPort(options.protocol) };
    }
    return target;
  }

  /** §8.1.1.7 / §18.1.1: our Via with a fresh branch and rport (RFC 3581) */
  #stampVia(request: SipRequest, target: OutboundTarget): void {
    const core = this.#requireCore();
    const family = isIP(target.address) === 6 ? 6 : 4;
    const local = core.localAddress(target.protocol, family) ?? core.localAddress(target.protocol, family === 4 ? 6 : 4);
    if (local === undefined) throw new UnavailableError(`no ${target.protocol} listener to send from`);
    request.headers.prepend('Via', `SIP/2.0/${VIA_TRANSPORT[target.protocol]} ${core.advertisedHost(local)}:${String(local.port)};branch=${newBranch()};rport`);
  }

  #requireCore(): SipCore {
    if (this.#core === undefined) throw new ClosedError('user agent is not attached to a SIP server');
    return this.#core;
  }
}

/** §12.2.2: an incoming request names its dialog as (Call-ID, To tag = ours, From tag = theirs) */
function keyOfRequest(req: SipRequest): string | undefined {
  const callId = req.callId;
  const localTag = req.toTag;
  if (callId === undefined || localTag === undefined) return undefined;
  return dialogKey({ callId, localTag, remoteTag: req.fromTag ?? '' });
}
