/**
 * Sending DTMF as RFC 4733 telephone events. Sans I/O: the sender says what to send and when;
 * the engine stamps sequence numbers and SSRC, sends the packets, and holds back the voice
 * packets of the stream while an event is under way (§2.5.1.1: the tone would otherwise be
 * played twice).
 *
 * Per digit (§2.5.1.2–§2.5.1.4): a start packet with the marker bit, then an update every
 * packetisation interval, all with the timestamp of the instant the event began and a growing
 * duration, then the end packet (E bit, final duration) sent three times with the same
 * timestamp and duration so that one lost packet does not leave the far end guessing. Each
 * packet covers the interval it opens, as an audio packet would, so its duration runs to the
 * end of that interval.
 */
import type { DtmfDigit } from '../types.js';
import { MAX_SEGMENT_DURATION, digitForEvent, eventForDigit, serializeTelephoneEvent } from './rfc4733-payload.js';

/** Timing and levels shared by the planner and the sender. */
export interface Rfc4733Timing {
  /** RTP clock rate of the telephone-event payload type (8000 per §7.1.1 unless negotiated) */
  clockRate?: number;
  /** time between updates; 50 ms is the §2.5.1.2 recommendation, 20 ms matches voice ptime */
  packetIntervalMs?: number;
  /** tone power in -dBm0 (§2.3); 10 is a common transmit level (ITU-T Q.23 allows -4..-11 per tone pair) */
  volume?: number;
  /** copies of the end packet (§2.5.1.4: three) */
  endRepeats?: number;
  /** spacing of the end packet copies, so one burst of loss cannot take them all */
  endRepeatIntervalMs?: number;
}

export interface Rfc4733SenderOptions extends Rfc4733Timing {
  /** the RTP timestamp of the voice stream at referenceMs: events use the stream's own clock (§2.5.1.2) */
  referenceTimestamp: number;
  /** the instant, in the milliseconds given to tick(), at which the stream's timestamp was referenceTimestamp */
  referenceMs: number;
  /** default tone length when enqueue() gives none (ITU-T Q.24 receivers need at least 40 ms) */
  toneMs?: number;
  /** default silence between digits */
  gapMs?: number;
}

/** One packet to send. */
export interface Rfc4733OutgoingPacket {
  digit: DtmfDigit;
  /** when to send it, in the caller's milliseconds */
  atMs: number;
  payload: Uint8Array;
  /** RTP timestamp: the start of the event's current segment */
  timestamp: number;
  /** RTP marker bit: set on the first packet of an event only (§2.5.1.2) */
  marker: boolean;
  /** the duration field, in timestamp units */
  duration: number;
  /** the E bit */
  end: boolean;
}

const DEFAULTS = { clockRate: 8000, packetIntervalMs: 50, volume: 10, endRepeats: 3, endRepeatIntervalMs: 20, toneMs: 100, gapMs: 70 };

/** Tone lengths outside this range are clamped: shorter is below what Q.24 receivers accept. */
const MIN_TONE_MS = 40;
const MAX_TONE_MS = 60_000;

/**
 * Every packet for one digit pressed at startMs for toneMs, in sending order. Events longer than
 * the 16-bit duration can hold are split into segments (§2.5.1.3): each segment's timestamp is
 * the previous one's plus 0xFFFF, only the first has the marker, only the last carries E.
 */
export function planTelephoneEvent(
  digit: DtmfDigit,
  startMs: number,
  timestamp: number,
  toneMs: number,
  timing: Rfc4733Timing = {},
): Rfc4733OutgoingPacket[] {
  const clockRate = positiveOr(timing.clockRate, DEFAULTS.clockRate);
  const intervalMs = positiveOr(timing.packetIntervalMs, DEFAULTS.packetIntervalMs);
  const volume = timing.volume ?? DEFAULTS.volume;
  const endRepeats = Math.max(1, Math.round(positiveOr(timing.endRepeats, DEFAULTS.endRepeats)));
  const repeatMs = timing.endRepeatIntervalMs !== undefined && timing.endRepeatIntervalMs >= 0 ? timing.endRepeatIntervalMs : DEFAULTS.endRepeatIntervalMs;
  const event = eventForDigit(digit) ?? 0;
  const tone = clampTone(toneMs);
  const totalUnits = Math.round((tone * clockRate) / 1000);
  const unitsAt = (ms: number): number => Math.min(totalUnits, Math.round((ms * clockRate) / 1000));
  const out: Rfc4733OutgoingPacket[] = [];
  const push = (atMs: number, units: number, end: boolean, closeSegment = false): void => {
    // a duration of exactly 0xFFFF still belongs to the segment it completes
    const segment = units === 0 ? 0 : Math.floor((units - 1) / MAX_SEGMENT_DURATION);
    const duration = closeSegment ? MAX_SEGMENT_DURATION : units - segment * MAX_SEGMENT_DURATION;
    out.push({
      digit,
      atMs,
      payload: serializeTelephoneEvent({ event, end, volume, duration }),
      timestamp: (timestamp + segment * MAX_SEGMENT_DURATION) >>> 0,
      marker: out.length === 0,
      duration,
      end,
    });
  };

  let previousSegment = 0;
  for (let k = 0; k * intervalMs < tone; k++) {
    const units = unitsAt((k + 1) * intervalMs);
    const segment = Math.floor((units - 1) / MAX_SEGMENT_DURATION);
    if (segment > previousSegment) {
      // §2.5.1.3: the old segment is closed at its full 0xFFFF before the next one starts
      const closingUnits = segment * MAX_SEGMENT_DURATION;
      push(startMs + k * intervalMs, closingUnits, false, true);
      previousSegment = segment;
    }
    push(startMs + k * intervalMs, units, false);
  }
  for (let r = 0; r < endRepeats; r++) push(startMs + tone + r * repeatMs, totalUnits, true);
  return out;
}

