#!/usr/bin/env node
// Media relay benchmark: concurrent bidirectional RTP streams through opencx's media engine and
// through rtpengine (userspace forwarding), side by side in stream-count steps.
//
//   node bench/media-relay/run.mjs [--engines opencx,rtpengine] [--steps 50,100,200,400,800]
//        [--duration 20] [--transcode] [--modes relay|transcode|relay,transcode]
//        [--transcode-steps 10,25,50,100,200] [--dist DIR] [--opencx-module FILE]
//        [--load-procs 1|2] [--pin ENGINE_CPU:LOAD_CPU | --no-pin] [--ramp 2] [--settle 1]
//        [--no-stop] [--out FILE] [--nice N] [--quiet-below PCT] [--quiet-wait S]
//
// relay: PCMU (20 ms, 160-byte payloads) on both legs, the engine relays without decoding.
// transcode (--transcode adds it after relay): PCMU on leg A, Opus on leg B (real Opus frames).
// Per step: a baseline (the generator sends straight to itself, no engine) and then each engine.
// pass = loss < 0.1 %, added p99 jitter (p99 |interarrival − 20 ms| minus the baseline's) < 5 ms,
// every payload intact (relay) and every stream alive.
// opencx runs in bench/media-relay/opencx-relay-server.mjs, which imports createLocalMediaEngine
// from DIR/src/media/index.js (--dist, default dist: run `npm run build` first).
// Plain ESM JavaScript so it runs without a build. See bench/README.md and bench/media-relay/README.md.
import { spawn, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CLK_TCK, freePort, logTail, startServer, stopServer, systemCpu, busyPct, treeCpuSeconds, treeMemoryKb, udpSnmp, waitQuiet } from '../lib/common.mjs';
import { headerHelp } from '../lib/args.mjs';
import { freeUdpRange } from './ports.mjs';
import { encode as bencode, decode as bdecode } from './bencode.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('rtpengine-client');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SELF = fileURLToPath(import.meta.url);
const RTPENGINE = process.env.RTPENGINE ?? '/usr/bin/rtpengine';
const TASKSET = '/usr/bin/taskset';
const LOSS_LIMIT_PCT = 0.1;
const JITTER_LIMIT_MS = 5;
const SETUP_CONCURRENCY = 16;
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- arguments
function parseArgs(argv) {
  const today = new Date().toISOString().slice(0, 10);
  const opts = {
    engines: ['opencx', 'rtpengine'],
    steps: [50, 100, 200, 400, 800],
    transcodeSteps: [10, 25, 50, 100, 200],
    modes: ['relay'],
    duration: 20,
    ramp: 2,
    settle: 1,
    dist: path.join(REPO, 'dist'),
    opencxModule: null,
    loadProcs: 1,
    pin: os.availableParallelism() >= 2 ? [1, 0] : null,
    stopAfterFailures: 2,
    out: path.join(REPO, 'bench', 'results', `media-relay-${today}.md`),
    nice: 0,
    quietBelow: 25,
    quietWait: 10, // shorter than the SIP benches': the default run must stay under 10 minutes
    engineRanges: [], // media port ranges of the engines started (kept clear of the generator's)
  };
  const list = (v) => v.split(',').map((s) => Number(s.trim()));
  const names = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  const spec = {
    '--engines': ['engines', names],
    '--steps': ['steps', list],
    '--transcode-steps': ['transcodeSteps', list],
    '--modes': ['modes', names],
    '--duration': ['duration', Number],
    '--ramp': ['ramp', Number],
    '--settle': ['settle', Number],
    '--dist': ['dist', (v) => path.resolve(v)],
    '--opencx-module': ['opencxModule', (v) => path.resolve(v)],
    '--load-procs': ['loadProcs', Number],
    '--pin': ['pin', (v) => v.split(':').map(Number)],
    '--out': ['out', (v) => path.resolve(v)],
    '--nice': ['nice', Number],
    '--quiet-below': ['quietBelow', Number],
    '--quiet-wait': ['quietWait', Number],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { console.log(headerHelp(SELF)); process.exit(0); }
    if (a === '--transcode') { opts.modes = ['relay', 'transcode']; continue; }
    if (a === '--no-stop') { opts.stopAfterFailures = Infinity; continue; }
    if (a === '--no-pin') { opts.pin = null; continue; }
    const s = spec[a];
    if (!s) throw new Error(`unknown argument ${a} (see --help)`);
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    opts[s[0]] = s[1](v);
  }
  if (opts.engines.some((e) => e !== 'opencx' && e !== 'rtpengine') || !opts.engines.length) throw new Error('--engines takes opencx and/or rtpengine');
  if (opts.modes.some((m) => m !== 'relay' && m !== 'transcode') || !opts.modes.length) throw new Error('--modes takes relay and/or transcode');
  for (const l of [opts.steps, opts.transcodeSteps]) if (l.some((n) => !Number.isInteger(n) || n <= 0 || n > 5000)) throw new Error('steps are stream counts in 1..5000');
  if (!(opts.duration > 0 && opts.duration <= 120)) throw new Error('--duration must be in (0, 120] seconds');
  if (![1, 2].includes(opts.loadProcs)) throw new Error('--load-procs is 1 or 2 (2 cores: the engine needs CPU too)');
  if (opts.pin && (opts.pin.length !== 2 || opts.pin.some((c) => !Number.isInteger(c) || c < 0 || c >= os.availableParallelism()))) throw new Error('--pin ENGINE_CPU:LOAD_CPU with CPUs of this machine');
  if (opts.pin && !fs.existsSync(TASKSET)) throw new Error(`${TASKSET} missing (util-linux); use --no-pin`);
  return opts;
}

