/**
 * Records of the telephony provisioning stores (trunks, DIDs, dial plans, CDRs) as the REST API
 * returns them; timestamps in ISO 8601. Secrets never appear here: inbound digest credentials
 * are HA1 hashes and the outbound password is only readable through TrunkStore.outboundCredentials.
 */
export const TRUNK_DIRECTIONS = ['inbound', 'outbound', 'both'] as const;
export type TrunkDirection = (typeof TRUNK_DIRECTIONS)[number];

export const GATEWAY_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;
export type GatewayTransport = (typeof GATEWAY_TRANSPORTS)[number];

export const BALANCING_MODES = ['failover', 'round-robin', 'weighted'] as const;
export type BalancingMode = (typeof BALANCING_MODES)[number];

/** how the caller's identity is sent to the carrier: P-Asserted-Identity (RFC 3325), Remote-Party-ID, both or neither */
export const CALLER_ID_STYLES = ['pai', 'rpid', 'both', 'none'] as const;
export type CallerIdStyle = (typeof CALLER_ID_STYLES)[number];

/** how numbers are written in the Request-URI/To/From sent over the trunk */
export const NUMBER_FORMATS = ['e164', 'national', 'international-00', 'digits-only'] as const;
export type NumberFormat = (typeof NUMBER_FORMATS)[number];

export interface TrunkGateway {
  /** host name, IPv4 or IPv6 address (without brackets) */
  host: string;
  port: number;
  transport: GatewayTransport;
  /** share among gateways of the same priority under 'weighted' balancing (RFC 2782 style) */
  weight: number;
  /** lower is tried first under 'failover' */
  priority: number;
  /**
   * seconds to wait for any response to an INVITE (even 100 Trying) before trying the next
   * gateway; absent = Timer B (32 s). Dead gateways are found in seconds instead of half a minute.
   */
  responseTimeoutSeconds?: number;
}

