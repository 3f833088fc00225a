/**
 * RTCP packets (RFC 3550 §6.4–6.6), sans I/O: SR, RR, SDES and BYE, built and parsed, one at a
 * time or as a compound packet (§6.1). Other packet types (APP, feedback, XR) are kept as bytes.
 * Parsing never throws; a compound whose lengths do not add up is an error result (appendix A.2).
 */

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;

/** SDES item types (§6.5); CNAME is the one every compound packet carries */
export const SDES_CNAME = 1;

/** One reception report block (§6.4.1). */
export interface ReportBlock {
  /** the source this block reports on */
  ssrc: number;
  /** fraction lost since the previous report, as the 8-bit fixed-point value on the wire (lost/expected × 256) */
  fractionLost: number;
  /** cumulative packets lost, signed 24-bit (duplicates can make it negative) */
  cumulativeLost: number;
  /** extended highest sequence number received: cycles << 16 | highest */
  highestSequence: number;
  /** interarrival jitter in timestamp units */
  jitter: number;
  /** middle 32 bits of the NTP timestamp of the last SR received from that source, 0 if none */
  lastSr: number;
  /** delay since that SR, in units of 1/65536 s */
  delaySinceLastSr: number;
}

/** The sender info section of an SR (§6.4.1). */
export interface SenderInfo {
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

export interface SdesItem {
  type: number;
  value: string;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; sender: SenderInfo; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; chunks: { ssrc: number; items: SdesItem[] }[] }
  | { type: 'bye'; ssrcs: number[]; reason?: string }
  | { type: 'other'; packetType: number; count: number; body: Uint8Array };

export type RtcpParseResult = { ok: true; packets: RtcpPacket[] } | { ok: false; error: string };

/** seconds from the NTP epoch (1900) to the Unix epoch (1970) */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** Wall-clock milliseconds as a 64-bit NTP timestamp (§4). */
export function ntpFromWallMs(wallMs: number): { seconds: number; fraction: number } {
  const secs = Math.floor(wallMs / 1000);
  const fraction = Math.floor(((wallMs - secs * 1000) / 1000) * 0x1_0000_0000);
  return { seconds: (secs + NTP_UNIX_OFFSET) >>> 0, fraction: fraction >>> 0 };
}

/** The middle 32 bits of an NTP timestamp: the LSR field of report blocks (§6.4.1). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// building

function header(buf: Buffer, count: number, packetType: number): void {
  // §6.4.1: V=2, P=0, count, PT, length in 32-bit words minus one
  buf[0] = 0x80 | (count & 0x1f);
  buf[1] = packetType;
  buf.writeUInt16BE(buf.length / 4 - 1, 2);
}

function writeReportBlock(buf: Buffer, at: number, block: ReportBlock): void {
  buf.writeUInt32BE(block.ssrc >>> 0, at);
  // cumulative lost is 24-bit signed: clamp (§6.4.1) and store in two's complement
  const lost = Math.max(-0x800000, Math.min(0x7fffff, Math.trunc(block.cumulativeLost)));
  buf.writeUInt32BE((((block.fractionLost & 0xff) << 24) | (lost & 0xffffff)) >>> 0, at + 4);
  buf.writeUInt32BE(block.highestSequence >>> 0, at + 8);
  buf.writeUInt32BE(Math.max(0, Math.round(block.jitter)) >>> 0, at + 12);
  buf.writeUInt32BE(block.lastSr >>> 0, at + 16);
  buf.writeUInt32BE(Math.max(0, Math.round(block.delaySinceLastSr)) >>> 0, at + 20);
}

function buildReports(packet: { type: 'sr' | 'rr'; ssrc: number; reports: ReportBlock[] }, sender: SenderInfo | undefined): Buffer {
  // the RC field is 5 bits: more than 31 blocks would need a second RR (§6.4.2); we never have that many
  const reports = packet.reports.slice(0, 31);
  const senderLen = sender === undefined ? 0 : 20;
  const buf = Buffer.alloc(8 + senderLen + reports.length * 24);
  header(buf, reports.length, sender === undefined ? RTCP_RR : RTCP_SR);
  buf.writeUInt32BE(packet.ssrc >>> 0, 4);
  if (sender !== undefined) {
    buf.writeUInt32BE(sender.ntpSeconds >>> 0, 8);
    buf.writeUInt32BE(sender.ntpFraction >>> 0, 12);
    buf.writeUInt32BE(sender.rtpTimestamp >>> 0, 16);
    buf.writeUInt32BE(sender.packetCount >>> 0, 20);
    buf.writeUInt32BE(sender.octetCount >>> 0, 24);
  }
  reports.forEach((block, i) => writeReportBlock(buf, 8 + senderLen + i * 24, block));
  return buf;
}

function buildSdes(chunks: { ssrc: number; items: SdesItem[] }[]): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of chunks.slice(0, 31)) {
    const items = chunk.items.map((item) => {
      const text = Buffer.from(item.value, 'utf8').subarray(0, 255);
      return Buffer.concat([Buffer.from([item.type & 0xff, text.length]), text]);
    });
    const body = Buffer.concat(items);
    // §6.5: the item list ends with at least one null octet, then pads to a 32-bit boundary
    const len = 4 + body.length + 1;
    const chunkBuf = Buffer.alloc(Math.ceil(len / 4) * 4);
    chunkBuf.writeUInt32BE(chunk.ssrc >>> 0, 0);
    body.copy(chunkBuf, 4);
    parts.push(chunkBuf);
  }
  const body = Buffer.concat(parts);
  const buf = Buffer.alloc(4 + body.length);
  body.copy(buf, 4);
  header(buf, parts.length, RTCP_SDES);
  return buf;
}

function buildBye(ssrcs: number[], reason: string | undefined): Buffer {
  const list = ssrcs.slice(0, 31);
  const text = reason === undefined ? undefined : Buffer.from(reason, 'utf8').subarray(0, 255);
  const reasonLen = text === undefined ? 0 : Math.ceil((1 + text.length) / 4) * 4;
  const buf = Buffer.alloc(4 + list.length * 4 + reasonLen);
  list.forEach((ssrc, i) => buf.writeUInt32BE(ssrc >>> 0, 4 + i * 4));
  if (text !== undefined) {
    // §6.6: a length octet, the text, zero padding to a 32-bit boundary
    const at = 4 + list.length * 4;
    buf[at] = text.length;
    text.copy(buf, at + 1);
  }
  header(buf, list.length, RTCP_BYE);
  return buf;
}

/** Serialize one RTCP packet. */
export function serializeRtcpPacket(packet: RtcpPacket): Buffer {
  switch (packet.type) {
    case 'sr':
      return buildReports(packet, packet.sender);
    case 'rr':
      return buildReports(packet, undefined);
    case 'sdes':
      return buildSdes(packet.chunks);
    case 'bye':
      return buildBye(packet.ssrcs, packet.reason);
    case 'other': {
      const buf = Buffer.alloc(4 + Math.ceil(packet.body.length / 4) * 4);
      buf.set(packet.body, 4);
      header(buf, packet.count, packet.packetType);
      return buf;
    }
  }
}

/** Serialize a compound packet (§6.1: the caller puts an SR or RR first and an SDES with CNAME in it). */
export function serializeRtcpCompound(packets: RtcpPacket[]): Buffer {
  return Buffer.concat(packets.map(serializeRtcpPacket));
}

// ---------------------------------------------------------------------------------------------
// parsing

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function parseReportBlocks(body: Uint8Array, at: number, count: number): ReportBlock[] | undefined {
  if (at + count * 24 > body.length) return undefined;
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++) {
    const o = at + i * 24;
    const lostField = u32(body, o + 4) & 0xffffff;
    blocks.push({
      ssrc: u32(body, o),
      fractionLost: body[o + 4]!,
      // sign-extend the 24-bit field
      cumulativeLost: lostField & 0x800000 ? lostField - 0x1000000 : lostField,
      highestSequence: u32(body, o + 8),
      jitter: u32(body, o + 12),
      lastSr: u32(body, o + 16),
      delaySinceLastSr: u32(body, o + 20),
    });
  }
  return blocks;
}

