/**
 * What every AsrSession shares: the typed events, "one result or one error, then quiet", and an
 * idempotent close() that runs the provider's own release once.
 */
import { TypedEmitter, silentLogger, type Logger } from '../../lib/index.js';
import type { SpeechResult } from '../vxml/platform.js';
import type { AsrError, AsrSession, AsrSessionEvents } from './types.js';

type EventArgs = { [K in keyof AsrSessionEvents]: Parameters<AsrSessionEvents[K]> };

export abstract class AsrSessionBase implements AsrSession {
  private readonly emitter: TypedEmitter<EventArgs>;
  private finished = false;
  private closed = false;
  private speechStarted = false;

  constructor(protected readonly logger: Logger = silentLogger) {
    this.emitter = new TypedEmitter<EventArgs>((err, event) => {
      this.logger.warn({ err, event }, 'ASR session listener threw');
    });
  }

  abstract write(pcm: Int16Array): void;
  abstract end(): void;

  /** release processes, streams and timers; called once, from close() or after the outcome */
  protected abstract release(): void;

  on<K extends keyof AsrSessionEvents>(event: K, fn: AsrSessionEvents[K]): this {
    this.emitter.on(event, fn as (...args: EventArgs[K]) => void);
    return this;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finished = true;
    this.emitter.removeAllListeners();
    this.release();
  }

  /** no more input is wanted: the outcome is out or the session is closed */
  protected get isFinished(): boolean {
    return this.finished;
  }

  protected get isClosed(): boolean {
    return this.closed;
  }

  protected emitSpeechStart(): void {
    if (this.finished || this.speechStarted) return;
    this.speechStarted = true;
    this.emitter.emit('speechStart');
  }

  protected emitResult(result: SpeechResult): void {
    if (this.finished) return;
    this.finished = true;
    this.emitter.emit('result', result);
  }

  protected emitError(err: AsrError): void {
    if (this.finished) return;
    this.finished = true;
    this.emitter.emit('error', err);
  }
}
