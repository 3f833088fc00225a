import { createReadStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describeError, UnavailableError, type Logger } from '../lib/index.js';
import type { Config } from '../platform/index.js';
import type { UserAction } from './args.js';
import { openLocalProvisioning } from './backend-support.js';
import { NO_API_KEY_MESSAGE, SERVER_FILE, USE_SERVER_HINT, apiKeyFor, localHttpUrl, runningServer, type CliIo } from './cli-server-access.js';

export async function writeServerFile(config: Config, httpPort: number): Promise<void> {
  await writeFile(path.join(config.dataDir, SERVER_FILE), JSON.stringify({ pid: process.pid, url: localHttpUrl(config, httpPort) }), { mode: 0o600 });
}

/**
 * `opencx user add|import|list`: directly on the database of a stopped server, or through the
 * REST API of a running one (its PGlite data directory is locked by the server).
 */
export async function runUserCommand(
  action: UserAction,
  config: Config,
  options: { server: string | undefined; apiKey: string | undefined },
  logger: Logger,
  io: CliIo,
): Promise<number> {
  const remote = options.server ?? runningServer(config);
  if (remote !== undefined) return viaApi(action, remote, apiKeyFor(config, options.apiKey), io);
  let local;
  try {
    local = await openLocalProvisioning(config, logger);
  } catch (err) {
    if (err instanceof UnavailableError && options.server === undefined) {
      io.err(`opencx: ${describeError(err)}\n${USE_SERVER_HINT}`);
      return 1;
    }
    throw err;
  }
  try {
    const store = local.provisioning.store;
    switch (action.kind) {
      case 'add': {
        const [username, domain] = splitUser(action.user);
        const user = await store.createUser({ username, domain, password: action.password, ...(action.displayName !== undefined ? { displayName: action.displayName } : {}) });
        io.out(`added ${user.username}@${user.domain} (${user.id})\n`);
        return 0;
      }
      case 'import': {
        const started = Date.now();
        const lines = createInterface({ input: createReadStream(action.file), crlfDelay: Infinity });
        const report = await store.importUsers(lines, { update: action.update });
        io.out(`imported ${report.imported}, updated ${report.updated}, skipped ${report.skipped}, errors ${report.errors.length} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        for (const e of report.errors.slice(0, 20)) io.err(`line ${e.line}: ${e.reason}\n`);
        return report.errors.length > 0 ? 1 : 0;
      }
      case 'list': {
        const page = await store.listUsers({ ...(action.domain !== undefined ? { domain: action.domain } : {}), limit: action.limit });
        for (const u of page.items) io.out(`${u.username}@${u.domain}${u.enabled ? '' : ' (disabled)'}\n`);
        io.out(`${page.items.length} of ${page.total} users\n`);
        return 0;
      }
    }
  } finally {
    await local.close();
  }
}

function splitUser(user: string): [string, string] {
  const at = user.lastIndexOf('@');
  return [user.slice(0, at), user.slice(at + 1)];
}

async function viaApi(action: UserAction, base: string, apiKey: string | undefined, io: CliIo): Promise<number> {
  if (apiKey === undefined) {
    io.err(NO_API_KEY_MESSAGE);
    return 1;
  }
  const headers = { authorization: `Bearer ${apiKey}` };
  const call = async (pathname: string, init: RequestInit): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(new URL(pathname, base), { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: res.status, body };
  };
  const fail = (r: { status: number; body: unknown }) => {
    io.err(`opencx: the server answered ${r.status}: ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}\n`);
    return 1;
  };
  switch (action.kind) {
    case 'add': {
      const [username, domain] = splitUser(action.user);
      const r = await call('/api/v1/users', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, domain, password: action.password, ...(action.displayName !== undefined ? { displayName: action.displayName } : {}) }),
      });
      if (r.status !== 201 && r.status !== 200) return fail(r);
      io.out(`added ${action.user}\n`);
      return 0;
    }
    case 'import': {
      const r = await call(`/api/v1/users/import${action.update ? '?update=true' : ''}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv' },
        body: readFileSync(action.file),
      });
      if (r.status !== 200) return fail(r);
      const rep = r.body as { imported: number; updated: number; skipped: number; errors: { line: number; reason: string }[] };
      io.out(`imported ${rep.imported}, updated ${rep.updated}, skipped ${rep.skipped}, errors ${rep.errors.length}\n`);
      return rep.errors.length > 0 ? 1 : 0;
    }
    case 'list': {
      const q = new URLSearchParams({ limit: String(Math.min(action.limit, 1000)), ...(action.domain !== undefined ? { domain: action.domain } : {}) });
      const r = await call(`/api/v1/users?${q.toString()}`, { method: 'GET' });
      if (r.status !== 200) return fail(r);
      const page = r.body as { items: { username: string; domain: string; enabled: boolean }[]; total: number };
      for (const u of page.items) io.out(`${u.username}@${u.domain}${u.enabled ? '' : ' (disabled)'}\n`);
      io.out(`${page.items.length} of ${page.total} users\n`);
      return 0;
    }
  }
}