/** [cmd, args] wrapped in taskset (CPU pinning) and nice, when asked. */
function wrap(cmd, args, cpu, nice) {
  let c = cmd;
  let a = args;
  if (nice) { a = ['-n', String(nice), c, ...a]; c = '/usr/bin/nice'; }
  if (cpu !== null && cpu !== undefined) { a = ['-c', String(cpu), c, ...a]; c = TASKSET; }
  return [c, a];
}

// ---------------------------------------------------------------- rtpengine install check
function ensureRtpengine() {
  if (fs.existsSync(RTPENGINE)) return;
  const how = 'apt-get install -y --no-install-recommends rtpengine-daemon (Debian bookworm: rtpengine 10.5)';
  if (process.getuid?.() !== 0) throw new Error(`${RTPENGINE} not found. Install it as root: ${how}; or run with --engines opencx`);
  console.error(`[bench] ${RTPENGINE} not found: installing rtpengine-daemon`);
  // --no-install-recommends: otherwise apt also pulls the recording daemon, NFS client and rpcbind.
  // In a container policy-rc.d stops the postinst from starting the rtpengine-daemon service; on a
  // systemd host the service starts on ng port 2223 and media ports 30000-40000 (from
  // /etc/rtpengine/rtpengine.conf). This bench never uses it: its own rtpengine runs with
  // --config-file=none on free ports.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'rtpengine-daemon'], { stdio: 'inherit', env });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'rtpengine-daemon'], { stdio: 'inherit', env });
  }
  if (!fs.existsSync(RTPENGINE)) throw new Error(`apt-get did not install ${RTPENGINE}`);
}

function rtpengineVersion() {
  try {
    // it prints the version on stderr
    return execFileSync('/bin/sh', ['-c', `${RTPENGINE} --version 2>&1`], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch (e) {
    return String(e.stdout || 'unknown').trim().split('\n')[0];
  }
}

// ---------------------------------------------------------------- ng control
async function newNgClient() {
  const client = new Client({ localPort: 0, localAddress: '127.0.0.1', timeout: 5000 });
  // rtpengine-client emits 'error' (fatal if unhandled) for any datagram it cannot decode
  client.on('error', (err) => console.error(`[bench] ng client: ${String(err?.message ?? err).slice(0, 120)}`));
  await new Promise((resolve, reject) => {
    client.once('listening', resolve);
    client.once('error', reject);
  });
  return client;
}

async function waitForPong(client, port, isAlive, timeoutS = 15) {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    if (!isAlive()) return false;
    try {
      const r = await client.ping({ port, host: '127.0.0.1' });
      if (r?.result === 'pong') return true;
    } catch { /* not up yet (timeout) */ }
    await delay(200);
  }
  return false;
}

/** every engine process started, for cleanup even when its start failed half-way */
const startedServers = [];

/** One ng request without rtpengine-client (for the opencx server's own 'gc' verb); resolves the reply dict. */
async function ngRaw(port, request, timeoutMs = 3000) {
  const sock = dgram.createSocket('udp4');
  try {
    await new Promise((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const cookie = `bench${process.pid}`;
    const reply = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('ng timeout')), timeoutMs);
      sock.on('message', (m) => {
        const space = m.indexOf(0x20);
        if (m.toString('latin1', 0, space) !== cookie) return;
        clearTimeout(timer);
        resolve(bdecode(m, space + 1)[0]);
      });
    });
    sock.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(request)]), port, '127.0.0.1');
    return await reply;
  } finally {
    sock.close();
  }
}

