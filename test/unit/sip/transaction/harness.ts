// Shared test harness for the transaction layer: fake time, a recording fake send, and SIP
// messages built by the real parser from raw text.
import { FakeScheduler, recordingLogger } from '../../../../src/lib/index.js';
import { createResponse, parseMessage, type SipMessage, type SipRequest, type SipResponse } from '../../../../src/sip/message/index.js';
import type { OutboundTarget, TransportProtocol } from '../../../../src/sip/transport/types.js';
import {
  TransactionLayer,
  type ClientTransaction,
  type InviteServerTransaction,
  type NonInviteServerTransaction,
  type ReceiveContext,
  type ServerTransaction,
  type Transaction,
  type TimerSettings,
} from '../../../../src/sip/transaction/index.js';

export interface SentRecord {
  at: number;
  message: SipMessage;
  target: OutboundTarget;
}

export function parse(lines: string[]): SipMessage {
  const text = lines.join('\r\n') + '\r\n\r\n';
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error('test message did not parse: ' + r.error.reason);
  return r.message;
}

export function request(method: string, opts: { branch?: string; transport?: TransportProtocol; sentBy?: string; cseq?: number; toTag?: string; extraVia?: string; uri?: string; callId?: string } = {}): SipRequest {
  const transport = (opts.transport ?? 'udp').toUpperCase();
  const branch = opts.branch ?? 'z9hG4bKbranch1';
  const cseqMethod = method === 'ACK' || method === 'CANCEL' ? method : method;
  const lines = [
    `${method} ${opts.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${opts.sentBy ?? '192.0.2.1:5060'};branch=${branch}`,
    ...(opts.extraVia !== undefined ? [`Via: ${opts.extraVia}`] : []),
    'Max-Forwards: 70',
    'Route: <sip:p1.example.com;lr>',
    'Route: <sip:p2.example.com;lr>',
    'From: "Alice" <sip:alice@example.com>;tag=fromtag1',
    `To: <sip:bob@example.com>${opts.toTag !== undefined ? ';tag=' + opts.toTag : ''}`,
    `Call-ID: ${opts.callId ?? 'call-1@example.com'}`,
    `CSeq: ${opts.cseq ?? 1} ${cseqMethod}`,
    'Content-Length: 0',
  ];
  const m = parse(lines);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

export function response(req: SipRequest, status: number, toTag = 'totag1'): SipResponse {
  return createResponse(req, status, undefined, { toTag });
}

export const UDP_PEER: OutboundTarget = { protocol: 'udp', address: '192.0.2.99', port: 5060 };
export const TCP_PEER: OutboundTarget = { protocol: 'tcp', address: '192.0.2.99', port: 5060 };

export function ctx(protocol: TransportProtocol = 'udp', connectionId?: string): ReceiveContext {
  return connectionId === undefined
    ? { source: { protocol, address: '192.0.2.1', port: 5060 } }
    : { source: { protocol, address: '192.0.2.1', port: 40000 }, connectionId };
}

export interface ClientEvents {
  responses: { at: number; status: number; txn: Transaction }[];
  timeouts: number[];
  transportErrors: Error[];
  terminated: number[];
}

export function newHarness(timers: Partial<TimerSettings> = {}) {
  const sched = new FakeScheduler();
  const sent: SentRecord[] = [];
  const logger = recordingLogger();
  let failSends = false;
  const server = {
    requests: [] as { request: SipRequest; txn: ServerTransaction }[],
    cancels: [] as { cancel: SipRequest; txn: NonInviteServerTransaction; invite: InviteServerTransaction | undefined }[],
    acks: [] as { ack: SipRequest; invite: InviteServerTransaction | undefined }[],
    strays: [] as SipResponse[],
    timeouts: [] as { at: number; txn: ServerTransaction }[],
    transportErrors: [] as Error[],
    terminated: [] as { at: number; txn: ServerTransaction }[],
    /** called synchronously from onRequest, to answer within the 200 ms grace */
    answer: undefined as ((txn: ServerTransaction, req: SipRequest) => void) | undefined,
  };
  const layer = new TransactionLayer({
    scheduler: sched,
    logger,
    timers,
    send: (message, target) => {
      sent.push({ at: sched.now(), message, target });
      return failSends ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve();
    },
    delegate: {
      onRequest: (req, txn) => {
        server.requests.push({ request: req, txn });
        server.answer?.(txn, req);
      },
      onCancel: (cancel, txn, invite) => server.cancels.push({ cancel, txn, invite }),
      onAck: (ack, _ctx, invite) => server.acks.push({ ack, invite }),
      onStrayResponse: (res) => server.strays.push(res),
      onServerTimeout: (txn) => server.timeouts.push({ at: sched.now(), txn }),
      onServerTransportError: (err) => server.transportErrors.push(err),
      onServerTerminated: (txn) => server.terminated.push({ at: sched.now(), txn }),
    },
  });
  const client: ClientEvents = { responses: [], timeouts: [], transportErrors: [], terminated: [] };
  const user = {
    onResponse: (res: SipResponse, txn: Transaction) => client.responses.push({ at: sched.now(), status: res.status, txn }),
    onTimeout: () => client.timeouts.push(sched.now()),
    onTransportError: (err: Error) => client.transportErrors.push(err),
    onTerminated: () => client.terminated.push(sched.now()),
  };
  const startClient = (req: SipRequest, target: OutboundTarget = UDP_PEER): ClientTransaction => layer.createClientTransaction(req, target, user);
  return {
    sched,
    sent,
    logger,
    layer,
    server,
    client,
    user,
    startClient,
    failSends(on: boolean) {
      failSends = on;
    },
    /** send times of messages matching a predicate */
    times(pred: (m: SipMessage) => boolean): number[] {
      return sent.filter((s) => pred(s.message)).map((s) => s.at);
    },
  };
}

/** let rejected send promises reach their handlers */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function isRequest(method: string) {
  return (m: SipMessage): boolean => m.kind === 'request' && m.method === method;
}

export function isStatus(status: number) {
  return (m: SipMessage): boolean => m.kind === 'response' && m.status === status;
}
