import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import {
  InvalidFieldError,
  TRUNK_DIRECTIONS,
  BALANCING_MODES,
  CALLER_ID_STYLES,
  NUMBER_FORMATS,
  parseGatewaySpec,
  type CallTarget,
  type Cdr,
  type DialPlanRuleError,
  type DialPlanValidator,
  type Did,
  type NewTrunk,
  type Trunk,
  DialPlanInvalidError,
} from '../control/index.js';
import { describeError, type Logger } from '../lib/index.js';
import { ApiAnswerError } from './backend-support.js';
import { SERVER_ACCESS_OPTIONS, commandWord, runServerCommand, serverAccessFrom, type CliIo, type ServerAccess } from './cli-server-access.js';
import { openLocalBackend, openRemoteBackend, type TelephonyBackend } from './telephony-backends.js';

export const TELEPHONY_USAGE = `
Telephony provisioning (same data-dir / --server / --api-key rules as the user commands;
--tenant ID|NAME picks a tenant, default: the API key's tenant or the default tenant):
  opencx trunk add NAME --gateway HOST[:PORT][;transport=udp|tcp|tls][;weight=N][;priority=N][;timeout=SECONDS] ...
         [--acl CIDR ...] [--username U --password P [--realm R]]   (answers the carrier's challenges)
         [--inbound-username U --inbound-password P]                (digest the peer must send)
         [--direction inbound|outbound|both] [--balancing failover|round-robin|weighted]
         [--format e164|national|international-00|digits-only] [--country-code 1]
         [--caller-id pai|rpid|both|none] [--options-ping SECONDS] [--max-calls N] [--cps N] [--disabled]
  opencx trunk list | opencx trunk remove NAME
  opencx did add NUMBER (--user USER@DOMAIN | --vxml URL | --voicemail MAILBOX
         | --ring-group MEMBER,MEMBER... | --number NUMBER | --reject) [--trunk NAME]
  opencx did list | opencx did remove NUMBER
  opencx dialplan set FILE.yaml|FILE.json | opencx dialplan show
  opencx cdr list [--since ISO] [--until ISO] [--number N] [--limit N]
`;

const COMMANDS = new Set(['trunk', 'did', 'dialplan', 'cdr']);

const OPTIONS = {
  ...SERVER_ACCESS_OPTIONS,
  gateway: { type: 'string', multiple: true },
  acl: { type: 'string', multiple: true },
  username: { type: 'string' },
  password: { type: 'string' },
  realm: { type: 'string' },
  'inbound-username': { type: 'string' },
  'inbound-password': { type: 'string' },
  direction: { type: 'string' },
  balancing: { type: 'string' },
  format: { type: 'string' },
  'country-code': { type: 'string' },
  'caller-id': { type: 'string' },
  'options-ping': { type: 'string' },
  'max-calls': { type: 'string' },
  cps: { type: 'string' },
  disabled: { type: 'boolean' },
  user: { type: 'string' },
  vxml: { type: 'string' },
  voicemail: { type: 'string' },
  'ring-group': { type: 'string' },
  number: { type: 'string' },
  reject: { type: 'boolean' },
  trunk: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export type TelephonyAction =
  | { kind: 'trunk-add'; trunk: NewTrunk }
  | { kind: 'trunk-list' }
  | { kind: 'trunk-remove'; name: string }
  | { kind: 'did-add'; number: string; target: CallTarget; trunk: string | undefined }
  | { kind: 'did-list' }
  | { kind: 'did-remove'; number: string }
  | { kind: 'dialplan-set'; file: string }
  | { kind: 'dialplan-show' }
  | { kind: 'cdr-list'; since: string | undefined; until: string | undefined; number: string | undefined; limit: number };

export interface TelephonyCommand extends ServerAccess {
  action: TelephonyAction;
}

/** true when argv names a telephony command (trunk, did, dialplan, cdr) before anything else */
export function isTelephonyCommand(argv: readonly string[]): boolean {
  const word = commandWord(argv, OPTIONS);
  return word !== undefined && COMMANDS.has(word);
}

/** the command, or a usage message */
export function parseTelephonyCommand(argv: readonly string[]): TelephonyCommand | string {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return describeError(err);
  }
  const { values, positionals } = parsed;
  const [command = '', verb, ...args] = positionals;
  try {
    const action = telephonyAction(command, verb, args, values);
    if (typeof action === 'string') return action;
    return { action, ...serverAccessFrom(values) };
  } catch (err) {
    if (err instanceof InvalidFieldError) return `--${err.field.replace(/\..*$/, '')}: ${err.reason} (${err.field})`;
    throw err;
  }
}

function integerFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new InvalidFieldError(flag, 'must be a whole number');
  return Number(value);
}

function trunkFromFlags(name: string, v: Values): NewTrunk {
  const pick = <T extends string>(allowed: readonly T[], value: string | undefined, flag: string): T | undefined => {
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidFieldError(flag, `must be one of ${allowed.join(', ')}`);
    return value as T;
  };
  if ((v.username === undefined) !== (v.password === undefined)) throw new InvalidFieldError('password', '--username and --password go together');
  if ((v['inbound-username'] === undefined) !== (v['inbound-password'] === undefined)) throw new InvalidFieldError('inbound-password', '--inbound-username and --inbound-password go together');
  const cps = v.cps === undefined ? undefined : Number(v.cps);
  if (cps !== undefined && !Number.isFinite(cps)) throw new InvalidFieldError('cps', 'must be a number');
  const trunk: NewTrunk = {
    name,
    gateways: (v.gateway ?? []).map((g, i) => parseGatewaySpec(g, `gateway.${i}`)),
    acl: v.acl ?? [],
    direction: pick(TRUNK_DIRECTIONS, v.direction, 'direction'),
    balancing: pick(BALANCING_MODES, v.balancing, 'balancing'),
    numberFormat: pick(NUMBER_FORMATS, v.format, 'format'),
    callerIdStyle: pick(CALLER_ID_STYLES, v['caller-id'], 'caller-id'),
    countryCode: v['country-code'],
    optionsPingSeconds: integerFlag(v['options-ping'], 'options-ping'),
    maxConcurrentCalls: integerFlag(v['max-calls'], 'max-calls'),
    callsPerSecond: cps,
    enabled: v.disabled === true ? false : undefined,
  };
  if (v.username !== undefined && v.password !== undefined) trunk.outboundAuth = { username: v.username, password: v.password, ...(v.realm !== undefined ? { realm: v.realm } : {}) };
  if (v['inbound-username'] !== undefined && v['inbound-password'] !== undefined) trunk.inboundAuth = { username: v['inbound-username'], password: v['inbound-password'] };
  // JSON bodies carry no undefined: drop the flags not given
  return Object.fromEntries(Object.entries(trunk).filter(([, value]) => value !== undefined)) as NewTrunk;
}

function targetFromFlags(v: Values): CallTarget | string {
  const targets: CallTarget[] = [];
  if (v.user !== undefined) targets.push({ type: 'user', user: v.user });
  if (v.vxml !== undefined) targets.push({ type: 'vxml', url: v.vxml });
  if (v.voicemail !== undefined) targets.push({ type: 'voicemail', mailbox: v.voicemail });
  if (v['ring-group'] !== undefined) targets.push({ type: 'ring-group', strategy: 'simultaneous', members: v['ring-group'].split(',').map((m) => m.trim()) });
  if (v.number !== undefined) targets.push({ type: 'number', number: v.number });
  // 603 Decline (RFC 3261 §21.6.2): the number exists and refuses calls
  if (v.reject === true) targets.push({ type: 'reject', status: 603 });
  const [target] = targets;
  if (target === undefined || targets.length > 1) return 'did add needs exactly one of --user, --vxml, --voicemail, --ring-group, --number, --reject';
  return target;
}