/** Start one engine; returns { name, server, ngPort, range, client, version, idleRss } or throws. */
async function startEngine(name, opts, tmp, avoidRanges) {
  const ngPort = await freePort();
  // rtpengine takes an RTP/RTCP pair per leg (4 ports a stream); opencx at most the same
  const size = Math.max(2000, Math.min(20000, 8 * Math.max(...opts.steps, ...opts.transcodeSteps) + 200));
  const range = freeUdpRange(size, avoidRanges);
  const cpu = opts.pin ? opts.pin[0] : null;
  let server;
  let version;
  if (name === 'rtpengine') {
    // userspace only: --table=-1 (no kernel forwarding table); --config-file=none so that
    // /etc/rtpengine/rtpengine.conf (table = 0, port 2223, ports 30000-40000) is not read
    const args = ['--config-file=none', '--table=-1', '--foreground', '--log-stderr', '--log-level=4',
      '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${ngPort}`, `--port-min=${range[0]}`, `--port-max=${range[1]}`,
      '--delete-delay=0', '--timeout=60', `--num-threads=${opts.pin ? 1 : os.availableParallelism()}`];
    server = startServer(name, ...wrap(RTPENGINE, args, cpu, opts.nice), REPO, path.join(tmp, 'rtpengine.log'));
    server.commandLine = `rtpengine ${args.join(' ')}`;
    version = rtpengineVersion();
  } else {
    const args = ['--expose-gc', path.join(HERE, 'opencx-relay-server.mjs'), '--listen', String(ngPort), '--port-min', String(range[0]), '--port-max', String(range[1])];
    if (opts.opencxModule) args.push('--module', opts.opencxModule);
    else args.push('--dist', opts.dist);
    const module = opts.opencxModule ?? path.join(opts.dist, 'src', 'media', 'index.js');
    if (!fs.existsSync(module)) throw new Error(`${path.relative(REPO, module)} not found: run \`npm run build\` (or pass --dist DIR)`);
    server = startServer(name, ...wrap(process.execPath, args, cpu, opts.nice), REPO, path.join(tmp, 'opencx.log'));
    server.commandLine = `node --expose-gc ${path.relative(REPO, args[1])} ${args.slice(2).map((a) => (a.startsWith(REPO) ? path.relative(REPO, a) || '.' : a)).join(' ')}`;
    version = `createLocalMediaEngine from ${path.relative(REPO, module)}`;
  }
  startedServers.push(server);
  const client = await newNgClient();
  const engine = { name, server, ngPort, range, client, version };
  if (!(await waitForPong(client, ngPort, () => !server.exited))) {
    const why = server.exited ? `exited ${JSON.stringify(server.exitInfo)}` : 'no pong to an ng ping within 15 s';
    client.close();
    await stopServer(server);
    throw new Error(`${why}\n--- ${name} log tail ---\n${logTail(server.logFile)}`);
  }
  await delay(1000);
  // opencx: a full GC first, so start-up garbage does not count as idle memory (rtpengine ignores it)
  if (name === 'opencx') { await ngRaw(ngPort, { command: 'gc' }).catch(() => {}); await delay(200); }
  engine.idleRssKb = treeMemoryKb(server.pid).rss;
  return engine;
}

// ---------------------------------------------------------------- SDP
function sdp(port, pts, rtpmaps, session) {
  return ['v=0', `o=- ${session} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP ${pts.join(' ')}`, ...rtpmaps, 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

/** address, port and payload types of the first audio m-line, and the payload type of opus */
function parseSdp(text) {
  const m = /^m=audio (\d+) [A-Z/]+ ([\d ]+)/m.exec(text ?? '');
  if (!m) throw new Error(`no m=audio line in SDP: ${JSON.stringify(text)?.slice(0, 300)}`);
  const c = /^c=IN IP4 (\S+)/m.exec(text)?.[1];
  const opus = /^a=rtpmap:(\d+) opus\/48000/im.exec(text);
  return { address: c, port: Number(m[1]), pts: m[2].trim().split(/\s+/).map(Number), opusPt: opus ? Number(opus[1]) : null };
}

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Offer/answer one stream through the engine; returns { callId, callerDest, calleeDest, calleePt, transcoding }. */
async function setupCall(engine, mode, index, callerPort, calleePort, tag) {
  const dest = { port: engine.ngPort, host: '127.0.0.1' };
  const callId = `mr-${tag}-${index}`;
  const offer = {
    'call-id': callId, 'from-tag': `a${index}`, sdp: sdp(callerPort, [0], ['a=rtpmap:0 PCMU/8000'], 1000 + index),
    replace: ['origin', 'session-connection'], ICE: 'remove', 'transport-protocol': 'RTP/AVP',
  };
  if (mode === 'transcode') offer.codec = { transcode: ['opus'] };
  const r1 = await engine.client.offer(dest, offer);
  if (r1?.result !== 'ok') throw new Error(`offer: ${r1?.['error-reason'] ?? JSON.stringify(r1)}`);
  const toB = parseSdp(r1.sdp);
  let calleeSdp;
  let calleePt;
  if (mode === 'relay') {
    if (!toB.pts.includes(0)) throw new Error(`engine's offer to B has no PCMU: m= ${toB.pts.join(' ')}`);
    calleePt = 0;
    calleeSdp = sdp(calleePort, [0], ['a=rtpmap:0 PCMU/8000'], 2000 + index);
  } else {
    if (toB.opusPt === null) throw new Error('engine\'s offer to B has no opus/48000 (no transcoding support?)');
    calleePt = toB.opusPt;
    calleeSdp = sdp(calleePort, [calleePt], [`a=rtpmap:${calleePt} opus/48000/2`, `a=fmtp:${calleePt} useinbandfec=0; maxplaybackrate=48000`], 2000 + index);
  }
  const r2 = await engine.client.answer(dest, { 'call-id': callId, 'from-tag': `a${index}`, 'to-tag': `b${index}`, sdp: calleeSdp, replace: ['origin', 'session-connection'], ICE: 'remove' });
  if (r2?.result !== 'ok') throw new Error(`answer: ${r2?.['error-reason'] ?? JSON.stringify(r2)}`);
  const toA = parseSdp(r2.sdp);
  if (!toA.pts.includes(0)) throw new Error(`engine's answer to A has no PCMU: m= ${toA.pts.join(' ')}`);
  return { callId, fromTag: `a${index}`, callerDest: toA.port, calleeDest: toB.port, calleePt, calleeCodec: mode === 'relay' ? 'pcmu' : 'opus', transcoding: r2.transcoding };
}

async function deleteCall(engine, call) {
  try {
    await engine.client.delete({ port: engine.ngPort, host: '127.0.0.1' }, { 'call-id': call.callId, 'from-tag': call.fromTag });
  } catch { /* engine gone or slow: it is stopped at the end anyway */ }
}

// ---------------------------------------------------------------- load generator processes
const liveLoads = new Set();

function startLoad(cpu, nice) {
  const [cmd, args] = wrap(process.execPath, [path.join(HERE, 'load.mjs')], cpu, nice);
  const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  liveLoads.add(child);
  child.on('exit', () => liveLoads.delete(child));
  child.on('error', () => { /* a send on a closed channel: the exit handler settles the waiters */ });
  const waiters = [];
  child.on('message', (m) => {
    const w = waiters.shift();
    if (!w) return;
    if (m.type === 'error') w.reject(new Error(`load generator: ${m.error}`));
    else w.resolve(m);
  });
  child.on('exit', (code, sig) => { for (const w of waiters.splice(0)) w.reject(new Error(`load generator exited ${code ?? sig}`)); });
  return {
    child,
    request(msg) {
      return new Promise((resolve, reject) => {
        if (!child.connected) { reject(new Error('load generator gone')); return; }
        waiters.push({ resolve, reject });
        child.send(msg);
      });
    },
    close() {
      try { if (child.connected) child.send({ type: 'close' }); } catch { /* gone */ }
      setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 2000).unref();
    },
  };
}

function killLoads() {
  for (const c of liveLoads) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  liveLoads.clear();
}

function procCpuSeconds(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- one step
function p99Ms(hist) {
  const total = hist.reduce((a, b) => a + b, 0);
  if (!total) return NaN;
  const target = Math.ceil(total * 0.99);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= target) return ((i + 1) * 10) / 1000; // upper edge of the 10 µs bin
  }
  return NaN;
}

