#!/usr/bin/env node
// OPTIONS load benchmark: SIPp against Kamailio and opencx, side by side, in rate steps.
//
//   node bench/sip-options/run.mjs [--only kamailio|opencx] [--transport udp|tcp]
//        [--rates 2000,5000,...] [--duration 8] [--kamailio-children N]
//        [--no-stop] [--out FILE] [--nice N] [--quiet-below PCT] [--quiet-wait S]
//        [--opencx-root DIR]   (directory where `node bin/opencx.js ...` runs; default the repo)
//
// Plain ESM JavaScript so it runs without a build. See bench/README.md.
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { setTimeout, clearTimeout } from 'node:timers';
import { CLK_TCK, KAMAILIO, SIPP, bindUdp, logTail, niced, processTree, reapedChildrenCpuSeconds, startServer, systemCpu, treeCpuSeconds, udpSnmp } from '../lib/common.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SCENARIO = path.join(HERE, 'options-uac.xml');
const KAMAILIO_CFG = path.join(HERE, 'kamailio-options.cfg');
const RECV_TIMEOUT_S = 3;

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const opts = {
    only: null,
    transport: 'udp',
    rates: [2000, 5000, 10000, 15000, 20000, 25000, 30000],
    duration: 8,
    kamailioChildren: Math.max(1, os.availableParallelism()),
    stopAfterFailures: 2,
    out: null,
    readyTimeout: 30,
    quietBelow: 25,
    quietWait: 30,
    nice: 0,
    opencxRoot: REPO,
    opencxWorkers: [1],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--only': opts.only = next(); break;
      case '--transport': opts.transport = next(); break;
      case '--tcp': opts.transport = 'tcp'; break;
      case '--rates': opts.rates = next().split(',').map((s) => Number(s.trim())); break;
      case '--duration': opts.duration = Number(next()); break;
      case '--kamailio-children': opts.kamailioChildren = Number(next()); break;
      case '--no-stop': opts.stopAfterFailures = Infinity; break;
      case '--out': opts.out = path.resolve(next()); break;
      case '--ready-timeout': opts.readyTimeout = Number(next()); break;
      case '--quiet-below': opts.quietBelow = Number(next()); break;
      case '--quiet-wait': opts.quietWait = Number(next()); break;
      case '--nice': opts.nice = Number(next()); break;
      case '--opencx-root': opts.opencxRoot = path.resolve(next()); break;
      // one opencx server per value, with that many SIP workers (sip.workers)
      case '--opencx-workers': opts.opencxWorkers = next().split(',').map((s) => Number(s.trim())); break;
      case '-h': case '--help':
        console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 8).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (opts.only !== null && opts.only !== 'kamailio' && opts.only !== 'opencx') throw new Error('--only must be kamailio or opencx');
  if (opts.transport !== 'udp' && opts.transport !== 'tcp') throw new Error('--transport must be udp or tcp');
  if (opts.rates.some((r) => !Number.isFinite(r) || r <= 0)) throw new Error('bad --rates');
  if (!(opts.duration > 0 && opts.duration <= 60)) throw new Error('--duration must be in (0, 60] seconds');
  opts.out ??= path.join(REPO, 'bench', 'results', opts.transport === 'udp' ? 'sip-options.md' : 'sip-options-tcp.md');
  return opts;
}

// ---------------------------------------------------------------- /proc helpers

/** PIDs of root and all its descendants (threads are counted inside each process's stat). */
/** CPU seconds (user+system) of a process tree, including reaped children. */
/** CPU seconds of this runner's reaped children (SIPp once it has exited). */
// ---------------------------------------------------------------- network helpers
async function freePort(transport) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const sock = dgram.createSocket('udp4');
    const port = await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve(sock.address().port));
    });
    // The server listens on TCP too in tcp mode (and opencx may always do so): check the same port.
    const tcpOk = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    await new Promise((resolve) => sock.close(resolve));
    if (tcpOk || transport === 'udp') return port;
  }
  throw new Error('no free port found');
}

/**
 * Free local ports for one SIPp run. SIPp 3.6.1 does not pick ephemeral ports by itself: without
 * -p it binds 5060 (or the next free one), the control socket 8888 on 0.0.0.0 and RTP echo sockets
 * on 6000 and 6002, so each is chosen here. Media needs P and P+2.
 */
