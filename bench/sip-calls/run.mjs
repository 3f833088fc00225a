#!/usr/bin/env node
// Call benchmark: proxied calls INVITE/200/ACK/BYE/200 with zero hold time between two SIPp
// instances (a UAC and a registered UAS) through Kamailio and opencx, side by side, in rate steps.
//
//   node bench/sip-calls/run.mjs [--only kamailio|opencx] [--rates 200,500,1000,1500,2000,2500,3000,4000]
//        [--duration 5] [--kamailio-children N] [--kamailio-shm MB] [--opencx-workers 1,2]
//        [--opencx-root DIR] [--no-stop] [--nice N] [--quiet-below PCT] [--quiet-wait S]
//        [--ready-timeout S] [--out FILE] [--keep-tmp] [--trace-errors yes]   (SIPp -trace_err into the tmp dir)
//        [--invite-auth yes|no]   (default yes: INVITEs challenged with 407 and sent again with credentials, on both
//                                 servers, as opencx always challenges them; no: plain proxy, Kamailio only)
//        [--opencx-dist DIR]       (run opencx from another build folder than dist/, through bench/lib/opencx-launch.mjs)
//        [--opencx-cpu-prof DIR]   (opencx servers run with node --cpu-prof, profiles written to DIR on exit)
//
// Plain ESM JavaScript, no build. See bench/README.md ("sip-calls").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import {
  KAMAILIO, SIPP_LOAD_ARGS, backgroundBusy, busyPct, fmt, logTail, machineInfo, parseStatCsv,
  reapedChildrenCpuSeconds, runBounded, runSipp, sippPortArgs, sippPorts, startServer, stopServer,
  systemCpu, treeCpuSeconds, treeMemoryKb, udpSnmp, waitForOptions, waitQuiet, freePort, killLiveChildren, startSipp,
  writeResults,
  opencxNodeFlags,
} from '../lib/common.mjs';
import { parseArgs, headerHelp } from '../lib/args.mjs';
import { registerOnce } from '../lib/register-once.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const UAC = path.join(HERE, 'calls-uac.xml');
const UAC_AUTH = path.join(HERE, 'calls-uac-auth.xml');
const UAS = path.join(HERE, 'calls-uas.xml');
const KAMAILIO_CFG = path.join(HERE, 'kamailio-calls.cfg');
const RECV_TIMEOUT_S = 3;
// `user import` must import and exit; if it logs that a server started, the verb is not there yet.
const IMPORT_STARTED_SERVER = /"msg":"opencx started"|listening/;
const DOMAIN = '127.0.0.1';
const CALLEE = { user: 'uas', password: 'uas-bench-pw' };
const CALLER = { user: 'caller', password: 'caller-bench-pw' };

function options() {
  const opts = parseArgs(process.argv.slice(2), {
    rates: [200, 500, 1000, 1500, 2000, 2500, 3000, 4000],
    inviteAuth: true,
    kamailioShm: 1024, // tm keeps each finished transaction ~5 s (wait_timer), ~8 KB each: 256 MB ran out at 2,000 calls/s
    opencxRoot: REPO,
    opencxDist: null,
    opencxCpuProf: null,
  }, {
    '--trace-errors': ['traceErrors', (v) => v === 'yes'],
    '--invite-auth': ['inviteAuth', (v) => v !== 'no'],
    '--opencx-dist': ['opencxDist', (v) => path.resolve(v)],
    '--opencx-cpu-prof': ['opencxCpuProf', (v) => path.resolve(v)],
  }, headerHelp(fileURLToPath(import.meta.url)));
  opts.out ??= path.join(REPO, 'bench', 'results', opts.inviteAuth ? 'sip-calls.md' : 'sip-calls-noauth.md');
  return opts;
}

