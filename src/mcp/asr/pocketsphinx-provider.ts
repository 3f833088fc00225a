/**
 * The embedded recogniser: CMU pocketsphinx (Debian `pocketsphinx`, en-us model) constrained by
 * the active voice grammars compiled to one JSGF.
 *
 * Each session gets its own warm decoder (pocketsphinx-decoder.ts), spawned when the session
 * starts so the model loads while the caller is still speaking; its dictionary holds only the
 * grammar's words, which makes the load ~10 ms. The energy endpointer cuts the utterance; 8 kHz
 * phone audio is upsampled to the model's 16 kHz (the 16 kHz model at -samprate 8000 with a
 * narrowed filter bank recognised far worse on telephone-band speech).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SystemScheduler, describeError, silentLogger, type Logger, type Scheduler } from '../../lib/index.js';
import { createResampler } from '../../media/index.js';
import type { Grammar } from '../grammar/types.js';
import { EnergyEndpointer, type EndpointerEvent } from './endpointer.js';
import { grammarsToJsgf } from './jsgf.js';
import { PocketsphinxDecoder } from './pocketsphinx-decoder.js';
import { PronouncingDictionary } from './pronouncing-dictionary.js';
import { AsrSessionBase } from './session-base.js';
import { AsrError, type AsrProvider, type AsrSessionOptions } from './types.js';

const DEFAULT_MODEL_ROOT = '/usr/share/pocketsphinx/model/en-us';
const MODEL_RATE = 16000;

export interface PocketsphinxAsrProviderOptions {
  /** `pocketsphinx_batch` on the PATH by default */
  binary?: string;
  /**
   * the acoustic model directory (-hmm, the one holding mdef), or the model root above it as
   * Debian lays it out (en-us/ with cmudict-en-us.dict and en-us.lm.bin beside it);
   * /usr/share/pocketsphinx/model/en-us by default
   */
  modelDir?: string;
  /** the full pronouncing dictionary; cmudict-en-us.dict in the model root by default */
  dict?: string;
  /** the language model used when no active grammar has a rule tree; en-us.lm.bin in the model root by default */
  lm?: string;
  /** parent of the per-session work directories; the OS temp dir by default */
  workDir?: string;
  /** longest wait for a hypothesis once the utterance is cut, 10 s by default */
  decodeTimeoutMs?: number;
  /** more pocketsphinx arguments (beams, -vad_threshold ...) */
  extraArgs?: readonly string[];
  scheduler?: Scheduler;
  logger?: Logger;
}

interface ResolvedOptions {
  binary: string;
  modelDir: string;
  dict: string;
  lm: string;
  workDir: string;
  decodeTimeoutMs: number;
  extraArgs: readonly string[];
  scheduler: Scheduler;
  logger: Logger;
}

/** what a session decodes with: a grammar, a free-form LM, or nothing (every word unknown) */
type DecodePlan = { kind: 'grammar' | 'lm'; decoder: PocketsphinxDecoder } | { kind: 'nothing' };

export class PocketsphinxAsrProvider implements AsrProvider {
  readonly name = 'pocketsphinx';
  private readonly options: ResolvedOptions;
  private dictionary: Promise<PronouncingDictionary> | undefined;
  private readonly sessions = new Set<PocketsphinxAsrSession>();
  private closed = false;

  constructor(options: PocketsphinxAsrProviderOptions = {}) {
    const model = resolveModel(options.modelDir ?? DEFAULT_MODEL_ROOT);
    this.options = {
      binary: options.binary ?? 'pocketsphinx_batch',
      modelDir: model.hmmDir,
      dict: options.dict ?? join(model.root, 'cmudict-en-us.dict'),
      lm: options.lm ?? join(model.root, 'en-us.lm.bin'),
      workDir: options.workDir ?? tmpdir(),
      decodeTimeoutMs: options.decodeTimeoutMs ?? 10_000,
      extraArgs: options.extraArgs ?? [],
      scheduler: options.scheduler ?? new SystemScheduler(),
      logger: options.logger ?? silentLogger,
    };
    // the dictionary (135,000 words) is read when the first session needs it, or by ready():
    // a server that never recognises speech does not pay for it at start
  }

