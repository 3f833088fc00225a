import type { Logger, Scheduler } from '../../lib/index.js';
import { describeError, randomToken, silentLogger } from '../../lib/index.js';
import type { SipMetrics } from '../../platform/index.js';
import { checkUasRequest } from '../dialog/index.js';
import { createResponse, parseMessage, serializeMessageText, type SipMessage, type SipRequest, type SipResponse } from '../message/index.js';
import {
  responseTarget,
  TransactionLayer,
  type InviteServerTransaction,
  type NonInviteServerTransaction,
  type ReceiveContext,
  type TimerSettings,
} from '../transaction/index.js';
import { TransportManager, type InboundPacket, type ListenerConfig, type OutboundTarget, type TransportAddress, type TransportProtocol } from '../transport/index.js';
import { OptionsService } from './options-service.js';
import type { Responder, SipCore, SipService } from './sip-service.js';
import { statelessErrorResponse } from './stateless-reply.js';
import { stampVia } from './via-stamp.js';

export interface SipServerOptions {
  listeners: ListenerConfig[];
  scheduler: Scheduler;
  logger?: Logger;
  metrics?: SipMetrics | undefined;
  timers?: Partial<TimerSettings>;
  maxMessageSize?: number;
  idleTimeoutMs?: number;
  maxConnectionsPerSource?: number;
  /** answer to the source port even without `rport` (see stampVia) */
  forceRport?: boolean;
  /** Server / User-Agent header value */
  userAgent?: string;
  /** services offered each request in order, after the built-in OPTIONS service */
  services?: SipService[];
  /** several workers share the UDP socket: sends stateful traffic to the worker that owns it */
  affinity?: PacketAffinity | undefined;
  /** host advertised in Via/Record-Route/Contact instead of the bound address (NAT, 0.0.0.0) */
  advertisedHost?: string | undefined;
  /** stable id of this node (flows, RFC 5626); random by default */
  nodeId?: string | undefined;
}

/**
 * When the SIP role runs as several processes sharing one UDP socket, the kernel hands each
 * datagram to whichever process wakes first, but a transaction's retransmissions must meet the
 * transaction. `forward` returns true when the message belongs to another worker and has been
 * passed to it (the owner handles it as if it had received it itself).
 */
export interface PacketAffinity {
  forward(message: SipMessage, packet: InboundPacket): boolean;
  /**
   * The same decision from the raw bytes, before they are parsed (a message passed on is parsed
   * by its owner only). Offered only datagrams that no service may answer statelessly; false when
   * the bytes do not tell (the parsed message then goes to `forward`).
   */
  forwardRaw?(packet: InboundPacket): boolean;
}

/** Media types the server takes in a body. */
const ACCEPTED_CONTENT_TYPES = ['application/sdp'];

/** Request-URI schemes the server serves (RFC 3261 §8.2.2.1; tel per RFC 3966) */
const SUPPORTED_SCHEMES: readonly string[] = ['sip', 'sips', 'tel'];

/**
 * The SIP role's core: transports in, parser, Via stamping, transaction layer, UAS checks
 * (RFC 3261 §8.2), then the chain of services. Bad input never leaves this class as an
 * exception: a request the parser refuses gets a stateless 400/505 when it can be addressed,
 * everything else is counted and dropped.
 */
export class SipServer {
  private transports: TransportManager | undefined;
  private readonly transactions: TransactionLayer;
  private readonly services: SipService[];
  private readonly logger: Logger;
  private readonly metrics: SipMetrics | undefined;
  private readonly userAgent: string;
  private readonly maxMessageSize: number;
  private allow: string[] = [];
  private supported: string[] = [];
  /** methods some service answers statelessly outside dialogs (RFC 3261 §8.2.7) */
  private statelessMethods = new Map<string, SipService>();
  private closed = false;