/** Registers the callee from its port, then starts the SIPp UAS on that same port. */
async function startUas(server, tmp, opts, limitS) {
  const local = await sippPorts([server.port]);
  const code = await registerOnce({ serverPort: server.port, localPort: local.sip, user: CALLEE.user, domain: DOMAIN, password: CALLEE.password });
  if (code !== 200) throw new Error(`REGISTER of the callee answered ${code}`);
  const args = [`127.0.0.1:${server.port}`, '-sf', UAS, '-t', 'u1', ...sippPortArgs(local), ...SIPP_LOAD_ARGS(RECV_TIMEOUT_S)];
  const uas = startSipp(args, limitS, opts.nice, path.join(tmp, `uas-${server.name}.log`));
  await delay(500);
  if (uas.child.exitCode !== null) throw new Error(`SIPp UAS exited at once: ${(await uas.done).stderr.trim().split('\n').pop()}`);
  return { ...uas, port: local.sip };
}

async function runStep(server, rate, opts, tmp, label) {
  const before = await waitQuiet(opts.quietBelow, opts.quietWait);
  const count = Math.round(rate * opts.duration);
  const statFile = path.join(tmp, `stat-${server.name}-${label}.csv`);
  const local = await sippPorts([server.port, server.uas.port]);
  const args = [
    `127.0.0.1:${server.port}`, '-sf', opts.inviteAuth ? UAC_AUTH : UAC, '-s', CALLEE.user, '-t', 'u1', ...sippPortArgs(local),
    '-m', String(count), '-r', String(rate), '-rp', '1000',
    ...SIPP_LOAD_ARGS(RECV_TIMEOUT_S), '-trace_stat', '-stf', statFile, '-fd', '1',
    ...(opts.traceErrors ? ['-trace_err', '-error_file', path.join(tmp, `errors-${server.name}-${label}.log`)] : []),
  ];
  const snmp0 = udpSnmp();
  const cpu0 = treeCpuSeconds(server.pid);
  const uasCpu0 = treeCpuSeconds(server.uas.child.pid);
  const sippCpu0 = reapedChildrenCpuSeconds();
  const sys0 = systemCpu();
  const t0 = process.hrtime.bigint();
  const res = await runSipp(args, opts.duration + RECV_TIMEOUT_S + 20, opts.nice);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = treeCpuSeconds(server.pid);
  const uasCpu1 = treeCpuSeconds(server.uas.child.pid);
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
  return {
    server: server.name, target: rate, count, ok, failed, failedPct, elapsed, achieved, steady: st?.steady ?? NaN,
    pass: failedPct < 0.1 && (Number.isFinite(st?.steady) ? st.steady >= 0.99 * rate : true) && achieved >= 0.98 * rate && !res.killed,
    serverCpu,
    cpuPer1k: (serverCpu * 1000) / count,
    serverCpuPct: (100 * serverCpu) / elapsed,
    uacCpuPct: (100 * (sippCpu1 - sippCpu0)) / elapsed,
    uasCpuPct: (100 * (uasCpu1 - uasCpu0)) / elapsed,
    systemBusyPct: busyPct(sys0, sys1),
    before,
    rcvbufErrors: (snmp1.RcvbufErrors ?? 0) - (snmp0.RcvbufErrors ?? 0),
    timeouts: st?.timeouts ?? 0,
    unexpected: st?.unexpected ?? 0,
    rssMb: mem.rss / 1024, pssMb: mem.pss / 1024,
    note: [res.killed ? 'SIPp killed at time limit' : '', server.uas.child.exitCode !== null ? 'UAS exited' : '',
      st ? '' : `no SIPp stats (exit ${res.code}) ${res.stderr.trim().split('\n').pop() ?? ''}`].filter(Boolean).join('; '),
  };
}