  /** resolves once the pronouncing dictionary is loaded; rejects with AsrError if it cannot be */
  async ready(): Promise<void> {
    try {
      await this.loadDictionary();
    } catch (err) {
      throw toAsrError(err);
    }
  }

  startSession(options: AsrSessionOptions): PocketsphinxAsrSession {
    const session = new PocketsphinxAsrSession(options, this.options, () => this.loadDictionary(), (s) => this.sessions.delete(s));
    if (this.closed) {
      // after the caller has attached its listeners
      queueMicrotask(() => session.failNow(new AsrError('pocketsphinx provider is closed')));
      return session;
    }
    this.sessions.add(session);
    session.prepare();
    return session;
  }

  /** closes every session and waits until their decoders are gone */
  async close(): Promise<void> {
    this.closed = true;
    const sessions = [...this.sessions];
    for (const s of sessions) s.close();
    await Promise.all(sessions.map((s) => s.released));
  }

  /** the pronouncing dictionary, read once and shared */
  private loadDictionary(): Promise<PronouncingDictionary> {
    if (this.dictionary === undefined) {
      const loading = PronouncingDictionary.load(this.options.dict);
      this.dictionary = loading;
      // a failed read is retried by the next session rather than cached
      loading.catch(() => {
        if (this.dictionary === loading) this.dictionary = undefined;
      });
    }
    return this.dictionary;
  }
}

export class PocketsphinxAsrSession extends AsrSessionBase {
  private readonly endpointer: EnergyEndpointer;
  private plan: Promise<DecodePlan> | undefined;
  private workDir: string | undefined;
  private decoder: PocketsphinxDecoder | undefined;
  /** the endpointer has cut the utterance and it is being recognised */
  private decoding = false;
  private releaseDone: (() => void) | undefined;
  /** resolves once close() has killed the decoder and removed the work directory */
  readonly released: Promise<void>;
  /** ms from the end of the utterance to the hypothesis, for the last utterance */
  lastDecodeMs: number | undefined;

  constructor(
    private readonly options: AsrSessionOptions,
    private readonly config: ResolvedOptions,
    private readonly dictionary: () => Promise<PronouncingDictionary>,
    private readonly onRelease: (s: PocketsphinxAsrSession) => void,
  ) {
    super(config.logger.child({ asr: 'pocketsphinx' }));
    this.released = new Promise((resolve) => (this.releaseDone = resolve));
    this.endpointer = new EnergyEndpointer({
      sampleRate: options.sampleRate,
      completetimeoutMs: options.completetimeoutMs,
      maxspeechtimeoutMs: options.maxspeechtimeoutMs,
      ...(options.noSpeechTimeoutMs !== undefined ? { noSpeechTimeoutMs: options.noSpeechTimeoutMs } : {}),
      ...(options.sensitivity !== undefined ? { sensitivity: options.sensitivity } : {}),
    });
  }

  /** start compiling the grammar and loading the decoder now, while the caller speaks */
  prepare(): void {
    this.plan = this.makePlan();
    this.plan.catch((err: unknown) => this.failNow(toAsrError(err)));
  }

  write(pcm: Int16Array): void {
    if (this.isFinished) return;
    this.handle(this.endpointer.process(pcm));
  }

  end(): void {
    // an utterance already being decoded gives the result; otherwise cut what was heard
    if (this.isFinished || this.decoding) return;
    const events = this.endpointer.end();
    this.handle(events);
    if (!this.decoding) this.finishWith([]);
  }

  failNow(err: AsrError): void {
    this.emitError(err);
    this.close();
  }

  protected release(): void {
    const decoder = this.decoder;
    const dir = this.workDir;
    const plan = this.plan;
    void (async () => {
      // a plan still being made spawns its decoder after close(); wait and close that too
      const made = await plan?.catch(() => undefined);
      await decoder?.close();
      if (made !== undefined && made.kind !== 'nothing') await made.decoder.close();
      const madeDir = this.workDir ?? dir;
      if (madeDir !== undefined) await rm(madeDir, { recursive: true, force: true }).catch(() => {});
    })().finally(() => {
      this.onRelease(this);
      this.releaseDone?.();
    });
  }

