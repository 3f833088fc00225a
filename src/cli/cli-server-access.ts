import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, UnavailableError, describeError, type Logger } from '../lib/index.js';
import { createLogger, loadConfig, type Config } from '../platform/index.js';

/**
 * What the provisioning commands (user, trunk/did/dialplan/cdr, app) share: finding a running
 * server and its API key, the options that say where to work, and the run that goes through the
 * REST API of a running server or straight to the database of a stopped one.
 */

/** Written at start so the commands can find a running server's API. */
export const SERVER_FILE = 'server.json';

export const NO_API_KEY_MESSAGE = 'opencx: no API key: pass --api-key or run where <data-dir>/api-key is readable\n';
export const USE_SERVER_HINT = 'A running server? Use --server http://HOST:PORT (and --api-key) to go through its API.\n';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export function processIo(): CliIo {
  return { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };
}

/** the URL a server bound per config answers HTTP on at port (a wildcard bind is reached on loopback) */
export function localHttpUrl(config: Config, port: number): string {
  const host = config.http.bind === '0.0.0.0' || config.http.bind === '::' ? '127.0.0.1' : config.http.bind;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A server that is running on this data directory (its server.json names a live process). */
export function runningServer(config: Config): string | undefined {
  const file = path.join(config.dataDir, SERVER_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; url?: string };
    if (typeof info.pid !== 'number' || typeof info.url !== 'string') return undefined;
    process.kill(info.pid, 0);
    return info.url;
  } catch {
    return undefined;
  }
}

export function apiKeyFor(config: Config, given: string | undefined): string | undefined {
  if (given !== undefined) return given;
  const file = path.join(config.dataDir, 'api-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

/** the options every server-backed command takes; a command adds its own to them */
export const SERVER_ACCESS_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  server: { type: 'string' },
  'api-key': { type: 'string' },
  tenant: { type: 'string' },
} as const;

/** the value-taking options of `opencx start` (args.ts), so their values are not taken for a command */
const START_OPTIONS = Object.fromEntries(
  ['role', 'bind', 'sip-port', 'sip-tls-port', 'ws-port', 'wss-port', 'http-port', 'log-level', 'display-name', 'domain'].map((name) => [name, { type: 'string' as const }]),
);

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** the first word of argv that is not an option (nor the value of one), if any */
export function commandWord(argv: readonly string[], options: ParseArgsOptions): string | undefined {
  try {
    const { positionals } = parseArgs({ args: [...argv], options: { ...START_OPTIONS, ...options }, allowPositionals: true, strict: false });
    return positionals[0];
  } catch {
    return undefined;
  }
}

/** where a command works: the configuration to load, and the server and tenant to act on */
export interface ServerAccess {
  configFile: string | undefined;
  dataDir: string | undefined;
  server: string | undefined;
  apiKey: string | undefined;
  tenant: string | undefined;
}

export function serverAccessFrom(values: { config?: string | undefined; 'data-dir'?: string | undefined; server?: string | undefined; 'api-key'?: string | undefined; tenant?: string | undefined }): ServerAccess {
  return { configFile: values.config, dataDir: values['data-dir'], server: values.server, apiKey: values['api-key'], tenant: values.tenant };
}

/** How one family of commands parses, reaches its backend and acts. */
export interface ServerCommandSpec<C extends ServerAccess, B extends { close(): Promise<void> }> {
  usage: string;
  /** the command, or a usage message */
  parse(argv: readonly string[]): C | string;
  openRemote(base: string, apiKey: string, tenant: string | undefined): B;
  openLocal(config: Config, tenant: string | undefined, logger: Logger): Promise<B>;
  perform(command: C, backend: B, io: CliIo): Promise<void>;
  /** prints a failed action; default: its description */
  reportError?(err: unknown, io: CliIo): void;
}

export interface ServerCommandOptions {
  io?: CliIo | undefined;
  logger?: Logger | undefined;
}

/**
 * Runs a command and resolves with the exit status (0 done, 1 refused or failed, 2 bad usage or
 * configuration): through the REST API of the server named by --server or found running on the
 * data directory, or else straight on the database of the stopped server.
 */
export async function runServerCommand<C extends ServerAccess, B extends { close(): Promise<void> }>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  spec: ServerCommandSpec<C, B>,
  options: ServerCommandOptions = {},
): Promise<number> {
  const io = options.io ?? processIo();
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(spec.usage.trimStart());
    return 0;
  }
  const command = spec.parse(argv);
  if (typeof command === 'string') {
    io.err(`opencx: ${command}\n${spec.usage}`);
    return 2;
  }
  let config: Config;
  try {
    const configFile = command.configFile ?? (env.OPENCX_CONFIG !== undefined && env.OPENCX_CONFIG !== '' ? env.OPENCX_CONFIG : undefined);
    config = loadConfig({ ...(configFile !== undefined ? { file: configFile } : {}), env, flags: command.dataDir !== undefined ? { dataDir: command.dataDir } : {} });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`opencx: configuration error${err.key !== undefined ? ` at ${err.key}` : ''}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const logger = options.logger ?? createLogger({ level: 'warn' });
  let backend: B;
  try {
    const remote = command.server ?? runningServer(config);
    if (remote !== undefined) {
      const apiKey = apiKeyFor(config, command.apiKey);
      if (apiKey === undefined) {
        io.err(NO_API_KEY_MESSAGE);
        return 1;
      }
      backend = spec.openRemote(remote, apiKey, command.tenant);
    } else {
      backend = await spec.openLocal(config, command.tenant, logger);
    }
  } catch (err) {
    io.err(`opencx: ${describeError(err)}\n`);
    if (err instanceof UnavailableError && command.server === undefined) io.err(USE_SERVER_HINT);
    return 1;
  }
  try {
    await spec.perform(command, backend, io);
    return 0;
  } catch (err) {
    if (spec.reportError !== undefined) spec.reportError(err, io);
    else io.err(`opencx: ${describeError(err)}\n`);
    return 1;
  } finally {
    await backend.close();
  }
}