function table(rows) {
  const head = ['server', 'target calls/s', 'achieved/s', 'steady/s', 'ok', 'failed', 'failed %', 'recv timeouts', 'unexpected msg', 'pass',
    'server CPU s /1k calls', 'server CPU %', 'UAC CPU %', 'UAS CPU %', 'busy before %', 'system busy %', 'UDP RcvbufErrors Δ',
    'server RSS MB (Σ VmRSS)', 'server PSS MB', 'notes'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.skipped) {
      out.push(`| ${r.server} | ${fmt(r.target)} | ${head.slice(2, -1).map(() => '–').join(' | ')} | ${r.note} |`);
      continue;
    }
    out.push(`| ${[r.server, fmt(r.target), fmt(r.achieved), fmt(r.steady), fmt(r.ok), fmt(r.failed), fmt(r.failedPct, 3),
      fmt(r.timeouts), fmt(r.unexpected), r.pass ? 'yes' : 'NO', fmt(r.cpuPer1k, 3), fmt(r.serverCpuPct, 0), fmt(r.uacCpuPct, 0),
      fmt(r.uasCpuPct, 0), fmt(r.before, 0), fmt(r.systemBusyPct, 0), fmt(r.rcvbufErrors), fmt(r.rssMb, 1), fmt(r.pssMb, 1),
      r.note || ''].join(' | ')} |`);
  }
  return out.join('\n');
}

