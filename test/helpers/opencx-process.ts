import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './paths.js';

/** Ports from the "opencx started" log line. */
export interface StartedPorts {
  udp?: number;
  tcp?: number;
  tls?: number;
  ws?: number;
  wss?: number;
  http?: number;
}

export interface OpencxProcess {
  child: ChildProcess;
  ports: StartedPorts;
  dataDir: string;
  /** every stdout/stderr line so far */
  output: string[];
  /** send a signal and wait for exit; resolves with the exit code and how long it took */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

/**
 * Starts `node bin/opencx.js start ...args` with a fresh data directory and waits for the
 * "opencx started" line. Fails (rejects) with the process output if it exits or stays silent.
 */
export async function startOpencx(args: string[] = [], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<OpencxProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opencx-test-'));
  const fullArgs = [...cliEntry(), 'start', '--data-dir', dataDir, ...args];
  const child = spawn(process.execPath, fullArgs, {
    cwd: repoRoot(),
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitWaiters: (() => void)[] = [];
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    for (const w of exitWaiters) w();
  });

  const ports = await new Promise<StartedPorts>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opencx did not start within ${options.timeoutMs ?? 45000} ms:\n${output.join('\n')}`));
    }, options.timeoutMs ?? 45000);
    const onLine = (line: string) => {
      output.push(line);
      if (!line.includes('opencx started')) return;
      try {
        const rec = JSON.parse(line) as { ports?: StartedPorts };
        clearTimeout(timer);
        resolve(rec.ports ?? {});
      } catch {
        // not JSON: keep waiting
      }
    };
    lineReader(child.stdout, onLine);
    lineReader(child.stderr, onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`opencx exited with ${code} before starting:\n${output.join('\n')}`));
    });
  });

  return {
    child,
    ports,
    dataDir,
    output,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000) {
      const t0 = Date.now();
      if (exited === undefined) {
        child.kill(signal);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
          }, timeoutMs);
          exitWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
          if (exited !== undefined) resolve();
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
      return { code: exited?.code ?? null, signal: exited?.signal ?? null, ms: Date.now() - t0 };
    },
  };
}

/** Runs `node bin/opencx.js ...args` to completion. */
export async function runOpencx(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...cliEntry(), ...args], {
    cwd: repoRoot(),
    env: { ...process.env, ...(options.env ?? {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function lineReader(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

/**
 * `bin/opencx.js` (which runs dist/), or, when TEST_CLI_MAIN names a compiled src/cli/main.js
 * (a helper's own build folder, e.g. dist-calls/src/cli/main.js), that build instead.
 */
function cliEntry(): string[] {
  const main = process.env.TEST_CLI_MAIN;
  if (main === undefined || main === '') return ['bin/opencx.js'];
  const url = pathToFileURL(path.resolve(repoRoot(), main)).href;
  // `--` ends node's own options, so the CLI's --help or --version reach runCli
  return ['--input-type=module', '-e', `const { runCli } = await import(${JSON.stringify(url)}); process.exitCode = await runCli(process.argv.slice(1), process.env);`, '--'];
}
