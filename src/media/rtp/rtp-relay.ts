/**
 * Joins two RTP endpoints without decoding: what A receives, B sends, and the other way round.
 * Sequence numbers, timestamps, SSRC and payload pass unchanged (RFC 3550 §7.1 calls this a
 * translator that keeps SSRCs); only the payload type may be rewritten when the two SDPs gave a
 * format different numbers (RFC 3264 §6.1 lets each side pick its own dynamic numbers, so
 * telephone-event can be 101 on one leg and 96 on the other).
 *
 * This is the call path measured against rtpengine: one raw buffer in, the same buffer out, a
 * table lookup for the payload type and two counters. RTCP is not forwarded; each transport
 * reports for its own leg.
 */
import type { NegotiatedStream } from '../types.js';
import { readPayloadType, writePayloadType } from './rtp-packet.js';
import type { RawRtpListener } from './udp-rtp-transport.js';

/** What the relay needs from a transport: the raw fast path of UdpRtpTransport. */
export interface RawRtpEndpoint {
  onRawRtp(listener: RawRtpListener): () => void;
  sendRawRtp(packet: Uint8Array): void;
}

/** payload type received → payload type sent; types not listed pass unchanged */
export type PayloadTypeMap = ReadonlyMap<number, number> | Readonly<Record<number, number>>;

export interface RtpRelayOptions {
  a: RawRtpEndpoint;
  b: RawRtpEndpoint;
  /** rewrite payload types of packets going from A to B */
  aToB?: PayloadTypeMap;
  /** rewrite payload types of packets going from B to A */
  bToA?: PayloadTypeMap;
}

export interface RtpRelayStats {
  aToB: number;
  bToA: number;
}

const UNMAPPED = 0xff;

/** a 128-entry table: one array read per packet instead of a Map lookup */
function mappingTable(map: PayloadTypeMap | undefined): Uint8Array | undefined {
  if (map === undefined) return undefined;
  const table = new Uint8Array(128).fill(UNMAPPED);
  const entries: Iterable<[number | string, number]> = map instanceof Map ? map.entries() : Object.entries(map);
  let remaps = false;
  for (const [from, to] of entries) {
    const pt = Number(from);
    if (!Number.isInteger(pt) || pt < 0 || pt > 127 || !Number.isInteger(to) || to < 0 || to > 127) continue;
    if (pt !== to) remaps = true;
    table[pt] = to;
  }
  return remaps ? table : undefined;
}

export class RtpRelay {
  private readonly forwarded: RtpRelayStats = { aToB: 0, bToA: 0 };
  private unhook: (() => void)[];

  constructor(options: RtpRelayOptions) {
    const { a, b } = options;
    const aToB = mappingTable(options.aToB);
    const bToA = mappingTable(options.bToA);
    const counts = this.forwarded;
    this.unhook = [
      a.onRawRtp((packet) => {
        if (aToB !== undefined) remap(packet, aToB);
        counts.aToB++;
        b.sendRawRtp(packet);
      }),
      b.onRawRtp((packet) => {
        if (bToA !== undefined) remap(packet, bToA);
        counts.bToA++;
        a.sendRawRtp(packet);
      }),
    ];
  }

  /** packets handed on in each direction */
  stats(): RtpRelayStats {
    return { ...this.forwarded };
  }

  /** Unhook from both transports (idempotent); the transports stay open. */
  stop(): void {
    for (const off of this.unhook) off();
    this.unhook = [];
  }
}

function remap(packet: Uint8Array, table: Uint8Array): void {
  const to = table[readPayloadType(packet)]!;
  if (to !== UNMAPPED) writePayloadType(packet, to);
}

/** payload type on `from` → payload type on `to`, for each codec both negotiated and telephone-event */
export function payloadTypeMap(from: NegotiatedStream | undefined, to: NegotiatedStream | undefined): Map<number, number> {
  const map = new Map<number, number>();
  if (from === undefined || to === undefined) return map;
  for (const c of from.codecs) {
    const match = to.codecs.find((d) => d.name === c.name && d.clockRate === c.clockRate);
    if (match !== undefined) map.set(c.payloadType, match.payloadType);
  }
  if (from.telephoneEvent !== undefined && to.telephoneEvent !== undefined) map.set(from.telephoneEvent.payloadType, to.telephoneEvent.payloadType);
  return map;
}
