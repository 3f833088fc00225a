import { z } from 'zod';

/**
 * The whole server configuration as one strict zod schema. Every object is `.strict()` so a
 * misspelt key (`udpport`) is an error naming its path instead of a silently ignored setting,
 * and every leaf has a default so `opencx start` runs with an empty config.
 *
 * The env-variable table in load-config.ts is derived from this schema by walking it, so a key
 * added here is automatically settable as OPENCX_<PATH>.
 */

export const ROLES = ['sip', 'calls', 'media', 'mcp', 'control', 'voicemail'] as const;
export type Role = (typeof ROLES)[number];

export const SIP_TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;
export type SipTransportName = (typeof SIP_TRANSPORTS)[number];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// Port 0 is allowed on purpose: it asks the OS for a free port (tests, side-by-side runs).
const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().min(1);

const logSchema = z
  .object({
    level: z.enum(LOG_LEVELS).default('info'),
  })
  .strict();

const httpSchema = z
  .object({
    bind: z.string().min(1).default('0.0.0.0'),
    port: port.default(8080),
  })
  .strict();

const sipTlsSchema = z
  .object({
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    caFile: z.string().min(1).optional(),
  })
  .strict();

/** RFC 3261 §17.1.1.1 timer values; T1 ≤ T2 is checked below. */
const sipTimersSchema = z
  .object({
    t1: positiveInt.default(500),
    t2: positiveInt.default(4000),
    t4: positiveInt.default(5000),
  })
  .strict()
  .superRefine((timers, ctx) => {
    if (timers.t1 > timers.t2) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['t1'], message: `t1 (${timers.t1}) must not exceed t2 (${timers.t2})` });
    }
  });

/** Registrar behaviour (RFC 3261 §10.3) and its brakes against floods and password guessing. */
const registrarSchema = z
  .object({
    minExpires: positiveInt.default(60),
    maxExpires: positiveInt.default(3600),
    defaultExpires: positiveInt.default(3600),
    maxBindingsPerAor: positiveInt.default(10),
    /** REGISTERs per second from one source address before 503 + Retry-After (0 turns the limit off) */
    ratePerSource: z.number().int().min(0).default(200),
    burstPerSource: positiveInt.default(200),
    /** failed authentications allowed per source address within a minute before a lockout */
    authFailuresPerSource: positiveInt.default(30),
    /** failed authentications allowed per user and source address within a minute */
    authFailuresPerUser: positiveInt.default(10),
    lockoutMs: positiveInt.default(300_000),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.minExpires > r.maxExpires) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['minExpires'], message: `minExpires (${r.minExpires}) must not exceed maxExpires (${r.maxExpires})` });
  });

