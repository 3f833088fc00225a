/**
 * Call transfer for the B2BUA: blind (RFC 5589 §6, REFER per RFC 3515), attended (RFC 5589 §7,
 * REFER with Replaces per RFC 3891), and a phone taking over a party's place by INVITE with
 * Replaces (RFC 3891 §3). The calls and their legs stay the B2BUA's: this reaches them
 * through TransferHost, the few steps of its own that a transfer is made of.
 */
import type { Logger } from '../../lib/index.js';
import { describeError, randomToken, sipStatusFor } from '../../lib/index.js';
import type { EndpointDescription } from '../../media/index.js';
import type { ua } from '../../sip/index.js';
import type { EndCause } from '../call/call-state.js';
import type { B2buaOptions } from './b2bua.js';
import { betterFailure, type Call, type CallEvent, type Leg } from './call-model.js';
import type { Branch, BranchGroup } from './call-router.js';

/** What a transfer needs of the B2BUA that owns the calls. */
export interface TransferHost {
  readonly options: B2buaOptions;
  readonly log: Logger;
  /** an INVITE towards one branch of a route, the call's caller presented as the B2BUA does */
  inviteBranch(call: Call, branch: Branch, sdp: string, timeoutMs: number): ua.OutgoingInvite;
  /** takes a leg out of the call; its dialog is answered but goes nowhere from then on */
  releaseLeg(call: Call, leg: Leg, reason: string): void;
  /** a leg's dialog events (end, re-INVITE, REFER, INFO) now drive the call */
  watchDialog(call: Call, leg: Leg): void;
  /** music off and bridge down */
  freeMedia(call: Call): Promise<void>;
  /** the call and leg a dialog belongs to */
  legOf(target: ua.UaDialog | ua.IncomingInvite): { call: Call; leg: Leg } | undefined;
  emit(event: CallEvent): void;
  end(call: Call, cause: EndCause): Promise<void>;
  finish(call: Call, cause: EndCause): Promise<void>;
  watchDtmf(call: Call): Promise<void>;
  publishState(call: Call): Promise<void>;
}

export class CallTransfers {
  constructor(private readonly host: TransferHost) {}

