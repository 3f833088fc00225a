#!/usr/bin/env node
// REGISTER benchmark: SIPp registers new bindings with digest auth against Kamailio and opencx,
// side by side, in rate steps; every REGISTER is a user nobody has registered in this run yet.
//
//   node bench/sip-register/run.mjs [--only kamailio|opencx] [--rates 1000,2000,4000,6000,8000,10000,12000]
//        [--duration auto|S] [--users 100000] [--domain 127.0.0.1] [--fill-rate 4000]
//        [--kamailio-children N] [--kamailio-shm MB] [--opencx-workers 1,2] [--opencx-root DIR]
//        [--no-stop] [--nice N] [--quiet-below PCT] [--quiet-wait S] [--ready-timeout S]
//        [--out FILE] [--keep-tmp] [--memory-rate 3000] [--settle 35] [--no-steps] [--opencx-dist DIR]
//        [--opencx-cpu-prof DIR]   (opencx servers run with node --cpu-prof, profiles written to DIR on exit)
//
// After the rate steps comes the memory phase: every server is restarted on the same data and
// registers all --users users at --memory-rate (0 = no memory phase), again for the users a
// failed attempt left out, until the server's own count says every AOR is registered (opencx:
// GET /api/v1/registrations/count; Kamailio: usrloc:registered_users over ctl, from `stats.get_statistics all`); then RSS and PSS
// are read per process, at once and --settle seconds later (after SIP Timer J, 32 s over UDP,
// has let the last transactions go). --opencx-dist runs opencx from another build folder than
// dist/ (through bench/lib/opencx-launch.mjs).
//
// Plain ESM JavaScript, no build. See bench/README.md ("sip-register").
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import {
  KAMAILIO, SIPP_LOAD_ARGS, backgroundBusy, busyPct, fmt, logTail, machineInfo, parseStatCsv,
  reapedChildrenCpuSeconds, runBounded, runSipp, sippPortArgs, sippPorts, startServer, stopServer,
  systemCpu, treeCpuSeconds, treeMemoryKb, treeMemoryDetailKb, udpSnmp, waitForOptions, waitQuiet, freePort, killLiveChildren,
  writeResults, opencxNodeFlags,
} from '../lib/common.mjs';
import { parseArgs, headerHelp } from '../lib/args.mjs';
import { generateUsers, sliceCsv } from './gen-users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SCENARIO = path.join(HERE, 'register-uac.xml');
const KAMAILIO_CFG = path.join(HERE, 'kamailio-register.cfg');
const RECV_TIMEOUT_S = 3;
// `user import` must import and exit; if it logs that a server started, the verb is not there yet.
const IMPORT_STARTED_SERVER = /"msg":"opencx started"|listening/;

function options() {
  const opts = parseArgs(process.argv.slice(2), {
    rates: [1000, 2000, 4000, 6000, 8000, 10000, 12000],
    duration: null,
    users: 100000,
    domain: '127.0.0.1',
    fillRate: 4000,
    memoryRate: 3000,
    settle: 35,
    steps: true,
    opencxRoot: REPO,
    opencxDist: null,
    opencxCpuProf: null,
  }, {
    '--users': ['users', Number],
    '--domain': ['domain', String],
    '--fill-rate': ['fillRate', Number],
    '--memory-rate': ['memoryRate', Number],
    '--settle': ['settle', Number],
    '--no-steps': ['steps', () => false, 0],
    '--opencx-dist': ['opencxDist', (v) => path.resolve(v)],
    '--opencx-cpu-prof': ['opencxCpuProf', (v) => path.resolve(v)],
  }, headerHelp(fileURLToPath(import.meta.url)));
  opts.out ??= path.join(REPO, 'bench', 'results', 'sip-register.md');
  // auto: as long as the users last for every step (fresh users each step), between 2 and 5 s
  if (opts.duration === null) {
    const sum = opts.rates.reduce((a, b) => a + b, 0);
    opts.duration = Math.min(5, Math.max(2, Math.floor((10 * opts.users) / sum) / 10));
    opts.durationAuto = true;
  }
  return opts;
}

/**
 * The next `count` users of a server's cursor (0-based line numbers of the CSV): fresh ones while
 * any are left; when they run out, the rest starts again at user 1 (the run key makes the Contact
 * new, so it is still a new binding, but not a new AOR: the row says so).
 */
