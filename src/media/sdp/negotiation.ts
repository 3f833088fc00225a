/**
 * The pure rules of offer/answer (RFC 3264): directions, codec intersection, RFC 4733 event
 * lists, and the engine's view of a remote media section.
 */
import type { CodecName, MediaDirection, NegotiatedCodec, NegotiatedStream, SocketAddress } from '../types.js';
import type { RemoteMedia } from './remote-media.js';

const SENDS: ReadonlySet<MediaDirection> = new Set(['sendrecv', 'sendonly']);
const RECEIVES: ReadonlySet<MediaDirection> = new Set(['sendrecv', 'recvonly']);

export function directionFrom(send: boolean, receive: boolean): MediaDirection {
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

/**
 * Our direction after the remote said `remote` and we wanted `local`. RFC 3264 §6.1: a sendonly
 * offer is answered recvonly, recvonly with sendonly, inactive with inactive; the same
 * intersection holds for an answer to our offer (§7). A c=0.0.0.0 remote does not want media
 * (RFC 3264 §8.4, the RFC 2543 hold), so we do not send whatever its attribute says.
 */
export function negotiatedDirection(remote: MediaDirection, legacyHold: boolean, local: MediaDirection): MediaDirection {
  const remoteReceives = RECEIVES.has(remote) && !legacyHold;
  const remoteSends = SENDS.has(remote);
  return directionFrom(SENDS.has(local) && remoteReceives, RECEIVES.has(local) && remoteSends);
}

/** The remote's codecs we also speak, in the remote's order (RFC 3264 §6.1 keeps the offer's payload types). */
export function commonCodecs(remote: readonly NegotiatedCodec[], ours: readonly CodecName[]): NegotiatedCodec[] {
  return remote.filter((c) => ours.includes(c.name));
}

/** The events we handle: DTMF 0-15 and flash 16 (RFC 4733 §3.2). */
export const OUR_TELEPHONE_EVENTS = '0-16';

/** Event numbers of an RFC 4733 §7.1.1 list ("0-15,66,70"); undefined when it is malformed. */
export function parseEventList(list: string): Set<number> | undefined {
  const events = new Set<number>();
  for (const raw of list.split(',')) {
    const part = raw.trim();
    const m = /^(\d{1,3})(?:-(\d{1,3}))?$/.exec(part);
    if (m === null) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > 255 || to > 255 || to < from) return undefined;
    for (let e = from; e <= to; e++) events.add(e);
  }
  return events;
}

export function formatEventList(events: ReadonlySet<number>): string {
  const sorted = [...events].sort((a, b) => a - b);
  const parts: string[] = [];
  let start: number | undefined;
  let prev: number | undefined;
  for (const e of sorted) {
    if (start !== undefined && prev !== undefined && e === prev + 1) {
      prev = e;
      continue;
    }
    if (start !== undefined && prev !== undefined) parts.push(start === prev ? `${start}` : `${start}-${prev}`);
    start = e;
    prev = e;
  }
  if (start !== undefined && prev !== undefined) parts.push(start === prev ? `${start}` : `${start}-${prev}`);
  return parts.join(',');
}

/**
 * The events both sides handle, written as a list, or undefined when none. RFC 4733 §7.1.1: no
 * fmtp means 0-15. A list we cannot read is taken as 0-15 too, rather than dropping DTMF.
 */
export function commonEvents(offered: string | undefined): string | undefined {
  const ours = parseEventList(OUR_TELEPHONE_EVENTS) ?? new Set<number>();
  const theirs = (offered === undefined ? undefined : parseEventList(offered)) ?? parseEventList('0-15') ?? new Set<number>();
  const both = new Set([...theirs].filter((e) => ours.has(e)));
  return both.size === 0 ? undefined : formatEventList(both);
}

/** What a remote media section means to the engine once negotiation settled the rest. */
export interface StreamSettlement {
  codecs: NegotiatedCodec[];
  telephoneEventPt?: number;
  direction: MediaDirection;
  rtcpMux: boolean;
  ptimeMs: number;
  crypto?: NegotiatedStream['crypto'];
}

/**
 * NegotiatedStream for a remote section. Without rtcp-mux the RTCP address is a=rtcp (RFC 3605)
 * or else the next port up (RFC 3550 §11), so the transport never has to guess.
 */
export function streamFor(remote: RemoteMedia, settled: StreamSettlement): NegotiatedStream {
  const address: SocketAddress = {
    address: remote.connection?.address ?? '0.0.0.0',
    port: remote.port,
    family: remote.connection?.family ?? 'IPv4',
  };
  const stream: NegotiatedStream = {
    remote: address,
    rtcpMux: settled.rtcpMux,
    codecs: settled.codecs,
    direction: settled.direction,
    ptimeMs: settled.ptimeMs,
  };
  if (!settled.rtcpMux && remote.port !== 0) {
    stream.remoteRtcp = remote.rtcp ?? { address: address.address, port: remote.port + 1, family: address.family };
  }
  if (settled.telephoneEventPt !== undefined) stream.telephoneEvent = { payloadType: settled.telephoneEventPt, clockRate: 8000 };
  if (settled.crypto !== undefined) stream.crypto = settled.crypto;
  return stream;
}
