/**
 * Receiver counters of RFC 3550 appendix A.3 (extended sequence numbers, expected vs received)
 * and A.8 (interarrival jitter), for one source. Pure: the caller passes arrival times.
 */
export class ReceiveStatistics {
  private baseSeq: number | undefined;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  /** clock rate of the last packet, to express jitter in ms */
  private jitterClockRate = 8000;

  /** arrivalMs from a monotonic clock; clockRate of the packet's payload type */
  add(sequenceNumber: number, timestamp: number, arrivalMs: number, clockRate: number): void {
    this.received++;
    if (this.baseSeq === undefined) {
      this.baseSeq = sequenceNumber;
      this.maxSeq = sequenceNumber;
    } else {
      const delta = (sequenceNumber - this.maxSeq + 65536) % 65536;
      // A.1: a forward step of less than half the space is in order (possibly wrapping)
      if (delta > 0 && delta < 32768) {
        if (sequenceNumber < this.maxSeq) this.cycles += 65536;
        this.maxSeq = sequenceNumber;
      }
    }
    // A.8: transit in timestamp units; J += (|D| − J) / 16
    const transit = (arrivalMs * clockRate) / 1000 - timestamp;
    if (this.lastTransit !== undefined) {
      let d = Math.abs(transit - this.lastTransit);
      // a timestamp wrap (2^32) shows as a huge step; fold it back
      if (d > 2 ** 31) d = Math.abs(d - 2 ** 32);
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
    this.jitterClockRate = clockRate;
  }

  get packetsLost(): number {
    if (this.baseSeq === undefined) return 0;
    const expected = this.cycles + this.maxSeq - this.baseSeq + 1;
    return Math.max(0, expected - this.received);
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.jitterClockRate;
  }
}
