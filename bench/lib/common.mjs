// Shared helpers for the SIPp benchmarks (bench/sip-register, bench/sip-calls): /proc readings,
// free ports, starting and stopping servers, running SIPp and reading its -trace_stat CSV.
// Taken from bench/sip-options/run.mjs (which keeps its own copy and is unchanged).
// Plain ESM JavaScript so it runs without a build.
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { setTimeout, clearTimeout } from 'node:timers';

export const SIPP = process.env.SIPP ?? '/usr/bin/sipp';
export const KAMAILIO = process.env.KAMAILIO ?? '/usr/sbin/kamailio';
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// ---------------------------------------------------------------- /proc helpers
export function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field n is rest[n - 3]
    return {
      ppid: Number(rest[1]),
      utime: Number(rest[11]), stime: Number(rest[12]),
      cutime: Number(rest[13]), cstime: Number(rest[14]),
    };
  } catch {
    return null;
  }
}

/** PIDs of root and all its descendants (threads are counted inside each process's stat). */
export function processTree(root) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

/** CPU seconds (user+system) of a process tree, including reaped children. */
export function treeCpuSeconds(root) {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const st = readStat(pid);
    if (st) ticks += st.utime + st.stime + st.cutime + st.cstime;
  }
  return ticks / CLK_TCK;
}

/**
 * Memory of a process tree in kB: rss = sum of VmRSS (counts shared memory once per process, so
 * Kamailio's shared-memory segment is counted once per child), pss = sum of Pss from
 * /proc/PID/smaps_rollup (shared pages split between the processes that map them: the tree's real
 * footprint), procs = number of processes.
 */
export function treeMemoryKb(root) {
  let rss = 0;
  let pss = 0;
  let procs = 0;
  for (const pid of processTree(root)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      procs++;
    } catch { /* gone */ }
    try {
      const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+)/m.exec(roll)?.[1] ?? 0);
    } catch { /* gone or not readable */ }
  }
  return { rss, pss, procs };
}

/** treeMemoryKb per process: [{ pid, name, rss, pss }] (kB), the root first. */
export function treeMemoryDetailKb(root) {
  const out = [];
  for (const pid of processTree(root)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      out.push({
        pid,
        name: /Name:\s+(\S+)/.exec(status)?.[1] ?? '?',
        rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
        pss: Number(/^Pss:\s+(\d+)/m.exec(roll)?.[1] ?? 0),
      });
    } catch { /* gone */ }
  }
  return out;
}

/** CPU seconds of this runner's reaped children (SIPp once it has exited). */
export function reapedChildrenCpuSeconds() {
  const st = readStat(process.pid);
  return st ? (st.cutime + st.cstime) / CLK_TCK : 0;
}

export function udpSnmp() {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0].split(/\s+/).slice(1);
  const vals = lines[1].split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(keys.map((k, i) => [k, vals[i]]));
}

export function systemCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { idle, total };
}

export const busyPct = (a, b) => 100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total));

/**
 * This box may be shared: before a step, wait (up to quietWait s) until a 1 s sample of /proc/stat
 * shows less than quietBelow % of all CPUs busy. Returns the last sample's busy %.
 */
export async function waitQuiet(quietBelow, quietWait) {
  const deadline = Date.now() + quietWait * 1000;
  let busy = NaN;
  do {
    const a = systemCpu();
    await delay(1000);
    busy = busyPct(a, systemCpu());
  } while (busy >= quietBelow && Date.now() < deadline);
  return busy;
}

// ---------------------------------------------------------------- network helpers
/** A port free on 127.0.0.1 for UDP and TCP (bind 0, read back, check TCP, release). */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const sock = dgram.createSocket('udp4');
    const port = await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve(sock.address().port));
    });
    const tcpOk = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    await new Promise((resolve) => sock.close(resolve));
    if (tcpOk) return port;
  }
  throw new Error('no free port found');
}

