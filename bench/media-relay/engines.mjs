// Engines for bench/media-relay/run.mjs: rtpengine (Debian, userspace) and opencx (its media engine
// behind opencx-relay-server.mjs), started on free ports, and the ng offer/answer/delete of one stream.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, logTail, startServer, stopServer, treeMemoryKb } from '../lib/common.mjs';
import { freeUdpRange } from './ports.mjs';
import { encode as bencode, decode as bdecode } from './bencode.mjs';

const require = createRequire(import.meta.url);
const { Client } = require('rtpengine-client');

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const RTPENGINE = process.env.RTPENGINE ?? '/usr/bin/rtpengine';
export const TASKSET = '/usr/bin/taskset';

/** [cmd, args] wrapped in taskset (CPU pinning) and nice, when asked. */
export function wrap(cmd, args, cpu, nice) {
  let c = cmd;
  let a = args;
  if (nice) { a = ['-n', String(nice), c, ...a]; c = '/usr/bin/nice'; }
  if (cpu !== null && cpu !== undefined) { a = ['-c', String(cpu), c, ...a]; c = TASKSET; }
  return [c, a];
}

// ---------------------------------------------------------------- rtpengine install check
export function ensureRtpengine() {
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

export function rtpengineVersion() {
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
      if (r?.result === 'pong') return r;
    } catch { /* not up yet (timeout) */ }
    await delay(200);
  }
  return false;
}

/** every engine process started, for cleanup even when its start failed half-way */
export const startedServers = [];

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
export async function startEngine(name, opts, tmp, avoidRanges) {
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
  const pong = await waitForPong(client, ngPort, () => !server.exited);
  if (!pong) {
    const why = server.exited ? `exited ${JSON.stringify(server.exitInfo)}` : 'no pong to an ng ping within 15 s';
    client.close();
    await stopServer(server);
    throw new Error(`${why}\n--- ${name} log tail ---\n${logTail(server.logFile)}`);
  }
  if (typeof pong.engine === 'string') engine.version = pong.engine.replace(`${REPO}/`, '');
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

export async function mapLimit(items, limit, fn) {
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
export async function setupCall(engine, mode, index, callerPort, calleePort, tag) {
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

export async function deleteCall(engine, call) {
  try {
    await engine.client.delete({ port: engine.ngPort, host: '127.0.0.1' }, { 'call-id': call.callId, 'from-tag': call.fromTag });
  } catch { /* engine gone or slow: it is stopped at the end anyway */ }
}