function takeUsers(state, count, total) {
  const fresh = Math.min(count, total - state.cursor);
  const parts = [];
  if (fresh > 0) parts.push([state.cursor, fresh]);
  state.cursor += fresh;
  let rest = count - fresh;
  while (rest > 0) {
    if (state.wrapCursor >= total) state.wrapCursor = 0;
    const n = Math.min(rest, total - state.wrapCursor);
    parts.push([state.wrapCursor, n]);
    state.wrapCursor += n;
    rest -= n;
  }
  return { parts, fresh, reused: count - fresh };
}

async function runStep(server, rate, count, opts, tmp, label, users) {
  const before = await waitQuiet(opts.quietBelow, opts.quietWait);
  const { parts, fresh, reused } = takeUsers(server.users, count, opts.users);
  const csv = path.join(tmp, `users-${server.name}-${label}.csv`);
  const n = sliceCsv(users.sippCsv, csv, parts);
  if (n < count) throw new Error(`only ${n} users left for ${count} registrations`);
  const statFile = path.join(tmp, `stat-${server.name}-${label}.csv`);
  const local = await sippPorts([server.port]);
  const args = [
    `127.0.0.1:${server.port}`, '-sf', SCENARIO, '-t', 'u1', ...sippPortArgs(local),
    '-inf', csv, '-key', 'run', `${label}`,
    '-m', String(count), '-r', String(rate), '-rp', '1000',
    ...SIPP_LOAD_ARGS(RECV_TIMEOUT_S), '-trace_stat', '-stf', statFile, '-fd', '1',
  ];
  const snmp0 = udpSnmp();
  const cpu0 = treeCpuSeconds(server.pid);
  const sippCpu0 = reapedChildrenCpuSeconds();
  const sys0 = systemCpu();
  const t0 = process.hrtime.bigint();
  const res = await runSipp(args, count / rate + RECV_TIMEOUT_S + 20, opts.nice);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = treeCpuSeconds(server.pid);
  const sippCpu1 = reapedChildrenCpuSeconds();
  const sys1 = systemCpu();
  const snmp1 = udpSnmp();
  const mem = treeMemoryKb(server.pid);
  let st = null;
  try { st = parseStatCsv(statFile); } catch { /* no stats */ }
  const ok = st?.ok ?? 0;
  const failed = Math.max(st?.failed ?? 0, count - ok);
  const elapsed = st?.elapsed && st.elapsed > 0 ? st.elapsed : wall;
  const achieved = ok / elapsed;
  const failedPct = (100 * failed) / count;
  const serverCpu = cpu1 - cpu0;
  server.aors += Math.min(ok, fresh);
  return {
    server: server.name, label, target: rate, count, users: parts.map(([a, k]) => `${a + 1}–${a + k}`).join(', '), reused, ok, failed, failedPct,
    elapsed, achieved, steady: st?.steady ?? NaN,
    // as bench/sip-options: SIPp's own start/stop adds ~1 % at high rates, so "achieved = target"
    // is steady >= 99 % and end-to-end >= 98 % of the target
    pass: failedPct < 0.1 && (Number.isFinite(st?.steady) ? st.steady >= 0.99 * rate : true) && achieved >= 0.98 * rate && !res.killed,
    serverCpu,
    cpuPer1k: (serverCpu * 1000) / count,
    serverCpuPct: (100 * serverCpu) / elapsed,
    sippCpuPct: (100 * (sippCpu1 - sippCpu0)) / elapsed,
    systemBusyPct: busyPct(sys0, sys1),
    before,
    rcvbufErrors: (snmp1.RcvbufErrors ?? 0) - (snmp0.RcvbufErrors ?? 0),
    timeouts: st?.timeouts ?? 0,
    unexpected: st?.unexpected ?? 0,
    rssMb: mem.rss / 1024, pssMb: mem.pss / 1024, aors: server.aors,
    note: [reused ? `${reused} users registered again (new Contact: new binding, not a new AOR)` : '', res.killed ? 'SIPp killed at time limit' : '',
      st ? '' : `no SIPp stats (exit ${res.code}) ${res.stderr.trim().split('\n').pop() ?? ''}`].filter(Boolean).join('; '),
  };
}

