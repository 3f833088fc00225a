/**
 * Number patterns of the dial plan. Three spellings:
 *
 *   - a literal: `911`, `+4930123456`, `*97` — matches exactly that string;
 *   - an Asterisk extension pattern, starting with `_`: `X` = [0-9], `Z` = [1-9], `N` = [2-9],
 *     `[1-5]` / `[136-9]` a set, `.` one or more of anything, `!` zero or more of anything,
 *     other characters (digits, `*`, `#`, `+`) literally;
 *   - a JavaScript regular expression between slashes, no flags: `/^1\d{3}$/`, used as written
 *     (add `^` and `$` yourself). Tenants write these, so keep them simple: a backtracking-heavy
 *     regex is as slow here as anywhere (the length is capped, the running time is not).
 *
 * Compiling never throws: a bad pattern comes back as a message for the rule's error.
 */

export type PatternKind = 'literal' | 'extension' | 'regex';

/** How specific a pattern is; see `compareSpecificity` for the order. */
export interface Specificity {
  exact: boolean;
  /** count of literal characters before the first wildcard */
  fixedPrefix: number;
  /** `.` or `!` present (or a regex): matches numbers of many lengths */
  variableLength: boolean;
  /** count of wildcard tokens (X, Z, N, sets, `.`, `!`); a regex counts as unbounded */
  wildcards: number;
}

export interface CompiledPattern {
  source: string;
  kind: PatternKind;
  regex: RegExp;
  specificity: Specificity;
  /** one number the pattern matches, used to check at load time that a rewrite leaves something */
  sample: string;
}

export type PatternResult = { ok: true; pattern: CompiledPattern } | { ok: false; message: string };

const MAX_PATTERN_LENGTH = 256;
const LITERAL = /^[0-9*#+]+$/;
const SAMPLE_TAIL = 8;
const CLASS_OF: Record<string, { re: string; sample: string }> = {
  X: { re: '[0-9]', sample: '0' },
  Z: { re: '[1-9]', sample: '1' },
  N: { re: '[2-9]', sample: '2' },
};

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/#-]/g, '\\$&');
}

export function compilePattern(source: string): PatternResult {
  if (source.length === 0) return { ok: false, message: 'pattern is empty' };
  if (source.length > MAX_PATTERN_LENGTH) return { ok: false, message: `pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  if (source.startsWith('/')) return compileRegex(source);
  if (source.startsWith('_')) return compileExtension(source);
  if (!LITERAL.test(source)) {
    return { ok: false, message: `literal pattern '${source}' may hold only digits, '*', '#' and '+' (start it with '_' for an Asterisk pattern or wrap a regex in /.../)` };
  }
  return {
    ok: true,
    pattern: {
      source,
      kind: 'literal',
      regex: new RegExp('^' + escapeRegex(source) + '$'),
      specificity: { exact: true, fixedPrefix: source.length, variableLength: false, wildcards: 0 },
      sample: source,
    },
  };
}

function compileRegex(source: string): PatternResult {
  if (source.length < 3 || !source.endsWith('/')) {
    return { ok: false, message: `regex pattern '${source}' must be written /.../ with no flags` };
  }
  const body = source.slice(1, -1);
  let regex: RegExp;
  try {
    regex = new RegExp(body);
  } catch (err) {
    return { ok: false, message: `invalid regex ${source}: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (regex.test('')) return { ok: false, message: `regex ${source} matches the empty number` };
  return {
    ok: true,
    pattern: {
      source,
      kind: 'regex',
      regex,
      specificity: { exact: false, fixedPrefix: 0, variableLength: true, wildcards: Number.POSITIVE_INFINITY },
      // a regex has no cheap sample; the rewrite check is skipped for it
      sample: '',
    },
  };
}

function compileExtension(source: string): PatternResult {
  const body = source.slice(1);
  if (body.length === 0) return { ok: false, message: `pattern '_' is empty` };
  let re = '^';
  let sample = '';
  let fixedPrefix = 0;
  let prefixOpen = true;
  let wildcards = 0;
  let variableLength = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    const cls = CLASS_OF[ch.toUpperCase()];
    if (cls !== undefined) {
      re += cls.re;
      sample += cls.sample;
    } else if (ch === '.' || ch === '!') {
      re += ch === '.' ? '.+' : '.*';
      // a generous expansion: the load-time rewrite check refuses only rewrites that leave
      // nothing of any reasonable number, not of the shortest one
      sample += '0'.repeat(SAMPLE_TAIL);
      variableLength = true;
    } else if (ch === '[') {
      const close = body.indexOf(']', i + 1);
      if (close === -1) return { ok: false, message: `pattern '${source}': '[' at position ${i + 2} is not closed` };
      const set = parseSet(body.slice(i + 1, close));
      if (typeof set === 'string') return { ok: false, message: `pattern '${source}': ${set}` };
      re += set.re;
      sample += set.sample;
      i = close;
    } else if (LITERAL.test(ch)) {
      re += escapeRegex(ch);
      sample += ch;
      if (prefixOpen) fixedPrefix++;
      continue;
    } else {
      return { ok: false, message: `pattern '${source}': unexpected '${ch}' at position ${i + 2} (allowed: digits * # + X Z N [..] . !)` };
    }
    prefixOpen = false;
    wildcards++;
  }
  return {
    ok: true,
    pattern: {
      source,
      kind: 'extension',
      regex: new RegExp(re + '$'),
      specificity: { exact: false, fixedPrefix, variableLength, wildcards },
      sample,
    },
  };
}

/** `[1-5]`, `[136-9]`, `[*#]`: a set of single characters and digit ranges. */
function parseSet(inner: string): { re: string; sample: string } | string {
  if (inner.length === 0) return 'empty set []';
  let re = '';
  let i = 0;
  while (i < inner.length) {
    const ch = inner[i] as string;
    if (!LITERAL.test(ch)) return `'${ch}' is not allowed in a set`;
    if (inner[i + 1] === '-' && i + 2 < inner.length) {
      const to = inner[i + 2] as string;
      if (!/[0-9]/.test(ch) || !/[0-9]/.test(to) || to < ch) return `bad range '${ch}-${to}' in a set`;
      re += `${ch}-${to}`;
      i += 3;
    } else {
      re += escapeRegex(ch);
      i++;
    }
  }
  return { re: `[${re}]`, sample: inner[0] as string };
}

/**
 * Order two patterns, most specific first (negative when `a` wins):
 *   1. an exact literal beats any pattern;
 *   2. a longer fixed prefix beats a shorter one (`_4930X.` before `_49X.`);
 *   3. a fixed-length pattern beats a variable-length one (`_1XXX` before `_1.`);
 *   4. fewer wildcards beat more (a regex counts as unbounded, so it comes last);
 * equal specificity returns 0 and the caller falls back to list order.
 */
export function compareSpecificity(a: Specificity, b: Specificity): number {
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  if (a.fixedPrefix !== b.fixedPrefix) return b.fixedPrefix - a.fixedPrefix;
  if (a.variableLength !== b.variableLength) return a.variableLength ? 1 : -1;
  if (a.wildcards !== b.wildcards) return a.wildcards < b.wildcards ? -1 : 1;
  return 0;
}