interface QueuedDigit {
  digit: DtmfDigit;
  toneMs: number;
  gapMs: number;
}

interface ActiveDigit {
  packets: Rfc4733OutgoingPacket[];
  next: number;
  /** earliest start of the following digit */
  nextStartMs: number;
}

/**
 * A queue of digits played out as RFC 4733 packets: enqueue() digits, call tick(nowMs) on the
 * media tick, send what it returns. Digits start on the first tick at or after the previous
 * digit's tone plus gap.
 */
export class Rfc4733Sender {
  private readonly timing: Rfc4733Timing;
  private readonly clockRate: number;
  private readonly referenceTimestamp: number;
  private readonly referenceMs: number;
  private readonly toneMs: number;
  private readonly gapMs: number;
  private readonly queue: QueuedDigit[] = [];
  private active: ActiveDigit | undefined;
  private nextStartMs = -Infinity;

  constructor(options: Rfc4733SenderOptions) {
    this.clockRate = positiveOr(options.clockRate, DEFAULTS.clockRate);
    this.timing = { ...options, clockRate: this.clockRate };
    this.referenceTimestamp = options.referenceTimestamp >>> 0;
    this.referenceMs = Number.isFinite(options.referenceMs) ? options.referenceMs : 0;
    this.toneMs = clampTone(options.toneMs ?? DEFAULTS.toneMs);
    this.gapMs = options.gapMs !== undefined && options.gapMs >= 0 ? options.gapMs : DEFAULTS.gapMs;
  }

  /**
   * Queue digits (0–9, *, #, A–D, case-insensitive); other characters are skipped. Returns how
   * many were queued.
   */
  enqueue(digits: string, toneMs?: number, gapMs?: number): number {
    let queued = 0;
    for (const ch of digits) {
      const event = eventForDigit(ch);
      const digit = event === undefined ? undefined : digitForEvent(event);
      if (digit === undefined) continue;
      this.queue.push({
        digit,
        toneMs: clampTone(toneMs ?? this.toneMs),
        gapMs: gapMs !== undefined && gapMs >= 0 ? gapMs : this.gapMs,
      });
      queued++;
    }
    return queued;
  }

  /** Digits queued or under way. */
  get busy(): boolean {
    return this.active !== undefined || this.queue.length > 0;
  }

  /** An event is under way: the voice packets of the stream should be held back (§2.5.1.1). */
  get sendingEvent(): boolean {
    return this.active !== undefined;
  }

  /** Drop the digits not started yet; the one under way still finishes with its end packets. */
  clear(): void {
    this.queue.length = 0;
  }

  /** The packets due at or before nowMs, in order. */
  tick(nowMs: number): Rfc4733OutgoingPacket[] {
    const out: Rfc4733OutgoingPacket[] = [];
    for (;;) {
      if (this.active === undefined) {
        const queued = this.queue[0];
        if (queued === undefined || nowMs < this.nextStartMs) return out;
        this.queue.shift();
        this.active = this.start(queued, nowMs);
      }
      const active = this.active;
      let packet = active.packets[active.next];
      while (packet !== undefined && packet.atMs <= nowMs) {
        out.push(packet);
        packet = active.packets[++active.next];
      }
      if (packet !== undefined) return out;
      this.active = undefined;
      this.nextStartMs = active.nextStartMs;
    }
  }

  private start(queued: QueuedDigit, nowMs: number): ActiveDigit {
    const startMs = Math.max(nowMs, this.nextStartMs);
    const elapsedUnits = Math.round(((startMs - this.referenceMs) * this.clockRate) / 1000);
    const timestamp = (this.referenceTimestamp + elapsedUnits) >>> 0;
    const packets = planTelephoneEvent(queued.digit, startMs, timestamp, queued.toneMs, this.timing);
    const lastAt = packets[packets.length - 1]?.atMs ?? startMs;
    // the gap counts from the tone's end; the end packet copies must be out before the next start
    return { packets, next: 0, nextStartMs: Math.max(startMs + queued.toneMs + queued.gapMs, lastAt) };
  }
}

function clampTone(ms: number): number {
  if (!Number.isFinite(ms)) return DEFAULTS.toneMs;
  return Math.min(MAX_TONE_MS, Math.max(MIN_TONE_MS, ms));
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}