function table(rows) {
  const head = ['server', 'target/s', 'users', 'achieved/s', 'steady/s', 'ok', 'failed', 'failed %', 'pass',
    'server CPU s /1k reg', 'server CPU %', 'SIPp CPU %', 'busy before %', 'system busy %', 'UDP RcvbufErrors Δ',
    'AORs after', 'server RSS MB (Σ VmRSS)', 'server PSS MB', 'notes'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`| ${r.server} | ${fmt(r.target)} | ${head.slice(2, -1).map(() => '–').join(' | ')} | ${r.note} |`);
      continue;
    }
    out.push(`| ${[r.server, r.label === 'fill' ? `${fmt(r.target)} (fill)` : fmt(r.target), r.users, fmt(r.achieved), fmt(r.steady),
      fmt(r.ok), fmt(r.failed), fmt(r.failedPct, 3), r.label === 'fill' ? (r.pass ? '(yes)' : '(no)') : (r.pass ? 'yes' : 'NO'),
      fmt(r.cpuPer1k, 3), fmt(r.serverCpuPct, 0), fmt(r.sippCpuPct, 0), fmt(r.before, 0), fmt(r.systemBusyPct, 0),
      fmt(r.rcvbufErrors), fmt(r.aors), fmt(r.rssMb, 1), fmt(r.pssMb, 1), r.note || ''].join(' | ')} |`);
  }
  return out.join('\n');
}

function summary(rows, names, servers) {
  const lines = [];
  const best = {};
  for (const name of names) {
    const mine = rows.filter((r) => r.server === name && !r.skipped && r.label !== 'fill');
    const top = mine.filter((r) => r.pass).sort((a, b) => b.target - a.target)[0];
    best[name] = top;
    const s = servers[name];
    const mem = s?.final;
    lines.push(`- **${name}**: highest passing rate ${top ? `${fmt(top.target)} REGISTER/s (achieved ${fmt(top.achieved)}/s), ` +
      `${fmt(top.cpuPer1k, 3)} server CPU s per 1,000 registrations at that step` : 'none'}` +
      `${s?.idle ? `; memory idle (users loaded, nothing registered) ${fmt(s.idle.rss / 1024, 1)} MB Σ VmRSS / ${fmt(s.idle.pss / 1024, 1)} MB PSS` : ''}` +
      `${mem ? `; with ${fmt(s.aors)} AORs registered ${fmt(mem.rss / 1024, 1)} MB Σ VmRSS / ${fmt(mem.pss / 1024, 1)} MB PSS (${mem.procs} processes)` : ''}.`);
  }
  const k = best.kamailio;
  for (const name of names.filter((n) => n !== 'kamailio')) {
    const o = best[name];
    if (k && o) lines.push(`- ratio ${name} / kamailio: highest passing rate ${fmt(o.target / k.target, 2)}; CPU per registration ${fmt(o.cpuPer1k / k.cpuPer1k, 2)} (each at its own highest passing step).`);
    // CPU per registration falls as the rate rises (fixed costs spread), so also compare at one rate
    const both = rows.filter((r) => r.server === name && r.pass && r.label !== 'fill' && !r.skipped)
      .map((r) => [r, rows.find((x) => x.server === 'kamailio' && x.pass && x.target === r.target && x.label !== 'fill' && !x.skipped)])
      .filter(([, x]) => x !== undefined).sort((a, b) => b[0].target - a[0].target)[0];
    if (both) lines.push(`- ratio ${name} / kamailio at ${fmt(both[0].target)}/s, the highest step both passed: CPU per registration ${fmt(both[0].cpuPer1k / both[1].cpuPer1k, 2)} (${fmt(both[0].cpuPer1k, 3)} / ${fmt(both[1].cpuPer1k, 3)} s per 1,000).`);
  }
  return lines.join('\n');
}

/** How the runner starts the opencx CLI: bin/opencx.js (dist/), or another build through opencx-launch.mjs. */
function opencxCli(opts) {
  return opts.opencxDist === null ? ['bin/opencx.js'] : [path.join(REPO, 'bench', 'lib', 'opencx-launch.mjs')];
}

function opencxEnv(opts, workers) {
  // Kamailio's config has no per-source rate limit (pike): opencx's is turned off to compare like with like
  return {
    OPENCX_SIP__WORKERS: String(workers), OPENCX_SIP__TRANSPORTS: 'udp', OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE: '0',
    ...(opts.opencxDist !== null ? { OCX_DIST: opts.opencxDist } : {}),
  };
}

