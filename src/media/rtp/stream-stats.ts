/**
 * RTP stream statistics, pure (times are passed in): what the receiver counts about a source
 * (RFC 3550 appendix A.1 sequence validation, A.3 loss, A.8 jitter), what a sender counts for
 * its SR, and the round-trip time a report block about our stream gives (§6.4.1).
 */
import { ntpMiddle32, type ReportBlock, type SenderInfo, ntpFromWallMs } from './rtcp.js';

const SEQ_MOD = 0x1_0000;
/** A.1: a jump forward bigger than this is not a loss but a restart candidate */
const MAX_DROPOUT = 3000;
/** A.1: packets this far behind the highest are late/duplicates, not a restart */
const MAX_MISORDER = 100;
/** A.1: consecutive packets needed before a new source is believed */
const MIN_SEQUENTIAL = 2;

export type SequenceVerdict = 'valid' | 'probation' | 'invalid';

/** Receiver statistics for one source (SSRC). */
export class ReceiverStatistics {
  private baseSeq = 0;
  private maxSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private cycles = 0;
  private probation = MIN_SEQUENTIAL;
  private receivedCount = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private started = false;
  private jitterTs = 0;
  private lastArrivalTs: number | undefined;
  private lastRtpTimestamp = 0;
  private lastSrMiddle = 0;
  private lastSrAtMs: number | undefined;
  /** bytes of payload-carrying datagrams counted as valid */
  bytes = 0;

  constructor(
    readonly ssrc: number,
    /** RTP timestamp rate of the stream: jitter is measured in its units (A.8) */
    readonly clockRate: number,
  ) {}

  private initSequence(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.receivedCount = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /**
   * Count a received packet. Returns A.1's verdict: 'probation' while a new source has not sent
   * MIN_SEQUENTIAL packets in sequence, 'invalid' for a jump that is not (yet) a restart.
   */
  update(seq: number, rtpTimestamp: number, arrivalMs: number, bytes: number): SequenceVerdict {
    const verdict = this.updateSequence(seq & 0xffff);
    if (verdict === 'valid') {
      this.bytes += bytes;
      this.updateJitter(rtpTimestamp >>> 0, arrivalMs);
    }
    return verdict;
  }

  private updateSequence(seq: number): SequenceVerdict {
    if (!this.started) {
      // A.1: a new source starts in probation with max_seq one behind its first packet
      this.started = true;
      this.initSequence(seq);
      this.maxSeq = (seq - 1) & 0xffff;
      this.probation = MIN_SEQUENTIAL;
    }
    const delta = (seq - this.maxSeq) & 0xffff;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSequence(seq);
          this.receivedCount++;
          return 'valid';
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return 'probation';
    }
    if (delta < MAX_DROPOUT) {
      // in order, possibly with a gap; a smaller number means the 16 bits wrapped
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (delta <= SEQ_MOD - MAX_MISORDER) {
      // a big jump: believe it only when the next packet follows it (the source restarted)
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) & 0xffff;
        return 'invalid';
      }
      this.initSequence(seq);
      this.lastArrivalTs = undefined;
    }
    // else: a duplicate or a reordered packet, counted as received per A.1
    this.receivedCount++;
    return 'valid';
  }

  private updateJitter(rtpTimestamp: number, arrivalMs: number): void {
    // A.8: arrival in timestamp units; D is the difference of transit times of consecutive packets.
    // Computed from differences so 32-bit timestamp wrap and large clock values do not matter.
    const arrivalTs = (arrivalMs * this.clockRate) / 1000;
    if (this.lastArrivalTs !== undefined) {
      const tsDelta = (rtpTimestamp - this.lastRtpTimestamp) | 0;
      const d = Math.abs(arrivalTs - this.lastArrivalTs - tsDelta);
      this.jitterTs += (d - this.jitterTs) / 16;
    }
    this.lastArrivalTs = arrivalTs;
    this.lastRtpTimestamp = rtpTimestamp;
  }

  /** packets counted as received (A.1), duplicates included */
  get received(): number {
    return this.receivedCount;
  }

  /** extended highest sequence number: cycles in the high 16 bits (§6.4.1) */
  get extendedHighest(): number {
    return this.cycles + this.maxSeq;
  }

  /** A.3 */
  get expected(): number {
    return this.probation > 0 ? 0 : this.extendedHighest - this.baseSeq + 1;
  }

  /** A.3: expected − received, negative when duplicates arrived */
  get lost(): number {
    return this.expected - this.receivedCount;
  }

  /** A.8 jitter in timestamp units */
  get jitter(): number {
    return this.jitterTs;
  }

  get jitterMs(): number {
    return (this.jitterTs * 1000) / this.clockRate;
  }

  /** remember an SR from this source for the LSR/DLSR fields of our next report (§6.4.1) */
  senderReportReceived(ntpSeconds: number, ntpFraction: number, atMs: number): void {
    this.lastSrMiddle = ntpMiddle32(ntpSeconds, ntpFraction);
    this.lastSrAtMs = atMs;
  }

  /**
   * A report block about this source; moves the A.3 interval forward, so call it once per
   * report sent.
   */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.receivedCount - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.receivedCount;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const dlsr = this.lastSrAtMs === undefined ? 0 : Math.floor(((nowMs - this.lastSrAtMs) / 1000) * 65536);
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: this.lost,
      highestSequence: this.extendedHighest >>> 0,
      jitter: Math.floor(this.jitterTs),
      lastSr: this.lastSrMiddle,
      delaySinceLastSr: dlsr,
    };
  }
}

