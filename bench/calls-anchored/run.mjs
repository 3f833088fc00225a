#!/usr/bin/env node
// Anchored-call benchmark: a carrier SIPp (127.0.0.2) calls through opencx's calls role (B2BUA, every
// call anchored in the media engine) to a gateway SIPp (127.0.0.3), with RTP both ways on every call.
//
//   node bench/calls-anchored/run.mjs [--calls 500] [--hold 60] [--rate 50] [--fallback 300,200,100]
//        [--cps-steps 10,20,40,60,80,100,120,140,160,200,250,300] [--cps-hold 2] [--cps-duration 10] [--dist dist] [--out FILE]
//        [--max-minutes 11.5] [--no-stop] [--skip-concurrency] [--skip-cps] [--keep-tmp] [--quiet-below PCT] [--quiet-wait S]
//
// 1. starts opencx (every role, `opencx start` via bench/lib/opencx-launch.mjs from the build folder
//    --dist), SIP/HTTP on free 127.0.0.1 ports, media bound to 127.0.0.1; provisions an inbound trunk
//    (ACL 127.0.0.2/32), an outbound trunk to the gateway SIPp on 127.0.0.3 (free port) and a dial plan
//    sending _1NXXNXXXXXX there;
// 2. concurrency phase: --calls calls at --rate calls/s, each held --hold s with RTP both ways
//    (SIPp rtp_stream: the A-law payload of /usr/share/sip-tester/g711a.pcap looped, 20 ms packets);
//    pass = 0 failed calls on both SIPps, peak bridges = --calls, RTP loss < 0.5 %, endpoints and
//    bridges back to 0 afterwards. If it fails, the --fallback sizes are tried (largest first) until
//    one passes;
// 3. CPS phase: calls of --cps-hold s (with RTP) at each --cps-steps rate for --cps-duration s;
//    pass = 0 failed calls, achieved ≥ 95 % of the rate, RTP loss < 0.5 %; stops after 2 failed steps.
// Writes bench/results/calls-anchored.md (or --out) and prints it. See bench/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CLK_TCK, backgroundBusy, busyPct, fmt, freePort, killLiveChildren, logTail, machineInfo, parseStatCsv, processTree, reapedChildrenCpuSeconds, runBounded,
  startServer, startSipp, stopServer, systemCpu, treeCpuSeconds, treeMemoryKb, udpSnmp, waitQuiet,
  opencxNodeFlags,
} from '../lib/common.mjs';
import { headerHelp } from '../lib/args.mjs';
import { rtpPayloadOfPcap, sampler, scrape, waitDrained } from '../lib/opencx-metrics.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const LAUNCH = path.join(REPO, 'bench', 'lib', 'opencx-launch.mjs');
const PCAP = '/usr/share/sip-tester/g711a.pcap';
const CARRIER_IP = '127.0.0.2';
const GATEWAY_IP = '127.0.0.3';
const CALLED = '12125550100'; // NANP: N=2 area code and exchange
const LOSS_LIMIT_PCT = 0.5;
const RECV_TIMEOUT_S = 10;

// ---------------------------------------------------------------- options
function options(argv) {
  const o = {
    calls: 500, hold: 60, rate: 50, fallback: [300, 200, 100], cpsSteps: [10, 20, 40, 60, 80, 100, 120, 140, 160, 200, 250, 300], cpsHold: 2, cpsDuration: 10,
    dist: 'dist', out: path.join(REPO, 'bench', 'results', 'calls-anchored.md'), stopAfter: 2, keep: false,
    skipConcurrency: false, skipCps: false, quietBelow: 30, quietWait: 10, maxMinutes: 11.5,
  };
  const list = (v) => v.split(',').filter(Boolean).map((s) => Number(s.trim()));
  const spec = {
    '--calls': ['calls', Number], '--hold': ['hold', Number], '--rate': ['rate', Number], '--fallback': ['fallback', list],
    '--cps-steps': ['cpsSteps', list], '--cps-hold': ['cpsHold', Number], '--cps-duration': ['cpsDuration', Number],
    '--dist': ['dist', String], '--out': ['out', (v) => path.resolve(v)], '--quiet-below': ['quietBelow', Number],
    '--quiet-wait': ['quietWait', Number], '--max-minutes': ['maxMinutes', Number],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.log(headerHelp(fileURLToPath(import.meta.url))); process.exit(0); }
    if (a === '--no-stop') { o.stopAfter = Infinity; continue; }
    if (a === '--keep-tmp') { o.keep = true; continue; }
    if (a === '--skip-concurrency') { o.skipConcurrency = true; continue; }
    if (a === '--skip-cps') { o.skipCps = true; continue; }
    const s = spec[a];
    if (!s) throw new Error(`unknown argument ${a} (see --help)`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    o[s[0]] = s[1](v);
  }
  for (const k of ['calls', 'hold', 'rate', 'cpsHold', 'cpsDuration']) if (!(o[k] > 0)) throw new Error(`--${k} must be > 0`);
  if (o.hold > 600) throw new Error('--hold must be ≤ 600 s');
  if ([...o.fallback, ...o.cpsSteps].some((n) => !(n > 0))) throw new Error('bad --fallback / --cps-steps');
  o.fallback = o.fallback.filter((n) => n < o.calls).sort((a, b) => b - a);
  o.distAbs = path.resolve(REPO, o.dist);
  return o;
}

// ---------------------------------------------------------------- helpers

/** A UDP port free on `ip` (bind 0 there, read back, release). */
async function freeUdpPort(ip, avoid = new Set()) {
  for (let i = 0; i < 50; i++) {
    const s = dgram.createSocket('udp4');
    const p = await new Promise((resolve, reject) => { s.once('error', reject); s.bind(0, ip, () => resolve(s.address().port)); });
    await new Promise((r) => s.close(r));
    if (!avoid.has(p)) { avoid.add(p); return p; }
  }
  throw new Error(`no free UDP port on ${ip}`);
}

