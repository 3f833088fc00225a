/**
 * The `mcp` role: the Media Control Platform. A user agent in the SIP chain answers INVITEs for
 * `dialog@` (RFC 5552) and `annc@` (RFC 4240); calls the dial plan sends to a VoiceXML
 * application come from the B2BUA through the ApplicationHost port. TTS, ASR, fetching and the
 * interpreter are chosen here from the configuration.
 */
import { describeError, type Logger, type Scheduler } from '../lib/index.js';
import type { ApplicationHost } from '../calls/index.js';
import type { MediaEngineApi } from '../media/index.js';
import {
  AudioTapServer,
  FetchCache,
  HttpFetcher,
  McpService,
  SpareSandbox,
  VoiceXmlSession,
  createAsrProvider,
  createSessionTransfer,
  createTtsProvider,
  ssmlToSegments,
  type SessionRunner,
  type SpeechRecognizer,
  type TtsProvider,
} from '../mcp/index.js';
import { openBlobStore, type BlobStore, type Config } from '../platform/index.js';
import { ua, type SipService } from '../sip/index.js';

export interface McpRole {
  mcp: McpService;
  /** goes into the SIP chain ahead of the calls role's user agent */
  service: SipService;
  /** what the B2BUA hands dial-plan VoiceXML targets to */
  applications: ApplicationHost;
  close(): Promise<void>;
}

export interface McpRoleOptions {
  config: Config;
  engine: MediaEngineApi;
  /** the media role's blob store when it runs here; else one is opened */
  blobs?: BlobStore;
  scheduler: Scheduler;
  logger: Logger;
  /** node secret: signs the legs a <transfer> places so the calls layer trusts them */
  secret: string;
  /** our SIP listener (for transfer legs) and HTTP base URL (hosted applications), known once bound */
  sipListener: () => { protocol: 'udp' | 'tcp'; address: string; port: number } | undefined;
  localHost: () => string;
  /** URL of a hosted application's entry document */
  hostedAppUrl: (tenantId: string, app: string) => Promise<string | undefined>;
}

export async function startMcpRole(options: McpRoleOptions): Promise<McpRole> {
  const { config, scheduler } = options;
  const log = options.logger.child({ component: 'mcp' });
  const blobs = options.blobs ?? openBlobStore(config.blobs, config.dataDir, log);
  const ownBlobs = options.blobs === undefined;
  const googleTts = googleOptions(config.mcp.googleTtsEndpoint, config.mcp.googleKeyFile);
  const googleSpeech = googleOptions(config.mcp.googleSpeechEndpoint, config.mcp.googleKeyFile);
  const tts: TtsProvider = createTtsProvider({
    provider: config.mcp.ttsProvider,
    ...(config.mcp.ttsProvider === 'google' ? { google: googleTts } : {}),
    cacheBytes: config.mcp.ttsCacheMb * 1024 * 1024,
    blobs,
    scheduler,
  });
  let asr: SpeechRecognizer | undefined;
  let closeAsr: (() => Promise<void>) | undefined;
  if (config.mcp.asrProvider !== 'none') {
    try {
      const provider = createAsrProvider({ provider: config.mcp.asrProvider, ...(config.mcp.asrProvider === 'google' ? { google: googleSpeech } : {}) }, { scheduler, logger: log });
      asr = provider;
      closeAsr = () => provider.close();
    } catch (err) {
      log.warn({ err: describeError(err), provider: config.mcp.asrProvider }, 'speech recognition unavailable; VoiceXML sessions take DTMF only');
    }
  }
  const tap = new AudioTapServer(options.engine, log);
  const cache = new FetchCache({ maxBytes: config.mcp.fetchCacheMb * 1024 * 1024, scheduler });
  const scriptLimits = { memoryBytes: config.mcp.scriptMemoryMb * 1024 * 1024, timeMs: config.mcp.scriptTimeMs };
  // each session's script runtime is made ahead of its call, not between the ACK and the first prompt
  const sandboxes = new SpareSandbox(scriptLimits, scheduler);
  const runSession: SessionRunner = async (request) => {
    const session = new VoiceXmlSession({
      platform: request.platform,
      fetcher: request.fetcher,
      scheduler,
      logger: log,
      limits: { scriptMemoryBytes: scriptLimits.memoryBytes, scriptTimeMs: scriptLimits.timeMs },
      sandbox: () => sandboxes.take(),
    });
    const onAbort = (): void => session.close();
    request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await session.run(request.url);
    } finally {
      request.signal.removeEventListener('abort', onAbort);
      session.close();
    }
  };
  const service = new ua.UserAgentService({
    // only what RFC 4240 / RFC 5552 address to a media server; everything else is the B2BUA's or the proxy's
    accepts: (req) => McpService.claims(req),
    claims: (req) => McpService.claims(req),
    onInvite: (incoming) => mcp.handleInvite(incoming),
    logger: log.child({ component: 'mcp-ua' }),
  });
  const mcp = new McpService({
    engine: options.engine,
    tap,
    tts,
    ...(asr !== undefined ? { asr } : {}),
    segments: ssmlToSegments,
    createFetcher: () => new HttpFetcher({ cache, scheduler }),
    runSession,
    blobs,
    scheduler,
    logger: log,
    maxSessions: config.mcp.maxSessions,
    language: config.mcp.language,
    ...(config.mcp.voice !== undefined ? { voice: config.mcp.voice } : {}),
    transfer: (session, request, signal) =>
      createSessionTransfer({ ua: service, engine: options.engine, scheduler, logger: log, via: options.sipListener, domain: options.localHost, secret: options.secret })(session, request, signal),
  });
  const applications: ApplicationHost = {
    handle: (incoming, target) => {
      void (async () => {
        const url = target.url ?? (target.app !== undefined ? await options.hostedAppUrl(target.tenant, target.app) : undefined);
        if (url === undefined) return incoming.reject(404, { reason: 'No Such Application' });
        mcp.handleApplication(incoming, url);
      })().catch((err: unknown) => {
        log.warn({ err: describeError(err) }, 'VoiceXML application not started');
        incoming.reject(500);
      });
    },
  };
  return {
    mcp,
    service,
    applications,
    close: async () => {
      await mcp.close();
      sandboxes.close();
      await service.close();
      await tap.close();
      await closeAsr?.();
      await tts.close();
      if (ownBlobs) await blobs.close();
    },
  };
}

function googleOptions(endpoint: string | undefined, keyFile: string | undefined): { apiEndpoint?: string; port?: number; insecure?: boolean; keyFilename?: string } {
  const out: { apiEndpoint?: string; port?: number; insecure?: boolean; keyFilename?: string } = {};
  if (endpoint !== undefined) {
    const m = /^(.*):(\d+)$/.exec(endpoint);
    out.apiEndpoint = m?.[1] ?? endpoint;
    if (m?.[2] !== undefined) out.port = Number(m[2]);
    // a host:port of our own (a gateway, a test server) speaks plain gRPC on loopback
    out.insecure = /^(127\.|localhost|\[?::1)/.test(out.apiEndpoint);
  }
  if (keyFile !== undefined) out.keyFilename = keyFile;
  return out;
}
