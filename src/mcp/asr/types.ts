/**
 * The ASR contract: a provider turns caller audio into n-best text hypotheses. Grammar matching
 * stays with the VoiceXML interpreter; providers only use the active voice grammars to constrain
 * (pocketsphinx) or bias (Google speech contexts) the recogniser.
 */
import { UnavailableError } from '../../lib/index.js';
import type { Grammar } from '../grammar/types.js';
import type { SpeechResult } from '../vxml/platform.js';

export interface AsrSessionOptions {
  /** the active voice grammars (DTMF grammars and grammars without a rule tree are ignored by compiling providers) */
  grammars: readonly Grammar[];
  /** BCP 47, e.g. en-US */
  language: string;
  /** rate of the PCM given to write() */
  sampleRate: 8000 | 16000;
  /** silence after speech that ends the utterance (VoiceXML 2.0 §6.3.2 completetimeout) */
  completetimeoutMs: number;
  /** accepted for providers that know whether the speech so far matches; the energy endpointer does not */
  incompletetimeoutMs: number;
  /** longest utterance; the audio is cut there and recognised as it is */
  maxspeechtimeoutMs: number;
  /** give up (empty result) when no speech started within this long; no limit when absent */
  noSpeechTimeoutMs?: number;
  /** 0..1: higher hears quieter speech (VoiceXML sensitivity); 0.5 by default */
  sensitivity?: number;
  /** most hypotheses wanted (VoiceXML maxnbest); 1 by default */
  maxnbest?: number;
}

/** An AsrSession's typed events. */
export interface AsrSessionEvents {
  speechStart: () => void;
  /** the one result of the session; `hypotheses` is empty when nothing was recognised */
  result: (result: SpeechResult) => void;
  /** the recogniser failed; the interpreter turns this into error.noresource */
  error: (err: AsrError) => void;
}

/**
 * One recognition: audio in, at most one `result` or one `error` out. After either, further audio
 * is ignored. close() is idempotent and releases everything the session holds.
 */
export interface AsrSession {
  /** one frame of caller audio (20 ms is usual), mono 16-bit at options.sampleRate */
  write(pcm: Int16Array): void;
  /** the audio is over: recognise what was heard, or give an empty result */
  end(): void;
  close(): void;
  on<K extends keyof AsrSessionEvents>(event: K, fn: AsrSessionEvents[K]): this;
}

export interface AsrProvider {
  readonly name: string;
  startSession(options: AsrSessionOptions): AsrSession;
  /** closes every session and child process; idempotent */
  close(): Promise<void>;
}

/** The recogniser cannot serve: engine missing or dead, service down, deadline passed. */
export class AsrError extends UnavailableError {}