/**
 * One measurement: `engine` null = baseline (the generator's sockets send straight to each other).
 * Everything after the call setup is bounded by a watchdog at duration + 10 s.
 */
async function runStep(engine, mode, n, opts, stepTag) {
  const row = { engine: engine ? engine.name : 'baseline', mode, streams: n, note: '' };
  const procs = Math.min(opts.loadProcs, n);
  const loads = Array.from({ length: procs }, () => startLoad(opts.pin ? opts.pin[1] : null, opts.nice));
  const calls = [];
  const t0 = Date.now();
  // the whole step (setup included, teardown bounded apart) ends within ramp + settle + duration + 10 s
  let watchdog;
  const timeout = new Promise((_, reject) => {
    watchdog = setTimeout(() => reject(new Error('step exceeded ramp + settle + duration + 10 s')), (opts.ramp + opts.settle + opts.duration + 10) * 1000);
  });
  timeout.catch(() => {});
  try {
    const share = loads.map((_, i) => Math.floor(n / procs) + (i < n % procs ? 1 : 0));
    // the generator's own ports: RTP/RTCP pairs (4 ports a stream) in a range nothing else uses
    const perProc = 4 * Math.max(...share) + 200;
    const [genLo] = freeUdpRange(perProc * procs, opts.engineRanges);
    let first = 0;
    const opened = [];
    for (let i = 0; i < procs; i++) {
      const portMin = genLo + i * perProc;
      opened.push(loads[i].request({ type: 'open', count: share[i], firstIndex: first, recvBuf: 1 << 20, portMin, portMax: portMin + perProc - 1 }));
      first += share[i];
    }
    const ports = (await Promise.race([Promise.all(opened), timeout])).flatMap((m) => m.ports);
    let targets;
    if (engine) {
      const setups = await Promise.race([mapLimit(ports, SETUP_CONCURRENCY, async ([callerPort, calleePort], i) => {
        const c = await setupCall(engine, mode, i, callerPort, calleePort, stepTag);
        calls.push(c);
        return c;
      }), timeout]);
      targets = setups;
      if (mode === 'transcode' && setups.some((s) => s.transcoding === 0)) row.note += 'engine says the bridge does not transcode; ';
      if (mode === 'relay' && setups.some((s) => s.transcoding === 1)) row.note += 'engine says the bridge transcodes (not the relay path); ';
    } else {
      targets = ports.map(([callerPort, calleePort]) => ({ callerDest: calleePort, calleeDest: callerPort, calleePt: mode === 'relay' ? 0 : 111, calleeCodec: mode === 'relay' ? 'pcmu' : 'opus' }));
    }
    row.setupS = (Date.now() - t0) / 1000;

    const startAt = now() + 300;
    const windowStart = startAt + (opts.ramp + opts.settle) * 1000;
    const windowEnd = windowStart + opts.duration * 1000;
    const common = { type: 'start', mode, baseline: !engine, startAt, rampMs: opts.ramp * 1000, windowStart, windowEnd };
    first = 0;
    const results = [];
    for (let i = 0; i < procs; i++) {
      // the second process's streams sit 2.5 ms later in the frame than the first's
      results.push(loads[i].request({ ...common, targets: targets.slice(first, first + share[i]), phaseOffsetMs: i * 2.5 }));
      first += share[i];
    }
    const enginePid = engine?.server.pid;
    const loadPids = loads.map((l) => l.child.pid);
    const sample = () => ({
      engineCpu: engine ? treeCpuSeconds(enginePid) : 0,
      loadCpu: loadPids.reduce((a, p) => a + procCpuSeconds(p), 0),
      sys: systemCpu(), snmp: udpSnmp(), t: now(),
    });
    const sampling = (async () => {
      await delay(Math.max(0, windowStart - now()));
      const a = sample();
      await delay(Math.max(0, (windowStart + windowEnd) / 2 - now()));
      const rss = engine ? treeMemoryKb(enginePid).rss : NaN;
      await delay(Math.max(0, windowEnd - now()));
      const b = sample();
      return { a, b, rss };
    })();
    const [outs, s] = await Promise.race([Promise.all([Promise.all(results), sampling]), timeout]);
    const res = outs.map((m) => m.result);
    const span = (s.b.t - s.a.t) / 1000;
    const dirs = [0, 1].map((d) => res.reduce((acc, r) => {
      for (const k of Object.keys(r.dirs[d])) if (k !== 'pt' && k !== 'len') acc[k] = (acc[k] ?? 0) + r.dirs[d][k];
      if (acc.pt === undefined || acc.pt < 0) { acc.pt = r.dirs[d].pt; acc.len = r.dirs[d].len; }
      return acc;
    }, {}));
    const hist = new Array(res[0].hist[0].length).fill(0);
    for (const r of res) for (const h of r.hist) for (let i = 0; i < h.length; i++) hist[i] += h[i];
    const sumHist = (key) => (res[0][key] ? res.reduce((h, r) => h.map((v, i) => v + r[key][i]), new Array(hist.length).fill(0)) : null);
    const corr = sumHist('histCorr');
    const oneWay = sumHist('histDelay');
    row.p99Corr = corr ? p99Ms(corr) : NaN;
    row.p99Delay = oneWay ? p99Ms(oneWay) : NaN;
    const sentWin = dirs[0].sentWin + dirs[1].sentWin;
    const lostWin = dirs[0].lostWin + dirs[1].lostWin;
    const recvWin = dirs[0].recvWin + dirs[1].recvWin;
    Object.assign(row, {
      sentWin, recvWin, lostWin,
      lossPct: sentWin ? (100 * lostWin) / sentWin : NaN,
      lossAbPct: dirs[0].sentWin ? (100 * dirs[0].lostWin) / dirs[0].sentWin : NaN,
      lossBaPct: dirs[1].sentWin ? (100 * dirs[1].lostWin) / dirs[1].sentWin : NaN,
      delivered: dirs[0].recvTotal + dirs[1].recvTotal,
      sentTotal: dirs[0].sentTotal + dirs[1].sentTotal,
      bad: dirs[0].bad + dirs[1].bad, dup: dirs[0].dup + dirs[1].dup,
      deadStreams: dirs[0].deadStreams + dirs[1].deadStreams,
      rxAb: `PT ${dirs[0].pt}/${dirs[0].len} B`, rxBa: `PT ${dirs[1].pt}/${dirs[1].len} B`,
      p99: p99Ms(hist),
      p99Ab: p99Ms(res.reduce((h, r) => h.map((v, i) => v + r.hist[0][i]), new Array(hist.length).fill(0))),
      p99Ba: p99Ms(res.reduce((h, r) => h.map((v, i) => v + r.hist[1][i]), new Array(hist.length).fill(0))),
      lateTicks: res.reduce((a, r) => a + r.lateTicks, 0),
      maxLateMs: Math.max(...res.map((r) => r.maxLateMs)),
      skippedMs: Math.max(...res.map((r) => r.skippedMs)),
      sendErrors: res.reduce((a, r) => a + r.sendErrors, 0),
      rtcp: res.reduce((a, r) => a + r.rtcp, 0),
      engineCpuS: s.b.engineCpu - s.a.engineCpu,
      engineCpuPct: (100 * (s.b.engineCpu - s.a.engineCpu)) / span,
      loadCpuPct: (100 * (s.b.loadCpu - s.a.loadCpu)) / span,
      systemBusy: busyPct(s.a.sys, s.b.sys),
      rcvbufErrors: s.b.snmp.RcvbufErrors - s.a.snmp.RcvbufErrors,
      rssKb: s.rss,
      span,
    });
    row.cpuUsPerPacket = engine && recvWin ? (row.engineCpuS * 1e6) / recvWin : NaN;
    row.cpuPctPer100 = engine ? (row.engineCpuPct * 100) / n : NaN;
  } catch (err) {
    row.error = String(err?.message ?? err).split('\n')[0];
  } finally {
    clearTimeout(watchdog);
    if (engine) await Promise.race([mapLimit(calls, SETUP_CONCURRENCY, (c) => deleteCall(engine, c)), delay(8000)]);
    for (const l of loads) l.close();
    await delay(300);
  }
  return row;
}

