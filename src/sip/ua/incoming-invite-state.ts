/**
 * The UAS side of an initial INVITE (RFC 3261 §13.3, RFC 3262 §3):
 *
 *   received --1xx--> early --2xx--> accepted --ACK--> confirmed
 *      |               |                 +--64*T1 without ACK--> failed (BYE sent, §13.3.1.4)
 *      +---------------+--3xx-6xx (reject, 487 on CANCEL §9.2)--> rejected
 */
import { UsageMachine, type TransitionTable } from './usage-machine.js';

export type IncomingInviteState = 'received' | 'early' | 'accepted' | 'confirmed' | 'rejected' | 'failed';

export const INCOMING_INVITE_TRANSITIONS: TransitionTable<IncomingInviteState> = {
  // §13.3.1.1: provisional responses; §13.3.1.4: 2xx; §13.3.1.3 and §9.2: non-2xx
  received: ['early', 'accepted', 'rejected'],
  early: ['accepted', 'rejected'],
  // §13.3.1.4: the ACK confirms; no ACK within 64*T1 ends the session with BYE
  accepted: ['confirmed', 'failed'],
  confirmed: [],
  rejected: [],
  failed: [],
};

export function incomingInviteMachine(): UsageMachine<IncomingInviteState> {
  return new UsageMachine('incoming INVITE', 'received', INCOMING_INVITE_TRANSITIONS);
}
