/**
 * One warm pocketsphinx decoder: a long-lived `pocketsphinx_batch` reading its control file from
 * a FIFO. The model and grammar load once, while the caller is still speaking; each utterance is
 * then a raw 16-bit file in the work directory plus one control line, and the hypothesis comes
 * back as one `text (uttid score)` line on a second FIFO — decode time only, no model load.
 *
 * Why FIFOs: Node's stdio pipes are socketpairs, and pocketsphinx opens its -ctl and -hyp files
 * by name; opening /dev/stdin or /dev/stdout on a socket fails (ENXIO). We open both FIFOs
 * O_RDWR|O_NONBLOCK (Linux), so neither side's open() blocks, and read/write them through
 * net.Socket, so no libuv thread-pool thread ever waits on them.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants as fsConstants, open as openCallback } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { describeError, silentLogger, type Logger, type Scheduler, type TimerHandle } from '../../lib/index.js';
import { AsrError } from './types.js';

export interface PocketsphinxDecoderOptions {
  /** pocketsphinx_batch */
  binary: string;
  /** acoustic model directory (-hmm) */
  hmmDir: string;
  /** pronouncing dictionary (-dict) */
  dictPath: string;
  /** the grammar (-jsgf), or a statistical language model (-lm) when free-form */
  search: { jsgf: string } | { lm: string };
  /** utterance files and the decoder log live here; the owner removes it */
  workDir: string;
  /** sample rate of the audio given to decode(); the en-us model wants 16000 */
  sampleRate: number;
  /** longest wait for one hypothesis; the process is killed when it passes */
  decodeTimeoutMs: number;
  extraArgs?: readonly string[];
  scheduler: Scheduler;
  logger?: Logger;
}

export interface DecodeResult {
  text: string;
  /** the path score pocketsphinx prints (log domain, larger is better); not a probability */
  score: number;
}

interface Pending {
  resolve: (r: DecodeResult) => void;
  reject: (err: AsrError) => void;
  timer: TimerHandle;
  file: string;
}

const HYP_LINE = /^(.*?) ?\((\S+) (-?\d+)\)$/;