  private handle(events: EndpointerEvent[]): void {
    for (const e of events) {
      if (e.type === 'speechStart') this.emitSpeechStart();
      else if (e.type === 'noSpeech') this.finishWith([]);
      else {
        this.decoding = true;
        void this.recognise(e.audio);
      }
    }
  }

  private async recognise(audio: Int16Array): Promise<void> {
    const startedAt = this.config.scheduler.now();
    try {
      const plan = await (this.plan ?? this.makePlan());
      if (this.isFinished) return;
      if (plan.kind === 'nothing') {
        this.finishWith([]);
        return;
      }
      const upsampled = this.options.sampleRate === MODEL_RATE ? audio : createResampler(this.options.sampleRate, MODEL_RATE).process(audio);
      const hyp = await plan.decoder.decode(upsampled);
      this.lastDecodeMs = this.config.scheduler.now() - startedAt;
      this.logger.debug({ text: hyp.text, score: hyp.score, decodeMs: this.lastDecodeMs }, 'pocketsphinx hypothesis');
      // pocketsphinx's FSG search gives no calibrated confidence: an in-grammar hypothesis is 1
      this.finishWith(hyp.text.length > 0 ? [{ text: hyp.text, confidence: 1 }] : []);
    } catch (err) {
      this.failNow(toAsrError(err));
    }
  }

  private finishWith(hypotheses: Array<{ text: string; confidence: number }>): void {
    this.emitResult({ hypotheses });
    this.close();
  }

  private async makePlan(): Promise<DecodePlan> {
    const c = this.config;
    if (!this.options.language.toLowerCase().startsWith('en')) {
      this.logger.warn({ language: this.options.language }, 'pocketsphinx has only the en-us model; recognising as en-US');
    }
    const dictionary = await this.dictionary();
    const compiled = this.options.grammars.filter((g): g is Grammar & { rules: NonNullable<Grammar['rules']> } => g.mode === 'voice' && g.rules !== undefined);
    const jsgf = grammarsToJsgf(
      compiled.map((g) => ({ rules: g.rules, weight: g.weight })),
      { grammarName: 'active', isKnownWord: (w) => dictionary.has(w) },
    );
    if (jsgf.droppedWords.length > 0) this.logger.warn({ words: jsgf.droppedWords }, 'words missing from the pronouncing dictionary were left out of the grammar');
    for (const note of jsgf.notes) this.logger.info({ note }, 'grammar approximated for pocketsphinx');
    if (compiled.length > 0 && !jsgf.usable) {
      this.logger.warn({ grammars: compiled.map((g) => g.id) }, 'no active grammar has a word pocketsphinx knows: nothing can be recognised');
      return { kind: 'nothing' };
    }
    if (this.isClosed) throw new AsrError('session closed');
    const dir = await mkdtemp(join(c.workDir, 'opencx-asr-'));
    this.workDir = dir;
    const free = compiled.length === 0;
    const dictPath = free ? c.dict : join(dir, 'words.dict');
    if (!free) {
      await writeFile(dictPath, dictionary.subset(jsgf.words));
      await writeFile(join(dir, 'active.gram'), jsgf.text);
    }
    if (this.isClosed) throw new AsrError('session closed');
    const decoder = new PocketsphinxDecoder({
      binary: c.binary,
      hmmDir: c.modelDir,
      dictPath,
      search: free ? { lm: c.lm } : { jsgf: join(dir, 'active.gram') },
      workDir: dir,
      sampleRate: MODEL_RATE,
      decodeTimeoutMs: c.decodeTimeoutMs,
      extraArgs: c.extraArgs,
      scheduler: c.scheduler,
      logger: this.logger,
    });
    this.decoder = decoder;
    decoder.onUnexpectedExit((err) => this.failNow(err));
    void decoder.start();
    return { kind: free ? 'lm' : 'grammar', decoder };
  }
}

/** the -hmm directory and the root holding the dictionary, from either of the two */
function resolveModel(dir: string): { hmmDir: string; root: string } {
  if (existsSync(join(dir, 'mdef'))) return { hmmDir: dir, root: dirname(dir) };
  return { hmmDir: join(dir, 'en-us'), root: dir };
}

function toAsrError(err: unknown): AsrError {
  return err instanceof AsrError ? err : new AsrError(`pocketsphinx: ${describeError(err)}`, { cause: err });
}
