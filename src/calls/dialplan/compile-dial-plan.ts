import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../lib/index.js';
import { compareSpecificity, compilePattern, type CompiledPattern } from './pattern.js';
import { applyRewrite, compileRewrite, type CompiledRewrite } from './rewrite.js';
import { TARGET_TYPES, dialPlanEnvelopeSchema, ruleSchema, type NumberRewrite, type RuleConfig, type Target, type TimeConditionConfig } from './schema.js';
import { isKnownTimezone, parseClock, parseDates, parseDays, type CompiledTimeCondition, type DateRange } from './time-conditions.js';

/** One refusal: the rule (its name, or `rules[i]` when it has none), where in it, and why. */
export interface DialPlanError {
  rule: string;
  path: string;
  message: string;
}

export interface CompiledRule {
  name: string;
  /** position in the configured list */
  index: number;
  priority: number | undefined;
  number: CompiledPattern;
  caller: CompiledPattern | undefined;
  source: 'internal' | 'trunk' | 'any';
  trunk: string | undefined;
  when: readonly CompiledTimeCondition[];
  rewrite: CompiledRewrite | undefined;
  callerRewrite: CompiledRewrite | undefined;
  target: Target;
  continueOnFailure: boolean;
}

export interface DialPlan {
  tenant: string | undefined;
  timezone: string;
  /** in evaluation order (see `comparePrecedence`) */
  rules: readonly CompiledRule[];
}

export type CompileResult = { ok: true; plan: DialPlan } | { ok: false; errors: DialPlanError[] };

/** the placeholders a target's strings may use, filled at evaluation */
export const TARGET_VARIABLES = ['number', 'caller'] as const;

const PLAN = '(plan)';
const DIALLABLE = /^[0-9*#+]+$/;

function pathText(base: string, path: readonly (string | number)[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function zodErrors(rule: string, base: string, input: unknown, error: z.ZodError): DialPlanError[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'invalid_union_discriminator') {
      message = `unknown target type ${JSON.stringify(valueAt(input, issue.path))}; expected one of ${TARGET_TYPES.join(', ')}`;
    } else if (issue.code === 'invalid_type' && issue.received === 'undefined') {
      message = 'is required';
    }
    return { rule, path: pathText(base, issue.path), message };
  });
}

/**
 * Compile and validate a dial plan given as plain data (parsed JSON/YAML, a REST body). Never
 * throws: every problem found comes back, each naming its rule.
 */
export function compileDialPlan(input: unknown): CompileResult {
  const envelope = dialPlanEnvelopeSchema.safeParse(input);
  if (!envelope.success) return { ok: false, errors: zodErrors(PLAN, '', input, envelope.error) };
  const { tenant, timezone, rules: rawRules } = envelope.data;
  const errors: DialPlanError[] = [];
  if (!isKnownTimezone(timezone)) errors.push({ rule: PLAN, path: 'timezone', message: `unknown time zone '${timezone}'` });
  const compiled: CompiledRule[] = [];
  const seen = new Map<string, number>();
  rawRules.forEach((raw, index) => {
    const base = `rules[${index}]`;
    const rawName = valueAt(raw, ['name']);
    const label = typeof rawName === 'string' && rawName.trim() !== '' ? rawName.trim() : base;
    const parsed = ruleSchema.safeParse(raw);
    if (!parsed.success) {
      errors.push(...zodErrors(label, base, raw, parsed.error));
      return;
    }
    const config = parsed.data;
    const earlier = seen.get(config.name);
    if (earlier !== undefined) {
      errors.push({ rule: label, path: `${base}.name`, message: `duplicate rule name (also rules[${earlier}])` });
      return;
    }
    seen.set(config.name, index);
    const result = compileRule(config, index, timezone);
    if (Array.isArray(result)) {
      for (const e of result) errors.push({ rule: label, path: `${base}.${e.path}`, message: e.message });
    } else compiled.push(result);
  });
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, plan: { tenant, timezone, rules: [...compiled].sort(comparePrecedence) } };
}

type LocalError = { path: string; message: string };

