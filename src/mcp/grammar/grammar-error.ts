import { InvalidInputError } from '../../lib/index.js';

/**
 * A grammar we refuse: bad XML or ABNF, an unknown rule reference, no root rule, a bad repeat,
 * left recursion, a failed external fetch, or a semantic tag that failed or ran too long.
 * VoiceXML maps it to error.badfetch (load) or error.semantic (tags).
 */
export class GrammarError extends InvalidInputError {
  /** the grammar id (URI, `inline:...` or `builtin:...`) when known */
  readonly grammarId: string | undefined;
  /** 1-based source line when known */
  readonly line: number | undefined;

  constructor(message: string, options: { grammarId?: string; line?: number; cause?: unknown } = {}) {
    const where = [
      options.grammarId !== undefined ? `grammar ${options.grammarId}` : undefined,
      options.line !== undefined ? `line ${options.line}` : undefined,
    ].filter((part) => part !== undefined).join(' ');
    super(where === '' ? message : `${where}: ${message}`, 400, 400, options.cause === undefined ? undefined : { cause: options.cause });
    this.grammarId = options.grammarId;
    this.line = options.line;
  }
}
