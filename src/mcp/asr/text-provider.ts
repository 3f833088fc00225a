/**
 * A recogniser that hears text instead of audio: the terminal runner types what the caller says,
 * tests script it. Audio written to its sessions is ignored.
 */
import { SystemScheduler, type Scheduler, type TimerHandle } from '../../lib/index.js';
import type { SpeechResult } from '../vxml/platform.js';
import { AsrSessionBase } from './session-base.js';
import { AsrError, type AsrProvider, type AsrSessionOptions } from './types.js';

/** One scripted utterance: text (confidence 1), text with confidence, a full n-best, or a failure. */
export type ScriptedUtterance =
  | string
  | { text: string; confidence?: number }
  | SpeechResult
  | { error: string };

export interface TextAsrProviderOptions {
  /** each new session answers with the next entry, shortly after it starts */
  script?: readonly ScriptedUtterance[];
  scheduler?: Scheduler;
}

export class TextAsrSession extends AsrSessionBase {
  private pending: TimerHandle | undefined;

  constructor(
    readonly options: AsrSessionOptions,
    private readonly scheduler: Scheduler,
    private readonly onRelease: (session: TextAsrSession) => void,
  ) {
    super();
  }

  write(_pcm: Int16Array): void {}

  /** audio over and nothing said: an empty result */
  end(): void {
    this.emitResult({ hypotheses: [] });
    this.close();
  }

  /** the caller said this */
  say(text: string, confidence = 1): void {
    this.answer({ hypotheses: [{ text, confidence }] });
  }

  /** answer with an utterance, now */
  answer(utterance: ScriptedUtterance): void {
    if (this.isFinished) return;
    if (typeof utterance !== 'string' && 'error' in utterance) {
      this.emitError(new AsrError(utterance.error));
      this.close();
      return;
    }
    const result = toResult(utterance, this.options.maxnbest ?? 1);
    if (result.hypotheses.length > 0) this.emitSpeechStart();
    this.emitResult(result);
    this.close();
  }

  /** answer on the next turn of the scheduler, once the caller has attached its listeners */
  answerSoon(utterance: ScriptedUtterance): void {
    this.pending?.cancel();
    this.pending = this.scheduler.setTimeout(() => {
      this.pending = undefined;
      this.answer(utterance);
    }, 0);
  }

  protected release(): void {
    this.pending?.cancel();
    this.pending = undefined;
    this.onRelease(this);
  }
}

function toResult(utterance: Exclude<ScriptedUtterance, { error: string }>, maxnbest: number): SpeechResult {
  if (typeof utterance === 'string') return { hypotheses: [{ text: utterance, confidence: 1 }] };
  if ('hypotheses' in utterance) return { hypotheses: utterance.hypotheses.slice(0, Math.max(1, maxnbest)) };
  return { hypotheses: [{ text: utterance.text, confidence: utterance.confidence ?? 1 }] };
}

export class TextAsrProvider implements AsrProvider {
  readonly name = 'text';
  private readonly script: ScriptedUtterance[];
  private readonly scheduler: Scheduler;
  private readonly sessions = new Set<TextAsrSession>();

  constructor(options: TextAsrProviderOptions = {}) {
    this.script = [...(options.script ?? [])];
    this.scheduler = options.scheduler ?? new SystemScheduler();
  }

  startSession(options: AsrSessionOptions): TextAsrSession {
    const session = new TextAsrSession(options, this.scheduler, (s) => this.sessions.delete(s));
    this.sessions.add(session);
    const next = this.script.shift();
    if (next !== undefined) session.answerSoon(next);
    return session;
  }

  /** the session started last and still open, for the terminal runner */
  get activeSession(): TextAsrSession | undefined {
    let last: TextAsrSession | undefined;
    for (const s of this.sessions) last = s;
    return last;
  }

  /** queue more scripted utterances */
  enqueue(...utterances: ScriptedUtterance[]): void {
    this.script.push(...utterances);
  }

  close(): Promise<void> {
    for (const s of [...this.sessions]) s.close();
    return Promise.resolve();
  }
}
