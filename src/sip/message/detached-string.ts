/**
 * A copy of `s` that does not keep a larger string alive. The parser hands out header values as
 * substrings of the whole message text, and V8 represents a substring of 13 or more characters as
 * a slice that pins its parent: a binding kept for an hour (its Contact, Call-ID, AOR) would keep
 * the ~600-byte REGISTER it came from, ~60 MB for 100,000 registrations. Whatever is stored for
 * longer than a transaction goes through this; short strings are flat copies anyway.
 */
export function detachedString(s: string): string;
export function detachedString(s: string | undefined): string | undefined;
export function detachedString(s: string | undefined): string | undefined {
  if (s === undefined || s.length < 13) return s;
  return Buffer.from(s, 'utf8').toString('utf8');
}
