/**
 * What the B2BUA needs from the rest of the system, as ports: the composition root (src/cli)
 * adapts the provisioning stores (src/control, which `calls` may not import) and the registrar's
 * location store to these. Plain data only.
 */
import type { ua } from '../../sip/index.js';
import type { DialPlan, Target } from '../dialplan/index.js';
import type { Balancing, Gateway } from '../trunks/gateway-selection.js';

export interface TrunkInfo {
  id: string;
  tenant: string;
  name: string;
  direction: 'inbound' | 'outbound' | 'both';
  /** source CIDRs allowed to send calls in */
  acl: string[];
  gateways: (Gateway & { port: number; transport: 'udp' | 'tcp' | 'tls' })[];
  balancing: Balancing;
  /** answers a carrier's digest challenge */
  outboundAuth?: { username: string; password: string; realm?: string };
  callerIdStyle: 'pai' | 'rpid' | 'both' | 'none';
  numberFormat: 'e164' | 'national' | 'international-00' | 'digits-only';
  countryCode?: string;
  optionsPingSeconds: number;
  maxConcurrentCalls?: number;
  callsPerSecond?: number;
  enabled: boolean;
}

export interface CallDirectory {
  /** every trunk of every tenant (the B2BUA caches and refreshes) */
  trunks(): Promise<TrunkInfo[]>;
  /** the target a DID (E.164) maps to */
  did(tenant: string, e164: string): Promise<{ tenant: string; target: Target; trunkId?: string } | undefined>;
  /** the compiled dial plan of a tenant, if it has one */
  dialPlan(tenant: string): Promise<DialPlan | undefined>;
  /** the tenant a SIP domain belongs to */
  tenantOfDomain(domain: string): Promise<string | undefined>;
}

/** One CDR row: a whole call (legId undefined) or one of its legs. */
export interface CdrRecord {
  callId: string;
  legId?: string;
  tenant: string;
  direction: 'inbound' | 'outbound' | 'internal';
  from: string;
  to: string;
  trunk?: string;
  setupAt: number;
  answerAt?: number;
  endAt: number;
  durationSec: number;
  billableSec: number;
  status: number;
  reason: string;
  endedBy: 'caller' | 'callee' | 'system' | 'api';
  codec?: string;
  packetsLost?: number;
  jitterMs?: number;
  rttMs?: number;
  recordingKey?: string;
}

export interface CdrSink {
  /** durable before it resolves */
  write(records: CdrRecord[]): Promise<void>;
}

/** Who answers calls the dial plan sends to a VoiceXML application (the MCP, wired by src/cli). */
export interface ApplicationHost {
  handle(incoming: ua.IncomingInvite, target: { tenant: string; to: string; url?: string; app?: string }): void;
}
