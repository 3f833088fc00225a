/**
 * What the B2BUA does to a call's media while it lasts: hold (RFC 3264 §8.4: a re-INVITE or UPDATE
 * that stops wanting our media puts the other party on music) and DTMF interworking (RFC 4733
 * digits from one party sent as SIP INFO to a phone that has no telephone-event). The calls stay
 * the B2BUA's; this reaches them through MidCallHost.
 */
import type { Logger } from '../../lib/index.js';
import { describeError, sipStatusFor } from '../../lib/index.js';
import type { EndpointDescription, PlayItem } from '../../media/index.js';
import type { ua } from '../../sip/index.js';
import type { B2buaOptions } from './b2bua.js';
import type { Call, CallEvent, Leg } from './call-model.js';

/** What hold and DTMF interworking need of the B2BUA that owns the calls. */
export interface MidCallHost {
  readonly options: B2buaOptions;
  readonly log: Logger;
  emit(event: CallEvent): void;
  /** the calls in progress */
  calls(): Iterable<Call>;
}

const DEFAULT_MOH: PlayItem[] = [
  { kind: 'tone', frequenciesHz: [440, 554], durationMs: 400, levelDbfs: -20 },
  { kind: 'silence', durationMs: 200 },
  { kind: 'tone', frequenciesHz: [494, 587], durationMs: 400, levelDbfs: -20 },
  { kind: 'silence', durationMs: 1000 },
];

export class MidCallMedia {
  constructor(private readonly host: MidCallHost) {}

  /** A re-INVITE/UPDATE from one side: answer it from that side's endpoint; hold → music to the other. */
  async onReoffer(call: Call, leg: Leg, offer: ua.IncomingOffer): Promise<void> {
    // RFC 3311 §5.2 / RFC 4028 §9: an UPDATE without an offer is a bare session refresh (200, no body);
    // an offerless re-INVITE gets our offer again (RFC 3261 §14.2). Neither touches the other leg.
    if (offer.sdp === undefined) return offer.accept(offer.method === 'UPDATE' ? {} : { sdp: leg.endpoint.localSdp });
    let answer: EndpointDescription;
    try {
      answer = await this.host.options.media.updateEndpoint(leg.endpoint.id, { remoteSdp: offer.sdp });
    } catch (err) {
      return offer.reject(sipStatusFor(err) === 500 ? 488 : sipStatusFor(err));
    }
    leg.endpoint = { ...leg.endpoint, localSdp: answer.localSdp };
    offer.accept({ sdp: answer.localSdp });
    // the remote stopped wanting our media (sendonly/inactive from it = recvonly/inactive for us): hold
    const holding = answer.direction === 'recvonly' || answer.direction === 'inactive';
    const other = leg.role === 'a' ? call.b : call.a;
    if (other === undefined || call.state === 'ended') return;
    if (holding && call.heldBy === undefined) await this.hold(call, leg.role, other);
    else if (!holding && call.heldBy === leg.role) await this.unhold(call);
  }

  async hold(call: Call, by: 'a' | 'b', other: Leg): Promise<void> {
    call.heldBy = by;
    if (call.state === 'answered') call.move('held');
    if (call.bridgeId !== undefined) {
      await this.host.options.media.unbridge(call.bridgeId).catch(() => undefined);
      call.bridgeId = undefined;
    }
    try {
      call.mohPlayId = (await this.host.options.media.play({ endpointId: other.endpoint.id, items: this.host.options.musicOnHold ?? DEFAULT_MOH, loop: true })).playId;
    } catch (err) {
      this.host.log.warn({ err: describeError(err), callId: call.id }, 'music on hold failed');
    }
    this.host.emit({ type: 'call.held', callId: call.id, by, held: true });
  }

  async unhold(call: Call): Promise<void> {
    const by = call.heldBy;
    call.heldBy = undefined;
    if (call.state === 'held') call.move('answered');
    if (call.mohPlayId !== undefined) await this.host.options.media.stopPlay(call.mohPlayId).catch(() => undefined);
    call.mohPlayId = undefined;
    const a = call.a;
    const b = call.b;
    if (a !== undefined && b !== undefined && call.bridgeId === undefined) {
      try {
        call.bridgeId = (await this.host.options.media.bridge(a.endpoint.id, b.endpoint.id)).bridgeId;
      } catch (err) {
        this.host.log.warn({ err: describeError(err), callId: call.id }, 're-bridge after hold failed');
      }
    }
    if (by !== undefined) this.host.emit({ type: 'call.held', callId: call.id, by, held: false });
  }

  /**
   * DTMF towards a phone whose SDP has no telephone-event (RFC 4733 §1 leaves it to the
   * endpoints; such phones take SIP INFO, application/dtmf-relay): the other party's RFC 4733
   * digits are sent to it as INFO. A relayed bridge passes packets undecoded, so the engine is
   * asked to decode the other party's leg to see its digits.
   */
  async watchDtmf(call: Call): Promise<void> {
    const { a, b } = call;
    if (a === undefined || b === undefined) return;
    for (const [to, from] of [
      [a, b],
      [b, a],
    ] as const) {
      to.dtmfInfo = hasTelephoneEvent(this.remoteSdpOf(call, to)) === false;
      if (to.dtmfInfo && hasTelephoneEvent(this.remoteSdpOf(call, from)) === true && from.dtmfWatched !== true) {
        from.dtmfWatched = true;
        await this.host.options.media.detectInbandDtmf(from.endpoint.id, true).catch((err: unknown) => this.host.log.warn({ err: describeError(err), callId: call.id }, 'DTMF detection not started'));
      }
    }
  }

  private remoteSdpOf(call: Call, leg: Leg): string | undefined {
    return leg.dialog?.remoteSdp ?? (leg === call.a ? call.incoming?.sdp : undefined);
  }

  /** An RFC 4733 digit from one leg: INFO to the other party when that phone wants INFO. */
  onDigit(endpointId: string, digit: string, durationMs: number): void {
    for (const call of this.host.calls()) {
      const from = call.a?.endpoint.id === endpointId ? call.a : call.b?.endpoint.id === endpointId ? call.b : undefined;
      if (from === undefined) continue;
      const to = from === call.a ? call.b : call.a;
      // on hold the held party hears music: its digits go nowhere
      if (to?.dtmfInfo !== true || to.dialog === undefined || to.dialog.ended || call.bridgeId === undefined) return;
      void to.dialog.sendDtmf(digit, durationMs).catch((err: unknown) => this.host.log.debug({ err: describeError(err), callId: call.id }, 'DTMF INFO not delivered'));
      return;
    }
  }
}

/** does the SDP offer RFC 4733 telephone-event (`a=rtpmap:<pt> telephone-event/<rate>`)? undefined without SDP */
function hasTelephoneEvent(sdp: string | undefined): boolean | undefined {
  if (sdp === undefined) return undefined;
  return /^a=rtpmap:\d+\s+telephone-event\//im.test(sdp);
}