function parseSdes(body: Uint8Array, count: number): RtcpPacket | string {
  const chunks: { ssrc: number; items: SdesItem[] }[] = [];
  let at = 4;
  for (let c = 0; c < count; c++) {
    if (at + 4 > body.length) return 'SDES chunk runs past the packet';
    const ssrc = u32(body, at);
    at += 4;
    const items: SdesItem[] = [];
    for (;;) {
      if (at >= body.length) return 'SDES item list has no terminating null octet';
      const type = body[at]!;
      if (type === 0) break;
      if (at + 2 > body.length) return 'SDES item header runs past the packet';
      const len = body[at + 1]!;
      if (at + 2 + len > body.length) return 'SDES item runs past the packet';
      items.push({ type, value: Buffer.from(body.buffer, body.byteOffset + at + 2, len).toString('utf8') });
      at += 2 + len;
    }
    // skip the null octet(s) up to the next 32-bit boundary (§6.5)
    at = (Math.floor(at / 4) + 1) * 4;
    chunks.push({ ssrc, items });
  }
  return { type: 'sdes', chunks };
}

function parseBye(body: Uint8Array, count: number): RtcpPacket | string {
  if (4 + count * 4 > body.length) return 'BYE source list runs past the packet';
  const ssrcs: number[] = [];
  for (let i = 0; i < count; i++) ssrcs.push(u32(body, 4 + i * 4));
  const at = 4 + count * 4;
  if (at < body.length) {
    const len = body[at]!;
    if (at + 1 + len > body.length) return 'BYE reason runs past the packet';
    return { type: 'bye', ssrcs, reason: Buffer.from(body.buffer, body.byteOffset + at + 1, len).toString('utf8') };
  }
  return { type: 'bye', ssrcs };
}

