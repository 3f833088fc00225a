/**
 * The receiver's replay list (RFC 3711 §3.3.2): a sliding window of the last 64 packet indexes
 * behind the highest one authenticated. Check before authenticating, record only after.
 */
export const REPLAY_WINDOW_SIZE = 64;

export class ReplayWindow {
  private highest = -1;
  /** bit k set = index (highest − k) was received */
  private mask = 0n;

  /** true if `index` is new and not too old to judge */
  accepts(index: number): boolean {
    if (index > this.highest) return true;
    const behind = this.highest - index;
    if (behind >= REPLAY_WINDOW_SIZE) return false;
    return ((this.mask >> BigInt(behind)) & 1n) === 0n;
  }

  /** remember an authenticated index */
  record(index: number): void {
    if (index > this.highest) {
      const shift = this.highest < 0 ? REPLAY_WINDOW_SIZE : index - this.highest;
      this.mask = shift >= REPLAY_WINDOW_SIZE ? 1n : ((this.mask << BigInt(shift)) | 1n) & ((1n << BigInt(REPLAY_WINDOW_SIZE)) - 1n);
      this.highest = index;
      return;
    }
    const behind = this.highest - index;
    if (behind < REPLAY_WINDOW_SIZE) this.mask |= 1n << BigInt(behind);
  }
}
