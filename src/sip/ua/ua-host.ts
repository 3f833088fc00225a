/**
 * What the user-agent usages (IncomingInvite, OutgoingInvite, UaDialog) need from the service
 * that owns them: sending through client transactions with our Via, the ACK for a 2xx outside
 * any transaction, our Contact, time, and the registry of live dialogs. A delegate inside the
 * layer (STYLE.md §6), implemented by UserAgentService.
 */
import type { Logger, Scheduler, TimerHandle } from '../../lib/index.js';
import type { SipRequest, SipResponse } from '../message/index.js';
import type { OutboundTarget, TransportProtocol } from '../transport/index.js';
import type { DialogId } from '../dialog/index.js';

export interface ClientHandlers {
  onProvisional?(response: SipResponse): void;
  /** the final response; Timer B/F and transport errors arrive as a synthesized 408/503, with `local` set */
  onFinal(response: SipResponse, local?: 'timeout' | 'transport'): void;
  /** RFC 6026 §7.2: 2xx after the first one to an INVITE (retransmissions, other forks) */
  onExtra2xx?(response: SipResponse): void;
}

export interface SendOptions {
  /** next hop override (a trunk gateway); else the first Route, else the Request-URI (§8.1.2) */
  target?: OutboundTarget | undefined;
  /** transport to use when the URI names none and no target is given */
  protocol?: TransportProtocol | undefined;
  /** the request already carries its top Via (a CANCEL copies the INVITE's, §9.1) */
  keepVia?: boolean;
}

/** A request handed to the sender; `ready` resolves once it is on its way (Via and target known). */
export interface OutboundRequest {
  readonly request: SipRequest;
  target: OutboundTarget | undefined;
  readonly ready: Promise<void>;
}

/** RFC 4028 settings of the service. */
export interface SessionTimerSettings {
  /** Session-Expires we ask for / grant, seconds (RFC 4028 §4; 1800 recommended) */
  interval: number;
  /** our Min-SE, seconds; at least 90 (RFC 4028 §5) */
  minSE: number;
}

/** what the host needs of a dialog usage to file it (UaDialog; kept structural to avoid an import cycle) */
export interface DialogUsage {
  readonly id: DialogId;
  readonly ended: boolean;
}

export interface UaHost {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** T1/T2 of the transaction layer: 2xx and reliable 1xx retransmissions use them (§13.3.1.4, RFC 3262 §3) */
  readonly t1: number;
  readonly t2: number;
  readonly sessionTimer: SessionTimerSettings | undefined;
  /** values for Allow and Supported in our INVITEs and 2xx (§13.2.1, §13.3.1.4) */
  readonly allow: string;
  readonly supported: string;
  random(): number;
  sendRequest(request: SipRequest, handlers: ClientHandlers, options?: SendOptions): OutboundRequest;
  /** §13.2.2.4: ACK for a 2xx, outside any transaction, with a fresh branch */
  sendAck(ack: SipRequest, target?: OutboundTarget): void;
  /** our Contact value for a transport, e.g. `<sip:10.0.0.1:5060>` */
  contactFor(protocol: TransportProtocol): string;
  dialogStarted(dialog: DialogUsage): void;
  dialogEnded(dialog: DialogUsage): void;
}

/**
 * Retransmission with doubling interval capped at T2 until stopped, giving up after `giveUpMs`
 * (§13.3.1.4 for 2xx, RFC 3262 §3 for reliable provisionals: both 64*T1).
 */
export class Retransmitter {
  #timer: TimerHandle | undefined;
  #deadline: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly t1: number,
    private readonly t2: number,
    private readonly giveUpMs: number,
    private readonly send: () => void,
    private readonly giveUp: () => void,
  ) {}

  start(): void {
    this.send();
    this.#arm(this.t1);
    this.#deadline = this.scheduler.setTimeout(() => {
      if (this.#stopped) return;
      this.stop();
      this.giveUp();
    }, this.giveUpMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#deadline?.cancel();
    this.#deadline = undefined;
  }

  get active(): boolean {
    return !this.#stopped;
  }

  #arm(interval: number): void {
    if (this.#stopped) return;
    this.#timer = this.scheduler.setTimeout(() => {
      if (this.#stopped) return;
      this.send();
      this.#arm(Math.min(interval * 2, this.t2));
    }, interval);
  }
}
