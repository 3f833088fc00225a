import type { Test } from 'tap';
import { InvalidFieldError } from '../../../src/control/index.js';

/**
 * What the store contracts share. Their harnesses hand over one database for every test of a
 * file (and the PostgreSQL runs share a server), so each test names its records uniquely.
 */

let counter = 0;

/** a name no other test of this process or an earlier run has used */
export const unique = (what: string): string => `${what}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

/** rejects with an InvalidFieldError naming this field */
export async function rejectsField(t: Test, promise: Promise<unknown>, field: string, message?: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof InvalidFieldError, `${message ?? field}: InvalidFieldError (got ${String(err)})`);
  t.equal((err as InvalidFieldError | undefined)?.field, field, message ?? `names ${field}`);
}