// ---------------------------------------------------------------- output
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');

function judge(row, base) {
  if (row.skipped || row.error) return;
  row.baseP99 = base?.p99 ?? NaN;
  row.addedP99 = Number.isFinite(row.baseP99) ? row.p99 - row.baseP99 : row.p99;
  row.addedP99Corr = row.p99Corr - (base?.p99Corr ?? NaN);
  const reasons = [];
  if (!(row.lossPct < LOSS_LIMIT_PCT)) reasons.push(`loss ${fmt(row.lossPct, 3)} %`);
  if (row.bad) reasons.push(`${row.bad} wrong packets`);
  if (row.deadStreams) reasons.push(`${row.deadStreams} stream directions received nothing`);
  // a starved generator (it skipped sending to catch up) measures itself, not the engine: such a
  // step is void (neither pass nor an engine failure) unless the engine also lost or broke packets
  const invalid = Boolean(row.skippedMs || base?.skippedMs || base?.error);
  if (!invalid && !(row.addedP99 < JITTER_LIMIT_MS)) reasons.push(`added p99 ${fmt(row.addedP99, 2)} ms`);
  row.void = invalid && reasons.length === 0;
  row.pass = !invalid && reasons.length === 0;
  if (invalid) reasons.push(`generator could not keep up (skipped sending${base?.skippedMs ? ' in the baseline' : ''}): step void`);
  if (reasons.length) row.note += `${reasons.join(', ')}; `;
  if (base && !base.error && !(base.lossPct < LOSS_LIMIT_PCT)) row.note += 'the baseline lost packets too: generator-limited; ';
}

