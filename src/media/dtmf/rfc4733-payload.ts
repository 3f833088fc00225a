/**
 * The RFC 4733 §2.3 telephone-event payload: one 4-byte block
 *
 *    0                   1                   2                   3
 *   |     event     |E|R| volume    |          duration             |
 *
 * Pure: parse returns undefined for a payload too short to hold a block, never throws.
 */
import { DTMF_DIGITS, type DtmfDigit } from '../types.js';

/** One telephone-event block, decoded. */
export interface TelephoneEvent {
  /** event code (RFC 4733 §3.2: 0–9, 10 = '*', 11 = '#', 12–15 = A–D; others are not DTMF) */
  event: number;
  /** E bit: this packet reports the end of the event (§2.3) */
  end: boolean;
  /** power level of the tone, expressed in dBm0 after dropping the sign: 0..63 (§2.3) */
  volume: number;
  /** duration so far in RTP timestamp units, 16 bits (§2.3, §2.5.1.3 for longer events) */
  duration: number;
}

/** Bytes of one event block (§2.3). */
export const TELEPHONE_EVENT_SIZE = 4;

/** The largest duration one segment can carry before §2.5.1.3 splits the event. */
export const MAX_SEGMENT_DURATION = 0xffff;

/**
 * Decode the first event block of a payload. Extra bytes are ignored: several blocks in one
 * payload only happen with RFC 2198 redundancy, which arrives under its own payload type.
 */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < TELEPHONE_EVENT_SIZE) return undefined;
  const b1 = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: (((payload[2] as number) << 8) | (payload[3] as number)) >>> 0,
  };
}

/** Encode one event block; out-of-range fields are clamped to what the wire can carry. */
export function serializeTelephoneEvent(event: TelephoneEvent): Uint8Array {
  const out = new Uint8Array(TELEPHONE_EVENT_SIZE);
  const duration = clampInt(event.duration, 0, MAX_SEGMENT_DURATION);
  out[0] = clampInt(event.event, 0, 255);
  // the R bit is reserved: the sender MUST set it to zero (§2.3)
  out[1] = (event.end ? 0x80 : 0) | clampInt(event.volume, 0, 63);
  out[2] = duration >> 8;
  out[3] = duration & 0xff;
  return out;
}

/** The digit for a DTMF event code (§3.2), undefined for any other event. */
export function digitForEvent(event: number): DtmfDigit | undefined {
  return Number.isInteger(event) ? DTMF_DIGITS[event] : undefined;
}

/** The event code for a digit (§3.2); lower-case a–d are accepted, anything else gives undefined. */
export function eventForDigit(digit: string): number | undefined {
  const index = DTMF_DIGITS.indexOf(digit.toUpperCase() as DtmfDigit);
  return index < 0 ? undefined : index;
}

function clampInt(v: number, min: number, max: number): number {
  if (!Number.isFinite(v)) return min;
  const r = Math.round(v);
  return r < min ? min : r > max ? max : r;
}
