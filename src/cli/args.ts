import { parseArgs } from 'node:util';

export const USAGE = `opencx — self-hosted voice platform for contact centers

Usage:
  opencx start [options]     start the server (all roles in one process by default)
  opencx user add USER@DOMAIN --password SECRET [--display-name NAME]
  opencx user import FILE.csv [--update]    lines "user@domain;password"
  opencx user list [--domain DOMAIN] [--limit N]
  opencx --help              this text
  opencx --version           the version

The user commands work on the data directory of a stopped server (--data-dir, --config), or
through the REST API of a running one (--server http://HOST:PORT, API key from --api-key or
<data-dir>/api-key); with neither, a running server on that data directory is found by itself.

Options for start:
  --config FILE.yaml         configuration file (then OPENCX_* environment, then these flags)
  --data-dir DIR             data directory (default ./opencx-data)
  --role LIST                roles to run: sip,calls,media,mcp,control,voicemail (default all)
  --bind ADDR                address for SIP and HTTP listeners (default 0.0.0.0)
  --sip-port N               SIP over UDP and TCP (default 5060; 0 picks a free port)
  --sip-tls-port N           SIP over TLS (default 5061)
  --ws-port N                SIP over WebSocket (default 5066)
  --wss-port N               SIP over secure WebSocket (default 7443)
  --http-port N              REST API, /metrics, /healthz, /readyz (default 8080)
  --log-level LEVEL          debug, info, warn or error (default info)

Every configuration key can also be set as OPENCX_<PATH> in the environment, with "__" between
levels: OPENCX_SIP__UDP_PORT=5080, OPENCX_BUS__KIND=redis, OPENCX_BUS__URL=redis://host:6379.
A bad configuration is reported with the key it concerns and exits with status 2.
`;

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'start'; configFile: string | undefined; flags: StartFlags }
  | { kind: 'user'; action: UserAction; configFile: string | undefined; flags: StartFlags; server: string | undefined; apiKey: string | undefined }
  | { kind: 'usage-error'; message: string };

export type UserAction =
  | { kind: 'add'; user: string; password: string; displayName: string | undefined }
  | { kind: 'import'; file: string; update: boolean }
  | { kind: 'list'; domain: string | undefined; limit: number };

/** Flags as a partial config object, in the shape of the config schema. */
export interface StartFlags {
  dataDir?: string;
  roles?: string[];
  log?: { level: string };
  http?: { bind?: string; port?: number };
  sip?: { bind?: string; udpPort?: number; tcpPort?: number; tlsPort?: number; wsPort?: number; wssPort?: number };
}

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return Number(value);
}

class UsageError extends Error {}

export function parseCommandLine(argv: string[]): CliCommand {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        config: { type: 'string', short: 'c' },
        'data-dir': { type: 'string' },
        role: { type: 'string' },
        bind: { type: 'string' },
        'sip-port': { type: 'string' },
        'sip-tls-port': { type: 'string' },
        'ws-port': { type: 'string' },
        'wss-port': { type: 'string' },
        'http-port': { type: 'string' },
        'log-level': { type: 'string' },
        password: { type: 'string' },
        'display-name': { type: 'string' },
        update: { type: 'boolean' },
        domain: { type: 'string' },
        limit: { type: 'string' },
        server: { type: 'string' },
        'api-key': { type: 'string' },
      },
    });
    if (values.help === true) return { kind: 'help' };
    if (values.version === true) return { kind: 'version' };
    const [command, ...rest] = positionals;
    if (command === undefined) return { kind: 'help' };
    if (command !== 'start' && command !== 'user') return { kind: 'usage-error', message: `unknown command "${command}"` };
    if (command === 'start' && rest.length > 0) return { kind: 'usage-error', message: `unexpected argument "${rest[0]}"` };

    const flags: StartFlags = {};
    if (values['data-dir'] !== undefined) flags.dataDir = values['data-dir'];
    if (values.role !== undefined) flags.roles = values.role.split(',').map((r) => r.trim()).filter((r) => r !== '');
    if (values['log-level'] !== undefined) flags.log = { level: values['log-level'] };
    const sip: NonNullable<StartFlags['sip']> = {};
    const http: NonNullable<StartFlags['http']> = {};
    if (values.bind !== undefined) {
      sip.bind = values.bind;
      http.bind = values.bind;
    }
    const sipPort = port('sip-port', values['sip-port']);
    if (sipPort !== undefined) {
      sip.udpPort = sipPort;
      sip.tcpPort = sipPort;
    }
    const tls = port('sip-tls-port', values['sip-tls-port']);
    if (tls !== undefined) sip.tlsPort = tls;
    const ws = port('ws-port', values['ws-port']);
    if (ws !== undefined) sip.wsPort = ws;
    const wss = port('wss-port', values['wss-port']);
    if (wss !== undefined) sip.wssPort = wss;
    const httpPort = port('http-port', values['http-port']);
    if (httpPort !== undefined) http.port = httpPort;
    if (Object.keys(sip).length > 0) flags.sip = sip;
    if (Object.keys(http).length > 0) flags.http = http;
    if (command === 'user') {
      const action = userAction(rest, values);
      if (typeof action === 'string') return { kind: 'usage-error', message: action };
      return { kind: 'user', action, configFile: values.config, flags, server: values.server, apiKey: values['api-key'] };
    }
    return { kind: 'start', configFile: values.config, flags };
  } catch (err) {
    return { kind: 'usage-error', message: err instanceof Error ? err.message : String(err) };
  }
}

function userAction(
  args: string[],
  values: { password?: string | undefined; 'display-name'?: string | undefined; update?: boolean | undefined; domain?: string | undefined; limit?: string | undefined },
): UserAction | string {
  const [verb, target, ...extra] = args;
  if (extra.length > 0) return `unexpected argument "${extra[0]}"`;
  switch (verb) {
    case 'add':
      if (target === undefined || !/^[^@\s]+@[^@\s]+$/.test(target)) return 'user add needs USER@DOMAIN';
      if (values.password === undefined || values.password === '') return 'user add needs --password';
      return { kind: 'add', user: target, password: values.password, displayName: values['display-name'] };
    case 'import':
      if (target === undefined) return 'user import needs a CSV file';
      return { kind: 'import', file: target, update: values.update === true };
    case 'list': {
      if (target !== undefined) return `unexpected argument "${target}"`;
      const limit = values.limit === undefined ? 1000 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) return '--limit must be a positive integer';
      return { kind: 'list', domain: values.domain, limit };
    }
    default:
      return verb === undefined ? 'user needs add, import or list' : `unknown user command "${verb}"`;
  }
}
