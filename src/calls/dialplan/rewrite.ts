import type { NumberRewrite } from './schema.js';

/**
 * Number rewriting of a rule, applied in a fixed order: stripPrefix, then replace, then prepend
 * (strip the trunk's access code, reshape, add the carrier's prefix).
 */
export interface CompiledRewrite {
  stripCount: number | undefined;
  stripLiteral: string | undefined;
  replace: { regex: RegExp; with: string } | undefined;
  prepend: string | undefined;
}

export type RewriteResult = { ok: true; rewrite: CompiledRewrite } | { ok: false; path: string; message: string };

/** Count of capture groups of a valid regex source. */
function groupCount(source: string): number {
  return (new RegExp(source + '|').exec('')?.length ?? 1) - 1;
}

export function compileRewrite(ops: NumberRewrite): RewriteResult {
  let replace: CompiledRewrite['replace'];
  if (ops.replace !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(ops.replace.pattern);
    } catch (err) {
      return { ok: false, path: 'replace.pattern', message: `invalid regex: ${err instanceof Error ? err.message : String(err)}` };
    }
    const groups = groupCount(ops.replace.pattern);
    for (const m of ops.replace.with.matchAll(/\$(\d+)/g)) {
      if (Number(m[1]) > groups) {
        return { ok: false, path: 'replace.with', message: `'$${m[1]}' refers to a group the pattern does not have (it has ${groups})` };
      }
    }
    replace = { regex, with: ops.replace.with };
  }
  return {
    ok: true,
    rewrite: {
      stripCount: typeof ops.stripPrefix === 'number' ? ops.stripPrefix : undefined,
      stripLiteral: typeof ops.stripPrefix === 'string' ? ops.stripPrefix : undefined,
      replace,
      prepend: ops.prepend,
    },
  };
}

export function applyRewrite(rw: CompiledRewrite | undefined, value: string): string {
  if (rw === undefined) return value;
  let out = value;
  if (rw.stripCount !== undefined) out = out.slice(rw.stripCount);
  if (rw.stripLiteral !== undefined && out.startsWith(rw.stripLiteral)) out = out.slice(rw.stripLiteral.length);
  if (rw.replace !== undefined) out = out.replace(rw.replace.regex, rw.replace.with);
  if (rw.prepend !== undefined) out = rw.prepend + out;
  return out;
}
