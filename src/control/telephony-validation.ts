import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { InvalidFieldError } from './errors.js';
import { checkAppName } from './vxml-app-validation.js';
import {
  BALANCING_MODES,
  CALLER_ID_STYLES,
  GATEWAY_TRANSPORTS,
  NUMBER_FORMATS,
  TARGET_TYPES,
  TRUNK_DIRECTIONS,
  type CallTarget,
  type GatewayInput,
  type TrunkGateway,
} from './telephony-types.js';

/**
 * Pure checks of telephony provisioning input. Each throws InvalidFieldError naming the field
 * (a JSON-ish path such as "gateways.1.port") and the reason, so the REST API answers 400 with
 * both and the CLI prints them.
 */
export const TRUNK_NAME_MAX = 64;
export const MAX_GATEWAYS = 32;
/** Timer B (64*T1, RFC 3261 §17.1.1.2) gives up at 32 s anyway: a longer response timeout means nothing */
export const MAX_GATEWAY_RESPONSE_TIMEOUT_SECONDS = 32;
export const MAX_ACL_ENTRIES = 256;
export const DEFAULT_TRUNK_REALM = 'opencx';

const TRUNK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// RFC 1123 host names; labels may start with a digit
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
const E164 = /^\+[1-9]\d{1,14}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;
// printable, no spaces or quotes: values end up in SIP header parameters (RFC 3261 §25.1)
const TOKENISH = /^[\x21\x23-\x7e]+$/;

export function checkTrunkName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new InvalidFieldError(field, 'must not be empty');
  if (trimmed.length > TRUNK_NAME_MAX) throw new InvalidFieldError(field, `must be at most ${TRUNK_NAME_MAX} characters`);
  if (!TRUNK_NAME.test(trimmed)) throw new InvalidFieldError(field, 'may contain only letters, digits, ".", "_" and "-", starting with a letter or digit');
  return trimmed;
}

export function oneOf<T extends string>(allowed: readonly T[], value: unknown, field: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidFieldError(field, `must be one of ${allowed.join(', ')}`);
}

export const checkDirection = (v: unknown, field = 'direction') => oneOf(TRUNK_DIRECTIONS, v, field);
export const checkBalancing = (v: unknown, field = 'balancing') => oneOf(BALANCING_MODES, v, field);
export const checkCallerIdStyle = (v: unknown, field = 'callerIdStyle') => oneOf(CALLER_ID_STYLES, v, field);
export const checkNumberFormat = (v: unknown, field = 'numberFormat') => oneOf(NUMBER_FORMATS, v, field);

/** Why a CIDR (or bare address) is refused, or undefined when it is fine. */
export function cidrProblem(value: string): string | undefined {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const prefix = slash < 0 ? undefined : value.slice(slash + 1);
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) return 'must be an IPv4 or IPv6 address, optionally with a /prefix';
  if (prefix === undefined) return undefined;
  if (!/^\d{1,3}$/.test(prefix)) return 'the prefix length must be a number';
  const max = v4 ? 32 : 128;
  if (Number(prefix) > max) return `the prefix length must be at most ${max} for ${v4 ? 'IPv4' : 'IPv6'}`;
  return undefined;
}

/** a CIDR as stored: trimmed, lower-cased, with the prefix length always present */
export function checkCidr(value: string, field: string): string {
  const trimmed = value.trim().toLowerCase();
  const problem = cidrProblem(trimmed);
  if (problem !== undefined) throw new InvalidFieldError(field, problem);
  if (trimmed.includes('/')) return `${trimmed.slice(0, trimmed.indexOf('/'))}/${Number(trimmed.slice(trimmed.indexOf('/') + 1))}`;
  return `${trimmed}/${isIPv4(trimmed) ? 32 : 128}`;
}

export function checkAcl(values: readonly string[], field = 'acl'): string[] {
  if (values.length > MAX_ACL_ENTRIES) throw new InvalidFieldError(field, `at most ${MAX_ACL_ENTRIES} entries`);
  const out = values.map((v, i) => checkCidr(v, `${field}.${i}`));
  return [...new Set(out)];
}

/** true when the address (IPv4 or IPv6; an IPv4-mapped IPv6 counts as IPv4) falls in one of the stored CIDRs */
export function addressInAcl(address: string, acl: readonly string[]): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const probe = mapped ?? bare;
  const family = isIPv4(probe) ? 'ipv4' : isIPv6(probe) ? 'ipv6' : undefined;
  if (family === undefined) return false;
  const list = new BlockList();
  for (const cidr of acl) {
    const [net = '', prefix = ''] = cidr.split('/');
    const type = isIPv4(net) ? 'ipv4' : 'ipv6';
    if (type === family) list.addSubnet(net, Number(prefix), type);
  }
  return list.check(probe, family);
}