export function bindUdp(port) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => { sock.close(); resolve(null); });
    sock.bind(port, '127.0.0.1', () => resolve(sock));
  });
}

/**
 * Free local ports for one SIPp run. SIPp 3.6.1 does not pick ephemeral ports by itself: without
 * -p it binds 5060, the control socket 8888 and RTP echo sockets on 6000 and 6002, so each is
 * chosen here. Media needs P and P+2. `avoid` lists ports already handed out.
 */
export async function sippPorts(avoid = []) {
  const held = [];
  const taken = new Set(avoid);
  try {
    let sip = 0;
    for (let i = 0; i < 50 && !sip; i++) { const p = await freePort(); if (!taken.has(p)) sip = p; }
    taken.add(sip);
    let cp = 0;
    for (let i = 0; i < 50 && !cp; i++) {
      const s = await bindUdp(0);
      if (s) { held.push(s); if (!taken.has(s.address().port)) cp = s.address().port; }
    }
    taken.add(cp);
    let mp = 0;
    for (let i = 0; i < 50 && !mp; i++) {
      const a = await bindUdp(0);
      if (!a) continue;
      held.push(a);
      const p = a.address().port;
      if (p % 2 !== 0 || p + 2 > 65535 || taken.has(p) || taken.has(p + 2) || taken.has(p + 1) || taken.has(p + 3)) continue;
      const b = await bindUdp(p + 2);
      if (b) { held.push(b); mp = p; }
    }
    if (!sip || !cp || !mp) throw new Error('no free ports for SIPp');
    return { sip, cp, mp };
  } finally {
    for (const s of held) s.close();
  }
}

/** SIPp's local-port arguments for the ports from sippPorts(). */
export const sippPortArgs = (local) => ['-i', '127.0.0.1', '-p', String(local.sip), '-cp', String(local.cp), '-mi', '127.0.0.1', '-mp', String(local.mp)];

/**
 * Send OPTIONS (Request-URI without a user part: addressed to the server itself) over UDP until a
 * final answer comes back or the deadline passes. Any final status counts as "up": a server that
 * proxies requests of any method may answer 404/405 rather than 200.
 */
export async function waitForOptions(port, timeoutS, isAlive) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const lport = sock.address().port;
  let got200 = false;
  sock.on('message', (m) => { if (/^SIP\/2\.0 [2-6]\d\d /.test(m.toString('latin1'))) got200 = true; });
  const deadline = Date.now() + timeoutS * 1000;
  try {
    for (let n = 0; Date.now() < deadline && !got200; n++) {
      if (!isAlive()) return false;
      const msg = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK-probe-${process.pid}-${n};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1:${lport}>;tag=probe${n}`,
        `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: probe-${process.pid}-${n}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0', '', '',
      ].join('\r\n');
      sock.send(msg, port, '127.0.0.1');
      for (let i = 0; i < 5 && !got200; i++) await delay(50);
    }
    return got200;
  } finally {
    sock.close();
  }
}

// ---------------------------------------------------------------- servers
/** `nice -n N cmd args` when N != 0 (nice execs, so the PID stays the program's own). */
export function niced(nice, cmd, args) {
  return nice ? ['/usr/bin/nice', ['-n', String(nice), cmd, ...args]] : [cmd, args];
}

/**
 * Like niced(), for a program that runs in a session of its own (spawned detached): with the
 * kernel's autogroup scheduling on (/proc/sys/kernel/sched_autogroup_enabled = 1, the default on
 * desktop-style kernels) CPU time is first shared out between sessions, and a process's nice only
 * ranks it against the other processes of its own session, so `nice -n -10` alone does not keep a
 * busy box (SIPp, the probes, other people's test runs, each in their own session) from taking
 * the CPU away from it. The shell first gives the new session's autogroup the same nice (needs
 * CAP_SYS_NICE for N < 0; where refused, or without autogroups, only the plain nice applies), then
 * execs nice, which execs the program: the PID stays the program's own.
 */