function table(rows) {
  const out = [
    '| engine | streams | loss % (A→B / B→A) | p99 \\|Δ−20 ms\\| ms | added p99 ms | p99 \\|Δrecv−Δsend\\| ms (added) | p99 one-way delay ms | engine CPU % of a core | % core per 100 streams | CPU µs/packet | RSS MB | load CPU % | system busy % | RcvbufErrors Δ | received (A→B, B→A) | pass | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.skipped || r.error) {
      out.push(`| ${r.engine} | ${fmt(r.streams)} | | | | | | | | | | | | | | ${r.engine === 'baseline' ? '' : 'NO'} | ${(r.error ?? r.note).replace(/\|/g, '/')} |`);
      continue;
    }
    const base = r.engine === 'baseline';
    out.push(`| ${r.engine} | ${fmt(r.streams)} | ${fmt(r.lossPct, 3)} (${fmt(r.lossAbPct, 3)} / ${fmt(r.lossBaPct, 3)}) | ${fmt(r.p99, 2)} | ${base ? '' : fmt(r.addedP99, 2)} | ` +
      `${fmt(r.p99Corr, 2)}${base || !Number.isFinite(r.p99Corr) ? '' : ` (${fmt(r.addedP99Corr, 2)})`} | ${fmt(r.p99Delay, 2)} | ` +
      `${base ? '' : fmt(r.engineCpuPct, 1)} | ${base ? '' : fmt(r.cpuPctPer100, 2)} | ${base ? '' : fmt(r.cpuUsPerPacket, 1)} | ${base ? '' : fmt(r.rssKb / 1024, 1)} | ` +
      `${fmt(r.loadCpuPct, 0)} | ${fmt(r.systemBusy, 0)} | ${fmt(r.rcvbufErrors)} | ${r.rxAb}, ${r.rxBa} | ${base ? (r.lossPct < LOSS_LIMIT_PCT ? 'ok' : 'LOSSY') : r.pass ? 'yes' : r.void ? 'void' : 'NO'} | ` +
      `${(r.note + (r.lateTicks ? `generator late ticks ${r.lateTicks} (max ${fmt(r.maxLateMs, 1)} ms)${r.skippedMs ? `, skipped ${fmt(r.skippedMs)} ms of sending` : ''}; ` : '') + (r.dup ? `${r.dup} duplicates; ` : '') + (r.rtcp ? `${r.rtcp} RTCP packets from the engine (not counted); ` : '') + (r.sendErrors ? `${r.sendErrors} send errors; ` : '')).trim()} |`);
  }
  return out.join('\n');
}

function summary(mode, rows, engines) {
  const best = {};
  const lines = [];
  for (const e of engines) {
    const mine = rows.filter((r) => r.engine === e.name && r.mode === mode);
    const na = mine.length && mine.every((r) => r.error || r.skipped) ? (mine[0].error ?? mine[0].note) : null;
    const passing = mine.filter((r) => r.pass).sort((a, b) => b.streams - a.streams);
    const top = passing[0];
    const largest = mine.filter((r) => !r.error && !r.skipped && Number.isFinite(r.rssKb)).sort((a, b) => b.streams - a.streams)[0];
    best[e.name] = na ? 'n/a' : top ? top.streams : 0;
    const rssPer100 = top && Number.isFinite(top.rssKb) ? ((top.rssKb - e.idleRssKb) / top.streams) * 100 / 1024 : NaN;
    const perCore = top && top.engineCpuPct > 0 ? top.streams / (top.engineCpuPct / 100) : NaN;
    lines.push(`- **${e.name}**: ${na ? `n/a (${na.split('\n')[0]})` : top ? `highest passing ${top.streams} streams at ${fmt(top.engineCpuPct, 1)} % of a core ` +
      `(${fmt(top.cpuPctPer100, 2)} % per 100 streams, ${fmt(top.cpuUsPerPacket, 1)} µs per relayed packet; ≈ ${fmt(perCore)} streams per core by CPU); ` +
      `RSS idle ${fmt(e.idleRssKb / 1024, 1)} MB, ${fmt(top.rssKb / 1024, 1)} MB at ${top.streams} streams → ${fmt(rssPer100, 2)} MB per 100 streams` : 'no step passed'}` +
      `${largest && largest !== top ? `; largest step run: ${largest.streams} streams, RSS ${fmt(largest.rssKb / 1024, 1)} MB (${fmt(((largest.rssKb - e.idleRssKb) / largest.streams) * 100 / 1024, 2)} MB per 100 streams over idle), ${fmt(largest.cpuUsPerPacket, 1)} µs per packet` : ''}.`);
  }
  const o = best.opencx;
  const r = best.rtpengine;
  const ratio = typeof o === 'number' && typeof r === 'number' && r > 0 ? fmt(o / r, 2) : 'n/a';
  const parts = engines.map((e) => `${e.name} ${best[e.name]}`);
  lines.unshift(`**highest passing (${mode}): ${parts.join(', ')}${engines.length === 2 ? `, ratio ${ratio}` : ''}**`, '');
  return lines.join('\n');
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
  };
}