  constructor(private readonly options: SipServerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics;
    this.userAgent = options.userAgent ?? 'opencx';
    this.maxMessageSize = options.maxMessageSize ?? 65535;
    const capabilities = () => ({ allow: this.allow, supported: this.supported, accept: ACCEPTED_CONTENT_TYPES });
    this.services = [new OptionsService(capabilities)];
    this.refreshCapabilities();
    this.nodeId = options.nodeId ?? randomToken(6);
    this.transactions = new TransactionLayer({
      scheduler: options.scheduler,
      logger: this.logger,
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      send: (message, target) => this.send(message, target),
      delegate: {
        onRequest: (req, txn, ctx) => this.onRequest(req, txn, ctx),
        onCancel: (cancel, txn, invite, ctx) => this.onCancel(cancel, txn, invite, ctx),
        onAck: (ack, ctx) => this.offer((s) => s.handleAck?.(ack, ctx) === true),
        onStrayResponse: (response, ctx) => this.offer((s) => s.handleStrayResponse?.(response, ctx) === true),
      },
    });
    this.metrics?.setActiveTransactionsSource(() => this.transactions.activeCount);
    this.core = {
      transactions: this.transactions,
      scheduler: options.scheduler,
      logger: this.logger,
      nodeId: this.nodeId,
      send: (message, target) => this.send(message, target),
      localAddress: (protocol, family) => this.localAddress(protocol, family),
      advertisedHost: (local) => options.advertisedHost ?? (local.address.includes(':') ? `[${local.address}]` : local.address),
    };
    for (const service of options.services ?? []) this.use(service);
  }

  readonly nodeId: string;

  /** What services get to originate traffic (see SipCore). */
  readonly core: SipCore;

  private localAddress(protocol: TransportProtocol, family: 4 | 6): TransportAddress | undefined {
    return this.listeners().find((l) => l.protocol === protocol && l.address.includes(':') === (family === 6));
  }

  /** offer something to the services in order until one takes it */
  private offer(take: (s: SipService) => boolean): void {
    for (const s of this.services) {
      try {
        if (take(s)) return;
      } catch (err) {
        this.logger.error({ err: describeError(err), service: s.name }, 'SIP service failed');
      }
    }
  }