/**
 * SIPp's ports on `ip`: SIP (-p), control (-cp, on 127.0.0.1 like any SIPp) and a media base (-mp)
 * from which rtp_stream hands out per-call RTP/RTCP port pairs upwards (SIPp skips ports it cannot bind).
 */
async function sippLocal(ip, avoid) {
  const sip = await freeUdpPort(ip, avoid);
  const cp = await freeUdpPort('127.0.0.1', avoid);
  let mp = await freeUdpPort(ip, avoid);
  if (mp % 2) mp -= 1;
  return { sip, cp, mp };
}


const M = {
  endpoints: 'opencx_media_endpoints', ports: 'opencx_media_ports_in_use', bridges: 'opencx_media_bridges',
  transcoding: 'opencx_media_transcoding_sessions', rx: 'opencx_media_packets_received', tx: 'opencx_media_packets_sent',
  lost: 'opencx_media_packets_lost', jitter: 'opencx_media_jitter_max_ms',
};
/** the engine holds no endpoint, bridge or port: the calls are over */
const DRAINED = [M.endpoints, M.bridges, M.ports];



/** CPU seconds of a process's main thread only (/proc/PID/task/PID/stat): Node's event loop. */
function mainThreadCpuSeconds(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Socket inodes held by a process tree (from /proc/PID/fd). */
function socketInodes(root) {
  const out = new Set();
  for (const pid of processTree(root)) {
    let fds = [];
    try { fds = fs.readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      try {
        const l = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (l.startsWith('socket:[')) out.add(l.slice(8, -1));
      } catch { /* closed meanwhile */ }
    }
  }
  return out;
}

/**
 * Kernel drops (receive buffer full) at the UDP sockets of a process tree: /proc/net/udp's "drops"
 * column per socket, remembered per inode across scrapes (a closed socket's count stays in the
 * sum). On loopback this is the only place a datagram to opencx can be lost.
 */
function socketDropTracker(root, sipPort) {
  const seen = new Map();
  const base = new Map();
  const sipInodes = new Set();
  const read = () => {
    const inodes = socketInodes(root);
    const now = new Map();
    for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13 || !inodes.has(f[9])) continue;
      now.set(f[9], Number(f[f.length - 1]));
      if (parseInt(f[1].split(':')[1], 16) === sipPort) sipInodes.add(f[9]);
    }
    return now;
  };
  for (const [k, v] of read()) base.set(k, v);
  return {
    sample() { for (const [k, v] of read()) seen.set(k, Math.max(seen.get(k) ?? 0, v)); },
    total() { let t = 0; for (const [k, v] of seen) t += v - (base.get(k) ?? 0); return t; },
    sip() { let t = 0; for (const k of sipInodes) t += (seen.get(k) ?? 0) - (base.get(k) ?? 0); return t; },
    sockets() { return seen.size; },
  };
}

const snmpDelta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - (a[k] ?? 0)]));

/**
 * RTP loss as the engine sees it: the gauges are sums over the endpoints open at the scrape, so a
 * scrape taken while every call of the phase is still up covers each call from its start. The
 * chosen sample is the last one before the bridge count starts to fall (the most traffic).
 */
