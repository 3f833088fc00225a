/**
 * The embedded, offline TTS: eSpeak NG compiled to WebAssembly (npm `espeak-ng`), run on worker
 * threads so synthesis never blocks the event loop that carries RTP.
 *
 * espeak reads SSML itself (`-m`), including xml:lang, <voice>, <prosody>, <break> and <say-as>;
 * it writes 22050 Hz mono WAV, which is resampled to the 8 or 16 kHz the media engine wants.
 * It does not report <mark> positions through its command line, so TtsAudio.marks stays unset.
 */
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ClosedError, ConfigError, SystemScheduler, describeError, type Scheduler } from '../../lib/index.js';
import { ESPEAK_INPUT_PATH, ESPEAK_OUTPUT_PATH, type EspeakJob, type EspeakReply, type EspeakWorkerData } from './espeak-worker-protocol.js';
import { espeakVoiceFor } from './espeak-voices.js';
import { wavToPcm } from './pcm-audio.js';
import { compileWasm, type CompiledWasm } from './wasm-runtime.js';
import { checkTtsRequest, withDeadline } from './request-checks.js';
import { TtsError } from './tts-error.js';
import { DEFAULT_TTS_TIMEOUT_MS, type TtsAudio, type TtsProvider, type TtsRequest } from './types.js';

export interface EspeakTtsOptions {
  /** deadline of one request, queueing included (default 10 s) */
  timeoutMs?: number;
  /** worker threads synthesising in parallel (default 1: the machine also carries media) */
  workers?: number;
  /** speaking rate in words per minute, espeak's -s (80–450; default espeak's own, 175) */
  wordsPerMinute?: number;
  scheduler?: Scheduler;
}

const PROVIDER = 'espeak';

interface PendingJob {
  job: EspeakJob;
  resolve: (wav: Uint8Array) => void;
  reject: (err: TtsError) => void;
  slot?: WorkerSlot | undefined;
}

interface WorkerSlot {
  worker: Worker;
  current: PendingJob | undefined;
}

export class EspeakTtsProvider implements TtsProvider {
  readonly name = PROVIDER;
  private readonly timeoutMs: number;
  private readonly workerCount: number;
  private readonly wordsPerMinute: number | undefined;
  private readonly scheduler: Scheduler;
  private readonly slots: WorkerSlot[] = [];
  private readonly queue: PendingJob[] = [];
  private nextJobId = 1;
  private closing: Promise<void> | undefined;

  constructor(options: EspeakTtsOptions = {}) {
    this.timeoutMs = positive(options.timeoutMs, DEFAULT_TTS_TIMEOUT_MS, 'timeoutMs');
    this.workerCount = Math.floor(positive(options.workers, 1, 'workers'));
    if (options.wordsPerMinute !== undefined && !(options.wordsPerMinute >= 80 && options.wordsPerMinute <= 450)) {
      throw new ConfigError(`wordsPerMinute must be between 80 and 450, got ${options.wordsPerMinute}`, 'wordsPerMinute');
    }
    this.wordsPerMinute = options.wordsPerMinute;
    this.scheduler = options.scheduler ?? new SystemScheduler();
  }

  /** Compile the engine and start a worker now rather than on the first prompt. */
  async warmUp(): Promise<void> {
    if (this.closing !== undefined) throw new TtsError('provider is closed', PROVIDER, { cause: new ClosedError('closed') });
    const module = await this.compile();
    if (this.slots.length === 0 && this.closing === undefined) this.slots.push(this.startWorker(module));
  }

