/** The stateful proxy (RFC 3261 §16): routing, forking, Record-Route. */
export { Proxy, type ProxyOptions, type ProxyAuthSettings } from './proxy.js';
export { ResponseContext, type ContextState, type BranchPlan, type ContextHost } from './response-context.js';
export { ProxyBranch, type BranchState } from './proxy-branch.js';
export { CachingResolver, systemResolver, uriTransport, defaultPort, type HostResolver } from './next-hop.js';
export { selectBestResponse } from './response-selection.js';
export { loopHash, branchFor, isLoop, recordRouteValue, buildForwardedRequest, buildCancel, withoutTopVia, statelessBranch, type ForwardOptions } from './request-forwarding.js';