async function sippPorts(transport) {
  const held = [];
  try {
    const sip = await freePort(transport);
    let cp = 0;
    for (let i = 0; i < 50 && !cp; i++) {
      const s = await bindUdp(0);
      if (s) { held.push(s); if (s.address().port !== sip) cp = s.address().port; }
    }
    let mp = 0;
    for (let i = 0; i < 50 && !mp; i++) {
      const a = await bindUdp(0);
      if (!a) continue;
      held.push(a);
      const p = a.address().port;
      if (p % 2 !== 0 || p + 2 > 65535 || p === sip || p + 2 === sip) continue;
      const b = await bindUdp(p + 2);
      if (b) { held.push(b); mp = p; }
    }
    if (!cp || !mp) throw new Error('no free ports for SIPp');
    return { sip, cp, mp };
  } finally {
    for (const s of held) s.close();
  }
}

/** Send OPTIONS over UDP until a 200 comes back or the deadline passes. */
async function waitForOptions(port, timeoutS, isAlive) {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const lport = sock.address().port;
  let got200 = false;
  sock.on('message', (m) => { if (m.toString('latin1').startsWith('SIP/2.0 200')) got200 = true; });
  const deadline = Date.now() + timeoutS * 1000;
  try {
    for (let n = 0; Date.now() < deadline && !got200; n++) {
      if (!isAlive()) return false;
      const branch = `z9hG4bK-probe-${process.pid}-${n}`;
      const msg = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=${branch};rport`,
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
async function stopServer(server) {
  if (!server || server.exited) return;
  const tree = processTree(server.pid);
  try { process.kill(server.pid, 'SIGTERM'); } catch { /* already gone or unreadable */ }
  for (let i = 0; i < 50 && !server.exited; i++) await delay(100);
  // Anything left of what we started (its process group, then stray descendants): SIGKILL.
  try { process.kill(-server.pid, 'SIGKILL'); } catch { /* already gone or unreadable */ }
  for (const pid of tree) {
    try { process.kill(pid, 0); process.kill(pid, 'SIGKILL'); } catch { /* already gone or unreadable */ }
  }
}

// ---------------------------------------------------------------- SIPp
function sippArgs(port, rate, count, transport, statFile, local) {
  return [
    `127.0.0.1:${port}`,
    '-sf', SCENARIO,
    '-t', transport === 'udp' ? 'u1' : 't1',
    '-i', '127.0.0.1', '-p', String(local.sip), '-cp', String(local.cp), '-mi', '127.0.0.1', '-mp', String(local.mp),
    '-m', String(count),
    '-r', String(rate), '-rp', '1000',
    '-buff_size', '4194304',
    '-recv_timeout', `${RECV_TIMEOUT_S}s`,
    '-nostdin',
    '-trace_stat', '-stf', statFile, '-fd', '1',
  ];
}

/**
 * Reads SIPp's -trace_stat CSV (one row per second with -fd 1, one when the last call ends, one at
 * exit). "elapsed" runs from SIPp's start to the first row where every call has ended, so SIPp's
 * exit work does not count against the server. "steady" is the success rate between the first and
 * the last full periodic row, which leaves out start-up and the tail.
 */
function parseStatCsv(file) {
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
      retrans: Number(get('Retransmissions(C)')),
    };
  });
  const last = rows[rows.length - 1];
  const done = rows.find((r) => r.created === last.created && r.ok + r.failed === last.created && r.created > 0) ?? last;
  // Periodic rows are the ones before "done" that come after the first second.
  const periodic = rows.filter((r) => r.t >= 0.9 && r.t < done.t - 0.001 && r.created < last.created);
  let steady = NaN;
  if (periodic.length >= 2) {
    const a = periodic[0];
    const b = periodic[periodic.length - 1];
    steady = (b.ok - a.ok) / (b.t - a.t);
  }
  return { ...last, elapsed: done.t, steady };
}

async function runSipp(args, limitS, nice) {
  const child = spawn(...niced(nice, SIPP, args), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { if (stderr.length < 4000) stderr += d; });
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try { child.kill('SIGTERM'); } catch { /* already gone or unreadable */ }
    setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* already gone or unreadable */ } }, 2000).unref();
  }, limitS * 1000);
  const code = await new Promise((resolve) => child.on('close', (c, s) => resolve(c ?? s)));
  clearTimeout(timer);
  return { code, killed, stderr };
}

/**
 * This box may be shared: before a step, wait (up to quietWait s) until a 1 s sample of /proc/stat
 * shows less than quietBelow % of all CPUs busy. Returns the last sample's busy %.
 */
async function waitQuiet(opts) {
  const deadline = Date.now() + opts.quietWait * 1000;
  let busy = NaN;
  do {
    const a = systemCpu();
    await delay(1000);
    const b = systemCpu();
    busy = 100 * (1 - (b.idle - a.idle) / Math.max(1, b.total - a.total));
  } while (busy >= opts.quietBelow && Date.now() < deadline);
  return busy;
}

async function runStep(server, rate, opts, port, tmp, stepNo) {
  const before = await waitQuiet(opts);
  const count = Math.round(rate * opts.duration);
  const statFile = path.join(tmp, `stat-${server.name}-${rate}-${stepNo}.csv`);
  const args = sippArgs(port, rate, count, opts.transport, statFile, await sippPorts(opts.transport));
  const snmp0 = udpSnmp();
  const cpu0 = treeCpuSeconds(server.pid);
  const sippCpu0 = reapedChildrenCpuSeconds();
  const sys0 = systemCpu();
  const t0 = process.hrtime.bigint();
  const res = await runSipp(args, opts.duration + RECV_TIMEOUT_S + 20, opts.nice);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = treeCpuSeconds(server.pid);
  const sippCpu1 = reapedChildrenCpuSeconds();
  const sys1 = systemCpu();
  const snmp1 = udpSnmp();
  let st = null;
  try { st = parseStatCsv(statFile); } catch { /* already gone or unreadable */ }
  const ok = st?.ok ?? 0;
  // Calls never completed (SIPp killed, or no stats) count as failed.
  const failed = Math.max(st?.failed ?? 0, count - ok);
  const elapsed = st?.elapsed && st.elapsed > 0 ? st.elapsed : wall;
  const achieved = ok / elapsed;
  const failedPct = (100 * failed) / count;
  const serverCpu = cpu1 - cpu0;
  const row = {
    server: server.name, transport: opts.transport, target: rate, count, ok, failed, failedPct,
    elapsed, achieved, steady: st?.steady ?? NaN,
    // SIPp itself adds ~0.05-0.1 s between start-up and the end-of-test row (seen with zero loss and
    // an exact send schedule), about 1 % of an 8 s step at 20k/s: so the 99 % bound is applied to the
    // steady rate and the end-to-end rate only has to reach 98 % (a single 3 s recv timeout breaks it).
    pass: failedPct < 0.1 && (Number.isFinite(st?.steady) ? st.steady >= 0.99 * rate : true) &&
      achieved >= 0.98 * rate && !res.killed,
    serverCpu,
    cpuPer10k: ok + failed > 0 ? (serverCpu * 10000) / count : NaN,
    serverCpuPct: (100 * serverCpu) / elapsed,
    sippCpuPct: (100 * (sippCpu1 - sippCpu0)) / elapsed,
    systemBusyPct: 100 * (1 - (sys1.idle - sys0.idle) / Math.max(1, sys1.total - sys0.total)),
    before,
    rcvbufErrors: (snmp1.RcvbufErrors ?? 0) - (snmp0.RcvbufErrors ?? 0),
    inErrors: (snmp1.InErrors ?? 0) - (snmp0.InErrors ?? 0),
    retrans: st?.retrans ?? 0,
    sippExit: res.code, sippKilled: res.killed,
    note: res.killed ? 'SIPp killed at time limit' : (st ? '' : `no SIPp stats (exit ${res.code}) ${res.stderr.trim().split('\n').pop() ?? ''}`),
  };
  return row;
}

// ---------------------------------------------------------------- report
const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

function table(rows) {
  const head = ['server', 'transport', 'target/s', 'achieved/s', 'steady/s', 'ok', 'failed', 'failed %', 'pass',
    'server CPU s /10k req', 'server CPU %', 'SIPp CPU %', 'busy before %', 'system busy %', 'UDP RcvbufErrors Δ', 'notes'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`| ${r.server} | ${r.transport} | ${fmt(r.target)} | – | – | – | – | – | skipped | – | – | – | – | – | – | ${r.note} |`);
      continue;
    }
    out.push(`| ${[r.server, r.transport, fmt(r.target), fmt(r.achieved), fmt(r.steady), fmt(r.ok), fmt(r.failed), fmt(r.failedPct, 3),
      r.pass ? 'yes' : 'NO', fmt(r.cpuPer10k, 3), fmt(r.serverCpuPct, 0), fmt(r.sippCpuPct, 0), fmt(r.before, 0), fmt(r.systemBusyPct, 0),
      fmt(r.rcvbufErrors), r.note || ''].join(' | ')} |`);
  }
  return out.join('\n');
}

function summary(rows, servers) {
  const lines = [];
  for (const name of servers) {
    const mine = rows.filter((r) => r.server === name && !r.skipped);
    const best = mine.filter((r) => r.pass).sort((a, b) => b.target - a.target)[0];
    const passing = mine.filter((r) => r.pass && Number.isFinite(r.cpuPer10k));
    const cpu = passing.length ? passing.reduce((a, r) => a + r.cpuPer10k, 0) / passing.length : NaN;
    lines.push(`- **${name}**: highest passing step ${best ? `${fmt(best.target)}/s (achieved ${fmt(best.achieved)}/s)` : 'none'}; ` +
      `mean server CPU over passing steps ${fmt(cpu, 3)} s per 10,000 requests (${fmt(cpu * 100, 1)} µs/request).`);
  }
  return lines.join('\n');
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const first = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n').map((l) => l.trim()).find((l) => l) ?? '';
    } catch (e) {
      return String(e.stdout ?? '').split('\n').map((l) => l.trim()).find((l) => l) ?? 'unknown';
    }
  };
  return {
    nproc: os.availableParallelism(),
    model,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    sipp: first(SIPP, ['-v']),
    kamailio: first(KAMAILIO, ['-v']),
    clkTck: CLK_TCK,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const opencxNames = opts.opencxWorkers.map((w) => (w === 1 ? 'opencx' : `opencx-${w}w`));
  const workersOf = (name) => opts.opencxWorkers[opencxNames.indexOf(name)] ?? 1;
  const names = opts.only === 'kamailio' ? ['kamailio'] : opts.only === 'opencx' ? opencxNames : ['kamailio', ...opencxNames];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opencx-bench-options-'));
  const started = [];
  const unavailable = new Map();
  let port = 0;
  let background = NaN;
  const cleanup = async () => {
    for (const s of started) await stopServer(s);
  };
  const onSignal = () => { cleanup().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const rows = [];
  try {
    // Background load before anything starts (other processes on the box skew every number).
    const b0 = systemCpu();
    await delay(2000);
    const b1 = systemCpu();
    background = 100 * (1 - (b1.idle - b0.idle) / Math.max(1, b1.total - b0.total));
    port = await freePort(opts.transport);
    const servers = {};
    // Each server gets its own port.
    for (const name of names) {
      let p = port;
      while (name !== names[0] && p === port) p = await freePort(opts.transport);
      if (name === 'kamailio') {
        const rundir = path.join(tmp, 'kamailio-run');
        fs.mkdirSync(rundir);
        const args = ['-f', KAMAILIO_CFG, '-DD', '-E', '-Y', rundir, '-w', rundir,
          '-n', String(opts.kamailioChildren), '-l', `udp:127.0.0.1:${p}`];
        if (opts.transport === 'tcp') args.push('-A', 'WITH_TCP', '-l', `tcp:127.0.0.1:${p}`);
        servers[name] = startServer(name, KAMAILIO, args, REPO, path.join(tmp, 'kamailio.log'), opts.nice);
      } else {
        const dataDir = path.join(tmp, `${name}-data`);
        fs.mkdirSync(dataDir);
        const args = ['bin/opencx.js', 'start', '--role', 'sip', '--bind', '127.0.0.1',
          '--sip-port', String(p), '--http-port', '0', '--data-dir', dataDir];
        // only the port under test: TLS/WS listeners on their default ports could collide with other runs
        // UDP stays on for the readiness probe (an OPTIONS over UDP)
        const env = { OPENCX_SIP__WORKERS: String(workersOf(name)), OPENCX_SIP__TRANSPORTS: opts.transport === 'udp' ? 'udp' : 'udp,tcp' };
        servers[name] = startServer(name, process.execPath, args, opts.opencxRoot, path.join(tmp, `${name}.log`), opts.nice, env);
      }
      servers[name].port = p;
      started.push(servers[name]);
    }
    for (const name of names) {
      const s = servers[name];
      const ready = await waitForOptions(s.port, opts.readyTimeout, () => !s.exited);
      if (!ready) {
        const why = s.exited ? `exited ${JSON.stringify(s.exitInfo)}` : `no 200 to OPTIONS within ${opts.readyTimeout}s`;
        console.error(`[bench] ${name} not available: ${why}\n--- ${name} log tail ---\n${logTail(s.logFile)}`);
        unavailable.set(name, why);
        await stopServer(s);
      } else {
        console.error(`[bench] ${name} answers OPTIONS on 127.0.0.1:${s.port} (pid ${s.pid})`);
      }
    }

    const consecutiveFailures = new Map(names.map((n) => [n, 0]));
    for (let i = 0; i < opts.rates.length; i++) {
      const rate = opts.rates[i];
      // Alternate which server goes first at each step so neither always runs on a warmer box.
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const s = servers[name];
        if (unavailable.has(name)) {
          rows.push({ server: name, transport: opts.transport, target: rate, skipped: true, note: `not available: ${unavailable.get(name)}` });
          continue;
        }
        if (s.exited) {
          rows.push({ server: name, transport: opts.transport, target: rate, skipped: true, note: `server exited ${JSON.stringify(s.exitInfo)}` });
          continue;
        }
        if (consecutiveFailures.get(name) >= opts.stopAfterFailures) {
          rows.push({ server: name, transport: opts.transport, target: rate, skipped: true, note: `after ${opts.stopAfterFailures} failed steps` });
          continue;
        }
        const row = await runStep(s, rate, opts, s.port, tmp, i);
        if (s.exited) row.note = `${row.note} server exited during step`.trim();
        rows.push(row);
        consecutiveFailures.set(name, row.pass ? 0 : consecutiveFailures.get(name) + 1);
        console.error(`[bench] ${name} ${opts.transport} ${rate}/s: achieved ${fmt(row.achieved)}/s, failed ${row.failed} (${fmt(row.failedPct, 3)} %), ` +
          `server ${fmt(row.cpuPer10k, 3)} CPU s/10k, RcvbufErrors +${row.rcvbufErrors} -> ${row.pass ? 'pass' : 'FAIL'}`);
        await delay(1000);
      }
    }
  } finally {
    await cleanup();
  }

  const m = machineInfo();
  const cmd = ['node', path.relative(REPO, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
  const md = [
    `# SIP OPTIONS benchmark (${opts.transport.toUpperCase()})`,
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${m.nproc} CPUs (${m.model}), ${m.kernel}, node ${m.node}, CLK_TCK ${m.clkTck}`,
    `- background load before the run: ${fmt(background, 0)} % of all CPUs busy (2 s sample of /proc/stat)`,
    ...(opts.nice ? [`- SIPp and the servers ran under \`nice -n ${opts.nice}\` (shared box)`] : []),
    `- load generator: ${m.sipp}; scenario bench/sip-options/options-uac.xml (one OPTIONS, expects 200), ` +
      `-t ${opts.transport === 'udp' ? 'u1' : 't1'} -r RATE -rp 1000 -m RATE×${opts.duration} -buff_size 4194304 -recv_timeout ${RECV_TIMEOUT_S}s`,
    `- servers: ${names.map((n) => n === 'kamailio'
      ? `kamailio (${m.kamailio}; bench/sip-options/kamailio-options.cfg, sl_send_reply, -n ${opts.kamailioChildren})`
      : `${n} (\`OPENCX_SIP__WORKERS=${workersOf(n)} OPENCX_SIP__TRANSPORTS=${opts.transport === 'udp' ? 'udp' : 'udp,tcp'} node bin/opencx.js start --role sip --bind 127.0.0.1 --sip-port P --http-port 0 --data-dir TMP\`` +
        `${opts.opencxRoot === REPO ? '' : ` run in ${path.relative(REPO, opts.opencxRoot) || '.'}`})`).join('; ')}`,
    `- command: \`${cmd}\` (from the repository root)`,
    '- SIPp and the server share the same machine. "achieved" = successful calls / time from SIPp start to the end ' +
      'of its last call (SIPp -trace_stat rows); "steady" = success rate between the first and last full 1 s stats ' +
      'rows (leaves out start-up and tail); "server CPU" = utime+stime of the server process tree (all processes and ' +
      'threads, /proc/PID/stat) over the step, per 10,000 requests sent; "SIPp CPU" likewise for SIPp; "system busy" ' +
      'from /proc/stat during the step and "busy before" in the 1 s before it (both include anything else running; ' +
      `each step waited up to ${opts.quietWait} s for the box to be under ${opts.quietBelow} % busy); ` +
      '"pass" = failed < 0.1 %, steady ≥ 99 % and achieved ≥ 98 % of target ' +
      '(SIPp adds ~0.05–0.1 s of its own start/stop time to "achieved", ~1 % of a step at high rates). ' +
      '"UDP RcvbufErrors" is the system-wide /proc/net/snmp counter: drops in other processes\' sockets count too.',
    '',
    table(rows),
    '',
    summary(rows, names),
    '',
  ].join('\n');
  console.log(md);
  fs.rmSync(tmp, { recursive: true, force: true });
  if (rows.every((r) => r.skipped)) {
    // Nothing was measured (server not built or not answering): keep the previous results file.
    console.error(`[bench] no step ran; ${path.relative(process.cwd(), opts.out)} left unchanged`);
    process.exitCode = 1;
    return;
  }
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, md);
  console.error(`[bench] wrote ${path.relative(process.cwd(), opts.out)}`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
