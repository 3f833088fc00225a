/**
 * What every provider does around one synthesis: refuse malformed requests with a clear error,
 * and bound the work by a deadline and the caller's AbortSignal so a provider never hangs.
 */
import { InvalidInputError, TimeoutError, describeError, type Scheduler } from '../../lib/index.js';
import { TtsError } from './tts-error.js';
import type { TtsRequest } from './types.js';

/** BCP 47 shape (RFC 5646 §2.1), loosely: primary subtag plus any number of subtags. */
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;
/** Far above any prompt; stops a runaway document from tying up an engine. */
export const MAX_SSML_CHARS = 100_000;

export function checkTtsRequest(request: TtsRequest, provider: string): void {
  const refuse = (message: string): never => {
    throw new TtsError(message, provider, { cause: new InvalidInputError(message) });
  };
  if (typeof request.ssml !== 'string') refuse('the SSML is not a string');
  if (request.ssml.trim().length === 0) refuse('the SSML is empty');
  if (request.ssml.length > MAX_SSML_CHARS) refuse(`the SSML is longer than ${MAX_SSML_CHARS} characters`);
  if (request.sampleRate !== 8000 && request.sampleRate !== 16000) refuse(`unsupported sample rate ${String(request.sampleRate)}`);
  if (typeof request.language !== 'string' || !LANGUAGE_TAG.test(request.language)) refuse(`"${String(request.language)}" is not a language tag`);
  if (request.voice !== undefined && (typeof request.voice !== 'string' || request.voice.length > 200)) refuse('the voice name is not a short string');
}

export interface DeadlineOptions {
  provider: string;
  timeoutMs: number;
  scheduler: Scheduler;
  signal?: AbortSignal | undefined;
  /** wraps whatever the work threw into the provider's TtsError */
  describeFailure?: (err: unknown) => TtsError;
  /** called once when the deadline passes, before the caller's promise rejects */
  onTimeout?: () => void;
}

/**
 * Run `work` until it settles, the deadline passes or the caller aborts, whichever comes first.
 * `work` gets a signal that fires in the last two cases so it can cancel what it started; its
 * late result or failure is then ignored.
 */
export function withDeadline<T>(options: DeadlineOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { provider, timeoutMs, scheduler, signal } = options;
  const describe = options.describeFailure ?? ((err: unknown) => (err instanceof TtsError ? err : new TtsError(describeError(err), provider, { cause: err })));
  if (signal?.aborted === true) return Promise.reject(new TtsError('request aborted', provider, { cause: signal.reason }));
  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      timer.cancel();
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const onAbort = (): void => {
      if (!finish()) return;
      inner.abort(signal?.reason);
      reject(new TtsError('request aborted', provider, { cause: signal?.reason }));
    };
    const timer = scheduler.setTimeout(() => {
      if (!finish()) return;
      inner.abort(new Error('deadline passed'));
      try {
        options.onTimeout?.();
      } catch {
        // a cleanup hook must not turn a timeout into something else
      }
      reject(new TtsError(`no audio within ${timeoutMs} ms`, provider, { cause: new TimeoutError(`deadline of ${timeoutMs} ms passed`) }));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    let started: Promise<T>;
    try {
      started = work(inner.signal);
    } catch (err) {
      started = Promise.reject(err);
    }
    started.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(describe(err));
      },
    );
  });
}
