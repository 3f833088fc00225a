/**
 * Waiting for input (VoiceXML 2.0 §4.1.5-4.1.8, §6.3.3): plays the queued prompts, stops them
 * on barge-in, runs the noinput, interdigit and termchar timers on the injected Scheduler, and
 * matches DTMF keys and speech hypotheses against the active grammars.
 */
import type { Scheduler, TimerHandle } from '../../lib/index.js';
import type { Grammar, GrammarMatch } from '../grammar/types.js';
import type { Platform, PlayHandle, QueuedPrompt, RecognitionRequest, SpeechResult } from './platform.js';

export interface ActiveGrammar {
  grammar: Grammar;
  /** where the grammar comes from (VoiceXML 2.0 §3.1.3 scoping); decides what a match does */
  level: 'field' | 'form' | 'document' | 'link' | 'universal';
  /** the element that owns it (field, form, other dialog, link): opaque for the collector */
  tag: unknown;
}

export interface CollectOptions {
  grammars: ActiveGrammar[];
  prompts: QueuedPrompt[];
  noinputMs: number;
  interdigitMs: number;
  termtimeoutMs: number;
  termchar: string;
  confidencelevel: number;
  /** how many results application.lastresult$ may hold (§6.3.2 maxnbest) */
  maxnbest: number;
  dtmfEnabled: boolean;
  voiceEnabled: boolean;
  recognition: Omit<RecognitionRequest, 'grammars' | 'modes'>;
}

export type CollectResult =
  | { kind: 'match'; active: ActiveGrammar; match: GrammarMatch; inputmode: 'dtmf' | 'voice'; nbest?: Array<{ active: ActiveGrammar; match: GrammarMatch }> }
  | { kind: 'noinput' }
  /** speech began but no result came within maxspeechtimeout */
  | { kind: 'maxspeechtimeout' }
  | { kind: 'nomatch'; utterance: string; inputmode: 'dtmf' | 'voice' }
  | { kind: 'hangup' }
  | { kind: 'error'; message: string };

interface Pending {
  onDtmf(key: string): void;
  onSpeechStart(): void;
  onSpeech(result: SpeechResult): void;
  onError(message: string): void;
  onHangup(): void;
}

export class InputCollector {
  private pending: Pending | undefined;
  private readonly typeahead: string[] = [];
  hungUp = false;
  private closed = false;

  constructor(
    private readonly platform: Platform,
    private readonly scheduler: Scheduler,
  ) {
    platform.setListener({
      dtmf: (key) => (this.pending !== undefined ? this.pending.onDtmf(key) : this.typeahead.push(key)),
      speechStart: () => this.pending?.onSpeechStart(),
      speech: (r) => this.pending?.onSpeech(r),
      recognitionError: (m) => this.pending?.onError(m),
      hangup: () => {
        this.hungUp = true;
        this.pending?.onHangup();
      },
    });
  }

  /** plays prompts outside input collection (exit, transfer) and waits for them */
  async playOnly(prompts: QueuedPrompt[]): Promise<void> {
    if (prompts.length === 0) return;
    await this.platform.play(prompts).done;
  }

  close(): void {
    this.closed = true;
    this.pending?.onHangup();
  }

