/**
 * A minimal RTP phone for media tests: one UDP socket, an SDP of its own, a sender that plays a
 * tone (or silence) in real time with a codec of opencx's codec module, and a receiver that keeps
 * every packet and the decoded audio. Real sockets on loopback; nothing is faked.
 */
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import {
  ToneGenerator,
  codecInfo,
  createDecoder,
  createEncoder,
  parseRtp,
  serializeRtp,
  type AudioDecoder,
  type AudioEncoder,
  type CodecName,
  type RtpPacket,
} from '../../src/media/index.js';

export interface RtpPeerOptions {
  codec: CodecName;
  /** payload type in our SDP; default the codec's static one or 96 */
  payloadType?: number;
  /** telephone-event payload type to offer; absent = none */
  telephoneEventPt?: number;
  family?: 'IPv4' | 'IPv6';
}

export class RtpPeer {
  readonly received: RtpPacket[] = [];
  readonly codec: CodecName;
  readonly payloadType: number;
  remote: { address: string; port: number } | undefined;
  private readonly encoder: AudioEncoder;
  private readonly decoder: AudioDecoder;
  private readonly pcm: Int16Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  private seq = randomInt(0, 0x10000);
  private ts = randomInt(0, 0x7fffffff);
  private readonly ssrc = randomInt(1, 0x7fffffff);
  sent = 0;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly address: string,
    readonly port: number,
    private readonly options: RtpPeerOptions,
  ) {
    this.codec = options.codec;
    this.payloadType = options.payloadType ?? codecInfo(options.codec).staticPayloadType ?? 96;
    this.encoder = createEncoder(options.codec);
    this.decoder = createDecoder(options.codec);
    socket.on('message', (msg) => {
      const r = parseRtp(msg);
      if (!r.ok) return;
      this.received.push(r.packet);
      if (r.packet.payloadType === this.payloadType) this.pcm.push(this.decoder.decode(r.packet.payload));
    });
  }

  static async open(options: RtpPeerOptions): Promise<RtpPeer> {
    const family = options.family ?? 'IPv4';
    const address = family === 'IPv6' ? '::1' : '127.0.0.1';
    const socket = dgram.createSocket(family === 'IPv6' ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RtpPeer(socket, address, socket.address().port, options);
  }

  /** Our SDP (offer or answer: the same lines do for both in these tests). */
  sdp(): string {
    const info = codecInfo(this.codec);
    const ip = this.options.family === 'IPv6' ? 'IP6' : 'IP4';
    const pts = [this.payloadType, ...(this.options.telephoneEventPt !== undefined ? [this.options.telephoneEventPt] : [])];
    const lines = [
      'v=0',
      `o=peer 1 1 IN ${ip} ${this.address}`,
      's=peer',
      `c=IN ${ip} ${this.address}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${pts.join(' ')}`,
      `a=rtpmap:${this.payloadType} ${info.sdpName}/${info.rtpClockRate}${info.sdpChannels !== undefined ? `/${info.sdpChannels}` : ''}`,
      ...(this.options.telephoneEventPt !== undefined ? [`a=rtpmap:${this.options.telephoneEventPt} telephone-event/8000`, `a=fmtp:${this.options.telephoneEventPt} 0-16`] : []),
      'a=ptime:20',
      'a=sendrecv',
    ];
    return lines.join('\r\n') + '\r\n';
  }

  /** Where the engine wants our packets, read from its SDP. */
  useRemoteSdp(sdp: string): void {
    const c = /c=IN IP[46] (\S+)/.exec(sdp);
    const m = /m=audio (\d+)/.exec(sdp);
    if (c === null || m === null) throw new Error(`no address in SDP:\n${sdp}`);
    this.remote = { address: c[1] as string, port: Number(m[1]) };
  }

  /** Send a tone in real time, one 20 ms frame per 20 ms, until stop(). */
  startTone(frequencyHz: number, levelDbfs = -12): void {
    const info = codecInfo(this.codec);
    const gen = new ToneGenerator({ frequenciesHz: [frequencyHz], levelDbfs }, info.sampleRate);
    this.startFrames(() => gen.next(info.sampleRate / 50));
  }

  startFrames(next: () => Int16Array): void {
    this.stop();
    const info = codecInfo(this.codec);
    let due = performance.now();
    this.timer = setInterval(() => {
      // catch up on frames the timer was late for, so the stream keeps real time
      while (performance.now() >= due) {
        this.sendPayload(this.payloadType, this.encoder.encode(next()), false);
        this.ts = (this.ts + info.rtpClockRate / 50) >>> 0;
        due += 20;
      }
    }, 10);
  }

  sendPayload(payloadType: number, payload: Uint8Array, marker: boolean, timestamp = this.ts): void {
    if (this.remote === undefined) return;
    const packet = serializeRtp({ marker, payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc, csrcs: [], payload });
    this.seq = (this.seq + 1) & 0xffff;
    this.sent++;
    this.socket.send(packet, this.remote.port, this.remote.address);
  }

  /** Send raw bytes (garbage tests). */
  sendRaw(bytes: Uint8Array): void {
    if (this.remote !== undefined) this.socket.send(bytes, this.remote.port, this.remote.address);
  }

  get currentTimestamp(): number {
    return this.ts;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Everything decoded so far, as one array at the codec's rate. */
  audio(): Int16Array {
    const total = this.pcm.reduce((n, f) => n + f.length, 0);
    const out = new Int16Array(total);
    let o = 0;
    for (const f of this.pcm) {
      out.set(f, o);
      o += f.length;
    }
    return out;
  }

  /** The last `ms` of decoded audio. */
  recentAudio(ms: number): Int16Array {
    const all = this.audio();
    const n = Math.min(all.length, Math.round((codecInfo(this.codec).sampleRate * ms) / 1000));
    return all.subarray(all.length - n);
  }

  clearReceived(): void {
    this.received.length = 0;
    this.pcm.length = 0;
  }

  close(): void {
    this.stop();
    this.encoder.close();
    this.decoder.close();
    this.socket.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
