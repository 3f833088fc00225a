/**
 * The Platform port: everything the VoiceXML interpreter asks of the outside world, and nothing
 * of SIP or RTP. The interpreter owns the Form Interpretation Algorithm, the timers (noinput,
 * interdigit, termchar, complete) and grammar matching; a platform plays prompts, delivers raw
 * input events, records, transfers and hangs up. Implementations: the media platform (a call
 * through the media engine), the terminal runner, and the conformance runner.
 */
import type { GrammarMode } from '../grammar/types.js';
import type { Grammar } from '../grammar/types.js';

/** One prompt as the interpreter queued it (VoiceXML 2.0 §4.1), ready to render. */
export interface QueuedPrompt {
  /** an SSML 1.0 <speak> document; <audio src> URIs are absolute */
  ssml: string;
  /** the same prompt as plain text: what a terminal shows and what a conformance runner reads */
  text: string;
  /** whether input may interrupt it (bargein property / attribute) */
  bargein: boolean;
  bargeinType: 'speech' | 'hotword';
  /** the prompt's timeout attribute (ms), which replaces the noinput timeout of the next collection */
  timeoutMs?: number;
}

/** A handle on prompts being played. */
export interface PlayHandle {
  /** resolves when every prompt of this call to play() has been played or stopped */
  readonly done: Promise<void>;
  /** stop now (barge-in): the rest of these prompts is dropped; idempotent */
  stop(): void;
}

/** What the interpreter listens with while it collects input. */
export interface RecognitionRequest {
  /** the active grammars (a platform's ASR may compile voice ones; DTMF ones stay with the interpreter) */
  grammars: readonly Grammar[];
  modes: readonly GrammarMode[];
  /** properties in ms / 0..1, as VoiceXML 2.0 §6.3 defines them */
  completetimeoutMs: number;
  incompletetimeoutMs: number;
  maxspeechtimeoutMs: number;
  confidencelevel: number;
  sensitivity: number;
  speedvsaccuracy: number;
  /** language of the document (xml:lang), e.g. en-US */
  language: string;
}

/** One recogniser result: the n-best texts with their confidence (0..1). */
export interface SpeechResult {
  hypotheses: ReadonlyArray<{ text: string; confidence: number }>;
}

/** Raw input from the caller, as the platform hears it. */
export interface PlatformEvents {
  /** one DTMF key: 0-9 * # A-D */
  dtmf(key: string): void;
  /** speech began (barge-in by voice) */
  speechStart(): void;
  /** the recogniser finished an utterance */
  speech(result: SpeechResult): void;
  /** a resource of the collection failed — the recogniser (engine died, provider down) or the synthesiser of its prompts: becomes error.noresource */
  recognitionError(message: string): void;
  /** the caller hung up: connection.disconnect.hangup */
  hangup(): void;
}

export interface RecordRequest {
  beep: boolean;
  maxtimeMs: number;
  finalsilenceMs: number;
  /** whether a DTMF key ends the recording */
  dtmfterm: boolean;
  /** MIME type asked for: audio/x-wav (default), audio/basic ... */
  type: string;
  /** prompts to play before recording starts */
  prompts: QueuedPrompt[];
}

export interface RecordResult {
  /** the recording as a file of `type` (a WAV by default), empty on noinput */
  audio: Buffer;
  type: string;
  durationMs: number;
  /** the key that ended it, if any */
  termchar?: string;
  maxtime: boolean;
  /** where the platform stored it (blob store key), when it stored it */
  blobKey?: string;
  /** the caller hung up during the recording (the audio so far is kept) */
  hangup: boolean;
}

export type TransferType = 'blind' | 'bridge' | 'consultation';

export interface TransferRequest {
  type: TransferType;
  /** a URI (sip:, tel:) */
  dest: string;
  connecttimeoutMs: number;
  /** 0 means no limit */
  maxtimeMs: number;
  aai?: string;
  /** audio played to the caller while the far end is being connected */
  transferaudio?: string;
  /** prompts to play before transferring */
  prompts: QueuedPrompt[];
}

/** VoiceXML 2.0 §2.3.7 / 2.1 §9 outcomes, and the duration of a bridged call. */
export interface TransferResult {
  outcome:
    | 'busy'
    | 'noanswer'
    | 'network_busy'
    | 'near_end_disconnect'
    | 'far_end_disconnect'
    | 'network_disconnect'
    | 'maxtime_disconnect'
    | 'unknown'
    /** blind and consultation transfers that went through: the session ends with connection.disconnect.transfer */
    | 'transferred';
  durationMs: number;
  /** a platform that cannot transfer at all answers with this: error.unsupported.transfer.* */
  unsupported?: string;
}

/** session.connection.* (VoiceXML 2.0 §5.1.4) as the platform knows it. */
export interface ConnectionInfo {
  local: { uri: string };
  remote: { uri: string };
  protocol: {
    name: string;
    version: string;
    /** protocol-specific details: for SIP, the INVITE's headers (lower-case names) and request URI */
    [key: string]: unknown;
  };
  redirect: Array<{ uri: string; pi?: string; si?: string; reason?: string }>;
  aai?: string;
  originator: 'local' | 'remote';
}

/** Everything the interpreter asks of the world. */
export interface Platform {
  readonly connection: ConnectionInfo;
  /** receives raw input; set once by the interpreter before it runs */
  setListener(events: Partial<PlatformEvents>): void;
  /** queue prompts behind anything playing; prompts render through TTS/audio fetch here */
  play(prompts: QueuedPrompt[]): PlayHandle;
  /** start listening for speech with these grammars (DTMF events flow always) */
  startRecognition(request: RecognitionRequest): void;
  stopRecognition(): void;
  record(request: RecordRequest, signal: AbortSignal): Promise<RecordResult>;
  transfer(request: TransferRequest, signal: AbortSignal): Promise<TransferResult>;
  /** hang up (VoiceXML <disconnect> and the end of the session); idempotent */
  disconnect(): Promise<void>;
  /** <log> and interpreter diagnostics */
  log(label: string | undefined, text: string): void;
}