  /**
   * An INVITE with Replaces (RFC 3891 §3): a phone takes over one party's place in a call (the
   * transferee of an attended transfer done by the phones, a pickup of an answered call). Knowing
   * the Call-ID and both tags is the proof RFC 3891 §7 accepts; a caller from our own domain has
   * been authenticated by the router already. The new dialog is answered from a fresh endpoint,
   * bridged to the other party, and the replaced dialog gets BYE. No such confirmed dialog: 481;
   * `early-only` naming a confirmed one: 486.
   */
  async onReplacingInvite(incoming: ua.IncomingInvite): Promise<void> {
    const replaces = incoming.replaces;
    if (replaces === undefined) return incoming.reject(400, { reason: 'Bad Replaces Header' });
    if (replaces.earlyOnly && this.host.options.ua.findByReplaces({ ...replaces, earlyOnly: false }) !== undefined) return incoming.reject(486, { reason: 'Busy Here' });
    const found = this.host.options.ua.findByReplaces(replaces);
    const match = found === undefined ? undefined : this.host.legOf(found);
    const call = match?.call;
    const replaced = match?.leg;
    const other = call === undefined || replaced === undefined ? undefined : replaced.role === 'a' ? call.b : call.a;
    if (call === undefined || replaced === undefined || other === undefined || (call.state !== 'answered' && call.state !== 'held')) {
      return incoming.reject(481, { reason: 'Call/Transaction Does Not Exist' });
    }
    let endpoint: EndpointDescription;
    try {
      endpoint = await this.host.options.media.createEndpoint({ kind: 'rtp', near: other.endpoint.id, ...(incoming.sdp !== undefined ? { remoteSdp: incoming.sdp } : {}), labels: { call: call.id, leg: replaced.role } });
    } catch (err) {
      const status = sipStatusFor(err);
      return incoming.reject(status === 500 ? 488 : status, { reason: 'Media Refused' });
    }
    if (call.ended || (replaced !== call.a && replaced !== call.b)) {
      await this.host.options.media.deleteEndpoint(endpoint.id).catch(() => undefined);
      return incoming.reject(481, { reason: 'Call/Transaction Does Not Exist' });
    }
    // the replaced leg leaves the call now: its BYE can no longer end it
    this.host.releaseLeg(call, replaced, 'Replaced');
    const fromUser = incoming.request.from?.uri.user ?? 'anonymous';
    const leg: Leg = { id: `${call.id}-${replaced.role}-${randomToken(3)}`, role: replaced.role, endpoint, label: `${fromUser}@${incoming.request.from?.uri.host ?? ''} (replaced ${replaced.label})` };
    if (replaced.role === 'a') call.a = leg;
    else call.b = leg;
    let dialog: ua.UaDialog;
    try {
      dialog = await incoming.accept({ sdp: endpoint.localSdp });
    } catch (err) {
      this.host.log.warn({ err: describeError(err), callId: call.id }, 'the replacing INVITE was never acknowledged');
      await this.hangUpLeg(replaced);
      return this.host.end(call, { status: 408, reason: 'No ACK', by: 'system' });
    }
    if (call.ended) {
      await dialog.bye().catch(() => undefined);
      await this.host.options.media.deleteEndpoint(endpoint.id).catch(() => undefined);
      return this.hangUpLeg(replaced);
    }
    leg.dialog = dialog;
    leg.answeredAt = this.host.options.scheduler.wallNow();
    if (dialog.remoteSdp !== undefined && incoming.sdp === undefined) await this.host.options.media.updateEndpoint(endpoint.id, { remoteSdp: dialog.remoteSdp }).catch(() => undefined);
    this.host.watchDialog(call, leg);
    await this.host.freeMedia(call);
    if (call.state === 'held') call.move('answered');
    try {
      const bridge = await this.host.options.media.bridge(other.endpoint.id, endpoint.id);
      call.bridgeId = bridge.bridgeId;
      this.host.emit({ type: 'call.bridged', callId: call.id, bridgeId: bridge.bridgeId, transcoding: bridge.transcoding });
    } catch (err) {
      this.host.log.warn({ err: describeError(err), callId: call.id }, 'the replacing leg could not be bridged');
      await this.hangUpLeg(replaced);
      return this.host.end(call, { status: 503, reason: 'Replace Bridge Failed', by: 'system' });
    }
    this.host.emit({ type: 'call.transferred', callId: call.id, to: leg.label });
    await this.hangUpLeg(replaced);
    await this.host.watchDtmf(call);
    await this.host.publishState(call);
  }

