import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Runs Debian's SIPp (sip-tester) with free ports: SIPp binds 5060/8888/6000 by default, so two
 * runs at once collide unless -p, -cp and -mp are given. Every run is bounded (-timeout plus a
 * SIGKILL a little later); a missing SIPp is an error, never a skip.
 */
export const SIPP = '/usr/bin/sipp';

export function sippAvailable(): boolean {
  return spawnSync(SIPP, ['-v']).error === undefined;
}

/** throws with the install hint when SIPp is missing */
export function requireSipp(): void {
  if (!sippAvailable()) throw new Error(`SIPp not found at ${SIPP}: install the Debian package sip-tester`);
}

/**
 * Ports this process handed out lately. A port is free only until someone binds it: two calls
 * at once (a UAC's and a UAS's -cp, started together) could otherwise both get the one port the
 * kernel gave each probe in turn, and the second SIPp then fails to bind it (errno 98).
 */
const handedOut = new Set<number>();

/** a port free for both UDP and TCP on host, not handed out by this process lately */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 40; i++) {
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(0, host, resolve);
    });
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind(port, host, () => resolve(true));
    });
    if (ok) await new Promise<void>((resolve) => sock.close(() => resolve()));
    else sock.close();
    if (ok && !handedOut.has(port)) {
      handedOut.add(port);
      if (handedOut.size > 2000) handedOut.delete(handedOut.values().next().value as number);
      return port;
    }
  }
  throw new Error('no free port found');
}

export interface SippRunOptions {
  /** target host:port */
  target: string;
  scenario: string;
  /** local IP to bind (-i); default 127.0.0.1 */
  localIp?: string;
  /** local SIP port (-p); default a free one */
  localPort?: number;
  /** transport (-t): u1, t1, ...; default u1 */
  transport?: string;
  /** -m: calls to make (UAC) or to answer before exiting (UAS) */
  calls?: number;
  /** -r: calls per second; default 10 */
  rate?: number;
  /** -l: concurrent calls limit */
  limit?: number;
  /** CSV injection file contents (written to a temp file and passed with -inf) */
  csv?: string;
  /** -timeout seconds for the whole run; default 30 */
  timeoutS?: number;
  /** -key name value pairs */
  keys?: Record<string, string>;
  extraArgs?: string[];
}

export interface SippResult {
  code: number | null;
  /** stdout + stderr, trimmed to the last 20 kB */
  out: string;
  /** contents of the statistics summary: successful / failed calls (from the final screen) */
  successful: number | undefined;
  failed: number | undefined;
  localPort: number;
  /** the last row of SIPp's -trace_stat CSV, by column name (e.g. 'FailedUnexpectedMessage(C)') */
  stats: Record<string, string>;
}

export interface SippHandle {
  child: ChildProcess;
  localPort: number;
  done: Promise<SippResult>;
  kill(): void;
}

/** starts SIPp; `done` resolves when it exits (killed with SIGKILL timeoutS + 10 s after start) */
export async function startSipp(options: SippRunOptions): Promise<SippHandle> {
  requireSipp();
  const work = mkdtempSync(path.join(tmpdir(), 'opencx-sipp-'));
  const localIp = options.localIp ?? '127.0.0.1';
  const localPort = options.localPort ?? (await freePort(localIp));
  const cp = await freePort('127.0.0.1');
  // SIPp binds its media sockets at -mp and a few ports above it: keep them clear of -cp
  let mp = await freePort('127.0.0.1');
  while (Math.abs(mp - cp) <= 4) mp = await freePort('127.0.0.1');
  const timeoutS = options.timeoutS ?? 30;
  const args = [
    options.target,
    '-sf',
    options.scenario,
    '-i',
    localIp,
    '-p',
    String(localPort),
    '-cp',
    String(cp),
    '-mp',
    String(mp),
    '-t',
    options.transport ?? 'u1',
    '-r',
    String(options.rate ?? 10),
    '-nostdin',
    '-timeout',
    `${timeoutS}s`,
    '-timeout_error',
    '-buff_size',
    '4194304',
    '-max_recv_loops',
    '1000',
    '-trace_stat',
    '-stf',
    path.join(work, 'stat.csv'),
  ];
  if (options.calls !== undefined) args.push('-m', String(options.calls));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.csv !== undefined) {
    const csvFile = path.join(work, 'users.csv');
    writeFileSync(csvFile, options.csv);
    args.push('-inf', csvFile);
  }
  for (const [k, v] of Object.entries(options.keys ?? {})) args.push('-key', k, v);
  args.push(...(options.extraArgs ?? []));
  const child = spawn(SIPP, args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const add = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 40_000) out = out.slice(-20_000);
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 10) * 1000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (code) => {
      clearTimeout(killer);
      const stats = readStats(path.join(work, 'stat.csv'));
      rmSync(work, { recursive: true, force: true });
      const n = (k: string): number | undefined => (stats[k] !== undefined ? Number(stats[k]) : undefined);
      resolve({ code, out: out.slice(-20_000), successful: n('SuccessfulCall(C)'), failed: n('FailedCall(C)'), localPort, stats });
    });
  });
  return { child, localPort, done, kill: () => child.kill('SIGKILL') };
}

/**
 * Runs SIPp to the end. Free ports are found by binding and releasing them, so a test running in
 * parallel can take one in between (SIPp then exits with "Address already in use" before sending
 * anything): such a run is repeated with fresh ports, up to three times.
 */
export async function runSipp(options: SippRunOptions): Promise<SippResult> {
  let result = await (await startSipp(options)).done;
  for (let attempt = 1; attempt < 3 && /Address already in use/.test(result.out); attempt++) {
    result = await (await startSipp(options)).done;
  }
  return result;
}

function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const head = lines[0]?.split(';') ?? [];
  const last = lines.length > 1 ? (lines[lines.length - 1]?.split(';') ?? []) : [];
  const rec: Record<string, string> = {};
  head.forEach((h, i) => {
    if (h !== '' && last[i] !== undefined) rec[h] = last[i];
  });
  return rec;
}

/** a counter from the stats (0 when absent) */
export function stat(r: SippResult, name: string): number {
  const v = Number(r.stats[name]);
  return Number.isFinite(v) ? v : 0;
}

/** the digest CSV SIPp wants: SEQUENTIAL header, then user;domain;[authentication ...];extra... */
export function authCsv(rows: { user: string; domain: string; password: string; extra?: string[] }[]): string {
  const lines = rows.map((r) => [r.user, r.domain, `[authentication username=${r.user} password=${r.password}]`, ...(r.extra ?? [])].join(';'));
  return 'SEQUENTIAL\n' + lines.join('\n') + '\n';
}

/** a short description of a failed run for assertion messages */
export function describeRun(r: SippResult): string {
  return `exit ${String(r.code)}, successful ${String(r.successful)}, failed ${String(r.failed)}\n${r.out.slice(-3000)}`;
}
