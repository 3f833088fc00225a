import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, Logger } from '../lib/index.js';
import type { LogLevel } from './config-schema.js';

/**
 * The production Logger: pino writing one JSON object per line. Every layer sees only the
 * Logger interface from src/lib, so tests pass `silentLogger`/`recordingLogger` instead.
 */
export interface PinoLoggerOptions {
  level?: LogLevel;
  /** where lines go; default stdout. Tests pass a stream to capture the output. */
  destination?: DestinationStream;
  /** fields on every line (e.g. { role: 'sip', node: 'a1' }) */
  base?: LogFields;
}

export class PinoLogger implements Logger {
  constructor(private readonly p: Pino) {}

  debug(fields: LogFields, msg: string): void {
    this.p.debug(fields, msg);
  }

  info(fields: LogFields, msg: string): void {
    this.p.info(fields, msg);
  }

  warn(fields: LogFields, msg: string): void {
    this.p.warn(fields, msg);
  }

  error(fields: LogFields, msg: string): void {
    this.p.error(fields, msg);
  }

  child(bindings: LogFields): Logger {
    return new PinoLogger(this.p.child(bindings));
  }

  get level(): string {
    return this.p.level;
  }

  /** flush buffered output (call before exiting) */
  flush(): void {
    this.p.flush();
  }
}

export function createLogger(options: PinoLoggerOptions = {}): PinoLogger {
  const opts = {
    level: options.level ?? 'info',
    base: options.base ?? {},
    // err objects in fields are serialized with stack and cause, not as {}
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const p = options.destination === undefined ? pino(opts) : pino(opts, options.destination);
  return new PinoLogger(p);
}