// ---------------------------------------------------------------- main
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opencx-bench-media-'));
  const engines = [];
  const unavailable = [];
  const cleanup = async () => {
    killLoads();
    for (const e of engines) { try { e.client.close(); } catch { /* closed */ } }
    await Promise.all(startedServers.map((s) => stopServer(s)));
  };
  // last resort (an exception on the way out): SIGKILL what is left of the engines' process groups
  process.on('exit', () => {
    killLoads();
    for (const s of startedServers) if (!s.exited) { try { process.kill(-s.pid, 'SIGKILL'); } catch { /* gone */ } }
  });
  const onSignal = () => {
    console.error('[bench] interrupted: stopping everything');
    cleanup().finally(() => { fs.rmSync(tmp, { recursive: true, force: true }); process.exit(130); });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const rows = [];
  let background = NaN;
  const started = Date.now();
  try {
    const b0 = systemCpu();
    await delay(2000);
    background = busyPct(b0, systemCpu());
    const avoid = [];
    for (const name of opts.engines) {
      try {
        if (name === 'rtpengine') ensureRtpengine();
        const e = await startEngine(name, opts, tmp, avoid);
        avoid.push(e.range);
        opts.engineRanges = avoid;
        engines.push(e);
        console.error(`[bench] ${name} up: pid ${e.server.pid}, ng 127.0.0.1:${e.ngPort}, media ports ${e.range.join('-')}, idle RSS ${fmt(e.idleRssKb / 1024, 1)} MB`);
      } catch (err) {
        console.error(`[bench] ${name} not available: ${err.message}`);
        unavailable.push({ name, why: err.message.split('\n')[0] });
      }
    }
    for (const mode of opts.modes) {
      const steps = mode === 'relay' ? opts.steps : opts.transcodeSteps;
      const failures = new Map(engines.map((e) => [e.name, 0]));
      for (let i = 0; i < steps.length; i++) {
        const n = steps[i];
        const active = engines.filter((e) => !e.server.exited && failures.get(e.name) < opts.stopAfterFailures);
        for (const e of engines.filter((x) => !active.includes(x))) {
          rows.push({ engine: e.name, mode, streams: n, skipped: true, note: e.server.exited ? `engine exited ${JSON.stringify(e.server.exitInfo)}` : `after ${opts.stopAfterFailures} failed steps` });
        }
        for (const u of unavailable) rows.push({ engine: u.name, mode, streams: n, skipped: true, note: `not available: ${u.why}` });
        if (!active.length) continue;
        const busyBefore = await waitQuiet(opts.quietBelow, opts.quietWait);
        let base = await runStep(null, mode, n, opts, `${mode}-${n}-base`);
        if (base.error || base.skippedMs) {
          // a baseline the generator could not keep up with makes the engines' rows void: once more
          console.error(`[bench] ${mode} ${n} baseline not valid (${base.error ?? `generator skipped ${base.skippedMs} ms`}): running it again`);
          base = await runStep(null, mode, n, opts, `${mode}-${n}-base2`);
        }
        base.busyBefore = busyBefore;
        rows.push(base);
        console.error(`[bench] ${mode} ${n} baseline (setup ${fmt(base.setupS, 1)} s): loss ${fmt(base.lossPct, 3)} %, p99 ${fmt(base.p99, 2)} ms, load CPU ${fmt(base.loadCpuPct)} %${base.error ? ` ERROR ${base.error}` : ''}`);
        // alternate which engine goes first at each step so neither always runs on a warmer box
        const order = i % 2 === 0 ? active : [...active].reverse();
        for (const e of order) {
          await waitQuiet(opts.quietBelow, Math.min(opts.quietWait, 5));
          const row = await runStep(e, mode, n, opts, `${mode}-${n}-${e.name}`);
          judge(row, base);
          if (e.server.exited) { row.pass = false; row.note += `engine exited during the step ${JSON.stringify(e.server.exitInfo)}; `; }
          rows.push(row);
          // a void step (generator starved) is no evidence either way: it neither resets nor counts
          if (!row.void) failures.set(e.name, row.pass ? 0 : failures.get(e.name) + 1);
          console.error(`[bench] ${mode} ${n} ${e.name} (setup ${fmt(row.setupS, 1)} s): ${row.error ? `ERROR ${row.error}` : `loss ${fmt(row.lossPct, 3)} %, p99 ${fmt(row.p99, 2)} ms (added ${fmt(row.addedP99, 2)}), ` +
            `CPU ${fmt(row.engineCpuPct, 1)} % (${fmt(row.cpuUsPerPacket, 1)} µs/pkt), RSS ${fmt(row.rssKb / 1024, 1)} MB, rx ${row.rxAb} ${row.rxBa} -> ${row.pass ? 'pass' : row.void ? 'void' : 'FAIL'}`}`);
        }
      }
    }
    // a last RSS/idle look and the logs' complaints, for the notes
    for (const e of engines) {
      e.logErrors = fs.existsSync(e.server.logFile) ? fs.readFileSync(e.server.logFile, 'utf8').split('\n').filter((l) => /ERR|CRIT|error/i.test(l)).length : 0;
    }
  } finally {
    await cleanup();
  }

  const m = machineInfo();
  const cmd = ['node', path.relative(REPO, SELF), ...process.argv.slice(2)].join(' ');
  const cores = opts.pin
    ? `the engine under test ran pinned to CPU ${opts.pin[0]} (\`taskset -c ${opts.pin[0]}\`, rtpengine with --num-threads=1) and the load generator (${opts.loadProcs} process${opts.loadProcs > 1 ? 'es' : ''}) to CPU ${opts.pin[1]}: each engine had one core to itself (apart from whatever else ran on the box)`
    : `no pinning: the engine (rtpengine --num-threads=${os.availableParallelism()}) and the load generator (${opts.loadProcs} process${opts.loadProcs > 1 ? 'es' : ''}) shared all ${os.availableParallelism()} cores`;
  const sections = [];
  for (const mode of opts.modes) {
    const mine = rows.filter((r) => r.mode === mode);
    if (!mine.length) continue;
    sections.push(`## ${mode === 'relay' ? 'Relay: PCMU ↔ PCMU (no decoding)' : 'Transcode: PCMU (leg A) ↔ Opus (leg B)'}`, '', table(mine), '', summary(mode, rows, [...engines, ...unavailable.map((u) => ({ name: u.name, idleRssKb: NaN }))]), '');
  }
  const md = [
    '# Media relay benchmark: opencx vs rtpengine',
    '',
    `- date: ${new Date(started).toISOString()} (run took ${fmt((Date.now() - started) / 1000)} s)`,
    `- machine: ${m.nproc} CPUs (${m.model}), ${m.kernel}, node ${m.node}, CLK_TCK ${CLK_TCK}`,
    `- background load before the run: ${fmt(background, 0)} % of all CPUs busy (2 s sample of /proc/stat)`,
    `- command: \`${cmd}\` (from the repository root)`,
    ...engines.map((e) => `- ${e.name}: ${e.version}; \`${e.server.commandLine}\`; idle RSS ${fmt(e.idleRssKb / 1024, 1)} MB${e.logErrors ? `; ${e.logErrors} error lines in its log` : ''}`),
    ...unavailable.map((u) => `- ${u.name}: not available (${u.why})`),
    `- cores: ${cores}`,
    `- load: bench/media-relay/load.mjs; per stream two UDP sockets (caller = leg A, callee = leg B) on 127.0.0.1, one RTP packet every 20 ms each way ` +
      `(PCMU 160-byte payloads; in transcode mode leg B sends Opus, 48 kHz mono 32 kbit/s frames of a 1 kHz tone encoded once by opusscript); ` +
      `one 5 ms tick per process, each stream on one of the four 5 ms slots of the frame; streams start staggered over ${opts.ramp} s, ` +
      `then ${opts.settle} s settle, then a ${opts.duration} s measurement window.`,
    '- columns: "loss" = packets sent in the window that never arrived (relay: exact, by a counter the generator writes into each payload, which also proves ' +
      'the payload crossed the engine untouched; transcode: packets sent in the window − packets received from its start to the end of the drain, summed over streams); ' +
      '"p99 |Δ−20 ms|" = p99 over all packets of |interarrival − 20 ms| for consecutive packets of a stream direction arriving in the window; ' +
      '"added p99" = that minus the baseline\'s at the same stream count (baseline = the generator sending straight to itself, no engine, run just before): the pass criterion; ' +
      '"p99 |Δrecv−Δsend|" (relay only) = the same deviation measured against the actual send times of the two packets, so the generator\'s own late sends drop out (in brackets: minus the baseline\'s), ' +
      'and "one-way delay" = p99 of arrival − send time (both read in the generator process); a shared, busy box inflates the first figure much more than these two; ' +
      '"engine CPU" = utime+stime of the engine process (all threads; /proc/PID/stat) over the window; "CPU µs/packet" per packet delivered through the engine in the window; ' +
      '"RSS" = VmRSS of the engine in the middle of the window; "load CPU" = the generator processes\' CPU; "system busy" from /proc/stat over the window (anything else on the box counts); ' +
      '"RcvbufErrors" = system-wide /proc/net/snmp Udp RcvbufErrors over the window; "received" = payload type / size of the first packet each side received.',
    `- pass = loss < ${LOSS_LIMIT_PCT} %, added p99 < ${JITTER_LIMIT_MS} ms, no wrong packets, every stream direction received something. ` +
      '"void" = the load generator fell behind (it skips sending when more than 60 ms late) in this step or its baseline: no verdict on the engine. ' +
      `An engine stops after ${opts.stopAfterFailures} failed (not void) steps in a row.`,
    '',
    ...sections,
  ].join('\n');
  console.log(md);
  fs.rmSync(tmp, { recursive: true, force: true });
  if (rows.every((r) => r.skipped || r.engine === 'baseline' || r.error)) {
    console.error(`[bench] no engine step ran; ${path.relative(process.cwd(), opts.out)} not written`);
    process.exitCode = 1;
    return;
  }
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, md);
  console.error(`[bench] wrote ${path.relative(process.cwd(), opts.out)}`);
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  killLoads();
  process.exit(1);
});
