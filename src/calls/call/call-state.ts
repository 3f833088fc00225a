/**
 * The life of a back-to-back call, as the B2BUA sees it. One machine per call; each leg's SIP
 * dialog has its own (src/sip). A call starts routing (the dial plan picks targets), rings (some
 * B leg sent 18x), is answered (a B leg sent 2xx and both legs are bridged in the media engine),
 * may be held or be transferring, and ends exactly once with a cause.
 */
import { ConflictError } from '../../lib/index.js';

export type CallState = 'routing' | 'ringing' | 'answered' | 'held' | 'transferring' | 'ended';

const ALLOWED: Readonly<Record<CallState, readonly CallState[]>> = {
  // RFC 3261 §13.3.1: a UAS may answer without ringing first
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended', 'routing'],
  answered: ['held', 'transferring', 'ended'],
  held: ['answered', 'transferring', 'ended'],
  // a failed transfer goes back to the conversation (RFC 5589 §6)
  transferring: ['answered', 'held', 'ended'],
  ended: [],
};

export function canTransition(from: CallState, to: CallState): boolean {
  return ALLOWED[from].includes(to);
}

/** the one place that moves a call; an illegal move is a programming error and throws */
export function transition(from: CallState, to: CallState): CallState {
  if (!canTransition(from, to)) throw new ConflictError(`illegal call transition ${from} -> ${to}`);
  return to;
}

/** Why a call ended, for CDRs and events. */
export interface EndCause {
  /** SIP status that ended it (200 for a normal hang-up after answer) */
  status: number;
  reason: string;
  /** who ended it */
  by: 'caller' | 'callee' | 'system' | 'api';
}