  collect(opts: CollectOptions): Promise<CollectResult> {
    if (this.hungUp || this.closed) return Promise.resolve({ kind: 'hangup' });
    return new Promise<CollectResult>((resolve) => {
      const keys: string[] = [];
      let timer: TimerHandle | undefined;
      const playing: { handle?: PlayHandle } = {};
      let finished = false;
      let heard = false;
      let lastComplete: { active: ActiveGrammar; match: GrammarMatch } | undefined;
      let chain: Promise<void> = Promise.resolve();
      const dtmfGrammars = opts.grammars.filter((g) => g.grammar.mode === 'dtmf');
      const voiceGrammars = opts.grammars.filter((g) => g.grammar.mode === 'voice');
      const listening = opts.voiceEnabled && voiceGrammars.length > 0;
      const finish = (r: CollectResult): void => {
        if (finished) return;
        finished = true;
        timer?.cancel();
        this.pending = undefined;
        if (listening) this.platform.stopRecognition();
        playing.handle?.stop();
        resolve(r);
      };
      const arm = (ms: number, fn: () => void): void => {
        timer?.cancel();
        timer = this.scheduler.setTimeout(fn, ms);
      };
      // §4.1.5: prompts that do not allow barge-in are heard to the end; input meanwhile is dropped
      const interruptible = opts.prompts.every((p) => p.bargein);
      let promptsDone = opts.prompts.length === 0;
      const deaf = (): boolean => !interruptible && !promptsDone;
      const hotword = (): boolean => !promptsDone && opts.prompts.some((p) => p.bargeinType === 'hotword');
      const bargeIn = (): void => {
        heard = true;
        timer?.cancel();
        if (interruptible) playing.handle?.stop();
      };
      const evaluateKeys = async (): Promise<void> => {
        let best: { active: ActiveGrammar; match: GrammarMatch } | undefined;
        let anyPrefix = false;
        for (const g of dtmfGrammars) {
          const m = await g.grammar.match(keys, 1);
          if (m.status === 'complete' && (best === undefined || (best.match.canExtend && !m.canExtend))) best = { active: g, match: m };
          if (m.status === 'prefix' || (m.status === 'complete' && m.canExtend)) anyPrefix = true;
        }
        if (finished) return;
        lastComplete = best;
        if (best !== undefined && !best.match.canExtend) {
          // complete and cannot grow: wait termtimeout for the termchar, when both are set
          if (opts.termtimeoutMs > 0 && opts.termchar !== '') arm(opts.termtimeoutMs, () => finish({ kind: 'match', ...best, inputmode: 'dtmf' }));
          else finish({ kind: 'match', ...best, inputmode: 'dtmf' });
          return;
        }
        if (!anyPrefix) {
          finish({ kind: 'nomatch', utterance: keys.join(''), inputmode: 'dtmf' });
          return;
        }
        // §6.3.3: more keys may follow (a prefix, or a sentence that can grow): interdigittimeout
        arm(opts.interdigitMs, () => {
          if (lastComplete !== undefined) finish({ kind: 'match', ...lastComplete, inputmode: 'dtmf' });
          else finish({ kind: 'nomatch', utterance: keys.join(''), inputmode: 'dtmf' });
        });
      };
      const onKey = (key: string): void => {
        // §6.3.6 inputmodes: without dtmf, keys are not input at all
        if (finished || deaf() || !opts.dtmfEnabled) return;
        bargeIn();
        if (dtmfGrammars.length === 0) {
          finish({ kind: 'nomatch', utterance: key, inputmode: 'dtmf' });
          return;
        }
        if (key === opts.termchar && opts.termchar !== '') {
          chain = chain.then(() => {
            if (finished) return;
            if (lastComplete !== undefined) finish({ kind: 'match', ...lastComplete, inputmode: 'dtmf' });
            else finish({ kind: 'nomatch', utterance: keys.join(''), inputmode: 'dtmf' });
          });
          return;
        }
        keys.push(key);
        chain = chain.then(evaluateKeys).catch((err: unknown) => finish({ kind: 'error', message: String(err) }));
      };
      const onSpeech = (result: SpeechResult): void => {
        if (finished || deaf() || !opts.voiceEnabled) return;
        const hot = hotword();
        if (!hot) bargeIn();
        chain = chain
          .then(async () => {
            const nbest: Array<{ active: ActiveGrammar; match: GrammarMatch }> = [];
            for (const h of result.hypotheses) {
              const tokens = h.text.trim().split(/\s+/).filter((t) => t !== '');
              if (tokens.length === 0) continue;
              for (const g of voiceGrammars) {
                const m = await g.grammar.match(tokens, h.confidence);
                if (m.status === 'complete' && m.confidence >= opts.confidencelevel) {
                  nbest.push({ active: g, match: m });
                  break;
                }
              }
              if (nbest.length >= Math.max(1, opts.maxnbest)) break;
            }
            const top = nbest[0];
            if (top !== undefined) {
              finish({ kind: 'match', ...top, inputmode: 'voice', nbest });
              return;
            }
            // §4.1.5.1 hotword barge-in: while such prompts play, speech that matches nothing is ignored
            if (hot) return;
            finish({ kind: 'nomatch', utterance: result.hypotheses[0]?.text ?? '', inputmode: 'voice' });
          })
          .catch((err: unknown) => finish({ kind: 'error', message: String(err) }));
      };
      this.pending = {
        onDtmf: onKey,
        onSpeechStart: () => {
          if (deaf() || finished || hotword()) return;
          bargeIn();
          // §6.3.2: an utterance longer than maxspeechtimeout is the maxspeechtimeout event
          arm(opts.recognition.maxspeechtimeoutMs, () => finish({ kind: 'maxspeechtimeout' }));
        },
        onSpeech,
        onError: (message) => finish({ kind: 'error', message }),
        onHangup: () => finish({ kind: 'hangup' }),
      };
      if (listening) {
        this.platform.startRecognition({ ...opts.recognition, grammars: voiceGrammars.map((g) => g.grammar), modes: ['voice'] });
      }
      const ahead = this.typeahead.splice(0);
      if (interruptible) for (const k of ahead) onKey(k);
      if (finished) return;
      const startNoinput = (): void => {
        promptsDone = true;
        if (finished || heard) return;
        arm(opts.noinputMs, () => finish({ kind: 'noinput' }));
      };
      // play() is called even with no prompts: it marks, for the platform, that input is awaited
      playing.handle = this.platform.play(opts.prompts);
      playing.handle.done.then(startNoinput, startNoinput);
    });
  }
}
