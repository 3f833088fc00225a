/**
 * Adaptive jitter buffer, pure: packets go in with their arrival time, and the engine's 20 ms
 * tick takes one frame out. Playout follows sequence numbers (RFC 3550 §5.1: they count packets,
 * so a gap is a loss); timestamps only feed the delay estimate.
 *
 * The playout delay is set when a talkspurt starts (after an underrun, a marker bit — RFC 3551
 * §4.1 — or a timestamp jump), from an estimate of network jitter like RFC 3550 A.8's but
 * asymmetric: it rises quickly when packets come late and falls slowly, so one burst raises the
 * delay and seconds of calm lower it. A buffer that holds more than the target for a while drops
 * a frame now and then to catch up.
 */
import type { RtpPacket } from '../types.js';

export interface JitterBufferOptions {
  /** RTP clock rate (default 8000) */
  clockRate?: number;
  /** duration of one packet / one pop tick (default 20 ms) */
  frameMs?: number;
  /** smallest playout delay (default 20 ms) */
  minDelayMs?: number;
  /** largest playout delay (default 200 ms) */
  maxDelayMs?: number;
  /** most packets held; the oldest is dropped beyond (default twice the maximum delay in frames, plus 10) */
  capacity?: number;
}

export type JitterBufferOutput = { kind: 'packet'; packet: RtpPacket } | { kind: 'lost' } | { kind: 'empty' };

export type JitterBufferPushResult = 'queued' | 'late' | 'duplicate';

export interface JitterBufferStats {
  /** packets waiting */
  depth: number;
  /** the playout delay the next talkspurt starts with */
  targetDelayMs: number;
  /** the delay-variation estimate the target is derived from */
  jitterMs: number;
  played: number;
  /** frames reported as { kind: 'lost' } or skipped over when playout restarted */
  lost: number;
  /** packets that arrived after their playout time and were dropped */
  late: number;
  duplicates: number;
  /** packets that arrived with a lower sequence number than one already received */
  reordered: number;
  /** packets dropped to bring an overfull buffer back towards its target */
  discarded: number;
  /** pops that found nothing to play while playing */
  underruns: number;
  /** restarts for a new SSRC or a sequence jump */
  resyncs: number;
}

/** a sequence jump larger than this (in packets, either way) is a new stream, not loss */
const MAX_SEQUENCE_JUMP = 1000;
/** a delay-variation sample larger than this is a timestamp discontinuity, not jitter */
const MAX_JITTER_SAMPLE_MS = 1000;
/** ticks the buffer must stay over target before one frame is dropped (shrink slowly) */
const SHRINK_AFTER_TICKS = 25;

