/**
 * A small SIP user agent server for media tests, standing in for the B2BUA: it answers an INVITE
 * with an endpoint of the media engine (the INVITE's SDP is the offer, the 200's is our answer),
 * acknowledges BYE, and hands each call to the test. UDP on loopback, one call at a time is enough.
 */
import dgram from 'node:dgram';
import type { MediaEngineApi } from '../../src/media/index.js';

export interface HarnessCall {
  callId: string;
  endpointId: string;
  /** resolves when the caller's BYE arrives */
  ended: Promise<void>;
}

export class SipMediaHarness {
  readonly calls: HarnessCall[] = [];
  private readonly answers = new Map<string, string>();
  private readonly enders = new Map<string, () => void>();
  private onCall: ((call: HarnessCall) => void | Promise<void>) | undefined;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly engine: MediaEngineApi,
  ) {
    socket.on('message', (msg, rinfo) => void this.handle(msg.toString('utf8'), rinfo.address, rinfo.port));
  }

  static async start(engine: MediaEngineApi): Promise<SipMediaHarness> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new SipMediaHarness(socket, socket.address().port, engine);
  }

  /** called once per new call, after the endpoint exists and before the 200 goes out */
  whenCall(fn: (call: HarnessCall) => void | Promise<void>): void {
    this.onCall = fn;
  }

  private async handle(text: string, host: string, port: number): Promise<void> {
    const [head = '', body = ''] = splitOnce(text, '\r\n\r\n');
    const first = head.split('\r\n')[0] ?? '';
    const method = /^([A-Z]+) /.exec(first)?.[1];
    if (method === undefined) return; // a response: not expected here
    const header = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1] ?? '';
    const callId = header('Call-ID');
    const respond = (status: string, extra: string[] = [], sdp = ''): void => {
      const to = header('To');
      const lines = [
        `SIP/2.0 ${status}`,
        `Via: ${header('Via')}`,
        `From: ${header('From')}`,
        `To: ${/;tag=/.test(to) ? to : `${to};tag=harness`}`,
        `Call-ID: ${callId}`,
        `CSeq: ${header('CSeq')}`,
        ...extra,
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ];
      this.socket.send(lines.join('\r\n'), port, host);
    };
    if (method === 'INVITE') {
      const known = this.answers.get(callId);
      if (known !== undefined) return respond('200 OK', ['Contact: <sip:harness@127.0.0.1:' + this.port + '>', 'Content-Type: application/sdp'], known);
      try {
        const ep = await this.engine.createEndpoint({ kind: 'rtp', remoteSdp: body });
        this.answers.set(callId, ep.localSdp);
        let end: () => void = () => {};
        const ended = new Promise<void>((resolve) => (end = resolve));
        this.enders.set(callId, end);
        const call: HarnessCall = { callId, endpointId: ep.id, ended };
        this.calls.push(call);
        await this.onCall?.(call);
        respond('200 OK', ['Contact: <sip:harness@127.0.0.1:' + this.port + '>', 'Content-Type: application/sdp'], ep.localSdp);
      } catch (err) {
        const status = (err as { sipStatus?: number }).sipStatus ?? 500;
        respond(`${status} Media Refused`);
      }
    } else if (method === 'BYE') {
      respond('200 OK');
      this.enders.get(callId)?.();
    } else if (method !== 'ACK') {
      respond('405 Method Not Allowed');
    }
  }

  close(): void {
    this.socket.close();
  }
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + sep.length)];
}