/**
 * Starts (or starts again, on the same data) one server on `port`. opencx runs the sip and control
 * roles, so its REST API can count the registrations; Kamailio gets a ctl socket for the same.
 */
function launch(name, port, opts, tmp, users, workers) {
  let server;
  if (name === 'kamailio') {
    const rundir = path.join(tmp, 'kamailio-run');
    fs.mkdirSync(rundir, { recursive: true });
    const ctl = path.join(rundir, 'kamailio.ctl');
    const args = ['-f', KAMAILIO_CFG, '-DD', '-E', '-Y', rundir, '-w', rundir, '-m', String(opts.kamailioShm),
      '-n', String(opts.kamailioChildren), '-l', `udp:127.0.0.1:${port}`, '-A', `DBURL="text://${users.kamailioDb}"`,
      '-A', `CTLSOCK="unix:${ctl}"`];
    server = startServer(name, KAMAILIO, args, REPO, path.join(tmp, 'kamailio.log'), opts.nice);
    server.countAors = async () => kamailioRegistered(ctl);
  } else {
    const dataDir = path.join(tmp, `${name}-data`);
    // --cpu-prof is refused in NODE_OPTIONS, so it goes on the command line (cluster workers inherit execArgv)
    const prof = opts.opencxCpuProf === null ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.opencxCpuProf];
    const args = [...opencxNodeFlags(), ...prof, ...opencxCli(opts), 'start', '--role', 'sip,control', '--bind', '127.0.0.1',
      '--sip-port', String(port), '--http-port', '0', '--data-dir', dataDir];
    server = startServer(name, process.execPath, args, opts.opencxRoot, path.join(tmp, `${name}.log`), opts.nice, opencxEnv(opts, workers));
    server.countAors = async () => opencxRegistered(server.logFile, dataDir);
  }
  server.port = port;
  server.workers = workers;
  server.users = { cursor: 0, wrapCursor: 0, wrapped: false };
  server.aors = 0;
  return server;
}

/** AORs registered in Kamailio: usrloc's registered_users statistic over the ctl socket. */
async function kamailioRegistered(ctl) {
  const r = await runBounded('/usr/sbin/kamcmd', ['-s', `unix:${ctl}`, 'stats.get_statistics', 'all'], { cwd: REPO, env: {}, limitS: 20 });
  const m = /registered_users\s*=\s*(\d+)/.exec(r.out);
  if (!m) throw new Error(`kamcmd: ${r.out.trim().slice(0, 200)}`);
  return Number(m[1]);
}

/** AORs registered in opencx: GET /api/v1/registrations/count with the first API key. */
async function opencxRegistered(logFile, dataDir) {
  const started = fs.readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('"opencx started"'));
  const port = started ? JSON.parse(started).ports?.http : undefined;
  if (!port) throw new Error('no HTTP port in the opencx log');
  const key = fs.readFileSync(path.join(dataDir, 'api-key'), 'utf8').trim();
  const { status, body } = await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/registrations/count', headers: { authorization: `Bearer ${key}` }, timeout: 20000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
  if (status !== 200) throw new Error(`GET /api/v1/registrations/count: ${status} ${body.slice(0, 200)}`);
  return JSON.parse(body).aors;
}

async function waitReady(s, opts) {
  const ready = await waitForOptions(s.port, opts.readyTimeout, () => !s.exited);
  if (ready) return null;
  const why = s.exited ? `exited ${JSON.stringify(s.exitInfo)}` : `no answer to OPTIONS within ${opts.readyTimeout}s`;
  console.error(`[bench] ${s.name} not available: ${why}\n--- ${s.name} log tail ---\n${logTail(s.logFile)}`);
  await stopServer(s);
  return why;
}

const mb = (kb) => fmt(kb / 1024, 1);

/**
 * The memory phase: start the server again on the same data (so nothing from the rate steps is
 * left in it), register every user, check the server's own AOR count, read the memory.
 */
