/**
 * Two (or more) SIP nodes on an in-memory hub, each a TransactionLayer plus a UserAgentService
 * wired the way SipServer wires its services (Via stamping, forwards() first, the §8.2 UAS
 * checks, CANCEL/ACK/stray-response hooks), all on one FakeScheduler.
 */
import { FakeScheduler, silentLogger } from '../../../../src/lib/index.js';
import { computeDigestResponse, ha1 } from '../../../../src/sip/auth/index.js';
import { checkUasRequest } from '../../../../src/sip/dialog/index.js';
import { createResponse, parseMessage, serializeMessage, type SipMessage, type SipRequest } from '../../../../src/sip/message/index.js';
import { stampVia, type SipCore } from '../../../../src/sip/server/index.js';
import { TransactionLayer, type ServerTransaction, type ReceiveContext } from '../../../../src/sip/transaction/index.js';
import { MemoryHub, type MemoryTransport } from '../../../../src/sip/transport/memory-transport.js';
import type { TransportProtocol } from '../../../../src/sip/transport/index.js';
import { UserAgentService, type UserAgentServiceOptions } from '../../../../src/sip/ua/index.js';

export interface Seen {
  dir: 'in' | 'out';
  message: SipMessage;
}

export class UaNode {
  readonly transport: MemoryTransport;
  readonly transactions: TransactionLayer;
  readonly core: SipCore;
  readonly ua: UserAgentService;
  readonly seen: Seen[] = [];
  /** a request the test wants to answer itself (auth challenges); true when handled */
  gate: ((req: SipRequest, txn: ServerTransaction) => boolean) | undefined;
  /** drop incoming messages matching this */
  dropIn: ((m: SipMessage) => boolean) | undefined;

  constructor(hub: MemoryHub, address: string, scheduler: FakeScheduler, options: UserAgentServiceOptions = {}, protocol: TransportProtocol = 'udp') {
    this.transport = hub.transport({ protocol, address, port: 5060 });
    const send = (message: SipMessage, target: { protocol: TransportProtocol; address: string; port: number }) => {
      this.seen.push({ dir: 'out', message });
      return this.transport.send(target, serializeMessage(message));
    };
    this.ua = new UserAgentService({ random: () => 0.5, ...options });
    const ua = this.ua;
    this.transactions = new TransactionLayer({
      scheduler,
      send,
      delegate: {
        onRequest: (req, txn, ctx) => this.onRequest(req, txn, ctx),
        onCancel: (cancel, txn, invite, ctx) => {
          if (ua.handleCancel(cancel, txn, invite)) return;
          txn.respond(createResponse(cancel, invite === undefined ? 481 : 200));
          void ctx;
        },
        onAck: (ack) => {
          ua.handleAck(ack);
        },
        onStrayResponse: (res) => {
          ua.handleStrayResponse(res);
        },
      },
    });
    const local = this.transport.local;
    this.core = {
      transactions: this.transactions,
      scheduler,
      logger: silentLogger,
      nodeId: address,
      send,
      localAddress: (p) => (p === local.protocol ? local : undefined),
      advertisedHost: (l) => l.address,
    };
    ua.attach(this.core);
    this.transport.on('message', (packet) => {
      const r = parseMessage(packet.data);
      if (!r.ok) throw new Error('unparseable: ' + r.error.reason);
      const m = r.message;
      if (this.dropIn?.(m) === true) return;
      this.seen.push({ dir: 'in', message: m });
      const ctx: ReceiveContext = { source: packet.source, connectionId: packet.connectionId };
      if (m.kind === 'request') {
        stampVia(m, packet.source, true);
        this.transactions.receiveRequest(m, ctx);
      } else this.transactions.receiveResponse(m, ctx);
    });
  }

  private onRequest(req: SipRequest, txn: ServerTransaction, ctx: ReceiveContext): void {
    const ua = this.ua;
    if (ua.forwards(req) && ua.handleRequest(req, txn, ctx)) return;
    if (this.gate?.(req, txn) === true) return;
    const rejection = checkUasRequest(req, {
      allowedMethods: [...ua.methods, 'OPTIONS'],
      supportedExtensions: [...ua.extensions],
      acceptedContentTypes: ['application/sdp'],
    });
    if (rejection !== undefined) {
      txn.respond(rejection);
      return;
    }
    if (!ua.handleRequest(req, txn, ctx)) txn.respond(createResponse(req, 404, undefined, { toTag: 'nf' }));
  }

  /** messages of a method (requests) or for a method (responses), in either direction */
  requests(method: string, dir: 'in' | 'out' = 'out'): SipRequest[] {
    return this.seen.filter((s) => s.dir === dir && s.message.kind === 'request' && s.message.method === method).map((s) => s.message as SipRequest);
  }

  responses(method: string, dir: 'in' | 'out' = 'out'): { status: number; message: SipMessage }[] {
    return this.seen
      .filter((s) => s.dir === dir && s.message.kind === 'response' && s.message.cseq?.method === method)
      .map((s) => ({ status: s.message.kind === 'response' ? s.message.status : 0, message: s.message }));
  }

  close(): Promise<void> {
    return this.ua.close();
  }
}

export function setup(options: { a?: UserAgentServiceOptions; b?: UserAgentServiceOptions; protocol?: TransportProtocol; t1?: number } = {}) {
  const hub = new MemoryHub();
  const scheduler = new FakeScheduler();
  const a = new UaNode(hub, '127.0.0.1', scheduler, options.a, options.protocol);
  const b = new UaNode(hub, '127.0.0.2', scheduler, options.b, options.protocol);
  /** let queued deliveries and resolver promises run */
  const flush = async (rounds = 20) => {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  };
  /** advance fake time in steps, flushing between them */
  const advance = async (ms: number, step = 100) => {
    for (let done = 0; done < ms; done += step) {
      scheduler.advance(Math.min(step, ms - done));
      await flush(4);
    }
  };
  return { hub, scheduler, a, b, flush, advance };
}

export const OFFER = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10000 RTP/AVP 0\r\n';
export const ANSWER = 'v=0\r\no=b 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n';
export const OFFER2 = OFFER.replace('o=a 1 1', 'o=a 1 2').replace('10000', '10002');
export const ANSWER2 = ANSWER.replace('o=b 1 1', 'o=b 1 2').replace('20000', '20002');

/** a digest gate: challenges INVITEs without valid credentials for `realm` (401 or 407) */
export function digestGate(node: UaNode, realm: string, status: 401 | 407, user = 'alice', password = 'secret') {
  let nonces = 0;
  return (req: SipRequest, txn: ServerTransaction): boolean => {
    if (req.method !== 'INVITE' || req.toTag !== undefined) return false;
    const proxy = status === 407;
    const cred = req.authorizations(proxy).find((c) => c.params.get('realm') === realm);
    if (cred !== undefined) {
      const expected = computeDigestResponse({
        algorithm: 'MD5',
        ha1: ha1('MD5', user, realm, password),
        nonce: cred.params.get('nonce') ?? '',
        method: req.method,
        uri: cred.params.get('uri') ?? '',
        qop: cred.params.get('qop') as 'auth' | undefined,
        nc: cred.params.get('nc'),
        cnonce: cred.params.get('cnonce'),
      });
      if (expected === cred.params.get('response')) return false;
    }
    const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    txn.respond(createResponse(req, status, undefined, { toTag: 'auth', headers: [[header, `Digest realm="${realm}", nonce="n${String(++nonces)}", qop="auth", algorithm=MD5`]] }));
    void node;
    return true;
  };
}
