/**
 * The B2BUA's model of a call: its two legs, its state and the resources it holds, and the views
 * and events it shows to the API and the bus. Data only; b2bua.ts drives it.
 */
import type { TimerHandle } from '../../lib/index.js';
import type { EndpointDescription } from '../../media/index.js';
import type { ua } from '../../sip/index.js';
import { transition, type CallState, type EndCause } from '../call/call-state.js';

type IncomingInvite = ua.IncomingInvite;
type OutgoingInvite = ua.OutgoingInvite;
type UaDialog = ua.UaDialog;

/** One party of a call: its SIP dialog (or the INVITE still pending) and its media endpoint. */
export interface Leg {
  id: string;
  role: 'a' | 'b';
  endpoint: EndpointDescription;
  dialog?: UaDialog;
  label: string;
  answeredAt?: number;
  trunk?: string;
  /** user@domain of the local user on this leg, when known (whose rights a REFER from it uses) */
  user?: string;
  /** removes the B2BUA's listeners from the leg's dialog (a leg moved to another call, or released) */
  detach?: () => void;
  /** the phone's SDP has no telephone-event: it gets DTMF as SIP INFO (application/dtmf-relay) */
  dtmfInfo?: boolean;
  /** the engine decodes this leg's RTP so its RFC 4733 digits are seen even through a relay */
  dtmfWatched?: boolean;
}

/** A leg that left a call before it ended (a transferor released by a transfer, a replaced leg): kept for the CDR. */
export interface FormerLeg {
  leg: Leg;
  endAt: number;
  reason: string;
}

export interface CallView {
  id: string;
  state: CallState;
  tenant: string;
  direction: 'inbound' | 'outbound' | 'internal';
  from: string;
  to: string;
  createdAt: number;
  answeredAt?: number;
  legs: { id: string; role: 'a' | 'b'; label: string; endpointId: string; trunk?: string }[];
  bridgeId?: string;
  recordingId?: string;
  heldBy?: 'a' | 'b';
}

export type CallEvent =
  | { type: 'call.created'; call: CallView }
  | { type: 'leg.ringing'; callId: string; legId: string; status: number }
  | { type: 'leg.answered'; callId: string; legId: string }
  | { type: 'call.bridged'; callId: string; bridgeId: string; transcoding: boolean }
  | { type: 'call.held'; callId: string; by: 'a' | 'b'; held: boolean }
  | { type: 'call.transferred'; callId: string; to: string }
  | { type: 'call.ended'; callId: string; cause: EndCause };


/** Bus topic of call events and key prefix of active calls (other nodes list them). */
export const CALL_EVENTS_TOPIC = 'calls:events';
export const ACTIVE_CALL_PREFIX = 'calls:active:';

export class Call {
  state: CallState = 'routing';
  readonly createdAt: number;
  answeredAt: number | undefined;
  a: Leg | undefined;
  b: Leg | undefined;
  bridgeId: string | undefined;
  recordingId: string | undefined;
  recordingKey: string | undefined;
  heldBy: 'a' | 'b' | undefined;
  mohPlayId: string | undefined;
  pending = new Set<OutgoingInvite>();
  /** endpoints of branches still ringing */
  branchEndpoints = new Map<OutgoingInvite, EndpointDescription>();
  ended = false;
  release: (() => void) | undefined;
  trunk: string | undefined;
  cancelled = false;
  /** click-to-dial: the user rung first, user@domain */
  originator: string | undefined;
  /** legs released before the end (transfer, Replaces): each still gets its CDR leg record */
  formerLegs: FormerLeg[] = [];
  /** ends the call at the maximum duration */
  durationTimer: TimerHandle | undefined;

  constructor(
    readonly id: string,
    readonly incoming: IncomingInvite | undefined,
    public tenant: string,
    public direction: 'inbound' | 'outbound' | 'internal',
    readonly from: string,
    public to: string,
    now: number,
  ) {
    this.createdAt = now;
  }

  move(to: CallState): void {
    this.state = transition(this.state, to);
  }

  /**
   * Whose rights a REFER from this leg uses: the local user on that leg. The A leg is the
   * caller (when it was a local user); the B leg is the user we rang.
   */
  transferorIdentity(leg: Leg): { user: string; domain: string } | undefined {
    const id = leg.user ?? (leg.role === 'a' ? this.callerUser : leg.label.split(' via ')[0]);
    if (id === undefined) return undefined;
    const [user = '', domain = ''] = id.split('@');
    return user !== '' && domain !== '' ? { user, domain } : undefined;
  }

  /** user@domain of a local caller (from the router), for transfers it makes */
  callerUser: string | undefined;
}

/** Which failure to tell the caller (RFC 3261 §16.7 item 6 spirit): 6xx, then busy, then the lowest 4xx, then 5xx. */
export function betterFailure(a: { status: number; reason: string }, b: { status: number; reason: string }): { status: number; reason: string } {
  const rank = (s: number): number => (s >= 600 ? 0 : s === 486 ? 1 : s >= 400 && s < 500 && s !== 408 && s !== 480 ? 2 : s === 480 ? 3 : s === 408 ? 4 : 5);
  return rank(b.status) < rank(a.status) ? b : a;
}
