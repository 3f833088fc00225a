/**
 * Client side of digest (RFC 3261 §22.2, RFC 7616 §3.4, RFC 8760 §2.4): choose a challenge and
 * compute the credentials to send in Authorization / Proxy-Authorization.
 */
import type { AuthHeader } from '../message/index.js';
import { computeDigestResponse, ha1, parseAlgorithm, type DigestQop } from './digest.js';
import { newCnonce } from './stateless-nonce.js';

export interface DigestAnswerOptions {
  username: string;
  password: string;
  method: string;
  /** the Request-URI as it will be sent (RFC 3261 §22.4: digest-uri equals the Request-URI) */
  uri: string;
  body?: Buffer | string;
  /** fixed client nonce (tests); random otherwise */
  cnonce?: string;
  /** nonce count, 1 for the first use of a nonce (RFC 7616 §3.4) */
  nc?: number;
}

/**
 * The first Digest challenge whose algorithm we support: RFC 8760 §2.4 has the UAC use the
 * topmost header it supports, the server having ordered them by preference.
 */
export function selectChallenge(challenges: readonly AuthHeader[]): AuthHeader | undefined {
  return challenges.find(
    (c) => c.scheme.toLowerCase() === 'digest' && parseAlgorithm(c.params.get('algorithm')) !== undefined && c.params.has('nonce'),
  );
}

/**
 * Credentials answering `challenge`, or undefined when the challenge is not a usable Digest
 * challenge (unknown algorithm, no nonce, qop offered but none we speak).
 */
export function answerChallenge(challenge: AuthHeader, options: DigestAnswerOptions): AuthHeader | undefined {
  if (challenge.scheme.toLowerCase() !== 'digest') return undefined;
  const algorithmParam = challenge.params.get('algorithm');
  const algorithm = parseAlgorithm(algorithmParam);
  const nonce = challenge.params.get('nonce');
  const realm = challenge.params.get('realm') ?? '';
  if (algorithm === undefined || nonce === undefined) return undefined;

  let qop: DigestQop | undefined;
  const offered = challenge.params.get('qop');
  if (offered !== undefined) {
    const list = offered.split(',').map((q) => q.trim().toLowerCase());
    // prefer auth: auth-int forces hashing the body and adds nothing a TLS hop does not give better
    if (list.includes('auth')) qop = 'auth';
    else if (list.includes('auth-int')) qop = 'auth-int';
    else return undefined;
  }
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = qop !== undefined || algorithm.endsWith('-sess') ? (options.cnonce ?? newCnonce()) : undefined;
  const response = computeDigestResponse({
    algorithm,
    ha1: ha1(algorithm, options.username, realm, options.password),
    nonce,
    method: options.method,
    uri: options.uri,
    qop,
    nc,
    cnonce,
    body: options.body,
  });

  const params = new Map<string, string>([
    ['username', options.username],
    ['realm', realm],
    ['nonce', nonce],
    ['uri', options.uri],
    ['response', response],
  ]);
  // echo the algorithm as offered; an absent one stays absent for old MD5-only servers
  if (algorithmParam !== undefined) params.set('algorithm', algorithm);
  if (cnonce !== undefined) params.set('cnonce', cnonce);
  const opaque = challenge.params.get('opaque');
  if (opaque !== undefined) params.set('opaque', opaque); // RFC 7616 §3.4: returned unchanged
  if (qop !== undefined) {
    params.set('qop', qop);
    params.set('nc', nc);
  }
  return { scheme: 'Digest', params };
}