export interface Trunk {
  id: string;
  tenantId: string;
  name: string;
  direction: TrunkDirection;
  /** source addresses allowed to send calls in, as CIDRs (a bare address is /32 or /128) */
  acl: string[];
  /** digest credentials a peer authenticates its INVITEs with (only username and realm are shown) */
  inboundAuth: { username: string; realm: string } | null;
  gateways: TrunkGateway[];
  balancing: BalancingMode;
  /** credentials this server answers a carrier's challenge with (the password is never shown) */
  outboundAuth: { username: string; realm: string | null } | null;
  callerIdStyle: CallerIdStyle;
  numberFormat: NumberFormat;
  /** country calling code without '+', e.g. "1" or "44"; needed by the 'national' format */
  countryCode: string | null;
  /** seconds between OPTIONS pings to each gateway; 0 = off */
  optionsPingSeconds: number;
  /** null = unlimited */
  maxConcurrentCalls: number | null;
  /** null = unlimited */
  callsPerSecond: number | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** Inbound digest credentials: a password (hashed at once) or HA1 hashes computed elsewhere. */
export interface TrunkInboundAuthInput {
  username: string;
  /** default DEFAULT_TRUNK_REALM */
  realm?: string | undefined;
  password?: string | undefined;
  ha1Md5?: string | undefined;
  ha1Sha256?: string | undefined;
}

export interface TrunkOutboundAuthInput {
  username: string;
  password: string;
  realm?: string | null | undefined;
}

export interface GatewayInput {
  host: string;
  /** default 5060, 5061 for TLS */
  port?: number | undefined;
  /** default udp */
  transport?: GatewayTransport | undefined;
  /** default 1 */
  weight?: number | undefined;
  /** default 0 */
  priority?: number | undefined;
  /** 1-32; default none (Timer B, 32 s) */
  responseTimeoutSeconds?: number | undefined;
}

export interface NewTrunk {
  name: string;
  /** default 'both' when gateways are given, else 'inbound' */
  direction?: TrunkDirection | undefined;
  acl?: string[] | undefined;
  inboundAuth?: TrunkInboundAuthInput | null | undefined;
  gateways?: GatewayInput[] | undefined;
  balancing?: BalancingMode | undefined;
  outboundAuth?: TrunkOutboundAuthInput | null | undefined;
  callerIdStyle?: CallerIdStyle | undefined;
  numberFormat?: NumberFormat | undefined;
  countryCode?: string | null | undefined;
  optionsPingSeconds?: number | undefined;
  maxConcurrentCalls?: number | null | undefined;
  callsPerSecond?: number | null | undefined;
  enabled?: boolean | undefined;
}

/** every field optional; null clears the nullable ones */
export type TrunkChanges = Partial<NewTrunk>;

/** What the SIP layer checks a trunk's digest response against (RFC 7616 §3.4.2). */
export interface TrunkInboundCredentials {
  username: string;
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
}

/** What the SIP layer answers a carrier's 401/407 with: the password itself is needed for that. */
export interface TrunkOutboundCredentials {
  username: string;
  password: string;
  realm: string | null;
}

/** Where a DID (or a dial-plan rule) sends a call, in the dial-plan engine's shape; it owns the finer checks. */
export const TARGET_TYPES = ['user', 'ring-group', 'trunk', 'vxml', 'voicemail', 'number', 'reject'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export interface CallTarget {
  type: TargetType;
  [key: string]: unknown;
}

/**
 * The two forms of a vxml target: a document URL, or a hosted application of the DID's (or dial
 * plan's) tenant by name, which resolves to hostedAppUrl(server, tenant, app, its entry).
 */
export type VxmlCallTarget = { type: 'vxml'; url: string } | { type: 'vxml'; app: string };

export interface Did {
  id: string;
  tenantId: string;
  /** E.164, e.g. "+15551234567" */
  number: string;
  target: CallTarget;
  /** when set, only calls arriving on this trunk match */
  trunkId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewDid {
  number: string;
  target: CallTarget;
  trunkId?: string | null | undefined;
}

export interface DidChanges {
  target?: CallTarget | undefined;
  trunkId?: string | null | undefined;
}

export interface DialPlan {
  tenantId: string;
  /** 0 when none was ever set; incremented on each change */
  version: number;
  document: unknown;
  updatedAt: string | null;
}

export interface DialPlanRuleError {
  rule: string;
  path: string;
  message: string;
}

export type DialPlanValidation = { ok: true } | { ok: false; errors: DialPlanRuleError[] };

/** injected by the composition root (the validator lives in src/calls, which control may not import) */
export type DialPlanValidator = (doc: unknown) => DialPlanValidation;

export type CdrKind = 'call' | 'leg';
export type CdrDirection = 'inbound' | 'outbound' | 'internal';
export type HangupSide = 'caller' | 'callee' | 'system';

/** One call detail record: one per call (kind 'call') and one per leg (kind 'leg'). */
export interface Cdr {
  id: string;
  tenantId: string;
  kind: CdrKind;
  callId: string;
  /** null on the call record */
  legId: string | null;
  direction: CdrDirection;
  fromNumber: string | null;
  toNumber: string | null;
  trunkId: string | null;
  setupAt: string;
  answerAt: string | null;
  endAt: string | null;
  /** setup to end, seconds */
  durationSeconds: number;
  /** answer to end, seconds (0 when never answered) */
  billableSeconds: number;
  sipStatus: number | null;
  reason: string | null;
  hangupBy: HangupSide | null;
  codec: string | null;
  packetsLost: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  recordingKey: string | null;
  createdAt: string;
}

export interface NewCdr {
  /** default: a new UUID; giving one makes a retried insert idempotent */
  id?: string | undefined;
  tenantId: string;
  kind: CdrKind;
  callId: string;
  legId?: string | null | undefined;
  direction: CdrDirection;
  fromNumber?: string | null | undefined;
  toNumber?: string | null | undefined;
  trunkId?: string | null | undefined;
  setupAt: Date | string;
  answerAt?: Date | string | null | undefined;
  endAt?: Date | string | null | undefined;
  /** default: computed from the times */
  durationSeconds?: number | undefined;
  billableSeconds?: number | undefined;
  sipStatus?: number | null | undefined;
  reason?: string | null | undefined;
  hangupBy?: HangupSide | null | undefined;
  codec?: string | null | undefined;
  packetsLost?: number | null | undefined;
  jitterMs?: number | null | undefined;
  rttMs?: number | null | undefined;
  recordingKey?: string | null | undefined;
}

export interface CdrQuery {
  tenantId?: string | undefined;
  /** setup time at or after */
  since?: Date | string | undefined;
  /** setup time before */
  until?: Date | string | undefined;
  /** matches the from or the to number */
  number?: string | undefined;
  trunkId?: string | undefined;
  kind?: CdrKind | undefined;
  /** default 100, at most 1000 */
  limit?: number | undefined;
  /** the nextCursor of the previous page (keyset paging) */
  cursor?: string | undefined;
  /** default 'desc' (newest first) */
  order?: 'asc' | 'desc' | undefined;
}

export interface CdrPage {
  items: Cdr[];
  /** pass as cursor for the next page; null on the last page */
  nextCursor: string | null;
}
