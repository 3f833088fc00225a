/**
 * Receiving DTMF as RFC 4733 telephone events: turns the packets of the negotiated
 * telephone-event payload type into one DtmfEvent per key press.
 *
 * Sans I/O: receive() and tick() return the digits that finished; nothing here owns a timer.
 * The caller feeds every packet of the telephone-event payload type (after SRTP, in arrival
 * order, duplicates and all) and calls tick(nowMs) on its media tick so that an event whose
 * end packets were all lost still ends. One receiver per RTP stream; call reset() when the
 * SSRC changes, since timestamps of a new source are unrelated to the old ones.
 *
 * An event is identified by its RTP timestamp, the instant the event began (§2.5.1.2); every
 * packet of it repeats that timestamp with a growing duration.
 */
import type { DtmfDigit, DtmfEvent, RtpPacket } from '../types.js';
import { MAX_SEGMENT_DURATION, digitForEvent, parseTelephoneEvent } from './rfc4733-payload.js';

export interface Rfc4733ReceiverOptions {
  /** RTP clock rate of the telephone-event payload type; 8000 unless SDP said otherwise (§7.1.1) */
  clockRate?: number;
  /**
   * An event that has had no packet for this long is over even without its end packets
   * (§2.5.2.2 leaves the receiver to decide). Six 50 ms update intervals by default, so a burst
   * of lost updates does not split a long key press.
   */
  endTimeoutMs?: number;
  /** the negotiated telephone-event payload type: receiveRtp() ignores packets of any other */
  payloadType?: number;
}

/** One packet of the telephone-event payload type, as the receiver needs it. */
export interface TelephoneEventPacket {
  payload: Uint8Array;
  /** RTP timestamp (32-bit, unsigned) */
  timestamp: number;
  marker: boolean;
  /** when it arrived, in the same milliseconds tick() is given */
  arrivalMs: number;
}

/** Why an event was reported. */
export type Rfc4733EndCause = 'end-bit' | 'timeout' | 'new-event' | 'flush';

/** A DtmfEvent with the RFC 4733 details the engine may want (logs, metrics). */
export interface Rfc4733DtmfEvent extends DtmfEvent {
  source: 'rfc4733';
  /** RTP timestamp of the event's start (its first segment) */
  timestamp: number;
  /** tone power in -dBm0, as the last packet said (§2.3): 0 is loudest, 63 quietest */
  volume: number;
  endedBy: Rfc4733EndCause;
}

type ReceiverState = 'idle' | 'in-event';

const TRANSITIONS: Readonly<Record<ReceiverState, readonly ReceiverState[]>> = {
  idle: ['in-event'],
  'in-event': ['idle'],
};

interface CurrentEvent {
  code: number;
  digit: DtmfDigit;
  /** timestamp of the first segment: the event's identity towards the caller */
  startTimestamp: number;
  /** timestamp of the segment being received (§2.5.1.3: each segment has its own) */
  segmentTimestamp: number;
  /** timestamp units covered by the segments before this one */
  earlierSegmentsUnits: number;
  /** the largest duration seen in this segment: reordered updates never shrink it */
  segmentDuration: number;
  volume: number;
  lastArrivalMs: number;
}

/** How many finished segments we remember to drop their retransmissions and redundant ends. */
const RECENT_ENDED = 16;

/** 2^31: half the timestamp space, the horizon of serial-number comparison. */
const HALF_SPACE = 0x80000000;

export class Rfc4733Receiver {
  private readonly clockRate: number;
  private readonly endTimeoutMs: number;
  private readonly payloadType: number | undefined;
  private state: ReceiverState = 'idle';
  private current: CurrentEvent | undefined;
  /** keys `${timestamp}/${code}` of finished segments, oldest first */
  private readonly ended: string[] = [];
  private lastEndedTimestamp: number | undefined;

  constructor(options: Rfc4733ReceiverOptions = {}) {
    this.clockRate = positiveOr(options.clockRate, 8000);
    this.endTimeoutMs = positiveOr(options.endTimeoutMs, 300);
    this.payloadType = options.payloadType;
  }

  /** The digit being held right now (for barge-in before the key is released), if any. */
  get activeDigit(): DtmfDigit | undefined {
    return this.current?.digit;
  }