function telephonyAction(command: string, verb: string | undefined, args: string[], v: Values): TelephonyAction | string {
  const [target, ...extra] = args;
  if (extra.length > 0) return `unexpected argument "${extra[0]}"`;
  const noTarget = (action: TelephonyAction): TelephonyAction | string => (target === undefined ? action : `unexpected argument "${target}"`);
  switch (`${command} ${verb ?? ''}`) {
    case 'trunk add':
      return target === undefined ? 'trunk add needs a NAME' : { kind: 'trunk-add', trunk: trunkFromFlags(target, v) };
    case 'trunk list':
      return noTarget({ kind: 'trunk-list' });
    case 'trunk remove':
      return target === undefined ? 'trunk remove needs a NAME' : { kind: 'trunk-remove', name: target };
    case 'did add': {
      if (target === undefined) return 'did add needs a NUMBER (E.164, e.g. +15551234567)';
      const callTarget = targetFromFlags(v);
      return typeof callTarget === 'string' ? callTarget : { kind: 'did-add', number: target, target: callTarget, trunk: v.trunk };
    }
    case 'did list':
      return noTarget({ kind: 'did-list' });
    case 'did remove':
      return target === undefined ? 'did remove needs a NUMBER' : { kind: 'did-remove', number: target };
    case 'dialplan set':
      return target === undefined ? 'dialplan set needs a FILE (.yaml or .json)' : { kind: 'dialplan-set', file: target };
    case 'dialplan show':
      return noTarget({ kind: 'dialplan-show' });
    case 'cdr list': {
      const limit = integerFlag(v.limit, 'limit') ?? 100;
      if (limit < 1) return '--limit must be a positive integer';
      for (const [flag, value] of [['since', v.since], ['until', v.until]] as const) {
        if (value !== undefined && Number.isNaN(Date.parse(value))) return `--${flag} must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z`;
      }
      return noTarget({ kind: 'cdr-list', since: v.since, until: v.until, number: v.number, limit });
    }
    default:
      return verb === undefined ? `${command} needs a subcommand (see opencx --help)` : `unknown ${command} command "${verb}"`;
  }
}

export interface TelephonyCliOptions {
  /** the dial-plan engine's validator, passed by the composition root (main.ts) */
  validateDialPlan?: DialPlanValidator | undefined;
  io?: CliIo | undefined;
  logger?: Logger | undefined;
}

/**
 * Runs `opencx trunk|did|dialplan|cdr ...` and resolves with the exit status (0 done, 1 refused
 * or failed, 2 bad usage or configuration): directly on the database of a stopped server, or
 * through the REST API of a running one, as the user commands do.
 */
export async function runTelephonyCli(argv: readonly string[], env: NodeJS.ProcessEnv, options: TelephonyCliOptions = {}): Promise<number> {
  return runServerCommand(
    argv,
    env,
    {
      usage: TELEPHONY_USAGE,
      parse: parseTelephonyCommand,
      openRemote: openRemoteBackend,
      openLocal: (config, tenant, logger) => openLocalBackend(config, tenant, logger, options.validateDialPlan),
      perform: (command, backend: TelephonyBackend, io) => perform(command.action, backend, io),
      reportError,
    },
    options,
  );
}

function reportError(err: unknown, io: CliIo): void {
  const rules: DialPlanRuleError[] | undefined = err instanceof DialPlanInvalidError ? err.errors : err instanceof ApiAnswerError ? err.ruleErrors : undefined;
  io.err(`opencx: ${describeError(err)}\n`);
  for (const e of rules ?? []) io.err(`  rule ${e.rule === '' ? '(document)' : `"${e.rule}"`} at ${e.path === '' ? '/' : e.path}: ${e.message}\n`);
}

