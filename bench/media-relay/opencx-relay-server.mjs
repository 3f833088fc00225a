#!/usr/bin/env node
// opencx's media engine behind a tiny ng-protocol server, so bench/media-relay/run.mjs drives
// opencx and rtpengine with the same client (npm rtpengine-client) and the same offer/answer.
//
//   node bench/media-relay/opencx-relay-server.mjs [--dist DIR | --module FILE]
//        --port-min A --port-max B [--listen PORT]
//
// Imports createLocalMediaEngine (or, failing that, the LocalMediaEngine class) from DIR/src/media/index.js (default DIR: dist) or from FILE,
// listens for ng commands (bencode over UDP) on 127.0.0.1:PORT (default: a free port) and prints
// one JSON line {"ready":true,"port":N,"pid":P} on stdout once it does.
//
// The ng verbs map onto MediaEngineApi like this (one call = two endpoints):
//   offer  {call-id, sdp = caller's offer}  → A = createEndpoint({kind:'rtp', remoteSdp: sdp})
//                                             B = createEndpoint({kind:'rtp'})
//                                             reply sdp = B.localSdp (our offer to the callee)
//   answer {call-id, sdp = callee's answer} → updateEndpoint(B, {remoteSdp: sdp}); bridge(A, B)
//                                             reply sdp = A.localSdp (our answer to the caller)
//   delete {call-id}                        → deleteEndpoint(A), deleteEndpoint(B)
//   query  {call-id}                        → endpointStats of both, and whether the bridge transcodes
//   ping                                    → pong
//   gc (not rtpengine's)                    → global.gc() when node runs with --expose-gc
import dgram from 'node:dgram';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encode, decode } from './bencode.mjs';

function parseArgs(argv) {
  const opts = { dist: 'dist', module: null, portMin: 0, portMax: 0, listen: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--dist') opts.dist = v;
    else if (a === '--module') opts.module = v;
    else if (a === '--port-min') opts.portMin = Number(v);
    else if (a === '--port-max') opts.portMax = Number(v);
    else if (a === '--listen') opts.listen = Number(v);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!(opts.portMin > 0 && opts.portMax > opts.portMin)) throw new Error('--port-min and --port-max are required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const modulePath = path.resolve(opts.module ?? path.join(opts.dist, 'src', 'media', 'index.js'));
const mod = await import(pathToFileURL(modulePath).href);
const engineOptions = { bindAddress: '127.0.0.1', portMin: opts.portMin, portMax: opts.portMax };
let engine;
let made;
if (typeof mod.createLocalMediaEngine === 'function') { engine = mod.createLocalMediaEngine(engineOptions); made = 'createLocalMediaEngine'; }
else if (typeof mod.LocalMediaEngine === 'function') { engine = new mod.LocalMediaEngine(engineOptions); made = 'new LocalMediaEngine'; } // before the factory lands
else {
  console.error(`${modulePath} exports neither createLocalMediaEngine nor LocalMediaEngine`);
  process.exit(2);
}

/** call-id → { a, b, bridgeId, transcoding } */
const calls = new Map();

const handlers = {
  /** rtpengine's pong, plus how the engine was made (read by the runner for the results header) */
  async ping() { return { result: 'pong', engine: `${made}(${JSON.stringify(engineOptions)}) from ${modulePath}` }; },
  /** not an rtpengine verb: a full GC (node --expose-gc) so the runner reads an idle RSS without start-up garbage */
  async gc() {
    if (typeof globalThis.gc !== 'function') return { result: 'error', 'error-reason': 'start node with --expose-gc' };
    globalThis.gc();
    globalThis.gc();
    return { result: 'ok' };
  },
  async offer(req) {
    const callId = req['call-id'];
    if (calls.has(callId)) throw new Error(`call ${callId} exists (re-offer is not part of this bench)`);
    const a = await engine.createEndpoint({ kind: 'rtp', remoteSdp: req.sdp, labels: { callId, leg: 'A' } });
    let b;
    try {
      b = await engine.createEndpoint({ kind: 'rtp', labels: { callId, leg: 'B' } });
    } catch (err) {
      await engine.deleteEndpoint(a.id).catch(() => {});
      throw err;
    }
    calls.set(callId, { a, b, bridgeId: null, transcoding: null });
    return { result: 'ok', sdp: b.localSdp };
  },
  async answer(req) {
    const call = calls.get(req['call-id']);
    if (!call) throw new Error(`unknown call ${req['call-id']}`);
    await engine.updateEndpoint(call.b.id, { remoteSdp: req.sdp });
    const { bridgeId, transcoding } = await engine.bridge(call.a.id, call.b.id);
    call.bridgeId = bridgeId;
    call.transcoding = transcoding;
    return { result: 'ok', sdp: call.a.localSdp, transcoding: transcoding ? 1 : 0 };
  },
  async delete(req) {
    const call = calls.get(req['call-id']);
    if (!call) return { result: 'ok', warning: 'unknown call' };
    calls.delete(req['call-id']);
    await engine.deleteEndpoint(call.a.id).catch(() => {});
    await engine.deleteEndpoint(call.b.id).catch(() => {});
    return { result: 'ok' };
  },
  async query(req) {
    const call = calls.get(req['call-id']);
    if (!call) throw new Error(`unknown call ${req['call-id']}`);
    const [a, b] = await Promise.all([engine.endpointStats(call.a.id), engine.endpointStats(call.b.id)]);
    return { result: 'ok', transcoding: call.transcoding ? 1 : 0, a: JSON.stringify(a), b: JSON.stringify(b) };
  },
};

const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  const space = msg.indexOf(0x20);
  if (space <= 0) return;
  const cookie = msg.toString('latin1', 0, space);
  const reply = (obj) => sock.send(Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), encode(obj)]), rinfo.port, rinfo.address);
  let req;
  try {
    [req] = decode(msg, space + 1);
  } catch (err) {
    reply({ result: 'error', 'error-reason': `bad request: ${err.message}` });
    return;
  }
  const handler = handlers[req?.command];
  if (!handler) { reply({ result: 'error', 'error-reason': `unsupported command ${req?.command}` }); return; }
  handler(req).then(reply, (err) => reply({ result: 'error', 'error-reason': String(err?.message ?? err) }));
});

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try { sock.close(); } catch { /* closed */ }
  for (const call of calls.values()) {
    await engine.deleteEndpoint(call.a.id).catch(() => {});
    await engine.deleteEndpoint(call.b.id).catch(() => {});
  }
  await Promise.race([engine.close(), new Promise((r) => setTimeout(r, 2000))]).catch(() => {});
  process.exit(code);
}
process.on('SIGTERM', () => { void shutdown(0); });
process.on('SIGINT', () => { void shutdown(0); });
process.on('disconnect', () => { void shutdown(0); });

sock.bind(opts.listen, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: sock.address().port, pid: process.pid, module: modulePath })}\n`);
});
