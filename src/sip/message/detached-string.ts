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

/**
 * `s` as one flat string. A string built by concatenation is a tree of its pieces, and pieces cut
 * from a message's text pin that text; reading a character makes V8 copy the tree into one flat
 * string in place and drop the pieces. Cheaper than detachedString() for a string just built
 * from many slices; the result must not be a slice itself (it never is after a concatenation).
 */
export function flatString(s: string): string {
  if (s.length > 0) s.charCodeAt(0);
  return s;
}