const sipSchema = z
  .object({
    bind: z.string().min(1).default('0.0.0.0'),
    /** when true, every transport also listens on '::' */
    ipv6: z.boolean().default(false),
    udpPort: port.default(5060),
    tcpPort: port.default(5060),
    tlsPort: port.default(5061),
    wsPort: port.default(5066),
    wssPort: port.default(7443),
    transports: z.array(z.enum(SIP_TRANSPORTS)).default([...SIP_TRANSPORTS]),
    tls: sipTlsSchema.default({}),
    maxMessageSize: positiveInt.default(65535),
    /**
     * the UDP socket's kernel receive buffer: what it holds is what a burst (or a pause of the
     * process) can bring before datagrams are dropped. 16 MiB is ~0.5 s of REGISTER traffic at
     * 17,000/s. Past net.core.rmem_max only with CAP_NET_ADMIN (else the kernel's cap applies);
     * at most 1 GiB, what the native engine accepts.
     */
    udpReceiveBufferBytes: positiveInt.max(1024 * 1024 * 1024).default(16 * 1024 * 1024),
    /**
     * the SIP UDP socket's reads and writes (recvmmsg/sendmmsg) on a thread of their own, so the
     * JS thread that parses and answers does not spend a fifth of its time in the kernel;
     * native engine only (net.udpEngine), ignored by dgram
     */
    udpIoThread: z.boolean().default(true),
    idleTimeoutMs: positiveInt.default(300_000),
    maxConnectionsPerSource: positiveInt.default(256),
    timers: sipTimersSchema.default({}),
    shutdownGraceMs: z.number().int().min(0).default(3000),
    workers: positiveInt.default(1),
    /** host put in Via/Contact/Record-Route when the bind address is not reachable (NAT, 0.0.0.0) */
    advertisedHost: z.string().min(1).optional(),
    /**
     * secret for stateless digest nonces, the same on every SIP node so any node verifies a nonce
     * another made; absent means one is generated once and kept in <dataDir>/auth-secret
     */
    authSecret: z.string().min(16).optional(),
    /**
     * digest algorithms offered in challenges, one WWW-/Proxy-Authenticate each, most preferred
     * first (RFC 8760 §2.4). MD5 only by default: Debian's baresip (libre 1.1) fails outright when
     * any challenge names SHA-256, SIP.js 0.21 keeps only the last challenge header and SIPp 3.6
     * only the first, and each knows only MD5. Set ['SHA-256', 'MD5'] where every phone supports it.
     */
    authAlgorithms: z.array(z.enum(['MD5', 'SHA-256'])).min(1).default(['MD5']),
    registrar: registrarSchema.default({}),
    /** extra SIP domains served by the default tenant besides the server's own names and addresses */
    domains: z.array(z.string().min(1)).default([]),
  })
  .strict();

const busSchema = z
  .object({
    kind: z.enum(['memory', 'redis']).default('memory'),
    url: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((bus, ctx) => {
    if (bus.kind === 'redis' && bus.url === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['url'], message: 'bus.url is required when bus.kind is "redis"' });
    }
    if (bus.url !== undefined && !/^rediss?:\/\//.test(bus.url)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['url'], message: `bus.url must start with redis:// or rediss://, got "${bus.url}"` });
    }
  });

const databaseSchema = z
  .object({
    /** PostgreSQL URL; absent means the embedded PGlite in dataDir */
    url: z.string().min(1).optional(),
  })
  .strict();

const blobsSchema = z
  .object({
    kind: z.enum(['local', 's3']).default('local'),
    /** local: directory for blobs; absent means <dataDir>/blobs */
    dir: z.string().min(1).optional(),
    bucket: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    endpoint: z.string().min(1).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    forcePathStyle: z.boolean().optional(),
  })
  .strict()
  .superRefine((blobs, ctx) => {
    if (blobs.kind === 's3' && blobs.bucket === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bucket'], message: 'blobs.bucket is required when blobs.kind is "s3"' });
    }
  });

export const MEDIA_CODECS = ['opus', 'G722', 'PCMU', 'PCMA', 'L16'] as const;

/** The RTP media engine (`media` role, or in-process for `calls`/`mcp` when it runs on the same node). */
const mediaSchema = z
  .object({
    /** address the RTP sockets bind to */
    bind: z.string().min(1).default('0.0.0.0'),
    /** address written in SDP c= lines when the bind address is a wildcard or behind NAT */
    advertisedAddress: z.string().min(1).optional(),
    /** RTP port range (even ports for RTP, RTCP on the next odd one unless rtcp-mux) */
    portMin: z.number().int().min(1024).max(65534).default(20000),
    portMax: z.number().int().min(1025).max(65535).default(45000),
    /** codecs offered and accepted, most preferred first */
    codecs: z.array(z.enum(MEDIA_CODECS)).min(1).default(['PCMU', 'PCMA', 'G722', 'opus']),
    /** an endpoint that receives no RTP for this long raises endpoint.timeout (0 = never) */
    noRtpTimeoutMs: z.number().int().min(0).default(60_000),
    /** upper bound of the adaptive jitter buffer on legs that terminate media */
    jitterBufferMaxMs: z.number().int().min(20).max(5000).default(200),
    /**
     * how far ahead of its time prompt audio goes to the native UDP engine's sending thread, so it
     * plays on through event-loop stalls (plain RTP on the native engine; 0 = frame by frame)
     */
    promptLeadMs: z.number().int().min(0).max(5000).default(300),
    /** where recordings are written while they run (recovered after a crash); absent means <dataDir>/spool/recordings */
    spoolDir: z.string().min(1).optional(),
    /** this media node's id on the bus; absent means host name and process id */
    nodeId: z.string().min(1).max(100).regex(/^[^~\s]+$/, 'no "~" (it separates the node from the id in media ids) and no spaces').optional(),
    /** deadline for one request to a remote media node */
    requestTimeoutMs: positiveInt.default(5000),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.portMin >= m.portMax) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['portMin'], message: `portMin (${m.portMin}) must be below portMax (${m.portMax})` });
  });

