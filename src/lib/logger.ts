/**
 * The logger interface every layer takes; `platform` supplies the pino implementation and tests
 * can pass `silentLogger` or a recording one.
 */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(bindings: LogFields): Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: LogFields;
  msg: string;
}

/** A logger that keeps what it is given, for tests. */
export function recordingLogger(records: LogRecord[] = [], bindings: LogFields = {}): Logger & { records: LogRecord[] } {
  const make = (level: LogRecord['level']) => (fields: LogFields, msg: string) => {
    records.push({ level, fields: { ...bindings, ...fields }, msg });
  };
  return {
    records,
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    child: (more: LogFields) => recordingLogger(records, { ...bindings, ...more }),
  };
}
