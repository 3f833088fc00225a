import { InvalidInputError, OpencxError } from '../lib/index.js';

/**
 * Control-plane errors that src/lib does not have yet. InvalidFieldError stays an
 * InvalidInputError so httpStatusFor() maps it to 400 everywhere; the two auth errors are mapped
 * by the REST error handler (they only ever reach HTTP clients).
 */
export class InvalidFieldError extends InvalidInputError {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** No or unknown API key (HTTP 401). */
export class UnauthorizedError extends OpencxError {}

/** A valid API key acting outside its tenant (HTTP 403). */
export class ForbiddenError extends OpencxError {}