  /**
   * Blind transfer (RFC 5589 §6 / RFC 3515): the party on `leg` asks us to connect the other party
   * to the Refer-To target. We accept (202), ring the target as if the transferor had dialled it,
   * NOTIFY the outcome (message/sipfrag), and on success bridge the other party to the new leg and
   * release the transferor.
   */
  async onRefer(call: Call, leg: Leg, refer: ua.IncomingRefer): Promise<void> {
    const other = leg.role === 'a' ? call.b : call.a;
    const target = refer.referTo;
    if (other === undefined || target === undefined || (call.state !== 'answered' && call.state !== 'held')) return refer.reject(target === undefined ? 400 : 488);
    if (refer.replaces !== undefined) return this.onAttendedRefer(call, leg, other, refer, refer.replaces);
    const transferor = call.transferorIdentity(leg);
    if (transferor === undefined) return refer.reject(403, { reason: 'Transfer Not Allowed' });
    refer.accept();
    const wasHeld = call.state === 'held';
    call.move('transferring');
    const destUser = target.uri.user ?? '';
    const decision = await this.host.options.router.routeAs(transferor.user, transferor.domain, `${destUser}@${target.uri.host}`).catch(() => undefined);
    if (decision === undefined || decision.kind !== 'connect') {
      call.move(wasHeld ? 'held' : 'answered');
      await refer.notify(decision?.kind === 'reject' ? decision.status : 404, decision?.kind === 'reject' ? decision.reason : 'Not Found').catch(() => undefined);
      return;
    }
    const result = await this.dialLeg(call, decision.groups, other.endpoint.id, leg.role);
    if (call.ended) return;
    if (!result.ok) {
      call.move(wasHeld ? 'held' : 'answered');
      await refer.notify(result.status, result.reason).catch(() => undefined);
      return;
    }
    const newLeg = result.leg;
    await this.host.freeMedia(call);
    try {
      call.bridgeId = (await this.host.options.media.bridge(other.endpoint.id, newLeg.endpoint.id)).bridgeId;
    } catch (err) {
      this.host.log.warn({ err: describeError(err), callId: call.id }, 'transfer target could not be bridged');
    }
    this.host.releaseLeg(call, leg, 'Transferred');
    if (leg.role === 'a') call.a = newLeg;
    else call.b = newLeg;
    call.to = `${destUser}@${target.uri.host}`;
    this.host.watchDialog(call, newLeg);
    call.move('answered');
    this.host.emit({ type: 'call.transferred', callId: call.id, to: call.to });
    await refer.notify(200, 'OK').catch(() => undefined);
    // the transferor is done (RFC 5589 §6: it usually hangs up itself; we release it either way)
    if (leg.dialog !== undefined && !leg.dialog.ended) void leg.dialog.bye().catch(() => undefined);
    await this.host.options.media.deleteEndpoint(leg.endpoint.id).catch(() => undefined);
    await this.host.watchDtmf(call);
    await this.host.publishState(call);
  }

  /**
   * Attended transfer (RFC 5589 §7, RFC 3515 + RFC 3891): the party on `leg` (the transferor) has
   * a second call with us and asks, by REFER with Replaces naming its dialog of that call, that
   * `other` (the transferee) be connected to the party at the far end of that call (the target).
   * Both parties are already ours, so the transferee's INVITE-with-Replaces the RFC describes
   * happens inside opencx: the two endpoints are bridged, the target's leg moves into this call,
   * the NOTIFY says 200, and both of the transferor's dialogs get BYE. A Replaces that names no
   * confirmed dialog of ours is reported as the target would answer it: 481 (RFC 3891 §3).
   */
  private async onAttendedRefer(call: Call, leg: Leg, other: Leg, refer: ua.IncomingRefer, replaces: ua.ReplacesTarget): Promise<void> {
    const transferor = call.transferorIdentity(leg);
    if (transferor === undefined) return refer.reject(403, { reason: 'Transfer Not Allowed' });
    refer.accept();
    const notify = (status: number, reason: string): Promise<void> =>
      refer.notify(status, reason).then(
        () => undefined,
        () => undefined,
      );
    const found = this.host.options.ua.findByReplaces(replaces);
    const match = found === undefined ? undefined : this.host.legOf(found);
    const second = match?.call;
    const replaced = match?.leg;
    const target = second === undefined || replaced === undefined ? undefined : replaced.role === 'a' ? second.b : second.a;
    if (second === undefined || replaced === undefined || target === undefined || second === call || (second.state !== 'answered' && second.state !== 'held')) {
      this.host.log.info({ callId: call.id, replacesCallId: replaces.callId }, 'attended transfer: Replaces names no call of ours');
      return notify(481, 'Call/Transaction Does Not Exist');
    }
    // RFC 3891 §7: only a party of the replaced dialog may have it replaced: the same local user
    const owner = second.transferorIdentity(replaced);
    if (owner === undefined || owner.user !== transferor.user || owner.domain.toLowerCase() !== transferor.domain.toLowerCase()) {
      this.host.log.info({ callId: call.id, other: second.id }, 'attended transfer refused: the replaced dialog is not the transferor\'s');
      return notify(403, 'Forbidden');
    }
    // from here on nothing the transferor's dialogs do reaches either call
    const targetUser = second.transferorIdentity(target);
    this.host.releaseLeg(call, leg, 'Transferred (attended)');
    this.host.releaseLeg(second, replaced, 'Transferred (attended)');
    target.detach?.();
    if (second.a === target) second.a = undefined;
    if (second.b === target) second.b = undefined;
    const moved: Leg = { ...target, role: leg.role, ...(targetUser !== undefined ? { user: `${targetUser.user}@${targetUser.domain}` } : {}) };
    delete moved.detach;
    if (leg.role === 'a') call.a = moved;
    else call.b = moved;
    if (call.state !== 'transferring') call.move('transferring');
    this.host.watchDialog(call, moved);
    await Promise.all([this.host.freeMedia(call), this.host.freeMedia(second)]);
    try {
      const bridge = await this.host.options.media.bridge(other.endpoint.id, moved.endpoint.id);
      call.bridgeId = bridge.bridgeId;
      this.host.emit({ type: 'call.bridged', callId: call.id, bridgeId: bridge.bridgeId, transcoding: bridge.transcoding });
    } catch (err) {
      this.host.log.warn({ err: describeError(err), callId: call.id }, 'attended transfer: the parties could not be bridged');
      await notify(503, 'Service Unavailable');
      await this.hangUpLeg(leg);
      await this.hangUpLeg(replaced);
      await this.host.end(call, { status: 503, reason: 'Transfer Bridge Failed', by: 'system' });
      return this.host.finish(second, { status: 503, reason: 'Transfer Bridge Failed', by: 'system' });
    }
    if (leg.role === 'b' && targetUser !== undefined) call.to = `${targetUser.user}@${targetUser.domain}`;
    if (!call.ended) call.move('answered');
    this.host.emit({ type: 'call.transferred', callId: call.id, to: target.label });
    // RFC 5589 §7.1: the replaced dialog ends first, then the transferor hears 200 and is released
    await this.hangUpLeg(replaced);
    await notify(200, 'OK');
    await this.hangUpLeg(leg);
    await this.host.finish(second, { status: 200, reason: `Attended Transfer: joined to ${call.id}`, by: replaced.role === 'a' ? 'caller' : 'callee' });
    await this.host.watchDtmf(call);
    await this.host.publishState(call);
  }

