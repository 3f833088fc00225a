import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { InvalidFieldError, checkAppName, checkFilePath, contentTypeFor, hostedAppUrl, type VxmlApp } from '../control/index.js';
import { describeError, type Logger } from '../lib/index.js';
import { openLocalAppBackend, openRemoteAppBackend, type AppBackend } from './app-backends.js';
import { SERVER_ACCESS_OPTIONS, commandWord, runServerCommand, serverAccessFrom, type CliIo, type ServerAccess } from './cli-server-access.js';

export const APP_USAGE = `
Hosted VoiceXML applications (same data-dir / --server / --api-key / --tenant rules):
  opencx app list | opencx app show NAME | opencx app delete NAME
  opencx app create NAME [--entry main.vxml] [--description TEXT]
  opencx app push NAME DIR [--entry PATH] [--description TEXT]
         uploads every file under DIR (creating the application when needed) and prints the
         URL its entry document is served at: http://SERVER/vxml/TENANT/NAME/ENTRY
  opencx app pull NAME DIR     downloads every file of the application into DIR
`;

const OPTIONS = {
  ...SERVER_ACCESS_OPTIONS,
  entry: { type: 'string' },
  description: { type: 'string' },
} as const;

export type AppAction =
  | { kind: 'list' }
  | { kind: 'show'; name: string }
  | { kind: 'create'; name: string; entry: string | undefined; description: string | undefined }
  | { kind: 'delete'; name: string }
  | { kind: 'push'; name: string; dir: string; entry: string | undefined; description: string | undefined }
  | { kind: 'pull'; name: string; dir: string };

export interface AppCommand extends ServerAccess {
  action: AppAction;
}

/** true when argv names the app command before anything else */
export function isAppCommand(argv: readonly string[]): boolean {
  return commandWord(argv, OPTIONS) === 'app';
}

/** the command, or a usage message */
export function parseAppCommand(argv: readonly string[]): AppCommand | string {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    return describeError(err);
  }
  const { values: v, positionals } = parsed;
  const [, verb, name, dir, ...extra] = positionals;
  if (extra.length > 0) return `unexpected argument "${extra[0]}"`;
  const action = appAction(verb, name, dir, v.entry, v.description);
  if (typeof action === 'string') return action;
  return { action, ...serverAccessFrom(v) };
}

function appAction(verb: string | undefined, name: string | undefined, dir: string | undefined, entry: string | undefined, description: string | undefined): AppAction | string {
  if (verb === undefined) return 'app needs a subcommand: list, show, create, delete, push or pull';
  if (verb === 'list') return name === undefined ? { kind: 'list' } : `unexpected argument "${name}"`;
  if (!['show', 'create', 'delete', 'push', 'pull'].includes(verb)) return `unknown app command "${verb}"`;
  if (name === undefined) return `app ${verb} needs a NAME`;
  try {
    checkAppName(name);
    if (entry !== undefined) checkFilePath(entry, 'entry');
  } catch (err) {
    if (err instanceof InvalidFieldError) return `${err.field === 'name' ? 'NAME' : `--${err.field}`} ${err.reason}`;
    throw err;
  }
  const needsDir = verb === 'push' || verb === 'pull';
  if (needsDir && dir === undefined) return `app ${verb} needs a NAME and a DIR`;
  if (!needsDir && dir !== undefined) return `unexpected argument "${dir}"`;
  switch (verb) {
    case 'show':
      return { kind: 'show', name };
    case 'create':
      return { kind: 'create', name, entry, description };
    case 'delete':
      return { kind: 'delete', name };
    case 'push':
      return { kind: 'push', name, dir: dir ?? '', entry, description };
    default:
      return { kind: 'pull', name, dir: dir ?? '' };
  }
}

export interface AppCliOptions {
  io?: CliIo | undefined;
  logger?: Logger | undefined;
}

/**
 * Runs `opencx app ...` and resolves with the exit status (0 done, 1 refused or failed, 2 bad
 * usage or configuration): through the REST API of a running server, found as the telephony
 * commands find it, or straight on the database of a stopped one.
 */
export async function runAppCli(argv: readonly string[], env: NodeJS.ProcessEnv, options: AppCliOptions = {}): Promise<number> {
  return runServerCommand(
    argv,
    env,
    {
      usage: APP_USAGE,
      parse: parseAppCommand,
      openRemote: openRemoteAppBackend,
      openLocal: openLocalAppBackend,
      perform: (command, backend: AppBackend, io) => perform(command.action, backend, io),
    },
    options,
  );
}

