import { readFileSync } from 'node:fs';
import { ConfigError, describeError } from '../lib/index.js';
import { createLogger, loadConfig, type Config, type ConfigInput, type DeepPartial } from '../platform/index.js';
import { parseCommandLine, USAGE } from './args.js';
import { isSipWorker } from './is-sip-worker.js';
import { APP_USAGE, isAppCommand, runAppCli } from './app-commands.js';
import { VXML_USAGE, isVxmlCommand, runVxmlCli } from './vxml-commands.js';
import { isTelephonyCommand, runTelephonyCli, TELEPHONY_USAGE } from './telephony-commands.js';
import { runUserCommand } from './user-commands.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Hard limit for a stop: whatever is still open after this is abandoned (exit still 0). */
const STOP_DEADLINE_MS = 4500;

/**
 * Runs the opencx command line and resolves with the exit status:
 * 0 done, 1 failure at run time, 2 bad usage or bad configuration.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  // trunk, did, dialplan, cdr: their own options and usage (telephony-commands.ts)
  // the server's modules load only for the commands that need them: a CLI call stays quick
  if (isTelephonyCommand(argv)) {
    const { validateDialPlan } = await import('./calls-role.js');
    return runTelephonyCli(argv, env, { validateDialPlan });
  }
  // app: hosted VoiceXML applications (app-commands.ts)
  if (isAppCommand(argv)) return runAppCli(argv, env);
  // vxml run: an application in the terminal (vxml-commands.ts)
  if (isVxmlCommand(argv)) return runVxmlCli(argv);
  const command = parseCommandLine(argv);
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE + TELEPHONY_USAGE + APP_USAGE + VXML_USAGE);
      return 0;
    case 'version':
      process.stdout.write(`${packageVersion()}\n`);
      return 0;
    case 'usage-error':
      process.stderr.write(`opencx: ${command.message}\n\n${USAGE}`);
      return 2;
    case 'start':
    case 'user':
      break;
  }

  let config: Config;
  try {
    const configFile = command.configFile ?? (env.OPENCX_CONFIG !== undefined && env.OPENCX_CONFIG !== "" ? env.OPENCX_CONFIG : undefined);
    config = loadConfig({ ...(configFile !== undefined ? { file: configFile } : {}), env, flags: command.flags as DeepPartial<ConfigInput> });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`opencx: configuration error${err.key !== undefined ? ` at ${err.key}` : ''}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  if (command.kind === 'user') {
    const quiet = createLogger({ level: 'warn' });
    try {
      return await runUserCommand(command.action, config, { server: command.server, apiKey: command.apiKey }, quiet, {
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
      });
    } catch (err) {
      process.stderr.write(`opencx: ${describeError(err)}\n`);
      return err instanceof ConfigError ? 2 : 1;
    }
  }

  const logger = createLogger({ level: config.log.level });
  const version = packageVersion();
  if (isSipWorker()) {
    // a SIP worker forked by the primary (sip.workers > 1): same command line, same config
    try {
      const { runSipWorker } = await import('./cluster.js');
      await runSipWorker(config, logger, version);
      logger.flush();
      return 0;
    } catch (err) {
      logger.error({ err: describeError(err) }, 'SIP worker failed');
      logger.flush();
      return 1;
    }
  }
  let server;
  try {
    const { startServer } = await import('./start.js');
    server = await startServer(config, logger, version);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`opencx: configuration error${err.key !== undefined ? ` at ${err.key}` : ''}: ${err.message}\n`);
      return 2;
    }
    logger.error({ err: describeError(err) }, 'opencx could not start');
    return 1;
  }

  // A bug anywhere must not end the process silently: log it; the server keeps serving.
  process.on('uncaughtException', (err) => logger.error({ err: describeError(err), stack: err.stack }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => logger.error({ err: describeError(err) }, 'unhandled promise rejection'));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const deadline = setTimeout(() => {
    logger.warn({ afterMs: STOP_DEADLINE_MS, open: process.getActiveResourcesInfo() }, 'stop deadline reached; exiting with resources still open');
    logger.flush();
    process.exit(0);
  }, STOP_DEADLINE_MS);
  deadline.unref();
  await server.stop(signal);
  clearTimeout(deadline);
  logger.flush();
  return 0;
}