  /** Ring groups for a new leg of an existing call; the first answer wins. */
  private async dialLeg(call: Call, groups: BranchGroup[], near: string, role: 'a' | 'b'): Promise<{ ok: true; leg: Leg } | { ok: false; status: number; reason: string }> {
    let best: { status: number; reason: string } | undefined;
    for (const group of groups) {
      for (const branch of group.branches) {
        let ep: EndpointDescription;
        try {
          ep = await this.host.options.media.createEndpoint({ kind: 'rtp', near, labels: { call: call.id, leg: role } });
        } catch (err) {
          best ??= { status: 503, reason: describeError(err) };
          continue;
        }
        const out = this.host.inviteBranch(call, branch, ep.localSdp, group.timeoutMs ?? this.host.options.ringTimeoutMs ?? 60_000);
        const result = await out.done;
        if (result.ok) {
          if (result.sdp !== undefined) await this.host.options.media.updateEndpoint(ep.id, { remoteSdp: result.sdp }).catch(() => undefined);
          return { ok: true, leg: { id: `${call.id}-${role}-${randomToken(3)}`, role, endpoint: ep, dialog: result.dialog, label: branch.label, answeredAt: this.host.options.scheduler.wallNow() } };
        }
        await this.host.options.media.deleteEndpoint(ep.id).catch(() => undefined);
        const f = { status: result.failure.cause === 'no-answer' || result.failure.cause === 'timeout' ? 408 : result.failure.status, reason: result.failure.reason };
        best = best === undefined ? f : betterFailure(best, f);
        if (f.status >= 600) return { ok: false, ...best };
      }
    }
    return { ok: false, ...(best ?? { status: 480, reason: 'Temporarily Unavailable' }) };
  }

  /** BYE a released leg (unless its party hung up already) and free its endpoint. */
  private async hangUpLeg(leg: Leg): Promise<void> {
    leg.detach?.();
    if (leg.dialog !== undefined && !leg.dialog.ended) await leg.dialog.bye().catch(() => undefined);
    await this.host.options.media.deleteEndpoint(leg.endpoint.id).catch(() => undefined);
  }
}