async function perform(action: AppAction, backend: AppBackend, io: CliIo): Promise<void> {
  switch (action.kind) {
    case 'list': {
      const apps = await backend.list();
      for (const a of apps) io.out(`${a.name}\t${a.entry}\t${a.fileCount} file(s)\t${a.totalBytes} bytes${a.description !== '' ? `\t${a.description}` : ''}\n`);
      io.out(`${apps.length} application(s)\n`);
      return;
    }
    case 'show': {
      const app = await backend.get(action.name);
      io.out(`${app.name}${app.description !== '' ? ` - ${app.description}` : ''}\nentry: ${app.entry}\nurl: ${entryUrl(backend, app)}\nupdated: ${app.updatedAt}\n`);
      for (const f of await backend.listFiles(action.name)) io.out(`  ${f.path}\t${f.contentType}\t${f.size} bytes\t${f.etag.slice(0, 12)}\n`);
      io.out(`${app.fileCount} file(s), ${app.totalBytes} bytes\n`);
      return;
    }
    case 'create': {
      const app = await backend.create({ name: action.name, ...(action.entry !== undefined ? { entry: action.entry } : {}), ...(action.description !== undefined ? { description: action.description } : {}) });
      io.out(`created application ${app.name}; entry ${entryUrl(backend, app)}\n`);
      return;
    }
    case 'delete':
      await backend.delete(action.name);
      io.out(`deleted application ${action.name}\n`);
      return;
    case 'push':
      return push(action, backend, io);
    case 'pull':
      return pull(action, backend, io);
  }
}

function entryUrl(backend: AppBackend, app: VxmlApp): string {
  return hostedAppUrl(backend.baseUrl, app.tenantName, app.name, app.entry);
}

async function push(action: Extract<AppAction, { kind: 'push' }>, backend: AppBackend, io: CliIo): Promise<void> {
  const { upload, skipped } = await filesToPush(action.dir);
  for (const s of skipped) io.err(`skipped ${s}\n`);
  if (upload.length === 0) throw new InvalidFieldError('DIR', `${action.dir} holds no file to upload`);
  let app = await backend.find(action.name);
  if (app === undefined) {
    app = await backend.create({ name: action.name, ...(action.entry !== undefined ? { entry: action.entry } : {}), ...(action.description !== undefined ? { description: action.description } : {}) });
    io.out(`created application ${app.name}\n`);
  } else if (action.entry !== undefined || action.description !== undefined) {
    app = await backend.update(action.name, { ...(action.entry !== undefined ? { entry: action.entry } : {}), ...(action.description !== undefined ? { description: action.description } : {}) });
  }
  let bytes = 0;
  for (const file of upload) {
    const content = await readFile(path.join(action.dir, ...file.split('/')));
    await backend.putFile(action.name, file, content);
    bytes += content.length;
  }
  io.out(`pushed ${upload.length} file(s), ${bytes} bytes\n`);
  if (!upload.includes(app.entry)) io.err(`warning: the entry document ${app.entry} was not among the files pushed\n`);
  io.out(`${entryUrl(backend, app)}\n`);
}

/**
 * Every file under dir as an application path. Hidden files and folders (".git") and files
 * whose extension is not hosted are skipped and reported; any other path the server would
 * refuse stops the push before anything is uploaded.
 */
async function filesToPush(dir: string): Promise<{ upload: string[]; skipped: string[] }> {
  const upload: string[] = [];
  const skipped: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new InvalidFieldError('DIR', `cannot read ${dir}: ${describeError(err)}`);
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const rel = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (rel.split('/').some((segment) => segment.startsWith('.'))) continue;
    try {
      contentTypeFor(rel);
    } catch {
      skipped.push(`${rel} (not a hosted file type)`);
      continue;
    }
    upload.push(checkFilePath(rel, `file ${rel}`));
  }
  return { upload: upload.sort(), skipped: skipped.sort() };
}

async function pull(action: Extract<AppAction, { kind: 'pull' }>, backend: AppBackend, io: CliIo): Promise<void> {
  const root = path.resolve(action.dir);
  const files = await backend.listFiles(action.name);
  let bytes = 0;
  for (const file of files) {
    // the server validated the path; checked again because it came over the network
    const target = path.resolve(root, ...checkFilePath(file.path).split('/'));
    if (!target.startsWith(root + path.sep)) throw new InvalidFieldError('path', `${file.path} points outside ${action.dir}`);
    const content = await backend.getFile(action.name, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
    bytes += content.length;
  }
  io.out(`pulled ${files.length} file(s), ${bytes} bytes into ${action.dir}\n`);
}
