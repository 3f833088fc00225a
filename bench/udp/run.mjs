#!/usr/bin/env node
// UDP echo benchmark: the native batched engine against node:dgram, side by side in one run.
//
//   node bench/udp/run.mjs [--dist dist] [--rates 20000,50000,100000] [--seconds 3] [--size 172]
//                          [--engines native,native-copy,dgram]
//
// For each rate and engine, an echo server (a child process, one socket, on the engine under
// test) answers a loader (this process, on the native engine when built) that sends `size`-byte
// datagrams at a fixed rate for `seconds`. Reported: the rate reached, the server's CPU
// (utime+stime from process.cpuUsage, all threads) per 100,000 datagrams it echoed, and the loss
// split in two: datagrams that never reached the server (its socket buffer overflowed) and
// echoes that never came back (the loader's buffer overflowed: on a small box the loader is the
// first to run out of CPU). Compare the CPU column, not throughput: the box is shared.
// Traffic stays on 127.0.0.1.
import { fork } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const dist = arg('dist', 'dist');
const netModule = pathToFileURL(path.join(root, dist, 'src', 'platform', 'net', 'index.js')).href;
const { openUdpSocket, nativeUdpAvailable } = await import(netModule);

const BIG = 4 * 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** engine names on the command line → openUdpSocket options */
const ENGINES = {
  native: { engine: 'native', receiveBuffers: 'batch' },
  'native-copy': { engine: 'native', receiveBuffers: 'copy' },
  dgram: { engine: 'dgram' },
};

function request(child, what) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(what);
  });
}

async function startServer(engine) {
  const child = fork(fileURLToPath(import.meta.url), ['--server', engine, '--dist', dist], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`echo server (${engine}) exited with ${code}`)));
  });
  return { child, port: ready.port, engine: ready.engine };
}

function stopServer(server) {
  return new Promise((resolve) => {
    server.child.once('exit', resolve);
    server.child.send('stop');
  });
}


async function phase(loader, server, rate, seconds, size) {
  let echoed = 0;
  loader.onMessage((_d, _a, port) => {
    if (port === server.port) echoed++;
  });
  const payload = Buffer.alloc(size, 0x61);
  const before = await request(server.child, 'usage');
  const start = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  // every millisecond, send what the clock says is due (capped, so a stall is not one huge burst)
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (let n = 0; sent < due && n < 5000; n++, sent++) {
      payload.writeUInt32BE(sent, 0);
      loader.send(payload, server.port, '127.0.0.1');
    }
    loader.flush();
    await sleep(1);
  }
  const sendSeconds = (performance.now() - start) / 1000;
  // let the echoes drain: until all are back or nothing arrived for 300 ms
  for (let last = -1, idle = 0; echoed < sent && idle < 300; idle = echoed === last ? idle + 10 : 0, last = echoed) await sleep(10);
  const after = await request(server.child, 'usage');
  const cpuUs = after.cpu.user - before.cpu.user + (after.cpu.system - before.cpu.system);
  const serverReceived = after.stats.received - before.stats.received;
  const serverEchoed = after.stats.sent - before.stats.sent;
  return {
    rate,
    reached: Math.round(sent / sendSeconds),
    sent,
    serverReceived,
    serverEchoed,
    echoed,
    // per datagram the server echoed (its own count), so loss on the way back does not inflate it
    cpuPer100k: serverEchoed > 0 ? (cpuUs / 1e6 / serverEchoed) * 1e5 : NaN,
    userPer100k: serverEchoed > 0 ? ((after.cpu.user - before.cpu.user) / 1e6 / serverEchoed) * 1e5 : NaN,
  };
}

async function main() {
  const rates = arg('rates', '20000,50000,100000').split(',').map(Number);
  const seconds = Number(arg('seconds', '3'));
  const size = Number(arg('size', '172'));
  const engines = arg('engines', 'native,native-copy,dgram').split(',');
  for (const e of engines) if (!(e in ENGINES)) throw new Error(`unknown engine ${e}`);
  const status = nativeUdpAvailable();
  if (!status.ok && engines.some((e) => e.startsWith('native'))) throw new Error(`native engine unavailable: ${status.reason}`);
  const loader = await openUdpSocket({ engine: status.ok ? 'native' : 'dgram', address: '127.0.0.1', port: 0, recvBufferSize: BIG, sendBufferSize: BIG, sendQueueLimit: 8192 });
  loader.onError(() => {});
  console.log(`udp echo: ${size}-byte datagrams, ${seconds} s per rate, loader on ${loader.engine}, node ${process.version}, dist ${dist}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)}`);
  const servers = {};
  const rows = [];
  try {
    for (const e of engines) servers[e] = await startServer(e);
    for (const rate of rates) {
      for (const e of engines) {
        const r = await phase(loader, servers[e], rate, seconds, size);
        rows.push({ engine: e, ...r });
        console.log(`  ${e.padEnd(12)} ${String(rate).padStart(7)} pps: reached ${r.reached}, server got ${r.serverReceived} and echoed ${r.serverEchoed}, loader got ${r.echoed}/${r.sent} back, server CPU ${r.cpuPer100k.toFixed(3)} s/100k`);
      }
    }
    for (const e of engines) await stopServer(servers[e]);
  } finally {
    for (const s of Object.values(servers)) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill();
    await loader.close();
  }
  console.log(`load average at the end ${os.loadavg()[0].toFixed(2)} (the runner itself adds about 1)`);
  console.log('');
  console.log('| engine | target pps | reached pps | server CPU-s per 100k echoed | of which user | lost before the server | lost on the way back |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const pct = (n, of) => `${of > 0 ? ((n / of) * 100).toFixed(2) : '0.00'}% (${n})`;
  for (const r of rows) {
    console.log(`| ${r.engine} | ${r.rate} | ${r.reached} | ${r.cpuPer100k.toFixed(3)} | ${r.userPer100k.toFixed(3)} | ${pct(r.sent - r.serverReceived, r.sent)} | ${pct(r.serverEchoed - r.echoed, r.serverEchoed)} |`);
  }
}

if (process.argv[2] === '--server') {
  // child: the echo server
  const options = ENGINES[process.argv[3]];
  const socket = await openUdpSocket({ ...options, address: '127.0.0.1', port: 0, recvBufferSize: BIG, sendBufferSize: BIG });
  socket.onMessage((data, address, port) => socket.send(data, port, address));
  socket.onError(() => {});
  process.on('message', (m) => {
    if (m === 'usage') process.send({ cpu: process.cpuUsage(), stats: socket.stats() });
    if (m === 'stop') void socket.close().then(() => process.disconnect());
  });
  // the runner died (or stopped us): never outlive it
  process.on('disconnect', () => process.exit(0));
  process.send({ port: socket.local.port, engine: socket.engine });
} else {
  await main();
}