/** Parse one RTCP packet whose length has been checked: body spans its header too. */
function parseOne(body: Uint8Array): RtcpPacket | string {
  const count = body[0]! & 0x1f;
  const packetType = body[1]!;
  switch (packetType) {
    case RTCP_SR: {
      if (body.length < 28) return 'SR shorter than its sender info';
      const reports = parseReportBlocks(body, 28, count);
      if (reports === undefined) return 'SR report blocks run past the packet';
      const sender: SenderInfo = {
        ntpSeconds: u32(body, 8),
        ntpFraction: u32(body, 12),
        rtpTimestamp: u32(body, 16),
        packetCount: u32(body, 20),
        octetCount: u32(body, 24),
      };
      return { type: 'sr', ssrc: u32(body, 4), sender, reports };
    }
    case RTCP_RR: {
      if (body.length < 8) return 'RR shorter than its header';
      const reports = parseReportBlocks(body, 8, count);
      if (reports === undefined) return 'RR report blocks run past the packet';
      return { type: 'rr', ssrc: u32(body, 4), reports };
    }
    case RTCP_SDES:
      return parseSdes(body, count);
    case RTCP_BYE:
      return parseBye(body, count);
    default:
      return { type: 'other', packetType, count, body: body.subarray(4) };
  }
}

/**
 * Parse a compound RTCP packet (§6.1). Checks per appendix A.2: version 2 in every packet, the
 * lengths add up to the datagram, padding only in the last packet. The "first packet is SR or
 * RR" rule is not enforced: some peers send a lone BYE, and the packets are still readable.
 */
export function parseRtcpCompound(buf: Uint8Array): RtcpParseResult {
  if (buf.length < 4) return { ok: false, error: `${buf.length} bytes is shorter than an RTCP header` };
  const packets: RtcpPacket[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) return { ok: false, error: 'trailing bytes shorter than an RTCP header' };
    const b0 = buf[at]!;
    if (b0 >> 6 !== 2) return { ok: false, error: `RTCP version ${b0 >> 6} at offset ${at}` };
    const len = (((buf[at + 2]! << 8) | buf[at + 3]!) + 1) * 4;
    if (at + len > buf.length) return { ok: false, error: `RTCP packet at offset ${at} claims ${len} bytes, ${buf.length - at} left` };
    let end = at + len;
    if ((b0 & 0x20) !== 0) {
      if (end !== buf.length) return { ok: false, error: 'padding bit set on a packet that is not the last' };
      const pad = buf[end - 1]!;
      if (pad === 0 || pad > len - 4) return { ok: false, error: `padding count ${pad} does not fit` };
      end -= pad;
    }
    const parsed = parseOne(buf.subarray(at, end));
    if (typeof parsed === 'string') return { ok: false, error: parsed };
    packets.push(parsed);
    at += len;
  }
  return { ok: true, packets };
}
