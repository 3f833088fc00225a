import { FakeScheduler, silentLogger } from '../../../../src/lib/index.js';
import { parseMessage, serializeMessage, type SipMessage, type SipRequest, type SipResponse, createResponse } from '../../../../src/sip/message/index.js';
import { TransactionLayer, type ReceiveContext } from '../../../../src/sip/transaction/index.js';
import type { Binding, LocationStore } from '../../../../src/sip/registrar/index.js';
import type { SipCore, SubscriberDirectory } from '../../../../src/sip/server/index.js';
import type { OutboundTarget, TransportAddress, TransportProtocol } from '../../../../src/sip/transport/index.js';
import { computeDigestResponse, ha1 } from '../../../../src/sip/auth/index.js';
import { Proxy, type ProxyOptions } from '../../../../src/sip/proxy/index.js';

export interface Sent {
  message: SipMessage;
  target: OutboundTarget;
}

export class MemoryStore implements LocationStore {
  readonly map = new Map<string, Binding[]>();
  async bindings(aor: string) {
    return this.map.get(aor) ?? [];
  }
  async replace(aor: string, b: Binding[]) {
    this.map.set(aor, b);
  }
  async read(aor: string) {
    return { bindings: this.map.get(aor) ?? [], version: 0 };
  }
  async count() {
    return this.map.size;
  }
  async aors() {
    return [...this.map.keys()];
  }
  async close() {}
}

export const directory: SubscriberDirectory = {
  async isLocalDomain(host) {
    return host === 'example.com' || host === '10.0.0.1';
  },
  realmFor(domain) {
    return domain;
  },
  async ha1(user, domain, hash) {
    return user === 'alice' || user === 'bob' ? ha1(hash, user, domain, 'secret') : undefined;
  },
  async userExists(user) {
    return user === 'alice' || user === 'bob' || user === 'carol';
  },
};

export function binding(aor: string, contact: string, opts: Partial<Binding> = {}): Binding {
  const u = /@([^:;>]+)(?::(\d+))?/.exec(contact);
  return {
    aor,
    contact,
    q: 1,
    expiresAt: 1_700_000_000_000 + 3_600_000,
    callId: 'reg',
    cseq: 1,
    path: [],
    source: { protocol: 'udp', address: u?.[1] ?? '127.0.0.1', port: Number(u?.[2] ?? 5060), nodeId: 'node1' },
    registeredAt: 0,
    ...opts,
  };
}

const LISTENERS: TransportAddress[] = [
  { protocol: 'udp', address: '10.0.0.1', port: 5060 },
  { protocol: 'tcp', address: '10.0.0.1', port: 5060 },
  { protocol: 'wss', address: '10.0.0.1', port: 7443 },
];

export function setup(opts: Partial<ProxyOptions> = {}) {
  const scheduler = new FakeScheduler();
  const sent: Sent[] = [];
  const store = new MemoryStore();
  // eslint-disable-next-line prefer-const -- assigned once the layer that calls it exists
  let proxy!: Proxy;
  const transactions = new TransactionLayer({
    scheduler,
    send: async (message, target) => {
      // round-trip through bytes, as the wire would
      const r = parseMessage(serializeMessage(message));
      if (!r.ok) throw new Error('unparseable: ' + r.error.reason);
      sent.push({ message: r.message, target });
    },
    delegate: {
      onRequest: (req, txn, ctx) => {
        if (!proxy.handleRequest(req, txn, ctx)) txn.respond(createResponse(req, 404, undefined, { toTag: 'x' }));
      },
      // as the server core does: the proxy first, then 481 when nobody takes the CANCEL
      onCancel: (cancel, txn, invite) => {
        if (!proxy.handleCancel(cancel, txn, invite)) txn.respond(createResponse(cancel, 481));
      },
      onAck: (ack, ctx) => {
        proxy.handleAck(ack, ctx);
      },
      onStrayResponse: (response, ctx) => {
        proxy.handleStrayResponse(response, ctx);
      },
    },
  });
  const core: SipCore = {
    transactions,
    scheduler,
    logger: silentLogger,
    nodeId: 'node1',
    send: async (message, target) => {
      const r = parseMessage(serializeMessage(message));
      if (!r.ok) throw new Error('unparseable');
      sent.push({ message: r.message, target });
    },
    localAddress: (protocol: TransportProtocol, family: 4 | 6) => (family === 4 ? LISTENERS.find((l) => l.protocol === protocol) : undefined),
    advertisedHost: (l) => l.address,
  };
  proxy = new Proxy({ store, directory, auth: { secret: 'k', algorithms: ['MD5'] }, scheduler, resolver: async (h) => (h === 'other.net' ? '192.0.2.50' : Promise.reject(new Error('nx'))), ...opts });
  proxy.attach(core);

  const udp = (address: string, port = 5060): ReceiveContext => ({ source: { protocol: 'udp', address, port } });
  const receive = (text: string, ctx: ReceiveContext = udp('192.0.2.10')) => {
    const r = parseMessage(Buffer.from(text.replace(/\n/g, '\r\n')));
    if (!r.ok) throw new Error('fixture: ' + r.error.reason);
    if (r.message.kind === 'request') transactions.receiveRequest(r.message, ctx);
    else transactions.receiveResponse(r.message, ctx);
    return r.message;
  };
  const flush = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  /** answer a forwarded request as its UAS would */
  const reply = (req: SipMessage, status: number, extra: [string, string][] = [], toTag = 'callee'): SipResponse => {
    const res = createResponse(req as SipRequest, status, undefined, { toTag, headers: extra });
    transactions.receiveResponse(res, udp('192.0.2.99'));
    return res;
  };
  const requests = (method?: string) => sent.filter((s) => s.message.kind === 'request' && (method === undefined || s.message.method === method)).map((s) => s as { message: SipRequest; target: OutboundTarget });
  const responses = () => sent.filter((s) => s.message.kind === 'response').map((s) => s.message as SipResponse);
  return { scheduler, sent, store, proxy, transactions, core, receive, flush, reply, requests, responses, udp };
}

export function invite(opts: { from?: string; to?: string; uri?: string; branch?: string; extra?: string; method?: string; cseq?: number; toTag?: string } = {}): string {
  const method = opts.method ?? 'INVITE';
  return (
    `${method} ${opts.uri ?? 'sip:bob@example.com'} SIP/2.0\n` +
    `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=${opts.branch ?? 'z9hG4bKcaller1'}\n` +
    `Max-Forwards: 70\n` +
    `From: <${opts.from ?? 'sip:alice@example.com'}>;tag=ftag\n` +
    `To: <${opts.to ?? 'sip:bob@example.com'}>${opts.toTag !== undefined ? ';tag=' + opts.toTag : ''}\n` +
    `Call-ID: call1@192.0.2.10\n` +
    `CSeq: ${opts.cseq ?? 1} ${method}\n` +
    `Contact: <sip:alice@192.0.2.10>\n` +
    (opts.extra ?? '') +
    `Content-Length: 0\n\n`
  );
}

/** Proxy-Authorization for alice answering a 407 */
export function credentials(res: SipResponse, method: string, uri: string, user = 'alice'): string {
  const ch = res.headers.get('Proxy-Authenticate')!;
  const nonce = /nonce="([^"]+)"/.exec(ch)![1]!;
  const h = ha1('MD5', user, 'example.com', 'secret');
  const response = computeDigestResponse({ algorithm: 'MD5', ha1: h, nonce, method, uri, qop: 'auth', nc: '00000001', cnonce: 'cn' });
  return `Proxy-Authorization: Digest username="${user}", realm="example.com", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=00000001, cnonce="cn"\n`;
}