export function nicedSession(nice, cmd, args) {
  if (!nice) return [cmd, args];
  const script = `echo ${Number(nice)} > /proc/$$/autogroup 2>/dev/null; exec /usr/bin/nice -n ${Number(nice)} "$@"`;
  return ['/bin/sh', ['-c', script, 'sh', cmd, ...args]];
}

/** The program in a session of its own: with `groupNice`, its autogroup gets `nice` too (nicedSession). */
export function startServer(name, cmd, args, cwd, logFile, nice = 0, env = {}, { groupNice = false } = {}) {
  const log = fs.openSync(logFile, 'w');
  const child = spawn(...(groupNice ? nicedSession : niced)(nice, cmd, args), { cwd, stdio: ['ignore', log, log], detached: true, env: { ...process.env, ...env } });
  fs.closeSync(log);
  const server = { name, cmd, args, child, pid: child.pid, exited: false, exitInfo: null, logFile };
  child.on('exit', (code, signal) => { server.exited = true; server.exitInfo = { code, signal }; });
  child.on('error', (err) => { server.exited = true; server.exitInfo = { error: String(err) }; });
  return server;
}

export async function stopServer(server) {
  if (!server || server.exited) return;
  const tree = processTree(server.pid);
  try { process.kill(server.pid, 'SIGTERM'); } catch { /* already gone */ }
  for (let i = 0; i < 50 && !server.exited; i++) await delay(100);
  // Anything left of what we started (its process group, then stray descendants): SIGKILL.
  try { process.kill(-server.pid, 'SIGKILL'); } catch { /* already gone */ }
  for (const pid of tree) {
    try { process.kill(pid, 0); process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/** Children started by runBounded/startSipp that are still running (killed by killLiveChildren). */
const live = new Set();

/** SIGKILL every child of runBounded/startSipp still running (for signal handlers and cleanup). */
export function killLiveChildren() {
  for (const c of live) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  live.clear();
}

/**
 * Run a command to completion within limitS seconds (SIGTERM, then SIGKILL). If its output matches
 * abortOn, it is stopped at once and `aborted` is the matching line (e.g. a CLI verb that is not
 * implemented yet and starts a server instead).
 */
export async function runBounded(cmd, args, { cwd, env, limitS, abortOn = null }) {
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let aborted = null;
  let killed = false;
  const stop = () => {
    try { child.kill('SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
  };
  const onData = (d) => {
    if (out.length < 8000) out += d;
    if (abortOn && !aborted) {
      const line = String(d).split('\n').find((l) => abortOn.test(l));
      if (line) { aborted = line.trim(); stop(); }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => { killed = true; stop(); }, limitS * 1000);
  const code = await new Promise((resolve) => {
    child.on('error', (e) => { out += String(e); resolve(-1); });
    child.on('close', (c, s) => resolve(c ?? s));
  });
  clearTimeout(timer);
  live.delete(child);
  return { code, killed, aborted, out };
}

export function logTail(file, n = 15) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------- SIPp
/** Start SIPp; returns { child, done: Promise<{code, killed, stderr}> }, killed after limitS. */
export function startSipp(args, limitS, nice = 0, logFile = null) {
  const out = logFile ? fs.openSync(logFile, 'w') : 'ignore';
  const child = spawn(...niced(nice, SIPP, args), { stdio: ['ignore', out, 'pipe'] });
  live.add(child);
  if (logFile) fs.closeSync(out);
  let stderr = '';
  child.stderr.on('data', (d) => { if (stderr.length < 4000) stderr += d; });
  let killed = false;
  const kill = () => {
    killed = true;
    try { child.kill('SIGTERM'); } catch { /* gone */ }
    setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
  };
  const timer = setTimeout(kill, limitS * 1000);
  const done = new Promise((resolve) => child.on('close', (c, s) => {
    clearTimeout(timer);
    live.delete(child);
    resolve({ code: c ?? s, killed, stderr });
  }));
  return { child, done, stop: () => { if (child.exitCode === null && child.signalCode === null) { kill(); killed = false; } return done; } };
}

export async function runSipp(args, limitS, nice = 0) {
  return startSipp(args, limitS, nice).done;
}

/** Arguments every load run gets (see shared/TOOLING.md: SIPp's own socket drops answers otherwise). */
export const SIPP_LOAD_ARGS = (recvTimeoutS) => ['-buff_size', '4194304', '-recv_timeout', `${recvTimeoutS}s`, '-nostdin'];

/**
 * Reads SIPp's -trace_stat CSV (one row per second with -fd 1, one when the last call ends, one at
 * exit). "elapsed" runs from SIPp's start to the first row where every call has ended; "steady" is
 * the success rate between the first and the last full periodic row.
 */
export function parseStatCsv(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 2) return null;
  const head = lines[0].split(';');
  const epoch = (v) => Number(String(v).split('\t').pop());
  const rows = lines.slice(1).map((l) => {
    const f = l.split(';');
    const get = (k) => f[head.indexOf(k)];
    return {
      t: epoch(get('CurrentTime')) - epoch(get('StartTime')),
      created: Number(get('OutgoingCall(C)')),
      ok: Number(get('SuccessfulCall(C)')),
      failed: Number(get('FailedCall(C)')),
      timeouts: Number(get('FailedTimeoutOnRecv(C)')),
      unexpected: Number(get('FailedUnexpectedMessage(C)')),
      retrans: Number(get('Retransmissions(C)')),
    };
  });
  const last = rows[rows.length - 1];
  const done = rows.find((r) => r.created === last.created && r.ok + r.failed === last.created && r.created > 0) ?? last;
  const periodic = rows.filter((r) => r.t >= 0.9 && r.t < done.t - 0.001 && r.created < last.created);
  let steady = NaN;
  if (periodic.length >= 2) {
    const a = periodic[0];
    const b = periodic[periodic.length - 1];
    steady = (b.ok - a.ok) / (b.t - a.t);
  }
  return { ...last, elapsed: done.t, steady };
}

/**
 * The node flags `npx opencx` runs with: those on bin/opencx.js's shebang line after `node`
 * (`#!/usr/bin/env -S node FLAGS`). The benchmarks start opencx as `node FLAGS SCRIPT`, the way
 * the shebang would, so they measure what an operator runs.
 */
export function opencxNodeFlags() {
  const bin = new URL('../../bin/opencx.js', import.meta.url);
  const first = fs.readFileSync(bin, 'utf8').split('\n', 1)[0];
  const m = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

// ---------------------------------------------------------------- report
export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

export function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const first = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').map((l) => l.trim()).find((l) => l) ?? '';
    } catch (e) {
      return String(e.stdout ?? '').split('\n').map((l) => l.trim()).find((l) => l) ?? 'unknown';
    }
  };
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    nproc: os.availableParallelism(),
    model,
    memGb: memKb / 1048576,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    sipp: first(SIPP, ['-v']),
    kamailio: first(KAMAILIO, ['-v']),
    clkTck: CLK_TCK,
  };
}

/** Background load over 2 s before anything starts. */
export async function backgroundBusy() {
  const a = systemCpu();
  await delay(2000);
  return busyPct(a, systemCpu());
}

/**
 * Write a run's Markdown unless nothing ran (then say so and set a failing exit code): every
 * benchmark ends this way.
 */
export function writeResults(out, md, anythingRan) {
  const rel = path.relative(process.cwd(), out);
  if (!anythingRan) {
    console.error(`[bench] no step ran; ${rel} left unchanged`);
    process.exitCode = 1;
    return;
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, md);
  console.error(`[bench] wrote ${rel}`);
}