/** Why a gateway host is refused, or undefined. IPv6 may come bracketed (as in a SIP URI). */
export function hostProblem(host: string): string | undefined {
  if (host.length === 0) return 'must not be empty';
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv6(bare) || isIPv4(bare)) return undefined;
  if (bare !== host) return 'brackets may only enclose an IPv6 address';
  if (/^[\d.]+$/.test(host)) return 'is not a valid IPv4 address';
  if (!HOSTNAME.test(host)) return 'must be a host name, an IPv4 address or an IPv6 address';
  return undefined;
}

/** stored without brackets and lower-cased (host comparison ignores case, RFC 3261 §19.1.4) */
export function checkHost(host: string, field: string): string {
  const trimmed = host.trim().toLowerCase();
  const problem = hostProblem(trimmed);
  if (problem !== undefined) throw new InvalidFieldError(field, problem);
  return trimmed.startsWith('[') ? trimmed.slice(1, -1) : trimmed.replace(/\.$/, '');
}

export function checkInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidFieldError(field, 'must be an integer');
  if (value < min || value > max) throw new InvalidFieldError(field, `must be from ${min} to ${max}`);
  return value;
}

export function checkGateway(input: GatewayInput, field: string): TrunkGateway {
  if (typeof input !== 'object' || input === null) throw new InvalidFieldError(field, 'must be an object');
  if (typeof input.host !== 'string') throw new InvalidFieldError(`${field}.host`, 'is required');
  const host = checkHost(input.host, `${field}.host`);
  const transport = input.transport === undefined ? 'udp' : oneOf(GATEWAY_TRANSPORTS, input.transport, `${field}.transport`);
  // RFC 3261 §19.1.2: 5060 by default, 5061 for sips/TLS
  const port = input.port === undefined ? (transport === 'tls' ? 5061 : 5060) : checkInteger(input.port, `${field}.port`, 1, 65535);
  const weight = input.weight === undefined ? 1 : checkInteger(input.weight, `${field}.weight`, 0, 65535);
  const priority = input.priority === undefined ? 0 : checkInteger(input.priority, `${field}.priority`, 0, 65535);
  if (input.responseTimeoutSeconds === undefined) return { host, port, transport, weight, priority };
  const responseTimeoutSeconds = checkInteger(input.responseTimeoutSeconds, `${field}.responseTimeoutSeconds`, 1, MAX_GATEWAY_RESPONSE_TIMEOUT_SECONDS);
  return { host, port, transport, weight, priority, responseTimeoutSeconds };
}

export function checkGateways(inputs: readonly GatewayInput[], field = 'gateways'): TrunkGateway[] {
  if (inputs.length > MAX_GATEWAYS) throw new InvalidFieldError(field, `at most ${MAX_GATEWAYS} gateways`);
  const out = inputs.map((g, i) => checkGateway(g, `${field}.${i}`));
  const seen = new Set<string>();
  out.forEach((g, i) => {
    const key = `${g.transport}:${g.host}:${g.port}`;
    if (seen.has(key)) throw new InvalidFieldError(`${field}.${i}`, `gateway ${key} is listed twice`);
    seen.add(key);
  });
  return out;
}

/**
 * `host[:port][;transport=udp|tcp|tls]` as the CLI's --gateway takes it; IPv6 with a port needs
 * brackets ("[2001:db8::1]:5080"), as in a SIP URI (RFC 3261 §19.1.1).
 */
export function parseGatewaySpec(spec: string, field = 'gateway'): TrunkGateway {
  const [hostPort = '', ...params] = spec.trim().split(';');
  const gateway: GatewayInput = { host: hostPort };
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort);
  if (bracketed !== null) {
    gateway.host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) gateway.port = Number(bracketed[2]);
  } else if (hostPort.split(':').length === 2) {
    const [host = '', port = ''] = hostPort.split(':');
    gateway.host = host;
    if (!/^\d+$/.test(port)) throw new InvalidFieldError(`${field}.port`, 'must be an integer');
    gateway.port = Number(port);
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    switch (name.trim().toLowerCase()) {
      case 'transport':
        gateway.transport = oneOf(GATEWAY_TRANSPORTS, value.trim().toLowerCase(), `${field}.transport`);
        break;
      case 'weight':
        gateway.weight = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        break;
      case 'priority':
        gateway.priority = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        break;
      case 'timeout':
        gateway.responseTimeoutSeconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        break;
      default:
        throw new InvalidFieldError(field, `unknown parameter "${name}" (transport, weight, priority or timeout)`);
    }
  }
  return checkGateway(gateway, field);
}