  /** Feed one packet; returns the key presses it finished (zero, one, or two when it also starts a new one). */
  receive(packet: TelephoneEventPacket): Rfc4733DtmfEvent[] {
    const te = parseTelephoneEvent(packet.payload);
    if (te === undefined) return [];
    // §3.2: only events 0–15 are DTMF; flash and the others are not ours to report
    const digit = digitForEvent(te.event);
    if (digit === undefined) return [];
    const timestamp = packet.timestamp >>> 0;
    const out: Rfc4733DtmfEvent[] = [];
    const current = this.current;

    if (current !== undefined && timestamp === current.segmentTimestamp && te.event === current.code) {
      // §2.5.2.1: an update of the event under way; durations only grow, so a late update
      // overtaken by a newer one changes nothing
      this.update(current, te.duration, te.volume, packet.arrivalMs);
      if (te.end) out.push(this.finish('end-bit'));
      return out;
    }

    // §2.5.1.4: the end packet is sent three times, and retransmitted updates may trail it
    if (this.ended.includes(key(timestamp, te.event))) return out;

    if (current !== undefined) {
      if (this.continues(current, timestamp, te.event, packet.marker, packet.arrivalMs)) {
        // §2.5.2.3: a long event goes on in a new segment whose timestamp is the previous
        // segment's timestamp plus its duration; the durations add up
        this.rememberEnded(current.segmentTimestamp, current.code);
        current.earlierSegmentsUnits += (timestamp - current.segmentTimestamp) >>> 0;
        current.segmentTimestamp = timestamp;
        current.segmentDuration = 0;
        this.update(current, te.duration, te.volume, packet.arrivalMs);
        if (te.end) out.push(this.finish('end-bit'));
        return out;
      }
      // a packet from before the event under way was reordered behind it: too late to matter
      // (a start packet with the marker bit is a new key press even when its timestamp went
      // backwards: streams spliced from recordings, like SIPp's pcap replay, and gateways that
      // restart their RTP clock do that)
      if (this.isOlder(timestamp, current.segmentTimestamp) && !packet.marker) return out;
      // §2.5.2.2: a new timestamp is a new event, so the one under way is over even though its
      // end packets never came
      out.push(this.finish('new-event'));
    } else if (this.lastEndedTimestamp !== undefined && this.isOlder(timestamp, this.lastEndedTimestamp) && !packet.marker) {
      return out;
    }

    // a first packet without the marker bit means the start packet was lost (§2.5.2.1): the
    // event still counts, from its timestamp and duration
    this.current = {
      code: te.event,
      digit,
      startTimestamp: timestamp,
      segmentTimestamp: timestamp,
      earlierSegmentsUnits: 0,
      segmentDuration: te.duration,
      volume: te.volume,
      lastArrivalMs: packet.arrivalMs,
    };
    this.transition('in-event');
    if (te.end) out.push(this.finish('end-bit'));
    return out;
  }

  /** Feed a parsed RTP packet as it arrived; packets of another payload type than the configured one are ignored. */
  receiveRtp(packet: RtpPacket, arrivalMs: number): Rfc4733DtmfEvent[] {
    if (this.payloadType !== undefined && packet.payloadType !== this.payloadType) return [];
    return this.receive({ payload: packet.payload, timestamp: packet.timestamp, marker: packet.marker, arrivalMs });
  }

  /** Advance time: ends an event whose packets stopped without an end bit. */
  tick(nowMs: number): Rfc4733DtmfEvent[] {
    const current = this.current;
    if (current === undefined || nowMs - current.lastArrivalMs < this.endTimeoutMs) return [];
    return [this.finish('timeout')];
  }

  /** The stream stops (hold, BYE): report the event under way, if any. */
  flush(): Rfc4733DtmfEvent[] {
    return this.current === undefined ? [] : [this.finish('flush')];
  }

  /** Forget everything, e.g. when the SSRC changes; an event under way is dropped unreported. */
  reset(): void {
    this.current = undefined;
    this.ended.length = 0;
    this.lastEndedTimestamp = undefined;
    this.state = 'idle';
  }

  private update(current: CurrentEvent, duration: number, volume: number, arrivalMs: number): void {
    if (duration > current.segmentDuration) current.segmentDuration = duration;
    current.volume = volume;
    current.lastArrivalMs = Math.max(current.lastArrivalMs, arrivalMs);
  }

  /**
   * Is this packet the next segment of the event under way (§2.5.1.3)? Same event code, no
   * marker (only the first segment has it), and a timestamp that lies where the current
   * segment ends: no earlier than what it reported, no later than the 16-bit duration can reach,
   * and the gap made of lost packets no longer than the end timeout.
   */
  private continues(current: CurrentEvent, timestamp: number, code: number, marker: boolean, arrivalMs: number): boolean {
    if (code !== current.code || marker) return false;
    if (arrivalMs - current.lastArrivalMs >= this.endTimeoutMs) return false;
    const delta = (timestamp - current.segmentTimestamp) >>> 0;
    if (delta === 0 || delta > MAX_SEGMENT_DURATION || delta < current.segmentDuration) return false;
    const missingMs = ((delta - current.segmentDuration) * 1000) / this.clockRate;
    return missingMs < this.endTimeoutMs;
  }

  private finish(endedBy: Rfc4733EndCause): Rfc4733DtmfEvent {
    const current = this.current as CurrentEvent;
    this.current = undefined;
    this.transition('idle');
    this.rememberEnded(current.segmentTimestamp, current.code);
    const units = current.earlierSegmentsUnits + current.segmentDuration;
    return {
      digit: current.digit,
      durationMs: Math.round((units * 1000) / this.clockRate),
      source: 'rfc4733',
      timestamp: current.startTimestamp,
      volume: current.volume,
      endedBy,
    };
  }

  private rememberEnded(timestamp: number, code: number): void {
    this.ended.push(key(timestamp, code));
    if (this.ended.length > RECENT_ENDED) this.ended.shift();
    if (this.lastEndedTimestamp === undefined || !this.isOlder(timestamp, this.lastEndedTimestamp)) {
      this.lastEndedTimestamp = timestamp;
    }
  }

  /**
   * a is before b in RTP timestamp order (serial arithmetic over 2^32, RFC 1982 style). Only
   * differences up to ten seconds count as "before": a stream that jumps further back has
   * restarted, and its events are new.
   */
  private isOlder(a: number, b: number): boolean {
    const back = (b - a) >>> 0;
    return back !== 0 && back < HALF_SPACE && back <= this.clockRate * 10;
  }

  private transition(to: ReceiverState): void {
    if (!TRANSITIONS[this.state].includes(to)) {
      throw new Error(`Rfc4733Receiver: illegal transition ${this.state} -> ${to}`);
    }
    this.state = to;
  }
}

function key(timestamp: number, code: number): string {
  return `${timestamp}/${code}`;
}

function positiveOr(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : fallback;
}