function compileRule(config: RuleConfig, index: number, defaultZone: string): CompiledRule | LocalError[] {
  const errors: LocalError[] = [];
  const number = compilePattern(config.match.number);
  if (!number.ok) errors.push({ path: 'match.number', message: number.message });
  let caller: CompiledPattern | undefined;
  if (config.match.caller !== undefined) {
    const c = compilePattern(config.match.caller);
    if (c.ok) caller = c.pattern;
    else errors.push({ path: 'match.caller', message: c.message });
  }
  if (config.match.trunk !== undefined && config.match.source === 'internal') {
    errors.push({ path: 'match.trunk', message: "an inbound trunk cannot be combined with source 'internal'" });
  }
  const when: CompiledTimeCondition[] = [];
  (config.when ?? []).forEach((cond, i) => {
    const c = compileTimeCondition(cond, defaultZone);
    if (typeof c === 'string') errors.push({ path: `when[${i}]`, message: c });
    else when.push(c);
  });
  const rewrite = compileRewriteAt(config.rewrite, 'rewrite', errors);
  const callerRewrite = compileRewriteAt(config.rewrite?.callerId, 'rewrite.callerId', errors);
  checkRewriteLeavesSomething(number.ok ? number.pattern : undefined, rewrite, 'rewrite', 'number', errors);
  checkRewriteLeavesSomething(caller, callerRewrite, 'rewrite.callerId', 'caller', errors);
  errors.push(...checkTarget(config.target));
  if (errors.length > 0 || !number.ok) return errors;
  return {
    name: config.name,
    index,
    priority: config.priority,
    number: number.pattern,
    caller,
    source: config.match.trunk !== undefined ? 'trunk' : config.match.source,
    trunk: config.match.trunk,
    when,
    rewrite,
    callerRewrite,
    target: config.target,
    continueOnFailure: config.continueOnFailure,
  };
}

function compileRewriteAt(ops: NumberRewrite | undefined, path: string, errors: LocalError[]): CompiledRewrite | undefined {
  if (ops === undefined) return undefined;
  if (ops.stripPrefix === undefined && ops.replace === undefined && ops.prepend === undefined) {
    if (path === 'rewrite' && 'callerId' in ops) return undefined;
    errors.push({ path, message: 'rewrite has no operation (stripPrefix, replace or prepend)' });
    return undefined;
  }
  const r = compileRewrite(ops);
  if (r.ok) return r.rewrite;
  errors.push({ path: `${path}.${r.path}`, message: r.message });
  return undefined;
}

/**
 * A rewrite that turns every number the pattern can match into '' is a mistake (a strip count
 * as long as the number). The pattern's sample stands for its numbers; regex patterns have no
 * sample and are checked per call instead.
 */
function checkRewriteLeavesSomething(pattern: CompiledPattern | undefined, rw: CompiledRewrite | undefined, path: string, what: string, errors: LocalError[]): void {
  if (pattern === undefined || rw === undefined || pattern.sample === '') return;
  if (applyRewrite(rw, pattern.sample) === '') {
    errors.push({ path, message: `rewrite leaves nothing of the ${what} (e.g. '${pattern.sample}' becomes '')` });
  }
}

function timeLabel(c: TimeConditionConfig, zone: string): string {
  const parts: string[] = [];
  if (c.negate) parts.push('not');
  if (c.days !== undefined) parts.push(c.days.join(','));
  if (c.from !== undefined || c.to !== undefined) parts.push(`${c.from ?? '00:00'}-${c.to ?? '24:00'}`);
  if (c.dates !== undefined) parts.push(c.dates.join(','));
  parts.push(zone);
  return `[${parts.join(' ')}]`;
}

function compileTimeCondition(c: TimeConditionConfig, defaultZone: string): CompiledTimeCondition | string {
  if (c.days === undefined && c.from === undefined && c.to === undefined && c.dates === undefined) {
    return 'a time condition needs days, from/to or dates';
  }
  const timezone = c.timezone ?? defaultZone;
  if (!isKnownTimezone(timezone)) return `unknown time zone '${timezone}'`;
  const from = c.from === undefined ? undefined : parseClock(c.from, false);
  if (c.from !== undefined && from === undefined) return `'from' ${JSON.stringify(c.from)} is not a time of day HH:MM (00:00–23:59)`;
  const to = c.to === undefined ? undefined : parseClock(c.to, true);
  if (c.to !== undefined && to === undefined) return `'to' ${JSON.stringify(c.to)} is not a time of day HH:MM (00:00–24:00)`;
  if (from !== undefined && to !== undefined && from === to) return `'from' and 'to' are both ${c.from}: the range would be empty`;
  let days: Set<number> | undefined;
  if (c.days !== undefined) {
    const d = parseDays(c.days);
    if (typeof d === 'string') return d;
    days = d;
  }
  let dates: DateRange[] | undefined;
  if (c.dates !== undefined) {
    const d = parseDates(c.dates);
    if (typeof d === 'string') return d;
    dates = d;
  }
  return { timezone, days, from, to, dates, negate: c.negate, label: timeLabel(c, timezone) };
}