async function perform(action: TelephonyAction, backend: TelephonyBackend, io: CliIo): Promise<void> {
  switch (action.kind) {
    case 'trunk-add': {
      const trunk = await backend.addTrunk(action.trunk);
      io.out(`added trunk ${trunk.name} (${trunk.id})\n`);
      return;
    }
    case 'trunk-list': {
      const trunks = await backend.listTrunks();
      for (const t of trunks) io.out(`${trunkLine(t)}\n`);
      io.out(`${trunks.length} trunk(s)\n`);
      return;
    }
    case 'trunk-remove':
      await backend.removeTrunk(action.name);
      io.out(`removed trunk ${action.name}\n`);
      return;
    case 'did-add': {
      const did = await backend.addDid(action.number, action.target, action.trunk);
      io.out(`added DID ${did.number} -> ${targetText(did.target)}\n`);
      return;
    }
    case 'did-list': {
      const [dids, names] = await Promise.all([backend.listDids(), backend.trunkNames()]);
      for (const d of dids) io.out(`${didLine(d, names)}\n`);
      io.out(`${dids.length} DID(s)\n`);
      return;
    }
    case 'did-remove':
      await backend.removeDid(action.number);
      io.out(`removed DID ${action.number}\n`);
      return;
    case 'dialplan-set': {
      const plan = await backend.setDialPlan(readDocument(action.file));
      io.out(`dial plan stored, version ${plan.version}\n`);
      return;
    }
    case 'dialplan-show': {
      const plan = await backend.getDialPlan();
      io.out(`# version ${plan.version}${plan.updatedAt !== null ? `, updated ${plan.updatedAt}` : ' (never set)'}\n${JSON.stringify(plan.document, null, 2)}\n`);
      return;
    }
    case 'cdr-list': {
      const page = await backend.listCdrs({ since: action.since, until: action.until, number: action.number, limit: Math.min(action.limit, 1000) });
      for (const c of page.items) io.out(`${cdrLine(c)}\n`);
      io.out(`${page.items.length} CDR(s)${page.nextCursor !== null ? ' (more: narrow with --since/--until or raise --limit)' : ''}\n`);
      return;
    }
  }
}

/** a YAML or JSON file (YAML is a superset of JSON, so one parser reads both) */
function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidFieldError('file', `cannot read ${file}: ${describeError(err)}`);
  }
  try {
    return YAML.parse(text) as unknown;
  } catch (err) {
    throw new InvalidFieldError('file', `${file} is neither valid YAML nor JSON: ${describeError(err)}`);
  }
}

function trunkLine(t: Trunk): string {
  const gateways = t.gateways.map((g) => `${g.host.includes(':') ? `[${g.host}]` : g.host}:${g.port}/${g.transport}${g.responseTimeoutSeconds !== undefined ? `;timeout=${g.responseTimeoutSeconds}` : ''}`).join(',') || '-';
  const acl = t.acl.join(',') || '-';
  return `${t.name}\t${t.direction}\tgateways=${gateways}\tacl=${acl}\t${t.numberFormat}${t.enabled ? '' : '\t(disabled)'}`;
}

function targetText(target: CallTarget): string {
  const dest = Object.entries(target).find(([k]) => k !== 'type' && k !== 'strategy')?.[1];
  return dest === undefined ? target.type : `${target.type} ${Array.isArray(dest) ? dest.join(',') : String(dest)}`;
}

function didLine(d: Did, trunkNames: Map<string, string>): string {
  return `${d.number}\t-> ${targetText(d.target)}${d.trunkId !== null ? `\t(trunk ${trunkNames.get(d.trunkId) ?? d.trunkId})` : ''}`;
}

function cdrLine(c: Cdr): string {
  const cause = [c.sipStatus ?? '', c.reason ?? '', c.hangupBy !== null ? `by ${c.hangupBy}` : ''].filter((x) => x !== '').join(' ');
  return `${c.setupAt}\t${c.kind}\t${c.callId}${c.legId !== null ? `/${c.legId}` : ''}\t${c.fromNumber ?? '-'} -> ${c.toNumber ?? '-'}\t${c.durationSeconds}s (${c.billableSeconds}s billable)\t${cause}`;
}