  /** Bind every listener; resolves with the addresses actually bound (port 0 resolved). */
  async start(): Promise<TransportAddress[]> {
    this.transports = await TransportManager.start({
      listeners: this.options.listeners,
      scheduler: this.options.scheduler,
      logger: this.logger,
      limits: {
        maxMessageSize: this.maxMessageSize,
        ...(this.options.idleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
        ...(this.options.maxConnectionsPerSource !== undefined ? { maxConnectionsPerIp: this.options.maxConnectionsPerSource } : {}),
        framingErrorGraceMs: 300,
      },
      onPacket: (packet) => this.onPacket(packet),
    });
    this.transports.on('error', (err) => this.logger.warn({ err: describeError(err) }, 'SIP transport error'));
    return this.transports.listeners();
  }

  get activeTransactions(): number {
    return this.transactions.activeCount;
  }

  listeners(): TransportAddress[] {
    return this.transports?.listeners() ?? [];
  }

  /** Add a service at the end of the chain (registrar, proxy...). */
  use(service: SipService): void {
    this.services.push(service);
    service.attach?.(this.core);
    this.refreshCapabilities();
  }

  /**
   * Graceful stop: stop accepting connections, let open transactions finish until the deadline,
   * then close every socket and timer. Idempotent.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.transports?.stopAccepting();
    await this.transactions.drain(graceMs);
    for (const s of this.services) {
      try {
        await s.close?.();
      } catch (err) {
        this.logger.warn({ err: describeError(err), service: s.name }, 'error closing a SIP service');
      }
    }
    this.transactions.close();
    await this.transports?.close();
  }

  private refreshCapabilities(): void {
    const methods = new Set<string>(['ACK', 'CANCEL']);
    const extensions = new Set<string>();
    const stateless = new Map<string, SipService>();
    for (const s of this.services) {
      for (const m of s.methods) methods.add(m);
      for (const e of s.extensions ?? []) extensions.add(e);
      for (const m of s.statelessMethods ?? []) if (!stateless.has(m)) stateless.set(m, s);
    }
    this.statelessMethods = stateless;
    this.allow = [...methods];
    this.supported = [...extensions];
  }

  private send(message: SipMessage, target: OutboundTarget): Promise<void> {
    const transports = this.transports;
    if (transports === undefined) return Promise.reject(new Error('SIP transports are not started'));
    const transport = target.protocol;
    if (message.kind === 'request') {
      this.metrics?.request(message.method, transport, 'out');
    } else {
      this.metrics?.response(message.status, message.cseq?.method ?? 'UNKNOWN', transport, 'out');
      if (!message.headers.has('Server')) message.headers.append('Server', this.userAgent);
    }
    return transports.send(target, serializeMessageText(message));
  }

  /** A packet another worker received for us (see PacketAffinity): handled here, never forwarded. */
  injectPacket(packet: InboundPacket): void {
    this.onPacket(packet, true);
  }

  private onPacket(packet: InboundPacket, forwarded = false): void {
    try {
      this.handlePacket(packet, forwarded);
    } catch (err) {
      // A bug must not take the server down with it: log and carry on with the next packet.
      this.logger.error({ err: describeError(err), source: packet.source }, 'unexpected error handling a SIP packet');
    }
  }

  private handlePacket(packet: InboundPacket, forwarded: boolean): void {
    const affinity = this.options.affinity;
    if (affinity?.forwardRaw !== undefined && !forwarded && packet.source.protocol === 'udp' && packet.framingError === undefined && !this.maybeStateless(packet.data) && affinity.forwardRaw(packet)) {
      return;
    }
    const transport = packet.source.protocol;
    const ctx: ReceiveContext = { source: packet.source, connectionId: packet.connectionId };
    const parsed = parseMessage(packet.data, { maxSize: this.maxMessageSize });
    if (packet.framingError !== undefined || !parsed.ok) {
      this.metrics?.parseError(transport);
      const reason = packet.framingError ?? (parsed.ok ? 'Bad Request' : parsed.error.reason);
      const status = !parsed.ok ? parsed.error.status : 400;
      const partial = parsed.ok ? (parsed.message.kind === 'request' ? { isRequest: true, headers: parsed.message.headers } : undefined) : parsed.error.partial;
      this.logger.debug({ source: packet.source, reason }, 'unparseable SIP message');
      // RFC 3261 §16.3 / RFC 4475: a malformed request gets 400 (505 for a version we do not
      // speak); a malformed response is dropped.
      if (partial?.isRequest === true && partial.method !== 'ACK') {
        const bytes = statelessErrorResponse(status, reason, partial.headers, this.userAgent);
        if (bytes !== undefined) {
          this.metrics?.response(status, partial.method ?? 'UNKNOWN', transport, 'out');
          this.transports?.send({ ...packet.source, connectionId: packet.connectionId }, bytes).catch((err: unknown) => {
            this.logger.debug({ err: describeError(err) }, 'could not send a 400 for a malformed request');
          });
        }
      }
      return;
    }
    const message = parsed.message;
    if (affinity !== undefined && !forwarded && packet.source.protocol === 'udp') {
      // stateless pings are answered by whoever got them; everything else goes to its owner
      const stateless = message.kind === 'request' && this.isStateless(message);
      if (!stateless && affinity.forward(message, packet)) return;
    }
    if (message.kind === 'request') {
      this.metrics?.request(message.method, transport, 'in');
      stampVia(message, packet.source, this.options.forceRport ?? true);
      if (this.isStateless(message)) {
        this.onRequest(message, this.statelessResponder(message, ctx), ctx);
        return;
      }
      this.transactions.receiveRequest(message, ctx);
    } else {
      this.metrics?.response(message.status, message.cseq?.method ?? 'UNKNOWN', transport, 'in');
      this.transactions.receiveResponse(message, ctx);
    }
  }

  /** true when the service took the request; a service that throws has it answered 500 (and taken) */
  private offerRequest(service: SipService, req: SipRequest, txn: Responder, ctx: ReceiveContext): boolean {
    try {
      return service.handleRequest(req, txn, ctx);
    } catch (err) {
      this.logger.error({ err: describeError(err), service: service.name, method: req.method }, 'SIP service failed on a request');
      this.respondSafely(txn, createResponse(req, 500, 'Server Internal Error'));
      return true;
    }
  }

  /** whether raw bytes may be a request some service answers statelessly (a response never is) */
  private maybeStateless(data: Uint8Array): boolean {
    // "SIP/2.0 " starts a response
    if (data[0] === 0x53 && data[1] === 0x49 && data[2] === 0x50 && data[3] === 0x2f) return false;
    if (this.statelessMethods.size === 0) return false;
    const space = data.indexOf(0x20);
    if (space <= 0 || space > 32) return true;
    // the method compared in place: this runs for every datagram a SIP worker reads
    for (const method of this.statelessMethods.keys()) {
      if (method.length !== space) continue;
      let i = 0;
      while (i < space && data[i] === method.charCodeAt(i)) i++;
      if (i === space) return true;
    }
    return false;
  }

  /** RFC 3261 §8.2.7 applies: outside a dialog, and the service that owns the method agrees */
  private isStateless(req: SipRequest): boolean {
    if (req.toTag !== undefined) return false;
    const service = this.statelessMethods.get(req.method);
    return service !== undefined && (service.statelessFor?.(req) ?? true);
  }

  private onRequest(req: SipRequest, txn: Responder, ctx: ReceiveContext): void {
    // a request relayed by a proxy service is validated by it (§16.3), not as a UAS (§8.2), and
    // goes to it whatever its method (a proxy need not understand a method to forward it, §16)
    const first = this.services.find((s) => s.claims?.(req) === true || s.forwards?.(req) === true);
    if (first !== undefined && first.claims?.(req) !== true && this.offerRequest(first, req, txn, ctx)) return;
    const rejection = checkUasRequest(req, {
      allowedMethods: this.allow,
      supportedExtensions: this.supported,
      acceptedContentTypes: ACCEPTED_CONTENT_TYPES,
      supportedSchemes: SUPPORTED_SCHEMES,
    });
    if (rejection !== undefined) {
      this.respondSafely(txn, rejection);
      return;
    }
    for (const service of this.services) {
      if (service.methods.includes(req.method) && this.offerRequest(service, req, txn, ctx)) return;
    }
    // Allowed by some service, but none took it (e.g. addressed to something nobody serves).
    this.respondSafely(txn, createResponse(req, req.method === 'INVITE' || req.method === 'MESSAGE' ? 404 : 405, undefined, { headers: [['Allow', this.allow.join(', ')]] }));
  }

  /** RFC 3261 §9.2: CANCEL gets 200 when it matches a pending INVITE (which then gets 487), else 481. */
  private onCancel(cancel: SipRequest, txn: NonInviteServerTransaction, invite: InviteServerTransaction | undefined, ctx: ReceiveContext): void {
    for (const s of this.services) {
      try {
        if (s.handleCancel?.(cancel, txn, invite, ctx) === true) return;
      } catch (err) {
        this.logger.error({ err: describeError(err), service: s.name }, 'SIP service failed on a CANCEL');
      }
    }
    if (invite === undefined) {
      txn.respond(createResponse(cancel, 481));
      return;
    }
    txn.respond(createResponse(cancel, 200));
    if (invite.lastResponse === undefined || invite.lastResponse.status < 200) {
      this.respondSafely(invite, createResponse(invite.request, 487));
    }
  }

  /** RFC 3261 §8.2.7: answer without a transaction, to where §18.2.2 says responses go. */
  private statelessResponder(req: SipRequest, ctx: ReceiveContext): Responder {
    return {
      respond: (response) => {
        this.send(response, responseTarget(req.topVia, ctx)).catch((err: unknown) => {
          this.logger.debug({ err: describeError(err), method: req.method }, 'stateless response not sent');
        });
      },
    };
  }

  private respondSafely(txn: Responder, response: SipResponse): void {
    try {
      txn.respond(response);
    } catch (err) {
      this.logger.debug({ err: describeError(err) }, 'response not sent: transaction already answered');
    }
  }
}