/** The Media Control Platform (`mcp` role): VoiceXML sessions, TTS and ASR. */
const mcpSchema = z
  .object({
    /** refuse new sessions (503) beyond this many at once */
    maxSessions: positiveInt.default(2000),
    /** text-to-speech engine: eSpeak NG in-process, or Google Cloud Text-to-Speech */
    ttsProvider: z.enum(['espeak', 'google']).default('espeak'),
    /** speech recognition: CMU PocketSphinx (Debian package) or Google Cloud Speech; `none` keeps DTMF only */
    asrProvider: z.enum(['pocketsphinx', 'google', 'none']).default('pocketsphinx'),
    /** xml:lang of prompts that do not say */
    language: z.string().min(2).default('en-US'),
    /** TTS voice name (provider-specific); absent: the provider's default for the language */
    voice: z.string().min(1).optional(),
    /** host:port of the Google Text-to-Speech endpoint (a private gateway or a test server); absent: Google's */
    googleTtsEndpoint: z.string().min(1).optional(),
    /** host:port of the Google Speech-to-Text endpoint; absent: Google's */
    googleSpeechEndpoint: z.string().min(1).optional(),
    /** service-account key file for the Google providers */
    googleKeyFile: z.string().min(1).optional(),
    /** in-memory cache of synthesised prompts, MiB */
    ttsCacheMb: positiveInt.default(64),
    /** in-memory cache of fetched documents, grammars and audio, MiB */
    fetchCacheMb: positiveInt.default(64),
    /** per-session ECMAScript limits (a hostile document ends its own session only) */
    scriptMemoryMb: positiveInt.default(32),
    scriptTimeMs: positiveInt.default(2000),
    /** install the sample applications (dtmf-menu, speech-demo) and their extensions 8000/8001 in the default tenant on first start */
    samples: z.boolean().default(true),
  })
  .strict();

/** The B2BUA (`calls` role). */
const callsSchema = z
  .object({
    /** an answered call is ended after this long (BYE to both legs, CDR reason `max-duration`); 0 = no limit */
    maxDurationSeconds: z.number().int().min(0).default(14_400),
  })
  .strict();

const metricsSchema = z
  .object({
    enabled: z.boolean().default(true),
  })
  .strict();

/** UDP socket engine for SIP and RTP: the native batched addon, node:dgram, or whichever loads */
export const UDP_ENGINES = ['auto', 'native', 'dgram'] as const;

const netSchema = z
  .object({
    udpEngine: z.enum(UDP_ENGINES).default('auto'),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./opencx-data'),
    roles: z
      .array(z.enum(ROLES))
      .min(1)
      .default([...ROLES]),
    log: logSchema.default({}),
    http: httpSchema.default({}),
    sip: sipSchema.default({}),
    bus: busSchema.default({}),
    database: databaseSchema.default({}),
    blobs: blobsSchema.default({}),
    media: mediaSchema.default({}),
    calls: callsSchema.default({}),
    mcp: mcpSchema.default({}),
    metrics: metricsSchema.default({}),
    net: netSchema.default({}),
  })
  .strict();

/** The validated configuration, every default filled in. */
export type Config = z.output<typeof configSchema>;
/** What a YAML file or flags may contain: everything optional. */
export type ConfigInput = z.input<typeof configSchema>;

export type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** The defaults alone (what an empty file gives). */
export function defaultConfig(): Config {
  return configSchema.parse({});
}