export function checkE164(number: string, field = 'number'): string {
  const compact = number.trim().replace(/[\s\-().]/g, '');
  if (!E164.test(compact)) throw new InvalidFieldError(field, 'must be an E.164 number: "+" then 2 to 15 digits, not starting with 0');
  return compact;
}

export function checkCountryCode(value: string, field = 'countryCode'): string {
  const trimmed = value.trim().replace(/^\+/, '');
  if (!/^[1-9]\d{0,2}$/.test(trimmed)) throw new InvalidFieldError(field, 'must be 1 to 3 digits, not starting with 0 (e.g. "1", "44")');
  return trimmed;
}

export function checkAuthUsername(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidFieldError(field, 'is required');
  if (value.length > 128) throw new InvalidFieldError(field, 'must be at most 128 characters');
  if (!TOKENISH.test(value)) throw new InvalidFieldError(field, 'must be printable ASCII without spaces or quotes');
  return value;
}

export function checkSecret(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidFieldError(field, 'is required');
  if (value.length > 256) throw new InvalidFieldError(field, 'must be at most 256 characters');
  return value;
}

export function checkRealm(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255 || value.includes('"') || /[\x00-\x1f]/.test(value)) {
    throw new InvalidFieldError(field, 'must be 1 to 255 characters without quotes or control characters');
  }
  return value;
}

export function checkHa1(value: unknown, field: string, sha256: boolean): string {
  const v = typeof value === 'string' ? value.toLowerCase() : '';
  if (!(sha256 ? HEX64 : HEX32).test(v)) throw new InvalidFieldError(field, `must be ${sha256 ? 64 : 32} hexadecimal digits`);
  return v;
}

const TARGET_REQUIRED: Record<string, string | undefined> = {
  user: 'user',
  'ring-group': undefined,
  trunk: 'trunk',
  vxml: 'url',
  voicemail: 'mailbox',
  number: 'number',
  reject: undefined,
};

/**
 * The outline of a call target, in the dial-plan engine's shape (src/calls/dialplan/schema.ts,
 * which owns the finer checks): user → user ("alice@example.com"), ring-group → strategy
 * (simultaneous|sequential) and members, trunk → trunk, vxml → url (http/https) or app (a hosted
 * application of the same tenant, by name), voicemail →
 * mailbox, number → number, reject → status (400-699) and an optional reason.
 */
export function checkTarget(value: unknown, field = 'target'): CallTarget {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidFieldError(field, 'must be an object with a type');
  const target = value as Record<string, unknown>;
  const type = oneOf(TARGET_TYPES, target.type, `${field}.type`);
  // a vxml target names a URL or a hosted application of the same tenant: vxml-app-validation.ts
  const key = type === 'vxml' && target.url === undefined && target.app !== undefined ? 'app' : TARGET_REQUIRED[type];
  if (key !== undefined) {
    const v = target[key];
    if (typeof v !== 'string' || v.trim() === '') throw new InvalidFieldError(`${field}.${key}`, `is required for a ${type} target`);
    if (type === 'vxml' && key === 'url' && !/^https?:\/\/\S+$/i.test(v)) throw new InvalidFieldError(`${field}.url`, 'must be an http or https URL');
    if (type === 'vxml' && key === 'app') checkAppName(v, `${field}.app`);
    if (type === 'number' && !/^\+?[0-9*#]{1,32}$/.test(v)) throw new InvalidFieldError(`${field}.number`, 'must be digits, optionally with a leading "+"');
  }
  if (type === 'ring-group') {
    oneOf(['simultaneous', 'sequential'], target.strategy, `${field}.strategy`);
    const members = target.members;
    if (!Array.isArray(members) || members.length === 0 || members.some((m) => typeof m !== 'string' || m.trim() === '')) {
      throw new InvalidFieldError(`${field}.members`, 'must list at least one member');
    }
  }
  if (type === 'vxml' && target.url !== undefined && target.app !== undefined) throw new InvalidFieldError(`${field}.app`, 'give either url or app, not both');
  if (type === 'reject') checkInteger(target.status, `${field}.status`, 400, 699);
  if (JSON.stringify(target).length > 4096) throw new InvalidFieldError(field, 'must be at most 4096 characters as JSON');
  return { ...target, type };
}