/** signed distance a - b on the 16-bit sequence circle */
function seqDistance(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

export class JitterBuffer {
  private readonly clockRate: number;
  private readonly frameMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly capacity: number;

  /** extended sequence number → packet */
  private readonly packets = new Map<number, RtpPacket>();
  private ssrc: number | undefined;
  /** highest extended sequence number pushed */
  private highest: number | undefined;
  /** extended sequence number to play next */
  private next: number | undefined;
  private state: 'buffering' | 'playing' = 'buffering';
  private bufferingSince: number | undefined;
  private overTargetTicks = 0;

  private jitterEstimateMs = 0;
  private lastArrivalMs: number | undefined;
  private lastTimestamp = 0;

  private readonly counters = { played: 0, lost: 0, late: 0, duplicates: 0, reordered: 0, discarded: 0, underruns: 0, resyncs: 0 };

  constructor(options: JitterBufferOptions = {}) {
    this.clockRate = options.clockRate ?? 8000;
    this.frameMs = options.frameMs ?? 20;
    this.minDelayMs = options.minDelayMs ?? 20;
    this.maxDelayMs = Math.max(this.minDelayMs, options.maxDelayMs ?? 200);
    this.capacity = options.capacity ?? Math.ceil(this.maxDelayMs / this.frameMs) * 2 + 10;
  }

  /** the playout delay a talkspurt starting now would get */
  get targetDelayMs(): number {
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, this.frameMs + 3 * this.jitterEstimateMs));
  }

  push(packet: RtpPacket, arrivalMs: number): JitterBufferPushResult {
    if (this.ssrc !== undefined && packet.ssrc !== this.ssrc) this.restart();
    this.ssrc = packet.ssrc;
    let ext = this.extend(packet.sequenceNumber);
    if (this.highest !== undefined && Math.abs(ext - this.highest) > MAX_SEQUENCE_JUMP) {
      // the sender restarted its sequence (or a new stream with the same SSRC): start over
      this.restart();
      ext = this.extend(packet.sequenceNumber);
    }
    const discontinuity = this.updateJitter(packet.timestamp, arrivalMs);

    if (this.next !== undefined && ext < this.next) {
      this.counters.late++;
      return 'late';
    }
    if (this.packets.has(ext)) {
      this.counters.duplicates++;
      return 'duplicate';
    }
    if (this.highest !== undefined && ext < this.highest) this.counters.reordered++;
    else this.highest = ext;

    // a new talkspurt with nothing left to play: start it with the current target delay
    if (this.state === 'playing' && this.packets.size === 0 && (packet.marker || discontinuity)) {
      this.state = 'buffering';
      this.bufferingSince = undefined;
    }
    if (this.state === 'buffering' && this.bufferingSince === undefined) this.bufferingSince = arrivalMs;

    this.packets.set(ext, packet);
    if (this.packets.size > this.capacity) this.dropOldest();
    return 'queued';
  }

  /** Take the frame for this tick. Call once per frameMs. */
  pop(nowMs: number): JitterBufferOutput {
    if (this.state === 'buffering') {
      if (this.packets.size === 0 || this.bufferingSince === undefined) return { kind: 'empty' };
      if (nowMs - this.bufferingSince < this.targetDelayMs) return { kind: 'empty' };
      this.startPlaying();
    }
    if (this.packets.size === 0) {
      // underrun: loss or the end of a talkspurt, we cannot tell yet; buffer afresh
      this.counters.underruns++;
      this.state = 'buffering';
      this.bufferingSince = undefined;
      return { kind: 'empty' };
    }
    this.shrinkIfOverTarget();
    const next = this.next!;
    this.next = next + 1;
    const packet = this.packets.get(next);
    if (packet === undefined) {
      this.counters.lost++;
      return { kind: 'lost' };
    }
    this.packets.delete(next);
    this.counters.played++;
    return { kind: 'packet', packet };
  }

  stats(): JitterBufferStats {
    return { depth: this.packets.size, targetDelayMs: this.targetDelayMs, jitterMs: this.jitterEstimateMs, ...this.counters };
  }

  /** forget all packets (e.g. on hold); the delay estimate and counters stay */
  reset(): void {
    this.restart(false);
  }

  private restart(countAsResync = true): void {
    this.packets.clear();
    this.highest = undefined;
    this.next = undefined;
    this.state = 'buffering';
    this.bufferingSince = undefined;
    this.lastArrivalMs = undefined;
    this.overTargetTicks = 0;
    if (countAsResync) this.counters.resyncs++;
  }

  private extend(seq: number): number {
    // start high enough that reordered packets before the first one stay positive
    if (this.highest === undefined) return 0x10000 + (seq & 0xffff);
    return this.highest + seqDistance(seq, this.highest & 0xffff);
  }

  /** A.8-style delay variation against the previous arrival; true for a timestamp discontinuity */
  private updateJitter(timestamp: number, arrivalMs: number): boolean {
    const prevArrival = this.lastArrivalMs;
    const prevTs = this.lastTimestamp;
    this.lastArrivalMs = arrivalMs;
    this.lastTimestamp = timestamp >>> 0;
    if (prevArrival === undefined) return false;
    const tsDeltaMs = ((((timestamp >>> 0) - prevTs) | 0) * 1000) / this.clockRate;
    const sample = Math.abs(arrivalMs - prevArrival - tsDeltaMs);
    if (sample > MAX_JITTER_SAMPLE_MS) return true;
    // up with gain 1/4, down with 1/128: fast to protect, slow to trust calm
    const gain = sample > this.jitterEstimateMs ? 1 / 4 : 1 / 128;
    this.jitterEstimateMs += (sample - this.jitterEstimateMs) * gain;
    return false;
  }

  private lowestBuffered(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const ext of this.packets.keys()) if (ext < lowest) lowest = ext;
    return lowest;
  }

  private startPlaying(): void {
    const first = this.lowestBuffered();
    // frames between the last one played and this talkspurt never came
    if (this.next !== undefined && first > this.next) this.counters.lost += first - this.next;
    this.next = first;
    this.state = 'playing';
    this.overTargetTicks = 0;
  }

  private shrinkIfOverTarget(): void {
    const heldMs = this.packets.size * this.frameMs;
    if (heldMs <= this.targetDelayMs + this.frameMs) {
      this.overTargetTicks = 0;
      return;
    }
    if (++this.overTargetTicks < SHRINK_AFTER_TICKS) return;
    this.overTargetTicks = 0;
    // drop the frame about to play: one 20 ms skip every half second is hard to hear
    const next = this.next!;
    if (this.packets.delete(next)) this.counters.discarded++;
    this.next = next + 1;
  }

  private dropOldest(): void {
    const oldest = this.lowestBuffered();
    this.packets.delete(oldest);
    this.counters.discarded++;
    if (this.next !== undefined && this.next <= oldest) this.next = oldest + 1;
  }
}
