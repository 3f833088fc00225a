/**
 * The UAS core checks of RFC 3261 §8.2, pure: given a request, the error response to send, or
 * undefined to go on. The order follows §8.2: method (§8.2.1), headers (§8.2.2), content
 * (§8.2.3); then the dialog match of §12.2.2.
 *
 * Max-Forwards rule chosen here: a UAS consumes the requests addressed to it, so Max-Forwards 0
 * only matters for a request it would forward (a B2BUA leg, a service that relays): those get
 * 483 (§16.3 item 3, §20.22). OPTIONS with Max-Forwards 0 is always answered locally (§11 note:
 * that is how a proxy's capabilities are queried). Without `needsForwarding` no 483 is sent.
 */
import { newTag } from '../../lib/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../message/index.js';

/** methods of RFC 3261 and its common extensions; anything else is unknown (501, §8.2.1) */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

export interface UasCheckOptions {
  allowedMethods: readonly string[];
  /** option tags we implement (Require check, §8.2.2.3) */
  supportedExtensions: readonly string[];
  /** media types we take in a body, e.g. application/sdp (§8.2.3) */
  acceptedContentTypes: readonly string[];
  /** Request-URI schemes we serve (§8.2.2.1); default sip, sips */
  supportedSchemes?: readonly string[];
  /** does an in-dialog request (To tag) match one of our dialogs? Omitted: no 481 check (§12.2.2) */
  dialogExists?: (req: SipRequest) => boolean;
  /** would this request be forwarded? Only then is Max-Forwards 0 answered with 483 */
  needsForwarding?: (req: SipRequest) => boolean;
  /** To tag for the error response (§8.2.6.2); random by default */
  toTag?: string;
}

/** Error response for `req`, or undefined when the request may be processed. Never throws. */
export function checkUasRequest(req: SipRequest, options: UasCheckOptions): SipResponse | undefined {
  // There is no response to an ACK (§17.2.1, §17.2.3): a bad one is simply dropped by the caller.
  if (req.method === 'ACK') return undefined;
  const respond = (status: number, headers: [string, string][] = []): SipResponse =>
    createResponse(req, status, undefined, { toTag: options.toTag ?? newTag(), headers });

  // §8.2.1: unknown method -> 501, known but not allowed here -> 405; both carry Allow
  if (!options.allowedMethods.includes(req.method)) {
    return respond(KNOWN_METHODS.has(req.method) ? 405 : 501, [['Allow', options.allowedMethods.join(', ')]]);
  }
  // Max-Forwards (see the rule in the file comment)
  if (req.maxForwards === 0 && req.method !== 'OPTIONS' && options.needsForwarding?.(req) === true) return respond(483);
  // §8.2.2.1: a Request-URI scheme we do not understand -> 416
  const schemes = options.supportedSchemes ?? ['sip', 'sips'];
  if (!schemes.includes(req.uri.scheme)) return respond(416);
  // §8.2.2.3: Require with options we do not know -> 420 listing them; never for CANCEL (ACK handled above)
  // (the usual request has no Require at all: nothing to build then)
  if (req.method !== 'CANCEL' && req.require.length > 0) {
    const supported = new Set(options.supportedExtensions.map((s) => s.toLowerCase()));
    const unknown = req.require.filter((tag) => !supported.has(tag.toLowerCase()));
    if (unknown.length > 0) return respond(420, [['Unsupported', unknown.join(', ')]]);
  }
  // §8.2.3: a body we cannot handle -> 415 with Accept (or Accept-Encoding for the encoding)
  if (req.body.length > 0) {
    const type = mediaType(req.contentType);
    const accepted = options.acceptedContentTypes.map((t) => t.toLowerCase());
    if (type === undefined || !accepted.includes(type)) return respond(415, [['Accept', options.acceptedContentTypes.join(', ')]]);
    const encodings = req.headers.getAll('Content-Encoding').map((e) => e.trim().toLowerCase());
    if (encodings.some((e) => e !== 'identity' && e !== '')) return respond(415, [['Accept-Encoding', 'identity']]);
  }
  // §12.2.2: a To tag means the request claims a dialog; none matches -> 481 (CANCEL is matched by transaction, §9.2)
  if (req.toTag !== undefined && req.method !== 'CANCEL' && options.dialogExists !== undefined && !options.dialogExists(req)) {
    return respond(481);
  }
  return undefined;
}

/** `application/sdp; charset=x` -> `application/sdp` */
function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const t = contentType.split(';')[0]?.trim().toLowerCase();
  return t === undefined || t === '' ? undefined : t;
}

export interface OptionsResponseOptions {
  allow: readonly string[];
  accept: readonly string[];
  supported: readonly string[];
  acceptEncoding?: readonly string[];
  acceptLanguage?: readonly string[];
  toTag?: string;
}

/** §11.2: 200 to OPTIONS with Allow, Accept, Accept-Encoding, Accept-Language and Supported. */
export function optionsResponse(req: SipRequest, options: OptionsResponseOptions): SipResponse {
  return createResponse(req, 200, undefined, {
    toTag: options.toTag ?? newTag(),
    headers: [
      ['Allow', options.allow.join(', ')],
      ['Accept', options.accept.join(', ')],
      ['Accept-Encoding', (options.acceptEncoding ?? ['identity']).join(', ')],
      ['Accept-Language', (options.acceptLanguage ?? ['en']).join(', ')],
      ['Supported', options.supported.join(', ')],
    ],
  });
}
