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
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { CLK_TCK, stopServer, systemCpu, busyPct, treeCpuSeconds, treeMemoryKb, udpSnmp, waitQuiet, writeResults } from '../lib/common.mjs';
import { headerHelp } from '../lib/args.mjs';
import { freeUdpRange } from './ports.mjs';
import { TASKSET, wrap, ensureRtpengine, startEngine, startedServers, mapLimit, setupCall, deleteCall } from './engines.mjs';
import { LOSS_LIMIT_PCT, JITTER_LIMIT_MS, fmt, judge, table, summary, machineInfo } from './report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SELF = fileURLToPath(import.meta.url);
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
  writeResults(opts.out, md, !rows.every((r) => r.skipped || r.engine === 'baseline' || r.error));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  killLoads();
  process.exit(1);
});