/** What we send, for the sender info of an SR (§6.4.1). */
export class SenderStatistics {
  packets = 0;
  /** payload octets, as the SR octet count defines them */
  payloadOctets = 0;
  /** datagram bytes, for StreamStats.bytesSent */
  bytes = 0;
  ssrc: number | undefined;
  private lastTimestamp = 0;
  private lastSentAtMs: number | undefined;

  constructor(readonly clockRate: number) {}

  packetSent(ssrc: number, rtpTimestamp: number, payloadOctets: number, bytes: number, atMs: number): void {
    this.ssrc = ssrc;
    this.packets++;
    this.payloadOctets += payloadOctets;
    this.bytes += bytes;
    this.lastTimestamp = rtpTimestamp >>> 0;
    this.lastSentAtMs = atMs;
  }

  get lastSentAt(): number | undefined {
    return this.lastSentAtMs;
  }

  /**
   * Sender info for an SR at this instant. The RTP timestamp is the last one sent advanced by the
   * time since, at the stream's clock rate: §6.4.1 wants it to match the NTP time, not a packet.
   */
  senderInfo(wallMs: number, nowMs: number): SenderInfo {
    const ntp = ntpFromWallMs(wallMs);
    const since = this.lastSentAtMs === undefined ? 0 : Math.max(0, nowMs - this.lastSentAtMs);
    return {
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: (this.lastTimestamp + Math.round((since * this.clockRate) / 1000)) >>> 0,
      packetCount: this.packets >>> 0,
      octetCount: this.payloadOctets >>> 0,
    };
  }
}

/**
 * Round-trip time from a report block about our stream (§6.4.1, figure 2): arrival time A in
 * NTP middle-32 form, minus LSR, minus DLSR. Undefined when the peer has not seen an SR from us
 * (LSR 0) or the result is negative (clocks or a stale block).
 */
export function roundTripMs(block: ReportBlock, arrivalWallMs: number): number | undefined {
  if (block.lastSr === 0) return undefined;
  const ntp = ntpFromWallMs(arrivalWallMs);
  const a = ntpMiddle32(ntp.seconds, ntp.fraction);
  // 32-bit modular arithmetic: the middle 32 bits wrap every 18 hours
  const rtt = (a - block.lastSr - block.delaySinceLastSr) >>> 0;
  if (rtt > 0x8000_0000) return undefined;
  return (rtt / 65536) * 1000;
}
