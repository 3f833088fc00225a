/**
 * The UAC side of an initial INVITE (RFC 3261 §13.2, §9.1; RFC 3262 §4; RFC 4028 §7.3):
 *
 *   calling --1xx--> proceeding --2xx (ACK sent)--> answered
 *      |                 |-- cancel() --> cancelling --487--> failed
 *      +-- 401/407 (§22.2) or 422 (RFC 4028 §7.3): a new INVITE, still calling/proceeding
 *      +---------------- 3xx-6xx, Timer B, transport error --> failed
 *      +-- no response at all within responseTimeoutMs (a dead trunk gateway) --> failed
 */
import { UsageMachine, type TransitionTable } from './usage-machine.js';

export type OutgoingInviteState = 'calling' | 'proceeding' | 'cancelling' | 'answered' | 'failed';

export const OUTGOING_INVITE_TRANSITIONS: TransitionTable<OutgoingInviteState> = {
  calling: ['proceeding', 'cancelling', 'answered', 'failed'],
  proceeding: ['cancelling', 'answered', 'failed'],
  // §9.1: a 2xx may still win the race with CANCEL; it is ACKed and hung up at once
  cancelling: ['answered', 'failed'],
  answered: [],
  failed: [],
};

export function outgoingInviteMachine(): UsageMachine<OutgoingInviteState> {
  return new UsageMachine('outgoing INVITE', 'calling', OUTGOING_INVITE_TRANSITIONS);
}