export class PocketsphinxDecoder {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private stdoutRest = '';
  private stderrTail = '';
  private closed = false;
  private failure: AsrError | undefined;
  private exitListener: ((err: AsrError) => void) | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logger: Logger;
  private readonly logPath: string;
  private control: Socket | undefined;
  private hypotheses: Socket | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: PocketsphinxDecoderOptions) {
    this.logger = options.logger ?? silentLogger;
    this.logPath = join(options.workDir, 'pocketsphinx.log');
  }

  /** make the FIFOs and spawn the process; failures come back through onUnexpectedExit and decode() */
  start(): Promise<void> {
    this.starting ??= this.spawnDecoder().catch((err: unknown) => {
      this.fail(new AsrError(`pocketsphinx failed to start: ${describeError(err)}`, { cause: err }));
    });
    return this.starting;
  }

  private async spawnDecoder(): Promise<void> {
    const o = this.options;
    const ctlPath = join(o.workDir, 'control.fifo');
    const hypPath = join(o.workDir, 'hypotheses.fifo');
    await promisify(execFile)('mkfifo', [ctlPath, hypPath]);
    const flags = fsConstants.O_RDWR | fsConstants.O_NONBLOCK;
    // raw descriptors (not FileHandles, which would close them again when collected): the sockets own them
    const openFd = promisify(openCallback);
    this.control = new Socket({ fd: await openFd(ctlPath, flags), readable: false, writable: true });
    this.hypotheses = new Socket({ fd: await openFd(hypPath, flags), readable: true, writable: false });
    this.control.on('error', () => {});
    this.hypotheses.on('error', () => {});
    this.hypotheses.setEncoding('utf8');
    this.hypotheses.on('data', (chunk: string) => this.onStdout(chunk));
    if (this.closed) {
      this.destroyFifos();
      return;
    }
    const search = 'jsgf' in o.search ? ['-jsgf', o.search.jsgf] : ['-lm', o.search.lm];
    const args = [
      '-hmm', o.hmmDir,
      '-dict', o.dictPath,
      ...search,
      '-samprate', String(o.sampleRate),
      '-adcin', 'yes',
      '-cepdir', o.workDir,
      '-cepext', '.raw',
      '-ctl', ctlPath,
      '-hyp', hypPath,
      '-logfn', this.logPath,
      // spectral noise subtraction hurts band-limited (phone) speech: 8/8 vs 7/8 in our tests
      '-remove_noise', 'no',
      ...(o.extraArgs ?? []),
    ];
    const child = spawn(o.binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout.resume();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-2000);
    });
    child.stdin.on('error', () => {
      // EPIPE when the process died first: the exit handler reports it
    });
    child.once('error', (err) => {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      this.fail(new AsrError(missing ? `pocketsphinx binary not found: ${o.binary}` : `pocketsphinx failed to start: ${err.message}`, { cause: err }));
      this.destroyFifos();
    });
    child.once('exit', (code, signal) => {
      if (this.closed) return this.destroyFifos();
      void this.describeExit(code, signal).then((why) => {
        this.fail(new AsrError(`pocketsphinx exited (${why})`));
        this.destroyFifos();
      });
    });
  }

  private destroyFifos(): void {
    this.control?.destroy();
    this.hypotheses?.destroy();
  }

  /** called once if the process dies or cannot start while not closed */
  onUnexpectedExit(fn: (err: AsrError) => void): void {
    this.exitListener = fn;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async decode(audio: Int16Array): Promise<DecodeResult> {
    await this.start();
    if (this.failure !== undefined) throw this.failure;
    if (this.closed || this.child === undefined) throw new AsrError('pocketsphinx decoder is closed');
    const id = `u${this.nextId++}`;
    const file = join(this.options.workDir, `${id}.raw`);
    // pocketsphinx reads little-endian (its -input_endian default), as Int16Array is on x86/ARM
    await writeFile(file, Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength));
    if (this.failure !== undefined) throw this.failure;
    const control = this.control;
    if (this.closed || control === undefined) throw new AsrError('pocketsphinx decoder is closed');
    return new Promise<DecodeResult>((resolve, reject) => {
      const timer = this.options.scheduler.setTimeout(() => {
        this.fail(new AsrError(`pocketsphinx gave no hypothesis within ${this.options.decodeTimeoutMs} ms`));
      }, this.options.decodeTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, file });
      control.write(`${id}\n`);
    });
  }

  /** kill the process; resolves when it is gone (and reaped) */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.rejectAll(new AsrError('pocketsphinx decoder closed'));
      await this.starting;
      this.destroyFifos();
      const child = this.child;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        child.kill('SIGKILL');
      }
    }
    await this.exited;
  }

  private onStdout(chunk: string): void {
    const lines = (this.stdoutRest + chunk).split('\n');
    this.stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      const m = HYP_LINE.exec(line.trimEnd());
      if (m === null) {
        if (line.trim().length > 0) this.logger.debug({ line }, 'pocketsphinx: unexpected output');
        continue;
      }
      const [, text = '', id = '', score = '0'] = m;
      const p = this.pending.get(id);
      if (p === undefined) continue;
      this.pending.delete(id);
      p.timer.cancel();
      void unlink(p.file).catch(() => {});
      p.resolve({ text: text.trim(), score: Number(score) });
    }
  }

  private fail(err: AsrError): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = err;
    this.logger.warn({ err: err.message }, 'pocketsphinx decoder failed');
    this.rejectAll(err);
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.exitListener?.(err);
  }

  private rejectAll(err: AsrError): void {
    for (const p of this.pending.values()) {
      p.timer.cancel();
      void unlink(p.file).catch(() => {});
      p.reject(err);
    }
    this.pending.clear();
  }

  /** exit status plus the decoder's own ERROR/FATAL lines, which say what was wrong */
  private async describeExit(code: number | null, signal: NodeJS.Signals | null): Promise<string> {
    const status = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
    let log = '';
    try {
      log = await readFile(this.logPath, 'utf8');
    } catch (err) {
      log = `(no log: ${describeError(err)})`;
    }
    const complaints = (log + '\n' + this.stderrTail)
      .split('\n')
      .filter((l) => /^(ERROR|FATAL)/.test(l))
      .slice(-3)
      .join('; ');
    return complaints.length > 0 ? `${status}: ${complaints}` : status;
  }
}
