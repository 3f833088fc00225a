/**
 * Control transfers of the interpreter. VoiceXML events (VoiceXML 2.0 §5.2) and the
 * transitions of executable content unwind the interpreter's stack as these throwables.
 */
export class VxmlEvent extends Error {
  override readonly name = 'VxmlEvent';
  /** set when a sandbox limit (time, memory) caused this error.semantic */
  limit: 'time-limit' | 'memory-limit' | undefined = undefined;
  constructor(
    readonly event: string,
    readonly eventMessage?: string,
  ) {
    super(eventMessage === undefined ? event : `${event}: ${eventMessage}`);
  }
}

export interface SubmitSpec {
  method: 'GET' | 'POST';
  enctype: string;
  fields: Array<{ name: string; value: unknown }>;
}

/** <goto>, <submit>, <link>, <choice>: where to go next */
export class TransitionSignal {
  constructor(
    /** absolute document URL (without fragment), or undefined for the current document */
    readonly url: string | undefined,
    /** dialog id (fragment) */
    readonly dialog: string | undefined,
    /** <goto nextitem> */
    readonly item?: string,
    readonly submit?: SubmitSpec,
  ) {}

  /** the fetched target document, once fetched in the dialog that asked for it */
  loaded: unknown = undefined;
}

export class ExitSignal {
  constructor(
    readonly exitValue: unknown,
    readonly namelist: Record<string, unknown> | undefined,
  ) {}
}

export class ReturnSignal {
  constructor(
    readonly values: Record<string, unknown>,
    readonly event?: string,
    readonly message?: string,
  ) {}
}

/** the session ends now: an uncaught event, a second sandbox limit, too many transitions, close() */
export class SessionEndSignal {
  constructor(
    readonly event: string,
    readonly message: string,
  ) {}
}
