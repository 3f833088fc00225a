export {
  compileDialPlan,
  compileDialPlanOrThrow,
  parseDialPlan,
  formatDialPlanErrors,
  comparePrecedence,
  TARGET_VARIABLES,
  type DialPlan,
  type CompiledRule,
  type CompileResult,
  type DialPlanError,
} from './compile-dial-plan.js';
export { evaluate, resumeAfterFailure, fillTarget, MAX_PLAN_REENTRIES, type DialRequest, type DialPlanMatch, type EvaluationResult, type EvaluationError } from './evaluate.js';
export { compilePattern, compareSpecificity, type CompiledPattern, type PatternKind, type Specificity, type PatternResult } from './pattern.js';
export { ruleSchema, dialPlanEnvelopeSchema, TARGET_TYPES, CALL_SOURCES, type CallSource, type Target, type TargetType, type RuleConfig, type DialPlanInput, type DialPlanRuleInput, type NumberRewrite } from './schema.js';
export { localTime, isKnownTimezone, type LocalTime } from './time-conditions.js';