function engineLoss(samples) {
  const ok = samples.filter((s) => s.m);
  if (!ok.length) return null;
  const peak = Math.max(...ok.map((s) => s.m[M.bridges] ?? 0));
  let best = null;
  for (const s of ok) {
    if ((s.m[M.bridges] ?? 0) === peak) best = s;
    else if (best && (s.m[M.bridges] ?? 0) < peak) break;
  }
  // highest-traffic sample overall as the weighted view over short calls (CPS phase)
  let sumRx = 0;
  let sumLost = 0;
  for (const s of ok) { sumRx += s.m[M.rx] ?? 0; sumLost += s.m[M.lost] ?? 0; }
  const rx = best?.m[M.rx] ?? 0;
  const lost = best?.m[M.lost] ?? 0;
  return {
    peakBridges: peak,
    peakEndpoints: Math.max(...ok.map((s) => s.m[M.endpoints] ?? 0)),
    peakPorts: Math.max(...ok.map((s) => s.m[M.ports] ?? 0)),
    transcoding: Math.max(...ok.map((s) => s.m[M.transcoding] ?? 0)),
    jitterMaxMs: Math.max(...ok.map((s) => s.m[M.jitter] ?? 0)),
    atPeak: { rx, lost, tx: best?.m[M.tx] ?? 0, pct: rx + lost > 0 ? (100 * lost) / (rx + lost) : NaN, t: best?.t },
    weighted: { rx: sumRx, lost: sumLost, pct: sumRx + sumLost > 0 ? (100 * sumLost) / (sumRx + sumLost) : NaN },
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = options(process.argv.slice(2));
  const startedAt = Date.now();
  if (!fs.existsSync(path.join(opts.distAbs, 'src', 'cli', 'main.js'))) throw new Error(`${opts.distAbs}/src/cli/main.js missing: build first (npx tsc -p tsconfig.json --outDir ${opts.dist})`);
  if (!fs.existsSync(PCAP)) throw new Error(`${PCAP} missing (Debian sip-tester ships it)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opencx-bench-anchored-'));
  const env = {
    OCX_DIST: opts.distAbs,
    OPENCX_MEDIA__BIND: '127.0.0.1',
    OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE: '0',
    OPENCX_SIP__TRANSPORTS: 'udp',
    OPENCX_LOG__LEVEL: 'warn',
  };
  let server = null;
  let gateway = null;
  const conc = [];
  const cps = [];
  const notes = [];
  const cleanup = async () => {
    killLiveChildren();
    if (gateway) await gateway.stop();
    if (server) await stopServer(server);
  };
  const onSignal = () => { cleanup().finally(() => { if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true }); process.exit(130); }); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // the whole run is bounded by --max-minutes: a step that would not fit is skipped; at the deadline
  // every SIPp is killed (the step fails, the report is still written); 45 s later the run exits
  const budgetS = opts.maxMinutes * 60;
  const deadline = startedAt + budgetS * 1000;
  const fits = (seconds) => Date.now() + seconds * 1000 < deadline;
  const watchdog = setTimeout(() => {
    console.error(`[bench] time budget of ${opts.maxMinutes} min reached: stopping SIPp`);
    notes.push(`the run reached its time budget (${opts.maxMinutes} min) and was cut short`);
    killLiveChildren();
    setTimeout(() => { console.error('[bench] still running 45 s after the budget: exiting'); onSignal(); }, 45000).unref();
  }, budgetS * 1000);
  watchdog.unref();

  const mem = {};
  let provisionText = '';
  let background = NaN;
  const avoid = new Set();
  const sipPort = await freePort();
  const httpPort = await freePort();
  avoid.add(sipPort).add(httpPort);
  const gwLocal = await sippLocal(GATEWAY_IP, avoid);
  const rtpFile = path.join(tmp, 'g711a.al');
  const scen = {};
  try {
    background = await backgroundBusy();
    const payload = rtpPayloadOfPcap(PCAP);
    fs.writeFileSync(rtpFile, payload);
    for (const f of ['carrier-uac.xml', 'gateway-uas.xml']) {
      scen[f] = path.join(tmp, f);
      fs.writeFileSync(scen[f], fs.readFileSync(path.join(HERE, f), 'utf8').replaceAll('[rtp_file]', rtpFile));
    }
    console.error(`[bench] RTP source: ${payload.length} bytes of A-law from ${PCAP} (${fmt(payload.length / 8000, 2)} s, looped)`);

    // ---- opencx
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const startArgs = [...opencxNodeFlags(), LAUNCH, 'start', '--bind', '127.0.0.1', '--sip-port', String(sipPort), '--sip-tls-port', '0', '--ws-port', '0',
      '--wss-port', '0', '--http-port', String(httpPort), '--data-dir', dataDir, '--log-level', 'warn'];
    server = startServer('opencx', process.execPath, startArgs, REPO, path.join(tmp, 'opencx.log'), 0, env);
    let ready = false;
    for (let i = 0; i < 120 && !server.exited && !ready; i++) {
      try { ready = (await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) })).ok; } catch { /* not yet */ }
      if (!ready) await delay(250);
    }
    if (!ready) throw new Error(`opencx not ready after 30 s (${server.exited ? `exited ${JSON.stringify(server.exitInfo)}` : 'no 200 from /readyz'})\n${logTail(server.logFile)}`);
    console.error(`[bench] opencx pid ${server.pid}: SIP udp 127.0.0.1:${sipPort}, HTTP ${httpPort}, build ${path.relative(REPO, opts.distAbs) || '.'}`);

    // ---- provisioning through the CLI against the running server
    const maxLoad = Math.max(opts.calls, ...opts.cpsSteps.map((r) => r * (opts.cpsHold + 3)));
    const plan = path.join(tmp, 'dialplan.json');
    // an inbound trunk call reaches the dial plan as E.164 (+1...), hence the second rule
    fs.writeFileSync(plan, JSON.stringify({ rules: [
      { name: 'to-gw', match: { number: '_1NXXNXXXXXX' }, target: { type: 'trunk', trunk: 'gw' } },
      { name: 'to-gw-e164', match: { number: '_+1NXXNXXXXXX' }, target: { type: 'trunk', trunk: 'gw' } },
    ] }));
    const cli = async (...args) => {
      const r = await runBounded(process.execPath, [LAUNCH, ...args, '--data-dir', dataDir], { cwd: REPO, env, limitS: 60 });
      if (r.code !== 0) throw new Error(`opencx ${args.join(' ')} failed (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' / ')}`);
      return r.out;
    };
    const provision = [
      ['trunk', 'add', 'carrier', '--acl', `${CARRIER_IP}/32`, '--direction', 'inbound', '--country-code', '1', '--max-calls', String(maxLoad * 2), '--cps', '2000'],
      ['trunk', 'add', 'gw', '--direction', 'outbound', '--gateway', `${GATEWAY_IP}:${gwLocal.sip};transport=udp`, '--country-code', '1', '--max-calls', String(maxLoad * 2), '--cps', '2000'],
      ['dialplan', 'set', plan],
    ];
    for (const p of provision) await cli(...p);
    provisionText = provision.map((p) => `\`opencx ${p.join(' ').replace(plan, 'plan.json').replace(String(gwLocal.sip), 'PORT')}\``).join(', ');

    // ---- gateway UAS (runs for the whole benchmark, answers every call)
    const gwLimitS = budgetS;
    gateway = startSipp([`127.0.0.1:${sipPort}`, '-sf', scen['gateway-uas.xml'], '-t', 'u1', '-i', GATEWAY_IP, '-p', String(gwLocal.sip),
      '-cp', String(gwLocal.cp), '-mi', GATEWAY_IP, '-mp', String(gwLocal.mp), '-buff_size', '4194304', '-nostdin',
      '-recv_timeout', `${opts.hold + 60}s`, '-trace_stat', '-stf', path.join(tmp, 'gw-stat.csv'), '-fd', '1',
      '-trace_err', '-error_file', path.join(tmp, 'gw-errors.log')], gwLimitS, 0, path.join(tmp, 'gateway.log'));
    await delay(700);
    if (gateway.child.exitCode !== null) throw new Error(`gateway SIPp exited at once: ${(await gateway.done).stderr.trim().split('\n').slice(-3).join(' / ')}`);
    console.error(`[bench] gateway SIPp on ${GATEWAY_IP}:${gwLocal.sip} (media base ${gwLocal.mp})`);

    // idle memory: mean of 3 readings 1 s apart once provisioning has settled (V8's heap moves with GC)
    await delay(2000);
    const reads = [];
    for (let i = 0; i < 3; i++) { reads.push(treeMemoryKb(server.pid)); await delay(1000); }
    try { mem.idleHeapMb = ((await scrape(httpPort)).nodejs_heap_size_used_bytes ?? NaN) / 1048576; } catch { mem.idleHeapMb = NaN; }
    mem.idle = { rss: reads.reduce((a, r) => a + r.rss, 0) / reads.length, pss: reads.reduce((a, r) => a + r.pss, 0) / reads.length };

    // ---- one SIPp carrier run
    let runNo = 0;
    const runCarrier = async ({ calls, rate, holdS, label }) => {
      runNo++;
      const quiet = await waitQuiet(opts.quietBelow, opts.quietWait);
      const local = await sippLocal(CARRIER_IP, avoid);
      const statFile = path.join(tmp, `uac-${runNo}.csv`);
      const args = [`127.0.0.1:${sipPort}`, '-sf', scen['carrier-uac.xml'], '-s', CALLED, '-t', 'u1', '-i', CARRIER_IP, '-p', String(local.sip),
        '-cp', String(local.cp), '-mi', CARRIER_IP, '-mp', String(local.mp), '-m', String(calls), '-r', String(rate), '-rp', '1000',
        '-l', String(calls), '-d', String(Math.round(holdS * 1000)), '-buff_size', '4194304', '-recv_timeout', `${RECV_TIMEOUT_S}s`, '-nostdin',
        '-trace_stat', '-stf', statFile, '-fd', '1', '-trace_err', '-error_file', path.join(tmp, `uac-${runNo}-errors.log`)];
      const pre = await waitDrained(httpPort, 90, DRAINED);
      const gwStat0 = gwStats(tmp);
      const snmp0 = udpSnmp();
      const cpu0 = treeCpuSeconds(server.pid);
      const main0 = mainThreadCpuSeconds(server.pid);
      const gwCpu0 = treeCpuSeconds(gateway.child.pid);
      const uacCpu0 = reapedChildrenCpuSeconds();
      const sys0 = systemCpu();
      const drops = socketDropTracker(server.pid, sipPort);
      const smp = sampler(server, httpPort, { everyMs: 1000, extra: () => ({ main: mainThreadCpuSeconds(server.pid) }), afterSample: () => drops.sample() });
      const t0 = Date.now();
      const limitS = calls / rate + holdS + RECV_TIMEOUT_S * 3 + 30;
      const uac = startSipp(args, limitS, 0, path.join(tmp, `uac-${runNo}.log`));
      const res = await uac.done;
      const wall = (Date.now() - t0) / 1000;
      const cpu1 = treeCpuSeconds(server.pid);
      const main1 = mainThreadCpuSeconds(server.pid);
      const gwCpu1 = treeCpuSeconds(gateway.child.pid);
      const uacCpu1 = reapedChildrenCpuSeconds();
      const sys1 = systemCpu();
      await delay(1500); // let the last BYEs settle on the gateway side
      const drained = await waitDrained(httpPort, 20, DRAINED);
      await smp.stop();
      drops.sample();
      const snmp = snmpDelta(snmp0, udpSnmp());
      const gwStat1 = gwStats(tmp);
      let st = null;
      try { st = parseStatCsv(statFile); } catch { /* none */ }
      const ok = st?.ok ?? 0;
      const failed = Math.max(st?.failed ?? 0, calls - ok);
      const timing = uacTiming(statFile, calls);
      const loss = engineLoss(smp.samples);
      const memSamples = smp.samples.filter((s) => s.mem && s.m);
      const peakMem = memSamples.reduce((a, s) => (s.mem.rss > (a?.rss ?? 0) ? s.mem : a), null) ?? treeMemoryKb(server.pid);
      const peakPss = Math.max(0, ...memSamples.map((s) => s.mem.pss));
      const peakHeap = Math.max(0, ...memSamples.map((s) => s.m.nodejs_heap_size_used_bytes ?? 0));
      // CPU while every call is up: between the first and last samples at the peak bridge count
      const atPeak = smp.samples.filter((s) => s.m && loss && (s.m[M.bridges] ?? 0) === loss.peakBridges);
      // the busiest second of the event loop (1 s scrapes)
      let mainMaxPct = NaN;
      const withMain = smp.samples.filter((x) => Number.isFinite(x.main));
      for (let k = 1; k < withMain.length; k++) {
        const pct = (100 * (withMain[k].main - withMain[k - 1].main)) / Math.max(0.2, (withMain[k].t - withMain[k - 1].t) / 1000);
        if (!(pct <= mainMaxPct)) mainMaxPct = pct;
      }
      const span = atPeak.length >= 2 ? (atPeak[atPeak.length - 1].t - atPeak[0].t) / 1000 : NaN;
      const peakCpuPct = atPeak.length >= 2 ? (100 * (atPeak[atPeak.length - 1].cpu - atPeak[0].cpu)) / span : NaN;
      const peakMainPct = atPeak.length >= 2 ? (100 * (atPeak[atPeak.length - 1].main - atPeak[0].main)) / span : NaN;
      const gwOk = gwStat1 && gwStat0 ? gwStat1.ok - gwStat0.ok : gwStat1?.ok ?? NaN;
      const gwFailed = gwStat1 && gwStat0 ? gwStat1.failed - gwStat0.failed : gwStat1?.failed ?? NaN;
      const scrapeErrors = smp.samples.filter((s) => s.error).length;
      const row = {
        label, calls, rate, holdS, ok, failed, timeouts: st?.timeouts ?? 0, unexpected: st?.unexpected ?? 0, retrans: st?.retrans ?? 0,
        elapsed: st?.elapsed || wall, achieved: timing.createRate, setupMs: timing.setupMs, slowSetups: timing.slow,
        gwOk, gwFailed, loss, drained, snmp, quiet, wall,
        cpuS: cpu1 - cpu0, cpuPerCall: (cpu1 - cpu0) / calls, cpuPct: (100 * (cpu1 - cpu0)) / wall, peakCpuPct, peakMainPct,
        mainPct: (100 * (main1 - main0)) / wall, gwCpuPct: (100 * (gwCpu1 - gwCpu0)) / wall, uacCpuPct: (100 * (uacCpu1 - uacCpu0)) / wall,
        preDrained: pre, mainMaxPct,
        systemBusy: busyPct(sys0, sys1), peakRssKb: peakMem.rss, peakPssKb: peakPss, idleRssKb: mem.idle.rss, idlePssKb: mem.idle.pss,
        afterRssKb: treeMemoryKb(server.pid).rss, peakHeapMb: peakHeap / 1048576, idleHeapMb: mem.idleHeapMb,
        killed: res.killed, serverExited: server.exited, scrapeErrors,
      };
      const lossPct = holdS >= 10 ? loss?.atPeak.pct : loss?.weighted.pct;
      row.lossPct = lossPct;
      row.kernelDrops = snmp.RcvbufErrors ?? 0;
      row.opencxDrops = drops.total();
      row.opencxSockets = drops.sockets();
      row.sipDrops = drops.sip();
      row.relayPct = loss && loss.atPeak.rx > 0 ? (100 * loss.atPeak.tx) / loss.atPeak.rx : NaN;
      row.pass = !res.killed && !server.exited && failed === 0 && ok === calls && (Number.isNaN(gwFailed) || gwFailed === 0)
        && Number.isFinite(lossPct) && lossPct < LOSS_LIMIT_PCT && drained.ok
        && (100 * row.opencxDrops) / Math.max(1, loss?.atPeak.rx ?? 0) < LOSS_LIMIT_PCT;
      const why = [];
      if (failed) why.push(`${failed} failed at the carrier (${row.timeouts} recv timeouts, ${row.unexpected} unexpected)`);
      if (gwFailed) why.push(`${gwFailed} failed at the gateway`);
      if (!(lossPct < LOSS_LIMIT_PCT)) why.push(`RTP loss ${fmt(lossPct, 3)} %`);
      if (!((100 * row.opencxDrops) / Math.max(1, loss?.atPeak.rx ?? 0) < LOSS_LIMIT_PCT)) why.push(`${row.opencxDrops} datagrams dropped at opencx's sockets`);
      if (!drained.ok) why.push(`not drained after 20 s (endpoints ${drained.m?.[M.endpoints]}, bridges ${drained.m?.[M.bridges]}, ports ${drained.m?.[M.ports]})`);
      if (res.killed) why.push('SIPp killed at its time limit');
      if (server.exited) why.push(`opencx exited ${JSON.stringify(server.exitInfo)}`);
      if (!pre.ok) why.push(`calls of the previous run still up at the start (endpoints ${pre.m?.[M.endpoints]}, bridges ${pre.m?.[M.bridges]})`);
      if (!st) why.push(`no SIPp stats (exit ${res.code}: ${res.stderr.trim().split('\n').pop() ?? ''})`);
      row.why = why.join('; ');
      return row;
    };

    // ---- concurrency phase
    if (!opts.skipConcurrency) {
      for (const n of [opts.calls, ...opts.fallback]) {
        if (server.exited) break;
        // keep room for the CPS phase: about 25 s per step
        const need = n / Math.min(opts.rate, n) + opts.hold + 40 + (opts.skipCps ? 0 : 25 * opts.cpsSteps.length);
        if (n !== opts.calls && !fits(need)) { notes.push(`concurrency ${n} skipped: it would not fit in the time budget`); continue; }
        console.error(`[bench] concurrency: ${n} calls at ${opts.rate}/s, each held ${opts.hold} s with RTP both ways`);
        const row = await runCarrier({ calls: n, rate: Math.min(opts.rate, n), holdS: opts.hold, label: 'concurrency' });
        conc.push(row);
        console.error(`[bench]   ok ${row.ok}/${n}, failed ${row.failed}, peak bridges ${row.loss?.peakBridges}, loss ${fmt(row.lossPct, 3)} % ` +
          `(engine rx ${fmt(row.loss?.atPeak.rx)} lost ${fmt(row.loss?.atPeak.lost)}), drops at opencx sockets ${row.opencxDrops} (SIP socket ${row.sipDrops}; ${row.opencxSockets} sockets seen; system RcvbufErrors +${row.kernelDrops}), relayed/received ${fmt(row.relayPct, 2)} %, ` +
          `CPU ${fmt(row.cpuS, 1)} s (${fmt(row.peakCpuPct, 0)} % at peak, main thread ${fmt(row.peakMainPct, 0)} %), busy ${fmt(row.systemBusy, 0)} %, RSS peak ${fmt(row.peakRssKb / 1024, 1)} MB -> ${row.pass ? 'pass' : `FAIL: ${row.why}`}`);
        if (row.pass) break;
        await delay(3000);
      }
    }

    // ---- CPS phase
    if (!opts.skipCps) {
      let fails = 0;
      for (const r of opts.cpsSteps) {
        if (!fits(opts.cpsDuration + opts.cpsHold + 30)) { cps.push({ rate: r, skipped: true, why: 'time budget' }); continue; }
        if (server.exited || fails >= opts.stopAfter) { cps.push({ rate: r, skipped: true, why: server.exited ? 'opencx exited' : `after ${opts.stopAfter} failed steps` }); continue; }
        const calls = Math.round(r * opts.cpsDuration);
        console.error(`[bench] cps: ${calls} calls at ${r}/s, each held ${opts.cpsHold} s with RTP`);
        const row = await runCarrier({ calls, rate: r, holdS: opts.cpsHold, label: 'cps' });
        if (!(row.achieved >= 0.95 * r)) { row.pass = false; row.why = [row.why, `calls created at ${fmt(row.achieved, 1)}/s < 95 % of ${r}/s`].filter(Boolean).join('; '); }
        cps.push(row);
        fails = row.pass ? 0 : fails + 1;
        console.error(`[bench]   ok ${row.ok}/${calls}, failed ${row.failed}, created at ${fmt(row.achieved, 1)}/s, setup ${fmt(row.setupMs, 0)} ms mean (${row.slowSetups} ≥ 1 s), peak bridges ${row.loss?.peakBridges}, loss ${fmt(row.lossPct, 3)} %, ` +
          `CPU ${fmt(row.cpuPerCall * 1000, 1)} ms/call (${fmt(row.cpuPct, 0)} %, main thread ${fmt(row.mainPct, 0)} %, busiest 1 s ${fmt(row.mainMaxPct, 0)} %; SIPp carrier ${fmt(row.uacCpuPct, 0)} %, gateway ${fmt(row.gwCpuPct, 0)} %), busy ${fmt(row.systemBusy, 0)} % -> ${row.pass ? 'pass' : `FAIL: ${row.why}`}`);
        await delay(2000);
      }
    }
    mem.end = server.exited ? null : treeMemoryKb(server.pid);
    if (server.exited) notes.push(`opencx exited during the run: ${JSON.stringify(server.exitInfo)}; log tail: ${logTail(server.logFile, 5).replaceAll('\n', ' / ')}`);
  } catch (e) {
    notes.push(`run aborted: ${String(e?.message ?? e).split('\n')[0]}`);
    console.error(`[bench] ${e?.stack ?? e}`);
    if (server) console.error(`--- opencx log tail ---\n${logTail(server.logFile)}`);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }

  // ---------------------------------------------------------------- report
  const m = machineInfo();
  const cmd = ['node', path.relative(REPO, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
  const mb = (kb) => fmt(kb / 1024, 1);
  const concHead = ['calls', 'rate/s', 'hold s', 'ok', 'failed (carrier)', 'failed (gateway)', 'setup ms (mean INVITE→200)', 'peak bridges', 'peak endpoints',
    'transcoding', 'engine RTP rx at peak', 'engine RTP lost at peak', 'RTP loss %', 'relayed / received %', 'max jitter ms', 'drops at opencx sockets (of which SIP)', 'system UDP RcvbufErrors Δ',
    'back to 0 (endpoints, bridges, ports)', 'opencx CPU s', 'CPU s / call', 'CPU % at peak', 'main thread CPU % at peak', 'CPU % / 100 calls at peak', 'carrier / gateway SIPp CPU %',
    'RSS idle → peak → after MB', 'RSS MB / 100 calls', 'PSS idle → peak MB', 'PSS MB / 100 calls', 'V8 heap used idle → peak MB', 'system busy %', 'pass', 'why not'];
  const concRows = conc.map((r) => [fmt(r.calls), fmt(r.rate), fmt(r.holdS), fmt(r.ok), fmt(r.failed), fmt(r.gwFailed), fmt(r.setupMs, 0), fmt(r.loss?.peakBridges),
    fmt(r.loss?.peakEndpoints), fmt(r.loss?.transcoding), fmt(r.loss?.atPeak.rx), fmt(r.loss?.atPeak.lost), fmt(r.lossPct, 3), fmt(r.relayPct, 2), fmt(r.loss?.jitterMaxMs, 1),
    `${fmt(r.opencxDrops)} (${fmt(r.sipDrops)})`, fmt(r.kernelDrops), r.drained.ok ? `yes (${fmt(r.drained.afterS, 1)} s)` : 'NO', fmt(r.cpuS, 1), fmt(r.cpuPerCall, 3), fmt(r.peakCpuPct, 0), fmt(r.peakMainPct, 0),
    fmt((r.peakCpuPct * 100) / (r.loss?.peakBridges || NaN), 1), `${fmt(r.uacCpuPct, 0)} / ${fmt(r.gwCpuPct, 0)}`,
    `${mb(r.idleRssKb)} → ${mb(r.peakRssKb)} → ${mb(r.afterRssKb)}`, fmt(((r.peakRssKb - r.idleRssKb) / 1024) * (100 / r.calls), 2),
    `${mb(r.idlePssKb)} → ${mb(r.peakPssKb)}`, fmt(((r.peakPssKb - r.idlePssKb) / 1024) * (100 / r.calls), 2),
    `${fmt(r.idleHeapMb, 1)} → ${fmt(r.peakHeapMb, 1)}`,
    fmt(r.quiet, 0), fmt(r.systemBusy, 0), r.pass ? 'yes' : 'NO', r.why || '']);
  const cpsHead = ['target calls/s', 'calls', 'hold s', 'ok', 'failed (carrier)', 'failed (gateway)', 'calls created /s', 'setup ms (mean INVITE→200)', 'setups ≥ 1 s', 'peak bridges',
    'RTP loss % (engine, weighted over samples)', 'drops at opencx sockets (of which SIP)', 'system UDP RcvbufErrors Δ', 'back to 0', 'opencx CPU % (whole step)', 'main thread CPU % (whole step / busiest 1 s)', 'CPU ms / call', 'carrier / gateway SIPp CPU %',
    'RSS peak MB', 'busy before %', 'system busy %', 'pass', 'why not'];
  const cpsRows = cps.map((r) => (r.skipped ? [fmt(r.rate), ...cpsHead.slice(1, -1).map(() => '–'), r.why]
    : [fmt(r.rate), fmt(r.calls), fmt(r.holdS), fmt(r.ok), fmt(r.failed), fmt(r.gwFailed), fmt(r.achieved, 1), fmt(r.setupMs, 0), fmt(r.slowSetups), fmt(r.loss?.peakBridges),
      fmt(r.lossPct, 3), `${fmt(r.opencxDrops)} (${fmt(r.sipDrops)})`, fmt(r.kernelDrops), r.drained.ok ? 'yes' : 'NO', fmt(r.cpuPct, 0), `${fmt(r.mainPct, 0)} / ${fmt(r.mainMaxPct, 0)}`, fmt(r.cpuPerCall * 1000, 1), `${fmt(r.uacCpuPct, 0)} / ${fmt(r.gwCpuPct, 0)}`, mb(r.peakRssKb),
      fmt(r.quiet, 0), fmt(r.systemBusy, 0), r.pass ? 'yes' : 'NO', r.why || '']));
  const tbl = (head, rows) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const bestConc = conc.filter((r) => r.pass).sort((a, b) => b.calls - a.calls)[0];
  const bestCps = cps.filter((r) => r.pass).sort((a, b) => b.rate - a.rate)[0];
  const quickCps = cps.filter((r) => r.pass && r.slowSetups <= 0.01 * r.calls).sort((a, b) => b.rate - a.rate)[0];
  const target = conc.find((r) => r.calls === opts.calls);
  const md = [
    '# Anchored calls through opencx (B2BUA + media engine), SIPp trunk load with RTP on every call',
    '',
    `- date: ${new Date().toISOString()} (run took ${fmt((Date.now() - startedAt) / 1000, 0)} s)`,
    `- machine: ${m.nproc} CPUs (${m.model}), ${fmt(m.memGb, 1)} GB RAM, ${m.kernel}, node ${m.node}, ${m.sipp}`,
    `- background load before the run: ${fmt(background, 0)} % of all CPUs busy (2 s sample of /proc/stat)`,
    `- command: \`${cmd}\` (from the repository root; opencx from the build folder \`${opts.dist}\`)`,
    `- opencx: \`OPENCX_MEDIA__BIND=127.0.0.1 OPENCX_SIP__TRANSPORTS=udp OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE=0 OPENCX_LOG__LEVEL=warn ` +
      'opencx start --bind 127.0.0.1 --sip-port P --http-port H ...` (every role in one process tree; media ports from the default range); ' +
      `provisioned with the CLI against the running server: ${provisionText || '(not provisioned)'}; the carrier dials ${CALLED}.`,
    `- load: carrier SIPp on ${CARRIER_IP} (bench/calls-anchored/carrier-uac.xml, INVITE offering PCMA only, ACK, hold \`-d\`, BYE; ` +
      `-recv_timeout ${RECV_TIMEOUT_S}s) and gateway SIPp on ${GATEWAY_IP} (gateway-uas.xml, 200 with PCMA SDP, waits for BYE). ` +
      'Both play RTP for the whole call with SIPp\'s `rtp_stream` (loop -1, PT 8, 160-byte/20 ms packets; SIPp 3.6.1 sends every call from its one -mp socket, to the opencx endpoint of that call) ' +
      `from the A-law payload of ${PCAP}, so every call carries 50 packets/s in each direction, relayed by the engine (same codec both legs).`,
    '- RTP loss: the engine\'s own counters from `/metrics` (`opencx_media_packets_received`, `opencx_media_packets_lost`: RFC 3550 A.3 ' +
      'per endpoint, summed over the endpoints open at the scrape, scraped every second). Concurrency phase: the last scrape while ' +
      'every call was up (covers each call from its start to that moment); CPS phase (short calls): Σ lost / Σ (received + lost) over all ' +
      'scrapes. "relayed / received" = opencx_media_packets_sent / opencx_media_packets_received at that scrape (a pure relay sends ' +
      'what the other leg received). "drops at opencx sockets" = the drops column of /proc/net/udp for the sockets of the opencx ' +
      'process tree over the step (on loopback a datagram to opencx can only be lost there); "system UDP RcvbufErrors" = /proc/net/snmp, ' +
      'every socket of the machine, and includes the SIPps\' own RTP sockets, which SIPp 3.6.1 never reads (see below).',
    '- SIPp 3.6.1 (Debian) facts: `rtp_stream` exists (build "PCAP-RTPSTREAM"), `[rtpstream_audio_port]` is the -mp port and every ' +
      'call of one SIPp streams from that single socket (no per-call RTP ports in 3.6.1); received RTP is not read (its queue fills and ' +
      'the kernel drops the rest), RTCP to -mp+1 finds no socket. So loss is measured on opencx\'s side: what reached its endpoints (RFC 3550 ' +
      'sequence accounting) and what its sockets dropped.',
    '- CPU: utime+stime of the opencx process tree from /proc/PID/stat (threads included) over the SIPp run; "at peak" between the first ' +
      'and last scrape with every call up; "main thread" = /proc/PID/task/PID/stat alone (Node\'s event loop: near 100 % it is the limit). ' +
      'SIPp CPU: the carrier (reaped child) and the gateway over the same run. Memory: Σ VmRSS and Σ Pss (smaps_rollup) of the tree, idle (after provisioning, before any ' +
      'call) and the highest scrape during the phase; "per 100 calls" = (peak − idle) / calls × 100. These move with V8\'s garbage ' +
      'collection (idle RSS was 350–680 MB across runs of the same build), so compare the "after" column and the V8 heap ' +
      '(`nodejs_heap_size_used_bytes` from /metrics) too.',
    '- pass: 0 failed calls on both SIPps, every call completed, RTP loss < 0.5 %, endpoints, bridges and ports back to 0 within 20 s ' +
      'after the last call (CPS steps also need SIPp to have created the calls at ≥ 95 % of the target rate: calls / time of the ' +
      'last creation, from its 1 s stats rows). A step starts only once the previous one has drained (up to 90 s).',
    '- peer: Kamailio has no media anchoring, so no peer runs here; the peer for anchored media is rtpengine (kernel-less here), ' +
      'compared engine-to-engine in bench/media-relay.',
    ...notes.map((n) => `- NOTE: ${n}`),
    '',
    '## Concurrency: calls held with RTP both ways',
    '',
    conc.length ? tbl(concHead, concRows) : '(not run)',
    '',
    '## Calls per second: short anchored calls with RTP',
    '',
    cps.length ? tbl(cpsHead, cpsRows) : '(not run)',
    '',
    '## Summary',
    '',
    `- ${opts.calls} concurrent anchored calls held ${opts.hold} s: ${target ? (target.pass ? '**pass**' : `**fail** (${target.why})`) : 'not run'}.`,
    `- highest passing concurrency: ${bestConc ? `${fmt(bestConc.calls)} calls (${fmt(bestConc.cpuPerCall, 3)} CPU s per ${bestConc.holdS} s call, ` +
      `${fmt((bestConc.peakCpuPct * 100) / bestConc.loss.peakBridges, 1)} % of one CPU per 100 calls at peak, ` +
      `${fmt(((bestConc.peakRssKb - bestConc.idleRssKb) / 1024) * (100 / bestConc.calls), 2)} MB RSS per 100 calls)` : 'none'}.`,
    `- calls-per-second ceiling (anchored, ${opts.cpsHold} s calls with RTP): ${bestCps ? `**${fmt(bestCps.rate)} calls/s** passes ` +
      `(${fmt(bestCps.cpuPerCall * 1000, 1)} ms CPU per call)` : 'no step passed'}` +
      `${cps.some((r) => !r.skipped && !r.pass) ? `; first failing step ${fmt(cps.find((r) => !r.skipped && !r.pass).rate)} calls/s` : cps.length ? '; every step passed (the ceiling is higher than the last step)' : ''}.`,
    `- highest passing step where setup latency also stayed low (≤ 1 % of INVITEs answered after ≥ 1 s): ${quickCps ? `${fmt(quickCps.rate)} calls/s ` +
      `(mean setup ${fmt(quickCps.setupMs, 0)} ms)` : 'none'}.`,
    '',
  ].join('\n');
  console.log(md);
  if (!conc.length && !cps.length) {
    console.error(`[bench] nothing ran; ${path.relative(process.cwd(), opts.out)} left unchanged`);
    process.exitCode = 1;
  } else {
    fs.mkdirSync(path.dirname(opts.out), { recursive: true });
    fs.writeFileSync(opts.out, md);
    console.error(`[bench] wrote ${path.relative(process.cwd(), opts.out)}`);
  }
  if (opts.keep) console.error(`[bench] kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

/**
 * From SIPp's -trace_stat CSV: the rate at which calls were created (calls / time of the last
 * creation, interpolated between the 1 s rows), the mean INVITE→200 time (ResponseTime1(C), ms) and
 * how many setups took ≥ 1 s.
 */
function uacTiming(file, calls) {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const head = lines[0].split(';');
    const col = (k) => head.indexOf(k);
    const epoch = (v) => Number(String(v).split('\t').pop());
    const rows = lines.slice(1).map((l) => l.split(';'));
    const t = (f) => epoch(f[col('CurrentTime')]) - epoch(f[col('StartTime')]);
    const created = (f) => Number(f[col('OutgoingCall(C)')]);
    let createRate = NaN;
    const i = rows.findIndex((f) => created(f) >= calls);
    if (i > 0) {
      const a = rows[i - 1];
      const b = rows[i];
      const tEnd = t(a) + ((calls - created(a)) / Math.max(1, created(b) - created(a))) * (t(b) - t(a));
      createRate = calls / Math.max(0.001, tEnd);
    } else if (i === 0) createRate = calls / Math.max(0.001, t(rows[0]));
    const last = rows[rows.length - 1];
    const rt = String(last[col('ResponseTime1(C)')] ?? '').split(':').map(Number);
    const setupMs = rt.length === 4 ? (rt[0] * 3600 + rt[1] * 60 + rt[2]) * 1000 + rt[3] / 1000 : NaN;
    const slow = Number(last[col('ResponseTimeRepartition1_>=1000')] ?? NaN);
    return { createRate, setupMs, slow };
  } catch {
    return { createRate: NaN, setupMs: NaN, slow: NaN };
  }
}

/** Latest row of the gateway's -trace_stat CSV ({ ok, failed } cumulative), or null. */
function gwStats(tmp) {
  try {
    const lines = fs.readFileSync(path.join(tmp, 'gw-stat.csv'), 'utf8').trim().split('\n');
    if (lines.length < 2) return null;
    const head = lines[0].split(';');
    const f = lines[lines.length - 1].split(';');
    return { ok: Number(f[head.indexOf('SuccessfulCall(C)')]), failed: Number(f[head.indexOf('FailedCall(C)')]) };
  } catch {
    return null;
  }
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  killLiveChildren();
  process.exit(1);
});
