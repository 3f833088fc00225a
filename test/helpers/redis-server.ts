import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real Debian redis-server for integration tests, on a free loopback port, with persistence
 * off. Missing redis-server is a hard failure, never a skip: a test that silently skips its
 * Redis half would let the Redis adapter rot.
 */
export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** kill it (SIGKILL when hard, else SIGTERM) and wait for the exit */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** start again on the same port (after stop) */
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

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startRedisServer(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER_BIN)) {
    throw new Error(`${REDIS_SERVER_BIN} not found: install the Debian package redis-server (apt-get install redis-server); Redis integration tests do not skip`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencx-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const launch = async (): Promise<boolean> => {
    mkdirSync(dir, { recursive: true });
    const proc = spawn(REDIS_SERVER_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
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
      if (await ping(port)) return true;
      await sleep(25);
    }
    proc.kill('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING within 5 s: ${stderr}`);
  };

  // a port picked free can be taken before redis binds it: try a few
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    if (await launch()) break;
    if (attempt >= 4) throw new Error('redis-server exited at start-up five times (ports in use?)');
  }

  const stop = async (options: { hard?: boolean } = {}): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(options.hard === true ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };

  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    stop: async (options) => {
      await stop(options);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      process.on('exit', killOnExit);
      if (!(await launch())) throw new Error(`redis-server could not restart on port ${port}`);
    },
  };
}
