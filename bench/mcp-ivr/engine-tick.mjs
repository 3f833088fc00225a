#!/usr/bin/env node
// The media engine's per-call cost on its own, in this process: N endpoints on real loopback UDP
// sockets, each playing a prompt (a 'stream' item, as the MCP plays TTS) and optionally recording
// the caller and tapping its audio (what <record finalsilence> does), driven tick by tick on fake
// time as fast as the CPU allows. Prints CPU µs per endpoint per 20 ms frame (utime+stime of this
// process), so builds can be compared without SIP, VoiceXML or the box's timing in the way.
//
//   node bench/mcp-ivr/engine-tick.mjs [--dist dist] [--endpoints 200] [--seconds 10] [--record] [--tap] [--inbound]
//
// --inbound also sends the engine one µ-law packet per endpoint per frame (the caller's voice);
// --cpu-prof on node itself shows where the time goes.
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

function options(argv) {
  const o = { dist: 'dist', endpoints: 200, seconds: 10, record: false, tap: false, inbound: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--record') o.record = true;
    else if (a === '--tap') o.tap = true;
    else if (a === '--inbound') o.inbound = true;
    else if (a === '--dist') o.dist = argv[++i];
    else if (a === '--endpoints') o.endpoints = Number(argv[++i]);
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(o.endpoints > 0) || !(o.seconds > 0)) throw new Error('--endpoints and --seconds must be > 0');
  return o;
}

const offer = (port) =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');

/** A µ-law RTP packet (PT 0) of a 400 Hz-ish tone. */
function rtpPacket(seq, ts, ssrc) {
  const b = Buffer.alloc(12 + 160);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  for (let i = 0; i < 160; i++) b[12 + i] = i % 20 < 10 ? 0x20 : 0xa0;
  return b;
}

async function main() {
  const o = options(process.argv.slice(2));
  const dist = path.resolve(REPO, o.dist);
  const media = await import(pathToFileURL(path.join(dist, 'src', 'media', 'index.js')).href);
  const lib = await import(pathToFileURL(path.join(dist, 'src', 'lib', 'index.js')).href);
  const platform = await import(pathToFileURL(path.join(dist, 'src', 'platform', 'index.js')).href);
  const scheduler = new lib.FakeScheduler({ start: 1000 });
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-tick-'));
  fs.mkdirSync(path.join(spool, 'blobs'));
  const blobs = new platform.LocalBlobStore(path.join(spool, 'blobs'));
  if (o.tap && typeof media.LocalMediaEngine.prototype.tapAudio !== 'function') throw new Error(`--tap: the build in ${o.dist} has no in-process audio taps`);
  const engine = new media.LocalMediaEngine({ bindAddress: '127.0.0.1', portMin: 30000, portMax: 30000 + o.endpoints * 4 + 100, scheduler, spoolDir: spool, blobs });
  // the far end: one socket takes every endpoint's packets and drops them
  const sink = dgram.createSocket('udp4');
  await new Promise((resolve) => sink.bind(0, '127.0.0.1', resolve));
  let received = 0;
  sink.on('message', () => received++);
  const sinkPort = sink.address().port;
  const prompt = new Int16Array(8000 * (o.seconds + 5));
  for (let i = 0; i < prompt.length; i++) prompt[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
  const promptBytes = new Uint8Array(prompt.buffer);
  const endpoints = [];
  let tapped = 0;
  for (let n = 0; n < o.endpoints; n++) {
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: offer(sinkPort) });
    const port = Number(/m=audio (\d+)/.exec(ep.localSdp)[1]);
    endpoints.push({ id: ep.id, port, ssrc: 0x1000 + n });
    await engine.play({ endpointId: ep.id, items: [{ kind: 'stream', streamId: `s${n}`, sampleRate: 8000 }] });
    await engine.writeStream(`s${n}`, promptBytes, true);
    if (o.record) await engine.record({ target: { endpointId: ep.id }, key: `bench/${n}.wav` });
    if (o.tap) engine.tapAudio(ep.id, 8000, () => tapped++);
  }
  const feeder = dgram.createSocket('udp4');
  await new Promise((resolve) => feeder.bind(0, '127.0.0.1', resolve));
  const frames = (o.seconds * 1000) / 20;
  const drain = () => new Promise((resolve) => setImmediate(resolve));
  // untimed warm-up, then the measured frames
  const run = async (count) => {
    for (let f = 0; f < count; f++) {
      if (o.inbound) for (const ep of endpoints) feeder.send(rtpPacket(f, f * 160, ep.ssrc), ep.port, '127.0.0.1');
      await drain();
      scheduler.advance(20);
      if (f % 10 === 0) await drain();
    }
  };
  await run(100);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(frames);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  const cpuUs = cpu.user + cpu.system;
  const perFrame = cpuUs / (frames * o.endpoints);
  const load = engine.load();
  console.log(JSON.stringify({
    endpoints: o.endpoints, frames, record: o.record, tap: o.tap, inbound: o.inbound, cpuMs: Math.round(cpuUs / 1000), wallMs: Math.round(wall),
    cpuUsPerEndpointFrame: Number(perFrame.toFixed(2)), sinkPackets: received, tapFrames: tapped, plays: load.plays, recordings: load.recordings,
  }));
  await engine.close();
  sink.close();
  feeder.close();
  fs.rmSync(spool, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(1);
});
