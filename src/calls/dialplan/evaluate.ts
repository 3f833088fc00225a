import type { CompiledRule, DialPlan } from './compile-dial-plan.js';
import { applyRewrite } from './rewrite.js';
import type { CallSource, Target } from './schema.js';
import { timeAllows } from './time-conditions.js';

/** What the engine is asked: plain strings, no SIP objects. */
export interface DialRequest {
  /** the dialled number as received (Request-URI user part, already normalised if wanted) */
  number: string;
  /** the caller's number; '' when anonymous */
  caller: string;
  source: CallSource;
  /** name of the inbound trunk when source is 'trunk' */
  trunk?: string;
  /** the instant of the call, epoch milliseconds (Clock.wallNow()) */
  at: number;
  /**
   * Resume after this rule (its target failed and it has continueOnFailure): only the rules
   * after it in precedence order are tried. Use `resumeAfterFailure` to build such a request.
   */
  after?: string;
}

export interface DialPlanMatch {
  rule: string;
  /** the target with `${number}` / `${caller}` filled in */
  target: Exclude<Target, { type: 'number' }>;
  /** the dialled number after the rule's rewrite */
  number: string;
  /** the caller after the rule's callerId rewrite */
  caller: string;
  continueOnFailure: boolean;
  /** the rules whose 'number' targets led here, in order */
  via: string[];
  /** the number and caller the matched rule saw, before its rewrite (to resume after a failure) */
  entered: { number: string; caller: string };
}

export interface EvaluationError {
  code: 'loop' | 'unknown-rule';
  message: string;
}

export interface EvaluationResult {
  matched: DialPlanMatch | undefined;
  error?: EvaluationError;
  /** why each rule matched or not, in the order tried */
  trace: string[];
}

/** How many times 'number' targets may send a call back into the plan. */
export const MAX_PLAN_REENTRIES = 5;

interface RuleHit {
  rule: CompiledRule;
  number: string;
  caller: string;
}

function tryRule(rule: CompiledRule, req: DialRequest, number: string, caller: string, trace: string[]): RuleHit | undefined {
  const tag = `rule ${JSON.stringify(rule.name)}:`;
  if (rule.source !== 'any' && rule.source !== req.source) {
    trace.push(`${tag} source '${req.source}' is not '${rule.source}'`);
    return undefined;
  }
  if (rule.trunk !== undefined && rule.trunk !== req.trunk) {
    trace.push(`${tag} inbound trunk ${JSON.stringify(req.trunk ?? null)} is not '${rule.trunk}'`);
    return undefined;
  }
  if (!rule.number.regex.test(number)) {
    trace.push(`${tag} number '${number}' does not match ${rule.number.source}`);
    return undefined;
  }
  if (rule.caller !== undefined && !rule.caller.regex.test(caller)) {
    trace.push(`${tag} caller '${caller}' does not match ${rule.caller.source}`);
    return undefined;
  }
  const time = timeAllows(rule.when, req.at);
  if (!time.ok) {
    trace.push(`${tag} number '${number}' matches ${rule.number.source} but the time is ${time.why}`);
    return undefined;
  }
  const newNumber = applyRewrite(rule.rewrite, number);
  if (newNumber === '') {
    trace.push(`${tag} rewrite leaves nothing of '${number}'; rule skipped`);
    return undefined;
  }
  const newCaller = applyRewrite(rule.callerRewrite, caller);
  const rewritten = newNumber !== number || newCaller !== caller ? `; rewritten to number '${newNumber}', caller '${newCaller}'` : '';
  trace.push(`${tag} matched number '${number}' with ${rule.number.source} (${time.why})${rewritten}`);
  return { rule, number: newNumber, caller: newCaller };
}

function fill(template: string, vars: { number: string; caller: string }, encode: boolean): string {
  return template.replace(/\$\{(number|caller)\}/g, (_m, name: 'number' | 'caller') => (encode ? encodeURIComponent(vars[name]) : vars[name]));
}

/** The target with its placeholders filled (URL values are %-encoded). */
export function fillTarget(target: Target, vars: { number: string; caller: string }): Target {
  switch (target.type) {
    case 'user':
      return { ...target, user: fill(target.user, vars, false) };
    case 'ring-group':
      return { ...target, members: target.members.map((m) => fill(m, vars, false)) };
    case 'vxml':
      return target.url !== undefined ? { ...target, url: fill(target.url, vars, true) } : target;
    case 'voicemail':
      return { ...target, mailbox: fill(target.mailbox, vars, false) };
    case 'number':
      return { ...target, number: fill(target.number, vars, false) };
    case 'trunk':
      return { ...target, ...(target.fallbackTrunks === undefined ? {} : { fallbackTrunks: [...target.fallbackTrunks] }) };
    case 'reject':
      return { ...target };
  }
}

/**
 * Route a call through the plan: the first rule in precedence order (see comparePrecedence)
 * whose number, caller, source, trunk and time conditions all hold wins. A 'number' target
 * sends the rewritten call through the plan again, at most MAX_PLAN_REENTRIES times; a number
 * seen before in the same chain is a loop and stops at once. Pure: same inputs, same result.
 */
export function evaluate(plan: DialPlan, request: DialRequest): EvaluationResult {
  const trace: string[] = [];
  let start = 0;
  if (request.after !== undefined) {
    const i = plan.rules.findIndex((r) => r.name === request.after);
    if (i === -1) {
      const message = `cannot resume after unknown rule ${JSON.stringify(request.after)}`;
      trace.push(message);
      return { matched: undefined, error: { code: 'unknown-rule', message }, trace };
    }
    const previous = plan.rules[i] as CompiledRule;
    if (!previous.continueOnFailure) {
      trace.push(`rule ${JSON.stringify(previous.name)} does not continue on failure; no further rule is tried`);
      return { matched: undefined, trace };
    }
    start = i + 1;
    trace.push(`resuming after rule ${JSON.stringify(previous.name)}`);
  }
  let number = request.number;
  let caller = request.caller;
  const via: string[] = [];
  const chain = [number];
  for (let entry = 0; ; entry++) {
    let hit: RuleHit | undefined;
    for (let i = start; i < plan.rules.length && hit === undefined; i++) hit = tryRule(plan.rules[i] as CompiledRule, request, number, caller, trace);
    if (hit === undefined) {
      trace.push(`no rule matches number '${number}'`);
      return { matched: undefined, trace };
    }
    const target = fillTarget(hit.rule.target, { number: hit.number, caller: hit.caller });
    if (target.type !== 'number') {
      return {
        matched: { rule: hit.rule.name, target, number: hit.number, caller: hit.caller, continueOnFailure: hit.rule.continueOnFailure, via, entered: { number, caller } },
        trace,
      };
    }
    via.push(hit.rule.name);
    const repeated = chain.includes(target.number);
    chain.push(target.number);
    if (repeated || entry + 1 > MAX_PLAN_REENTRIES) {
      const message = `${repeated ? 'number loop' : `more than ${MAX_PLAN_REENTRIES} re-entries`}: ${chain.join(' → ')} (rules ${via.join(', ')})`;
      trace.push(message);
      return { matched: undefined, error: { code: 'loop', message }, trace };
    }
    trace.push(`rule ${JSON.stringify(hit.rule.name)}: re-entering the plan with number '${target.number}'`);
    number = target.number;
    caller = hit.caller;
    start = 0;
  }
}

/** The request that tries the rules after a match whose target failed (busy, unreachable...). */
export function resumeAfterFailure(request: DialRequest, match: DialPlanMatch): DialRequest {
  return { ...request, number: match.entered.number, caller: match.entered.caller, after: match.rule };
}