/** The strings of a target that may hold `${number}` / `${caller}` placeholders. */
export function templatedFields(target: Target): Array<{ path: string; value: string }> {
  switch (target.type) {
    case 'user':
      return [{ path: 'user', value: target.user }];
    case 'ring-group':
      return target.members.map((m, i) => ({ path: `members[${i}]`, value: m }));
    case 'vxml':
      return target.url !== undefined ? [{ path: 'url', value: target.url }] : [];
    case 'voicemail':
      return [{ path: 'mailbox', value: target.mailbox }];
    case 'number':
      return [{ path: 'number', value: target.number }];
    case 'trunk':
    case 'reject':
      return [];
  }
}

function checkTarget(target: Target): LocalError[] {
  const errors: LocalError[] = [];
  for (const f of templatedFields(target)) {
    for (const m of f.value.matchAll(/\$\{([^}]*)\}/g)) {
      if (!(TARGET_VARIABLES as readonly string[]).includes(m[1] ?? '')) {
        errors.push({ path: `target.${f.path}`, message: `unknown placeholder '${m[0]}' (known: ${TARGET_VARIABLES.map((v) => '${' + v + '}').join(', ')})` });
      }
    }
    if (/\s/.test(f.value)) errors.push({ path: `target.${f.path}`, message: 'must not contain whitespace' });
  }
  const probe = (s: string): string => s.replace(/\$\{[^}]*\}/g, '0');
  if (target.type === 'vxml' && (target.url === undefined) === (target.app === undefined)) {
    errors.push({ path: 'target', message: 'a vxml target names either a url or a hosted app, exactly one' });
  }
  if (target.type === 'vxml' && target.url !== undefined) {
    let ok = false;
    try {
      const url = new URL(probe(target.url));
      ok = url.protocol === 'http:' || url.protocol === 'https:';
    } catch {}
    if (!ok) errors.push({ path: 'target.url', message: `'${target.url}' is not an http(s) URL` });
  }
  if (target.type === 'number' && !DIALLABLE.test(probe(target.number))) {
    errors.push({ path: 'target.number', message: `'${target.number}' is not a dialable number (digits, *, #, + or placeholders)` });
  }
  if (target.type === 'ring-group' && new Set(target.members).size !== target.members.length) {
    errors.push({ path: 'target.members', message: 'a member is listed twice' });
  }
  return errors;
}

function constraints(r: CompiledRule): number {
  return (r.caller !== undefined ? 1 : 0) + (r.trunk !== undefined ? 1 : 0) + (r.source !== 'any' ? 1 : 0);
}

/**
 * Rule precedence, the one order rules are tried in:
 *   1. explicit priority: rules with a priority first, lowest number first;
 *   2. specificity of the number pattern (`compareSpecificity`: exact literal, then longer fixed
 *      prefix, then fixed length, then fewer wildcards; regexes last);
 *   3. the rule with more match constraints (caller, trunk, source) first;
 *   4. list order.
 */
export function comparePrecedence(a: CompiledRule, b: CompiledRule): number {
  if (a.priority !== b.priority) {
    if (a.priority === undefined) return 1;
    if (b.priority === undefined) return -1;
    return a.priority - b.priority;
  }
  return compareSpecificity(a.number.specificity, b.number.specificity) || constraints(b) - constraints(a) || a.index - b.index;
}

/** Parse dial-plan text (YAML, of which JSON is a subset; `json` insists on strict JSON) and compile it. */
export function parseDialPlan(text: string, format: 'yaml' | 'json' = 'yaml'): CompileResult {
  let data: unknown;
  try {
    data = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [{ rule: PLAN, path: '', message: `not valid ${format.toUpperCase()}: ${err instanceof Error ? err.message : String(err)}` }] };
  }
  return compileDialPlan(data);
}

/** One line per error: `rule "name" at rules[2].target.status: message`. */
export function formatDialPlanErrors(errors: readonly DialPlanError[]): string {
  return errors.map((e) => `rule ${JSON.stringify(e.rule)}${e.path === '' ? '' : ` at ${e.path}`}: ${e.message}`).join('\n');
}

/** compileDialPlan for composition roots: a ConfigError naming every bad rule instead of a result. */
export function compileDialPlanOrThrow(input: unknown): DialPlan {
  const r = compileDialPlan(input);
  if (r.ok) return r.plan;
  throw new ConfigError(`invalid dial plan:\n${formatDialPlanErrors(r.errors)}`, r.errors[0]?.path);
}