async function memoryPhase(old, opts, tmp, users, started) {
  await stopServer(old);
  await delay(500);
  const s = launch(old.name, old.port, opts, tmp, users, old.workers);
  started.push(s);
  const why = await waitReady(s, opts);
  if (why) return { server: s, error: why };
  await delay(1000);
  const idle = treeMemoryKb(s.pid);
  const out = { server: s, idle, runs: [] };
  for (let attempt = 0; attempt < 3; attempt++) {
    // every user again: the same key gives the same Contact, so an AOR a run already registered
    // is refreshed (still one binding), and the ones it missed are registered
    s.users = { cursor: 0, wrapCursor: 0, wrapped: false };
    const row = await runStep(s, opts.memoryRate, opts.users, { ...opts, quietWait: 5 }, tmp, 'mem', users);
    out.runs.push(row);
    console.error(`[bench] ${s.name} memory phase run ${attempt + 1}: ${fmt(row.ok)} ok, ${fmt(row.failed)} failed at ${fmt(opts.memoryRate)}/s`);
    try {
      out.count = await s.countAors();
    } catch (err) {
      out.count = NaN;
      out.countError = String(err?.message ?? err);
    }
    console.error(`[bench] ${s.name} says ${fmt(out.count)} AORs registered`);
    if (out.count >= opts.users) break;
  }
  out.loaded = treeMemoryKb(s.pid);
  out.loadedDetail = treeMemoryDetailKb(s.pid);
  if (opts.settle > 0) await delay(opts.settle * 1000);
  out.settled = treeMemoryKb(s.pid);
  out.settledDetail = treeMemoryDetailKb(s.pid);
  try { out.countAfter = await s.countAors(); } catch { out.countAfter = NaN; }
  console.error(`[bench] ${s.name} with ${fmt(out.countAfter)} AORs: ${mb(out.settled.rss)} MB RSS / ${mb(out.settled.pss)} MB PSS ` +
    `(${out.settledDetail.map((p) => `${p.name} ${p.pid}: ${mb(p.rss)}/${mb(p.pss)}`).join(', ')})`);
  return out;
}

function memoryTable(mem, opts) {
  const head = ['server', 'processes', 'AORs (server count)', 'idle RSS MB', 'idle PSS MB', 'loaded RSS MB', 'loaded PSS MB',
    `RSS MB after ${opts.settle} s`, `PSS MB after ${opts.settle} s`, 'per process after settling (name pid: RSS / PSS MB)', 'register runs (ok / failed)'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const m of mem) {
    if (m.error) { out.push(`| ${m.server.name} | ${head.slice(1).map(() => '–').join(' | ')} |`.replace(/–( \|)?$/, `${m.error} |`)); continue; }
    out.push(`| ${[m.server.name, m.settledDetail.length, `${fmt(m.countAfter)}${m.countError ? ` (${m.countError})` : ''}`,
      mb(m.idle.rss), mb(m.idle.pss), mb(m.loaded.rss), mb(m.loaded.pss), mb(m.settled.rss), mb(m.settled.pss),
      m.settledDetail.map((p) => `${p.name} ${p.pid}: ${mb(p.rss)} / ${mb(p.pss)}`).join('; '),
      m.runs.map((r) => `${fmt(r.ok)} / ${fmt(r.failed)}`).join(', ')].join(' | ')} |`);
  }
  return out.join('\n');
}

