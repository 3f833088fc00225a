import { optionsResponse } from '../dialog/index.js';
import type { SipRequest } from '../message/index.js';
import { statelessToTag } from './stateless-reply.js';
import type { Responder, SipService } from './sip-service.js';

/**
 * Answers OPTIONS addressed to the server (RFC 3261 §11.2) with 200 and what the server can do:
 * Allow, Accept, Supported. Monitoring (SIPp, SBC keepalive pings, Kamailio dispatcher probes)
 * relies on it.
 */
export class OptionsService implements SipService {
  readonly name = 'options';
  readonly methods = ['OPTIONS'] as const;
  /** pings arrive by the thousand per second from SBCs and monitors: no transaction state */
  readonly statelessMethods = ['OPTIONS'] as const;

  constructor(private readonly capabilities: () => { allow: readonly string[]; supported: readonly string[]; accept: readonly string[] }) {}

  /** OPTIONS for the server itself (no user part), or one that may go no further (Max-Forwards 0, §11) */
  private static forUs(request: SipRequest): boolean {
    return request.uri.user === undefined || request.maxForwards === 0;
  }

  statelessFor(request: SipRequest): boolean {
    return OptionsService.forUs(request);
  }

  handleRequest(request: SipRequest, responder: Responder): boolean {
    // an OPTIONS for a user is relayed to that user's phones by the proxy, when there is one
    if (request.method !== 'OPTIONS' || !OptionsService.forUs(request)) return false;
    const caps = this.capabilities();
    responder.respond(optionsResponse(request, { allow: caps.allow, accept: caps.accept, supported: caps.supported, toTag: statelessToTag(request) }));
    return true;
  }
}
