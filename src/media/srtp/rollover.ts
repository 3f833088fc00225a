/**
 * The rollover counter (ROC) and packet index estimate of RFC 3711 §3.3.1 and appendix A, for
 * one SSRC in one direction. Both the sender and the receiver keep one: the sender learns its
 * ROC from the sequence numbers it is given, so a caller that retransmits or reorders still
 * gets the index the receiver will guess.
 */
export class RolloverTracker {
  private roc = 0;
  /** s_l: the highest sequence number seen in this ROC; undefined before the first packet */
  private highestSeq: number | undefined;

  /** the 48-bit index this sequence number most likely has, or undefined if it would be negative */
  estimate(seq: number): { index: number; roc: number } | undefined {
    const sl = this.highestSeq;
    if (sl === undefined) return { index: seq + this.roc * 65536, roc: this.roc };
    let v = this.roc;
    if (sl < 32768) {
      if (seq - sl > 32768) v = this.roc - 1;
    } else if (sl - 32768 > seq) {
      v = this.roc + 1;
    }
    // a packet from before the stream's first ROC (v = −1 at ROC 0) has no valid index
    if (v < 0 || v > 0xffffffff) return undefined;
    return { index: seq + v * 65536, roc: v };
  }

  /** commit an estimate once the packet is authenticated (RFC 3711 §3.3.1, last paragraph) */
  update(seq: number, roc: number): void {
    if (this.highestSeq === undefined || roc > this.roc) {
      this.roc = roc;
      this.highestSeq = seq;
    } else if (roc === this.roc && seq > this.highestSeq) {
      this.highestSeq = seq;
    }
  }
}