  synthesize(request: TtsRequest, signal?: AbortSignal): Promise<TtsAudio> {
    try {
      if (this.closing !== undefined) throw new TtsError('provider is closed', PROVIDER, { cause: new ClosedError('closed') });
      checkTtsRequest(request, PROVIDER);
    } catch (err) {
      return Promise.reject(err instanceof TtsError ? err : new TtsError(describeError(err), PROVIDER, { cause: err }));
    }
    const voice = espeakVoiceFor(request.language, request.voice);
    if (voice === undefined) return Promise.reject(new TtsError(`no espeak voice speaks ${request.language}`, PROVIDER));
    const args = ['-b', '1', '-m', '-v', voice];
    if (this.wordsPerMinute !== undefined) args.push('-s', String(Math.round(this.wordsPerMinute)));
    args.push('-w', ESPEAK_OUTPUT_PATH, '-f', ESPEAK_INPUT_PATH);
    const pending: PendingJob = {
      job: { id: this.nextJobId++, args, input: request.ssml },
      resolve: () => {},
      reject: () => {},
    };
    return withDeadline(
      {
        provider: PROVIDER,
        timeoutMs: this.timeoutMs,
        scheduler: this.scheduler,
        signal,
        // a run that overstays may be stuck inside WASM: only ending its thread stops it
        onTimeout: () => this.abandon(pending, true),
      },
      async (deadline) => {
        const wav = await new Promise<Uint8Array>((resolve, reject) => {
          pending.resolve = resolve;
          pending.reject = reject;
          deadline.addEventListener('abort', () => this.abandon(pending, false), { once: true });
          this.queue.push(pending);
          this.pump();
        });
        return { pcm: await wavToPcm(wav, request.sampleRate, PROVIDER), sampleRate: request.sampleRate };
      },
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const closed = (): TtsError => new TtsError('provider closed', PROVIDER, { cause: new ClosedError('closed') });
    for (const pending of this.queue.splice(0)) pending.reject(closed());
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.current?.reject(closed());
    await Promise.all(slots.map((slot) => slot.worker.terminate().catch(() => 0)));
  }

  private compile(): Promise<CompiledWasm> {
    return compiledEngine();
  }

  /** Give queued jobs to idle workers, starting workers up to the configured count. */
  private pump(): void {
    if (this.queue.length === 0 || this.closing !== undefined) return;
    const idle = this.slots.find((slot) => slot.current === undefined);
    if (idle === undefined && this.slots.length >= this.workerCount) return;
    this.compile().then(
      (module) => {
        if (this.closing !== undefined) return;
        for (;;) {
          const next = this.queue[0];
          if (next === undefined) return;
          let slot = this.slots.find((s) => s.current === undefined);
          if (slot === undefined) {
            if (this.slots.length >= this.workerCount) return;
            slot = this.startWorker(module);
            this.slots.push(slot);
          }
          this.queue.shift();
          slot.current = next;
          next.slot = slot;
          slot.worker.ref();
          slot.worker.postMessage(next.job);
        }
      },
      (err: unknown) => {
        const failure = err instanceof TtsError ? err : new TtsError(describeError(err), PROVIDER, { cause: err });
        for (const pending of this.queue.splice(0)) pending.reject(failure);
      },
    );
  }

  private startWorker(module: CompiledWasm): WorkerSlot {
    const data: EspeakWorkerData = { wasmModule: module };
    // no inherited node flags: a process started as `node --input-type=module -e ...` (or with
    // --inspect, --cpu-prof) would hand them to the thread, which then refuses to start
    const worker = new Worker(new URL('./espeak-worker.js', import.meta.url), { workerData: data, execArgv: [] });
    // an idle engine must not keep the process alive; a busy one must (see pump)
    worker.unref();
    const slot: WorkerSlot = { worker, current: undefined };
    worker.on('message', (reply: EspeakReply) => {
      const pending = slot.current;
      if (pending === undefined || pending.job.id !== reply.id) return;
      slot.current = undefined;
      pending.slot = undefined;
      worker.unref();
      if (reply.ok) pending.resolve(reply.wav);
      else pending.reject(new TtsError(`synthesis failed: ${reply.message}`, PROVIDER));
      this.pump();
    });
    const lost = (cause: unknown): void => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      const pending = slot.current;
      slot.current = undefined;
      pending?.reject(new TtsError(`the engine thread stopped: ${describeError(cause)}`, PROVIDER, { cause }));
      this.pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    return slot;
  }

  /** The caller gave up on a job: drop it from the queue, or (timeout) stop the thread running it. */
  private abandon(pending: PendingJob, stopThread: boolean): void {
    const queued = this.queue.indexOf(pending);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      return;
    }
    const slot = pending.slot;
    if (!stopThread || slot === undefined || slot.current !== pending) return;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    slot.current = undefined;
    pending.slot = undefined;
    void slot.worker.terminate().catch(() => 0);
    this.pump();
  }
}

/** One compile per process (18 MB of WASM, about half a second), shared by every provider and worker. */
let compiled: Promise<CompiledWasm> | undefined;

function compiledEngine(): Promise<CompiledWasm> {
  compiled ??= compileEspeak().catch((err: unknown) => {
    // a later request may try again (e.g. after the package is repaired)
    compiled = undefined;
    throw new TtsError(`cannot load the espeak-ng engine: ${describeError(err)}`, PROVIDER, { cause: err });
  });
  return compiled;
}

async function compileEspeak(): Promise<CompiledWasm> {
  const require = createRequire(import.meta.url);
  const script = require.resolve('espeak-ng');
  const wasmPath = new URL('espeak-ng.wasm', pathToFileURL(script));
  return compileWasm(await readFile(wasmPath));
}

function positive(value: number | undefined, fallback: number, key: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${key} must be a positive number, got ${value}`, key);
  return value;
}
