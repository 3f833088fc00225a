/**
 * The few named errors of opencx (STYLE.md §8). Each carries a message and, where useful, the
 * underlying cause. Errors that can reach a SIP peer or an HTTP client carry the status to send;
 * `sipStatusFor` / `httpStatusFor` are the one table that maps domain errors to responses.
 */
export class OpencxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: names the offending key. The CLI exits with status 2. */
export class ConfigError extends OpencxError {
  constructor(
    message: string,
    readonly key: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Input from outside (a SIP message, an API body, a document) that we refuse. */
export class InvalidInputError extends OpencxError {
  constructor(
    message: string,
    readonly sipStatus = 400,
    readonly httpStatus = 400,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NotFoundError extends OpencxError {}

export class ConflictError extends OpencxError {}

/** A dependency (Redis, the database, a socket) is unavailable right now; retrying later may work. */
export class UnavailableError extends OpencxError {}

/** An operation on something already closed. */
export class ClosedError extends OpencxError {}

/** A deadline passed. */
export class TimeoutError extends OpencxError {}

const SIP_STATUS = new Map<Function, number>([
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnavailableError, 503],
  [TimeoutError, 408],
]);

const HTTP_STATUS = new Map<Function, number>([
  [ConfigError, 400],
  [NotFoundError, 404],
  [ConflictError, 409],
  [UnavailableError, 503],
  [TimeoutError, 504],
]);

export function sipStatusFor(err: unknown): number {
  if (err instanceof InvalidInputError) return err.sipStatus;
  if (err instanceof Error) return SIP_STATUS.get(err.constructor) ?? 500;
  return 500;
}

export function httpStatusFor(err: unknown): number {
  if (err instanceof InvalidInputError) return err.httpStatus;
  if (err instanceof Error) return HTTP_STATUS.get(err.constructor) ?? 500;
  return 500;
}

/** A readable one-line description of anything thrown. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
