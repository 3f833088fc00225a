import type { InboundPacket, SipTransport } from '../../../../src/sip/transport/index.js';

export const OPTIONS = (cl = 0, body = ''): Buffer =>
  Buffer.from(`OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: 1\r\nContent-Length: ${cl}\r\n\r\n${body}`, 'latin1');

export function nextPacket(t: Pick<SipTransport, 'on'>): Promise<InboundPacket> {
  return new Promise((resolve) => {
    const off = t.on('message', (p) => {
      off();
      resolve(p);
    });
  });
}

export function packets(t: Pick<SipTransport, 'on'>, n: number): Promise<InboundPacket[]> {
  return new Promise((resolve) => {
    const got: InboundPacket[] = [];
    const off = t.on('message', (p) => {
      got.push(p);
      if (got.length === n) {
        off();
        resolve(got);
      }
    });
  });
}

export function nextClose(t: Pick<SipTransport, 'on'>): Promise<[string, string]> {
  return new Promise((resolve) => {
    const off = t.on('connectionClosed', (id, reason) => {
      off();
      resolve([id, reason]);
    });
  });
}
