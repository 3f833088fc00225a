/**
 * Calls (DESIGN.md): the B2BUA joining SIP dialogs (src/sip) to media sessions (src/media), trunks,
 * the dial plan, limits and CDRs.
 */
export { B2bua, CALL_EVENTS_TOPIC, ACTIVE_CALL_PREFIX, type B2buaOptions, type CallEvent, type CallView, type Leg } from './b2bua/b2bua.js';
export { CallRouter, INTERNAL_LEG_HEADER, internalLegSignature, type CallRouterOptions, type RouteDecision, type Branch, type BranchGroup, type Caller } from './b2bua/call-router.js';
export type { ApplicationHost, CallDirectory, CdrRecord, CdrSink, TrunkInfo } from './b2bua/ports.js';
export { compileDialPlan, parseDialPlan, formatDialPlanErrors, evaluate, type DialPlan, type DialPlanError, type Target } from './dialplan/index.js';
export { normalizeE164, formatForTrunk, presentCallerId, parseCallerIdentity } from './numbering/index.js';
export { CallLimits, type LimitSpec } from './limits/rate-limits.js';
export { GatewayHealth, gatewayOrder, shouldFailover, type Gateway, type Balancing } from './trunks/gateway-selection.js';
export { parseCidr, cidrContains } from './trunks/acl.js';
export { transition as callTransition, type CallState, type EndCause } from './call/call-state.js';
export { registerCallRoutes, type CallRoutesOptions, type ApiPrincipal } from './rest-calls.js';
export { TrunkMonitor, type GatewayState, type TrunkMonitorOptions } from './trunks/trunk-monitor.js';