async function main() {
  const opts = options();
  const opencxNames = opts.opencxWorkers.map((w) => (w === 1 ? 'opencx' : `opencx-${w}w`));
  const workersOf = (name) => opts.opencxWorkers[opencxNames.indexOf(name)] ?? 1;
  const names = opts.only === 'kamailio' ? ['kamailio'] : opts.only === 'opencx' ? opencxNames : ['kamailio', ...opencxNames];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opencx-bench-register-'));
  const started = [];
  const unavailable = new Map();
  const servers = {};
  const rows = [];
  const mem = [];
  const cleanup = async () => {
    killLiveChildren();
    for (const s of started) await stopServer(s);
  };
  const onSignal = () => {
    cleanup().finally(() => {
      if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let background = NaN;
  try {
    background = await backgroundBusy();
    const users = generateUsers(path.join(tmp, 'users'), opts.users, opts.domain);
    console.error(`[bench] ${opts.users} users written to ${path.join(tmp, 'users')}`);
    const ports = new Set();
    for (const name of names) {
      let p = await freePort();
      while (ports.has(p)) p = await freePort();
      ports.add(p);
      if (name !== 'kamailio') {
        const dataDir = path.join(tmp, `${name}-data`);
        fs.mkdirSync(dataDir);
        const imp = await runBounded(process.execPath, [...opencxCli(opts), 'user', 'import', users.opencxCsv, '--data-dir', dataDir],
          { cwd: opts.opencxRoot, env: opencxEnv(opts, workersOf(name)), limitS: 300, abortOn: IMPORT_STARTED_SERVER });
        if (imp.code !== 0 || imp.aborted) {
          const why = imp.aborted ? `\`user import\` started a server instead of importing (not implemented yet?): ${imp.aborted.slice(0, 120)}` : `user import failed (exit ${imp.code}${imp.killed ? ', killed after 300 s' : ''}): ${imp.out.trim().split('\n').slice(-3).join(' / ')}`;
          console.error(`[bench] ${name} not available: ${why}`);
          unavailable.set(name, why);
          continue;
        }
      }
      servers[name] = launch(name, p, opts, tmp, users, workersOf(name));
      started.push(servers[name]);
    }
    for (const name of names) {
      const s = servers[name];
      if (!s) continue;
      const why = await waitReady(s, opts);
      if (why) { unavailable.set(name, why); continue; }
      await delay(1000);
      s.idle = treeMemoryKb(s.pid);
      console.error(`[bench] ${name} answers OPTIONS (any final status) on 127.0.0.1:${s.port} (pid ${s.pid}), ${fmt(s.idle.rss / 1024, 1)} MB RSS idle`);
    }

    const fails = new Map(names.map((n) => [n, 0]));
    for (let i = 0; opts.steps && i < opts.rates.length; i++) {
      const rate = opts.rates[i];
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const s = servers[name];
        const skip = unavailable.has(name) ? `not available: ${unavailable.get(name)}`
          : s.exited ? `server exited ${JSON.stringify(s.exitInfo)}`
            : fails.get(name) >= opts.stopAfterFailures ? `after ${opts.stopAfterFailures} failed steps` : null;
        if (skip) { rows.push({ server: name, target: rate, skipped: true, note: skip }); continue; }
        const row = await runStep(s, rate, Math.round(rate * opts.duration), opts, tmp, `s${i}`, users);
        if (s.exited) row.note = `${row.note} server exited during step`.trim();
        rows.push(row);
        fails.set(name, row.pass ? 0 : fails.get(name) + 1);
        console.error(`[bench] ${name} ${rate}/s: achieved ${fmt(row.achieved)}/s, failed ${row.failed} (${fmt(row.failedPct, 3)} %), ` +
          `${fmt(row.cpuPer1k, 3)} CPU s/1k, RSS ${fmt(row.rssMb, 1)} MB, RcvbufErrors +${row.rcvbufErrors} -> ${row.pass ? 'pass' : 'FAIL'}`);
        await delay(1000);
      }
    }
    // Without a memory phase: fill up to all users registered, then read the memory with (about) opts.users AORs.
    for (const name of opts.memoryRate > 0 || !opts.steps ? [] : names) {
      const s = servers[name];
      if (!s || unavailable.has(name) || s.exited) continue;
      const left = opts.users - s.users.cursor;
      if (left > 0 && opts.fillRate > 0) {
        const row = await runStep(s, opts.fillRate, left, opts, tmp, 'fill', users);
        row.note = `${row.note} fill: registers the users no step used, for the memory reading`.trim();
        rows.push(row);
        console.error(`[bench] ${name} fill ${left} at ${opts.fillRate}/s: ok ${row.ok}, failed ${row.failed}`);
      }
      await delay(1000);
      s.final = treeMemoryKb(s.pid);
    }
    for (const name of opts.memoryRate > 0 ? names : []) {
      const s = servers[name];
      if (!s || unavailable.has(name)) continue;
      const m = await memoryPhase(s, opts, tmp, users, started);
      mem.push(m);
    }
  } finally {
    await cleanup();
  }

  const m = machineInfo();
  const cmd = ['node', path.relative(REPO, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
  const md = [
    '# SIP REGISTER benchmark (UDP, digest auth, new bindings)',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${m.nproc} CPUs (${m.model}), ${fmt(m.memGb, 1)} GB RAM, ${m.kernel}, node ${m.node}, CLK_TCK ${m.clkTck}`,
    `- background load before the run: ${fmt(background, 0)} % of all CPUs busy (2 s sample of /proc/stat)`,
    ...(opts.nice ? [`- SIPp and the servers ran under \`nice -n ${opts.nice}\``] : []),
    `- command: \`${cmd}\` (from the repository root)`,
    `- load: ${m.sipp}; scenario bench/sip-register/register-uac.xml (REGISTER → 401 → REGISTER with digest credentials (qop=auth) → 200, ` +
      `Expires 3600, no retransmissions), -t u1 -r RATE -rp 1000 -m RATE×${opts.duration}${opts.durationAuto ? ' (duration auto: users ÷ Σ rates, 2–5 s)' : ''} -buff_size 4194304 -recv_timeout ${RECV_TIMEOUT_S}s, ` +
      `users from a ${fmt(opts.users)}-user CSV (bench/sip-register/gen-users.mjs, each user its own password), ` +
      'each step on the next users nobody registered yet (the "users" column); the Contact also carries the step id',
    `- servers: ${names.map((n) => n === 'kamailio'
      ? `kamailio (${m.kamailio}; bench/sip-register/kamailio-register.cfg: auth.so pv_www_authenticate against a ${fmt(opts.users)}-entry htable ` +
        `loaded from db_text, registrar + usrloc db_mode 0; -n ${opts.kamailioChildren} -m ${opts.kamailioShm})`
      : `${n} (\`node bin/opencx.js user import USERS.csv --data-dir TMP\` then \`OPENCX_SIP__WORKERS=${workersOf(n)} OPENCX_SIP__TRANSPORTS=udp OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE=0 ` +
        'node bin/opencx.js start --role sip,control --bind 127.0.0.1 --sip-port P --http-port 0 --data-dir TMP`' +
        `${opts.opencxDist === null ? '' : ` (built in ${path.relative(REPO, opts.opencxDist)}, run through bench/lib/opencx-launch.mjs)`}` +
        `${opts.opencxCpuProf === null ? '' : ` (node --cpu-prof, profiles in ${opts.opencxCpuProf}: CPU figures include the profiler)`}` +
        `${opts.opencxRoot === REPO ? '' : ` in ${path.relative(REPO, opts.opencxRoot) || '.'}`})`).join('; ')}`,
    '- SIPp and the servers share the machine. "achieved" = successful registrations / time from SIPp start to the end of ' +
      'its last call; "steady" = success rate between the first and last full 1 s stats rows; "pass" = failed < 0.1 %, ' +
      'steady ≥ 99 % and achieved ≥ 98 % of the target (SIPp\'s own start/stop is ~1 % of a step at high rates); ' +
      '"server CPU" = utime+stime of the server process tree over the step, per 1,000 registrations sent (each = 2 REGISTER ' +
      'transactions); "server RSS" = sum of VmRSS over the server\'s processes after the step (Kamailio\'s shared memory ' +
      'is counted once per process there), "PSS" = sum of Pss (/proc/PID/smaps_rollup, shared pages split: the real ' +
      'footprint); "AORs after" = users registered so far by this run (successful calls). "UDP RcvbufErrors" is system-wide.',
    '',
    ...(opts.steps ? [table(rows), '', summary(rows, names, servers), ''] : []),
    ...(mem.length > 0 ? [
      `## Memory with ${fmt(opts.users)} AORs registered`,
      '',
      `Each server started again on the same data, then SIPp registered all ${fmt(opts.users)} users at ${fmt(opts.memoryRate)}/s ` +
        '(again for any a run left out: the same Contact, so a refresh), until the server\'s own count (opencx: ' +
        '`GET /api/v1/registrations/count`; Kamailio: `kamcmd stats.get_statistics usrloc:registered_users`) reached it. ' +
        '"idle" = before any REGISTER, "loaded" = right after the last run, then again after the settle time. Σ VmRSS counts ' +
        'Kamailio\'s shared memory once per process; PSS (smaps_rollup) splits shared pages and is the fair footprint. ' +
        'opencx\'s processes: the primary first, then the SIP workers.',
      '',
      memoryTable(mem, opts),
      '',
    ] : []),
  ].join('\n');
  console.log(md);
  if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else console.error(`[bench] kept ${tmp}`);
  writeResults(opts.out, md, !(rows.every((r) => r.skipped) && mem.length === 0));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
