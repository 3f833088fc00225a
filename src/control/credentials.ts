import { createHash } from 'node:crypto';
import { InvalidFieldError } from './errors.js';

/**
 * HA1 = H(username:realm:password) (RFC 7616 §3.4.2) under MD5 and SHA-256 (RFC 8760 §2.2), with
 * the realm equal to the user's domain. Computed here rather than imported from src/sip because
 * control may not import sip (DESIGN.md layers); the formula is the same as sip/auth/digest.ts.
 */
export function ha1Pair(username: string, domain: string, password: string): { ha1Md5: string; ha1Sha256: string } {
  const a1 = `${username}:${domain}:${password}`;
  return {
    ha1Md5: createHash('md5').update(a1).digest('hex'),
    ha1Sha256: createHash('sha256').update(a1).digest('hex'),
  };
}

/** SHA-256 of an API token: what api_keys stores, so a database dump reveals no usable key. */
export function apiKeyHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

// RFC 3261 §25.1 user: unreserved / escaped / user-unreserved. ':' '@' ';' are excluded on purpose:
// they would make "user@domain;password" lines and SIP URIs ambiguous.
const USERNAME = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,?/]|%[0-9A-Fa-f]{2})+$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6_REFERENCE = /^\[[0-9a-f:.]+\]$/;

export const USERNAME_MAX = 64;
export const PASSWORD_MAX = 256;
export const DISPLAY_NAME_MAX = 128;

/** Why a username is refused, or undefined when it is fine. */
export function usernameProblem(username: string): string | undefined {
  if (username.length === 0) return 'must not be empty';
  if (username.length > USERNAME_MAX) return `must be at most ${USERNAME_MAX} characters`;
  if (!USERNAME.test(username)) return 'may contain only SIP user characters (RFC 3261 §25.1), not ":", "@", ";" or spaces';
  return undefined;
}

/**
 * Domains are compared case-insensitively (RFC 3261 §19.1.4: host comparison ignores case), so they
 * are stored lower-cased; IPv6 addresses are kept in their bracketed URI form.
 */
export function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase();
}

export function domainProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'must not be empty';
  if (HOSTNAME.test(domain) || IPV4.test(domain) || IPV6_REFERENCE.test(domain)) return undefined;
  return 'must be a host name, an IPv4 address or a bracketed IPv6 address';
}

export function passwordProblem(password: string): string | undefined {
  if (password.length === 0) return 'must not be empty';
  if (password.length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  return undefined;
}

export function checkUsername(username: string, field = 'username'): void {
  const problem = usernameProblem(username);
  if (problem !== undefined) throw new InvalidFieldError(field, problem);
}

export function checkDomain(domain: string, field = 'domain'): string {
  const normalized = normalizeDomain(domain);
  const problem = domainProblem(normalized);
  if (problem !== undefined) throw new InvalidFieldError(field, problem);
  return normalized;
}

export function checkPassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new InvalidFieldError(field, problem);
}