function summary(rows, names) {
  const lines = [];
  const best = {};
  for (const name of names) {
    const top = rows.filter((r) => r.server === name && !r.skipped && r.pass).sort((a, b) => b.target - a.target)[0];
    best[name] = top;
    lines.push(`- **${name}**: highest passing rate ${top ? `${fmt(top.target)} calls/s (achieved ${fmt(top.achieved)}/s), ` +
      `${fmt(top.cpuPer1k, 3)} server CPU s per 1,000 calls at that step` : 'none'}.`);
  }
  const k = best.kamailio;
  for (const name of names.filter((n) => n !== 'kamailio')) {
    const o = best[name];
    if (k && o) lines.push(`- ratio ${name} / kamailio: highest passing rate ${fmt(o.target / k.target, 2)}; CPU per call ${fmt(o.cpuPer1k / k.cpuPer1k, 2)}.`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = options();
  const opencxNames = opts.opencxWorkers.map((w) => (w === 1 ? 'opencx' : `opencx-${w}w`));
  const workersOf = (name) => opts.opencxWorkers[opencxNames.indexOf(name)] ?? 1;
  const names = opts.only === 'kamailio' ? ['kamailio'] : opts.only === 'opencx' ? opencxNames : ['kamailio', ...opencxNames];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opencx-bench-calls-'));
  const started = [];
  const uases = [];
  const unavailable = new Map();
  const servers = {};
  const rows = [];
  const cleanup = async () => {
    killLiveChildren();
    for (const u of uases) await u.stop();
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
  const limitS = opts.rates.length * names.length * (opts.duration + RECV_TIMEOUT_S + 20 + opts.quietWait + 2) + 120;
  try {
    background = await backgroundBusy();
    const ports = new Set();
    for (const name of names) {
      let p = await freePort();
      while (ports.has(p)) p = await freePort();
      ports.add(p);
      if (name === 'kamailio') {
        const rundir = path.join(tmp, 'kamailio-run');
        fs.mkdirSync(rundir);
        const args = ['-f', KAMAILIO_CFG, '-DD', '-E', '-Y', rundir, '-w', rundir, '-m', String(opts.kamailioShm),
          '-n', String(opts.kamailioChildren), '-l', `udp:127.0.0.1:${p}`];
        if (opts.inviteAuth) args.push('-A', 'WITH_AUTH', '-A', `CALLERPW="${CALLER.password}"`);
        servers[name] = startServer(name, KAMAILIO, args, REPO, path.join(tmp, 'kamailio.log'), opts.nice);
      } else {
        const dataDir = path.join(tmp, `${name}-data`);
        fs.mkdirSync(dataDir);
        const usersCsv = path.join(tmp, 'opencx-users.csv');
        fs.writeFileSync(usersCsv, `${CALLEE.user}@${DOMAIN};${CALLEE.password}\n${CALLER.user}@${DOMAIN};${CALLER.password}\n`);
        // Kamailio's config has no per-source rate limit (pike): opencx's is turned off to compare like with like
        const env = {
          OPENCX_SIP__WORKERS: String(workersOf(name)), OPENCX_SIP__TRANSPORTS: 'udp', OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE: '0',
          ...(opts.opencxDist !== null ? { OCX_DIST: opts.opencxDist } : {}),
        };
        const cli = opts.opencxDist === null ? 'bin/opencx.js' : path.join(REPO, 'bench', 'lib', 'opencx-launch.mjs');
        const imp = await runBounded(process.execPath, [cli, 'user', 'import', usersCsv, '--data-dir', dataDir],
          { cwd: opts.opencxRoot, env, limitS: 60, abortOn: IMPORT_STARTED_SERVER });
        if (imp.code !== 0 || imp.aborted) {
          const why = imp.aborted ? `\`user import\` started a server instead of importing (not implemented yet?): ${imp.aborted.slice(0, 120)}` : `user import failed (exit ${imp.code}): ${imp.out.trim().split('\n').slice(-3).join(' / ')}`;
          console.error(`[bench] ${name} not available: ${why}`);
          unavailable.set(name, why);
          continue;
        }
        // --cpu-prof is refused in NODE_OPTIONS, so it goes on the command line (cluster workers inherit execArgv)
        const prof = opts.opencxCpuProf === null ? [] : ['--cpu-prof', '--cpu-prof-dir', opts.opencxCpuProf];
        const args = [...opencxNodeFlags(), ...prof, cli, 'start', '--role', 'sip', '--bind', '127.0.0.1',
          '--sip-port', String(p), '--http-port', '0', '--data-dir', dataDir];
        servers[name] = startServer(name, process.execPath, args, opts.opencxRoot, path.join(tmp, `${name}.log`), opts.nice, env);
      }
      servers[name].port = p;
      started.push(servers[name]);
    }
    for (const name of names) {
      const s = servers[name];
      if (!s) continue;
      const ready = await waitForOptions(s.port, opts.readyTimeout, () => !s.exited);
      if (!ready) {
        const why = s.exited ? `exited ${JSON.stringify(s.exitInfo)}` : `no answer to OPTIONS within ${opts.readyTimeout}s`;
        console.error(`[bench] ${name} not available: ${why}\n--- ${name} log tail ---\n${logTail(s.logFile)}`);
        unavailable.set(name, why);
        await stopServer(s);
        continue;
      }
      try {
        s.uas = await startUas(s, tmp, opts, limitS);
        uases.push(s.uas);
        console.error(`[bench] ${name} on 127.0.0.1:${s.port} (pid ${s.pid}); callee SIPp UAS registered from 127.0.0.1:${s.uas.port}`);
      } catch (e) {
        console.error(`[bench] ${name} not available: ${e.message}`);
        unavailable.set(name, e.message);
        await stopServer(s);
      }
    }

    const fails = new Map(names.map((n) => [n, 0]));
    for (let i = 0; i < opts.rates.length; i++) {
      const rate = opts.rates[i];
      const order = i % 2 === 0 ? names : [...names].reverse();
      for (const name of order) {
        const s = servers[name];
        const skip = unavailable.has(name) ? `not available: ${unavailable.get(name)}`
          : s.exited ? `server exited ${JSON.stringify(s.exitInfo)}`
            : s.uas.child.exitCode !== null ? 'callee SIPp UAS exited'
              : fails.get(name) >= opts.stopAfterFailures ? `after ${opts.stopAfterFailures} failed steps` : null;
        if (skip) { rows.push({ server: name, target: rate, skipped: true, note: skip }); continue; }
        const row = await runStep(s, rate, opts, tmp, `s${i}`);
        if (s.exited) row.note = `${row.note} server exited during step`.trim();
        rows.push(row);
        fails.set(name, row.pass ? 0 : fails.get(name) + 1);
        console.error(`[bench] ${name} ${rate} calls/s: achieved ${fmt(row.achieved)}/s, failed ${row.failed} (${fmt(row.failedPct, 3)} %; ` +
          `${row.timeouts} timeouts, ${row.unexpected} unexpected), ${fmt(row.cpuPer1k, 3)} CPU s/1k, RcvbufErrors +${row.rcvbufErrors} -> ${row.pass ? 'pass' : 'FAIL'}`);
        await delay(2000);
      }
    }
  } finally {
    await cleanup();
  }

  const m = machineInfo();
  const cmd = ['node', path.relative(REPO, fileURLToPath(import.meta.url)), ...process.argv.slice(2)].join(' ');
  const md = [
    `# SIP call benchmark (UDP, proxied INVITE/200/ACK/BYE, zero hold time${opts.inviteAuth ? ', INVITE digest auth' : ', no auth'})`,
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${m.nproc} CPUs (${m.model}), ${fmt(m.memGb, 1)} GB RAM, ${m.kernel}, node ${m.node}, CLK_TCK ${m.clkTck}`,
    `- background load before the run: ${fmt(background, 0)} % of all CPUs busy (2 s sample of /proc/stat)`,
    ...(opts.nice ? [`- SIPp and the servers ran under \`nice -n ${opts.nice}\``] : []),
    `- command: \`${cmd}\` (from the repository root)`,
    `- load: ${m.sipp}, two instances on the same machine: UAS bench/sip-calls/calls-uas.xml (registered as ` +
      `sip:${CALLEE.user}@${DOMAIN} from its own port before it starts, answers 200 at once, copies Record-Route) and UAC ` +
      'bench/sip-calls/calls-uac.xml (INVITE, optional 100/180, 200 with rrs, ACK and BYE to [next_url] via [routes], 200; no ' +
      `retransmissions), -t u1 -r RATE -rp 1000 -m RATE×${opts.duration} -buff_size 4194304 -recv_timeout ${RECV_TIMEOUT_S}s`,
    `- servers: ${names.map((n) => n === 'kamailio'
      ? `kamailio (${m.kamailio}; bench/sip-calls/kamailio-calls.cfg: tm + rr + registrar lookup, record_route, ` +
        `${opts.inviteAuth ? 'INVITE challenged and verified per request (-A WITH_AUTH: proxy_challenge + pv_proxy_authenticate), REGISTER not' : 'no auth'}; ` +
        `-n ${opts.kamailioChildren} -m ${opts.kamailioShm})`
      : `${n} (\`node bin/opencx.js user import USERS.csv --data-dir TMP\` (users ${CALLEE.user} and ${CALLER.user}) then ` +
        `\`OPENCX_SIP__WORKERS=${workersOf(n)} OPENCX_SIP__TRANSPORTS=udp OPENCX_SIP__REGISTRAR__RATE_PER_SOURCE=0 node bin/opencx.js start --role sip --bind 127.0.0.1 ` +
        '--sip-port P --http-port 0 --data-dir TMP`; the callee registers with digest auth' +
        `${opts.inviteAuth ? ', the caller answers the 407 to each INVITE' : ', the INVITEs carry no credentials (opencx challenges them: expect failures)'}` +
        `${opts.opencxRoot === REPO ? '' : `; run in ${path.relative(REPO, opts.opencxRoot) || '.'}`}` +
        `${opts.opencxDist === null ? '' : `; built in ${path.relative(REPO, opts.opencxDist)}, run through bench/lib/opencx-launch.mjs`}` +
        `${opts.opencxCpuProf === null ? '' : `; node --cpu-prof, profiles in ${opts.opencxCpuProf} (CPU figures include the profiler)`})`).join('; ')}`,
    '- "achieved" = successful calls / time from SIPp start to the end of its last call; "steady" = success rate between the ' +
      'first and last full 1 s stats rows; "pass" = failed < 0.1 %, steady ≥ 99 % and achieved ≥ 98 % of the target; ' +
      '"server CPU" = utime+stime of the server process tree over the step, per 1,000 calls sent (each call = INVITE and BYE ' +
      'transactions + ACK through the proxy); "UAC/UAS CPU" = the two SIPp processes; "system busy" from /proc/stat (all ' +
      'processes); "server RSS/PSS" after the step. "UDP RcvbufErrors" is system-wide.',
    '',
    table(rows),
    '',
    summary(rows, names),
    '',
  ].join('\n');
  console.log(md);
  if (!opts.keep) fs.rmSync(tmp, { recursive: true, force: true });
  else console.error(`[bench] kept ${tmp}`);
  writeResults(opts.out, md, !rows.every((r) => r.skipped));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
