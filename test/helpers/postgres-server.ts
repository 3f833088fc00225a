import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * A throwaway Debian PostgreSQL 15 for integration tests: its own cluster in a temp dir, trust
 * auth, listening on a free loopback port, fsync off. Missing binaries are a hard failure, never a
 * skip: a test that silently skips its PostgreSQL half would let that adapter rot.
 *
 * PostgreSQL refuses to run as root, and these tests run as root here: initdb and postgres then
 * run as the `postgres` system user (spawn's uid/gid, the same effect as runuser without the
 * extra process in between, so signals reach the postmaster itself).
 */
export const POSTGRES_BIN_DIR = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust auth, no password) */
  readonly url: string;
  /**
   * stop the server: fast shutdown (SIGINT), or immediate (SIGQUIT, like a crash) when hard.
   * The cluster is deleted unless keepData is set; keep it to restart() later.
   */
  stop(options?: { hard?: boolean; keepData?: boolean }): Promise<void>;
  /** start again on the same port and data (stops it first when running) */
  restart(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunAs {
  uid?: number;
  gid?: number;
}

function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    const n = Number.parseInt(r.stdout.trim(), 10);
    if (r.status !== 0 || !Number.isInteger(n)) {
      throw new Error('running as root but there is no `postgres` system user to run PostgreSQL as (the Debian postgresql package creates it)');
    }
    return n;
  };
  return { uid: id('-u'), gid: id('-g') };
}

async function accepts(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 500 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const initdb = path.join(POSTGRES_BIN_DIR, 'initdb');
  const postgres = path.join(POSTGRES_BIN_DIR, 'postgres');
  if (!existsSync(initdb) || !existsSync(postgres)) {
    throw new Error(`${initdb} / ${postgres} not found: install the Debian package postgresql-15 (apt-get install postgresql); PostgreSQL integration tests do not skip`);
  }
  const runAs = postgresUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencx-pg-'));
  if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(dir, runAs.uid, runAs.gid);
  const dataDir = path.join(dir, 'data');

  const init = spawnSync(initdb, ['-D', dataDir, '--auth=trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync'], {
    ...runAs,
    encoding: 'utf8',
    cwd: dir,
  });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (status ${String(init.status)}): ${init.stderr}${init.error?.message ?? ''}`);
  }

  let child: ChildProcess | undefined;
  let port = 0;
  const urlFor = (p: number): string => `postgres://postgres@127.0.0.1:${p}/postgres`;
  const killOnExit = (): void => {
    child?.kill('SIGQUIT');
  };
  process.on('exit', killOnExit);

  const launch = async (): Promise<boolean> => {
    const proc = spawn(
      postgres,
      ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'synchronous_commit=off'],
      { ...runAs, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let exited = false;
    proc.on('exit', () => {
      exited = true;
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    for (let i = 0; i < 200; i++) {
      if (exited) return false;
      if (await accepts(urlFor(port))) return true;
      await sleep(50);
    }
    proc.kill('SIGQUIT');
    throw new Error(`postgres on port ${port} did not accept connections within 10 s: ${stderr}`);
  };

  // a port picked free can be taken before postgres binds it: try a few
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    if (await launch()) break;
    if (attempt >= 4) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('postgres exited at start-up five times (ports in use?)');
    }
  }

  const halt = async (hard: boolean): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    // SIGINT is PostgreSQL's fast shutdown (clients get 57P01), SIGQUIT its immediate one
    proc.kill(hard ? 'SIGQUIT' : 'SIGINT');
    await exited;
  };

  return {
    get port() {
      return port;
    },
    get url() {
      return urlFor(port);
    },
    stop: async (options = {}) => {
      await halt(options.hard === true);
      if (options.keepData !== true) {
        process.off('exit', killOnExit);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    restart: async () => {
      await halt(false);
      if (!existsSync(dataDir)) throw new Error('postgres data was deleted by stop(); pass { keepData: true } to restart later');
      if (!(await launch())) throw new Error(`postgres could not restart on port ${port}`);
    },
  };
}
