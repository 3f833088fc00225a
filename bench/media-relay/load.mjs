// RTP load generator for bench/media-relay/run.mjs (started by it with an IPC channel; not run by hand).
//
// Per stream it opens two UDP sockets on 127.0.0.1: the caller side (leg A, always PCMU) and the
// callee side (leg B, PCMU in relay mode, Opus in transcode mode). Every 20 ms each side sends
// one RTP packet towards the engine (or, for the baseline, straight to the other side) and
// receives what the engine relays from the other side.
//
// Timing: one 5 ms tick (setTimeout with drift correction against a fixed start time) for all
// streams of this process; each stream is pinned to one of the four 5 ms slots of the 20 ms
// frame, so a step's packets are spread over the frame rather than sent in one burst. Streams
// start staggered over the ramp (stream i at ramp × i / N).
//
// Measurement covers the window [windowStart, windowEnd) only (after ramp and settle):
// - relay mode: the 160-byte PCMU payload carries a marker (stream-direction index and a
//   packet counter) in its first 8 bytes, so loss is exact: counters sent inside the window that
//   never arrived. It also proves the packet crossed the engine untouched (payload compared).
// - transcode mode: the engine re-encodes, so payloads are opaque; loss = 1 − packets received
//   in the window / packets sent in the window (per direction, summed over streams; an engine
//   that drops input does not leave a sequence gap in what it generates, so seq gaps would hide it).
// - jitter: |interarrival − 20 ms| for consecutive packets (by counter or by RTP seq) both
//   arriving in the window, in a 10 µs histogram.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const TICK_MS = 5;
const SLOTS = 4; // 20 ms / 5 ms
const MAX_CATCHUP_TICKS = 12; // 60 ms
const FRAME_MS = 20;
const BIN_US = 10;
const BINS = 100000; // 1 s (a deviation above lands in the last bin)
const MAGIC = 0x0bed;
const RTP_HEADER = 12;

const now = () => performance.timeOrigin + performance.now();

/** One 1 kHz tone frame in µ-law (period 8 samples at 8 kHz: every 20 ms frame is identical). */
function pcmuToneFrame() {
  const out = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) out[i] = linearToUlaw(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  return out;
}

function linearToUlaw(sample) {
  const BIAS = 0x84;
  const CLIP = 32635;
  let sign = (sample >> 8) & 0x80;
  if (sign) sample = -sample;
  if (sample > CLIP) sample = CLIP;
  sample += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (sample & mask) === 0 && exponent > 0; exponent--, mask >>= 1);
  const mantissa = (sample >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** 50 Opus frames (1 s) of a 1 kHz tone, encoded once with opusscript and reused. */
function opusToneFrames() {
  const require = createRequire(import.meta.url);
  const OpusScript = require('opusscript');
  const enc = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  try {
    enc.setBitrate(32000);
  } catch { /* older opusscript: default bitrate */ }
  const frames = [];
  const pcm = new Int16Array(960);
  for (let f = 0; f < 50; f++) {
    for (let i = 0; i < 960; i++) pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * (f * 960 + i)) / 48000));
    frames.push(Buffer.from(enc.encode(Buffer.from(pcm.buffer), 960)));
  }
  enc.delete();
  return frames;
}

const PCMU_FRAME = pcmuToneFrame();
let opusFrames = null;

/** state of one direction of one stream (k = 2 × stream + dir; dir 0 = A→B, dir 1 = B→A) */
function newDirection(k, codec, payloadType, ssrc) {
  return {
    k, codec, payloadType, ssrc,
    seq0: (Math.random() * 30000) | 0,
    counter: 0, // packets sent so far
    winFirst: -1, winEnd: -1, // counters sent in the window: [winFirst, winEnd)
    sentWin: 0, recvAtStart: 0,
    // receive side (of the opposite socket)
    recvTotal: 0, recvWin: 0, dup: 0, bad: 0,
    got: null, // Uint8Array flags by counter (relay mode)
    sendTimes: null, // Float64Array send time by counter (relay mode)
    lastArrival: -1, lastRef: -1,
    seqExt: -1, seqCycles: 0, seqLast: -1,
    firstPt: -1, firstLen: -1,
  };
}

let streams = [];
const rtcpSockets = [];
let opts = null;
const hist = [new Uint32Array(BINS + 1), new Uint32Array(BINS + 1)];
// relay mode only (needs the send time of each packet, found by the payload counter):
// |Δarrival − Δsend| (the generator's own send lateness taken out) and one-way delay
const histCorr = new Uint32Array(BINS + 1);
const histDelay = new Uint32Array(BINS + 1);
let unexpected = 0; // datagrams that were not RTP of the expected shape
let rtcp = 0;
let sendErrors = 0;
let lateTicks = 0;
let skippedTicks = 0;
let maxLateMs = 0;

function send(stream, dirState, sock) {
  const c = dirState.counter++;
  let payload;
  let samples;
  if (dirState.codec === 'opus') {
    payload = opusFrames[c % opusFrames.length];
    samples = 960;
  } else {
    payload = PCMU_FRAME;
    samples = 160;
  }
  const buf = Buffer.allocUnsafe(RTP_HEADER + payload.length);
  buf[0] = 0x80;
  buf[1] = dirState.payloadType & 0x7f;
  buf.writeUInt16BE((dirState.seq0 + c) & 0xffff, 2);
  buf.writeUInt32BE((c * samples) >>> 0, 4);
  buf.writeUInt32BE(dirState.ssrc, 8);
  payload.copy(buf, RTP_HEADER);
  if (opts.mode === 'relay') {
    buf.writeUInt16BE(MAGIC, RTP_HEADER);
    buf.writeUInt16BE(dirState.k & 0xffff, RTP_HEADER + 2);
    buf.writeUInt32BE(c, RTP_HEADER + 4);
  }
  if (dirState.sendTimes && c < dirState.sendTimes.length) dirState.sendTimes[c] = now();
  sock.send(buf, (err) => { if (err) sendErrors++; });
}

function onPacket(dirState, msg, arrival) {
  if (msg.length < RTP_HEADER || (msg[0] & 0xc0) !== 0x80) { unexpected++; return; }
  const b1 = msg[1];
  if (b1 >= 200 && b1 <= 204) { rtcp++; return; } // RTCP from the engine, not media
  const pt = b1 & 0x7f;
  dirState.recvTotal++;
  if (dirState.firstPt < 0) { dirState.firstPt = pt; dirState.firstLen = msg.length - RTP_HEADER; }
  const inWin = arrival >= opts.windowStart && arrival < opts.windowEnd;
  let ref; // position in the stream: our counter (relay) or the engine's extended seq
  if (opts.mode === 'relay') {
    if (msg.length !== RTP_HEADER + 160 || pt !== 0 || msg.readUInt16BE(RTP_HEADER) !== MAGIC ||
        msg.readUInt16BE(RTP_HEADER + 2) !== (dirState.k & 0xffff)) { dirState.bad++; return; }
    ref = msg.readUInt32BE(RTP_HEADER + 4);
    // the rest of the payload must be the tone frame, untouched (checked on every 50th packet)
    if (ref % 50 === 0 && msg.compare(PCMU_FRAME, 8, 160, RTP_HEADER + 8, RTP_HEADER + 160) !== 0) { dirState.bad++; return; }
    if (ref < dirState.got.length) {
      if (dirState.got[ref]) { dirState.dup++; return; }
      dirState.got[ref] = 1;
    }
  } else {
    if (pt !== dirState.expectPt) { dirState.bad++; return; }
    const seq = msg.readUInt16BE(2);
    if (dirState.seqLast < 0) dirState.seqLast = seq;
    else {
      const delta = (seq - dirState.seqLast + 0x10000) & 0xffff;
      if (delta === 0) { dirState.dup++; return; }
      if (delta < 0x8000) {
        if (seq < dirState.seqLast) dirState.seqCycles += 0x10000;
        dirState.seqLast = seq;
      }
    }
    ref = dirState.seqCycles + seq;
  }
  if (inWin) {
    dirState.recvWin++;
    if (dirState.lastArrival >= 0 && ref === dirState.lastRef + 1) {
      const devUs = Math.abs(arrival - dirState.lastArrival - FRAME_MS) * 1000;
      hist[dirState.k & 1][Math.min(BINS, Math.floor(devUs / BIN_US))]++;
      const st = dirState.sendTimes;
      if (st && ref < st.length) {
        const corrUs = Math.abs(arrival - dirState.lastArrival - (st[ref] - st[ref - 1])) * 1000;
        histCorr[Math.min(BINS, Math.floor(corrUs / BIN_US))]++;
      }
    }
    if (dirState.sendTimes && ref < dirState.sendTimes.length) {
      histDelay[Math.min(BINS, Math.floor(((arrival - dirState.sendTimes[ref]) * 1000) / BIN_US))]++;
    }
    dirState.lastArrival = arrival;
    dirState.lastRef = ref;
  }
}

function bindOne(port, recvBuf) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => { try { sock.close(); } catch { /* closed */ } resolve(null); });
    sock.bind(port, '127.0.0.1', () => {
      sock.removeAllListeners('error');
      sock.on('error', () => { sendErrors++; });
      if (recvBuf) { try { sock.setRecvBufferSize(recvBuf); } catch { /* capped by rmem_max */ } }
      resolve(sock);
    });
  });
}

/**
 * 2 × count RTP sockets, each on an even port P of [portMin, portMax] with a socket on P + 1 too:
 * engines send RTCP to P + 1 (RFC 3550 §11), which must land on a socket of ours and not on some
 * other program's port (the runner's ng client got RTCP when the sockets were ephemeral).
 */
async function openSockets(count, recvBuf, portMin, portMax) {
  const rtp = [];
  let p = portMin + (portMin % 2);
  while (rtp.length < 2 * count) {
    if (p + 1 > portMax) throw new Error(`no free RTP/RTCP port pairs left in ${portMin}-${portMax}`);
    const a = await bindOne(p, recvBuf);
    const b = a ? await bindOne(p + 1, 0) : null;
    if (a && b) {
      b.on('message', () => { rtcp++; });
      rtp.push(a);
      rtcpSockets.push(b);
    } else if (a) a.close();
    p += 2;
  }
  return rtp;
}

async function handleOpen(msg) {
  const socks = await openSockets(msg.count, msg.recvBuf, msg.portMin, msg.portMax);
  streams = [];
  for (let i = 0; i < msg.count; i++) {
    streams.push({ index: msg.firstIndex + i, caller: socks[2 * i], callee: socks[2 * i + 1] });
  }
  process.send({ type: 'opened', ports: streams.map((s) => [s.caller.address().port, s.callee.address().port]) });
}

function connect(sock, port) {
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, '127.0.0.1', () => { sock.removeListener('error', reject); resolve(); });
  });
}

async function handleStart(msg) {
  opts = msg;
  if (opts.mode === 'transcode' && !opusFrames) opusFrames = opusToneFrames();
  const totalFrames = Math.ceil((opts.windowEnd - opts.startAt + 5000) / FRAME_MS) + 10;
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i];
    const t = msg.targets[i];
    const ssrcBase = (Math.random() * 0xfffffff0) >>> 0;
    // A→B: sent by the caller socket, received by the callee socket; B→A the other way round
    s.ab = newDirection(2 * s.index, 'pcmu', 0, ssrcBase);
    s.ba = newDirection(2 * s.index + 1, t.calleeCodec, t.calleePt, (ssrcBase + 1) >>> 0);
    // what each side should receive: through an engine, its own codec (the engine transcodes);
    // in the baseline, what the other side sends
    s.ab.expectPt = opts.baseline ? 0 : t.calleePt;
    s.ba.expectPt = opts.baseline ? t.calleePt : 0;
    if (opts.mode === 'relay') {
      for (const d of [s.ab, s.ba]) { d.got = new Uint8Array(totalFrames); d.sendTimes = new Float64Array(totalFrames); }
    }
    s.startTick = Math.round((opts.rampMs * i) / Math.max(1, streams.length) / TICK_MS);
    s.slot = s.startTick % SLOTS;
    await connect(s.caller, t.callerDest);
    await connect(s.callee, t.calleeDest);
    s.callee.on('message', (m) => onPacket(s.ab, m, now()));
    s.caller.on('message', (m) => onPacket(s.ba, m, now()));
  }
  const bySlot = Array.from({ length: SLOTS }, () => []);
  for (const s of streams) bySlot[s.slot].push(s); // ascending startTick within a slot
  // sending stops at the end of the window; the drain below lets the last packets arrive
  const stopAt = opts.windowEnd;
  // this process's tick grid: a second generator process sits half a tick later
  const gridStart = opts.startAt + (opts.phaseOffsetMs ?? 0);
  let tick = 0;
  await new Promise((resolve) => {
    const run = () => {
      const t = now();
      let dueTick = Math.floor((t - gridStart) / TICK_MS);
      if (dueTick - tick > 1) { lateTicks += dueTick - tick - 1; maxLateMs = Math.max(maxLateMs, t - (gridStart + tick * TICK_MS)); }
      // a late timer catches up (sends the missed ticks at once) up to MAX_CATCHUP_TICKS; further
      // behind (a starved process) it skips frames, or it would never catch up on a busy box
      if (dueTick - tick > MAX_CATCHUP_TICKS) { skippedTicks += dueTick - MAX_CATCHUP_TICKS - tick; tick = dueTick - MAX_CATCHUP_TICKS; }
      if (t >= stopAt) dueTick = tick - 1; // nothing more once the window is over
      for (; tick <= dueTick; tick++) {
        for (const s of bySlot[tick % SLOTS]) {
          if (s.startTick > tick) break;
          send(s, s.ab, s.caller);
          send(s, s.ba, s.callee);
        }
      }
      if (t >= stopAt) { snapshot('end'); resolve(); return; }
      if (t >= opts.windowStart) snapshot('start');
      const next = gridStart + tick * TICK_MS;
      setTimeout(run, Math.max(0, next - now()));
    };
    setTimeout(run, Math.max(0, gridStart - now()));
  });
  // let the last packets arrive
  await new Promise((r) => setTimeout(r, 300));
  process.send({ type: 'result', result: summarize() });
}

/**
 * The measurement window in packet counts, taken in one go between ticks (no packet is being sent
 * or received meanwhile): at the start, every direction's sent and received totals; at the end,
 * the sent totals (what arrives during the drain still counts).
 */
let snappedStart = false;
let snappedEnd = false;
function snapshot(which) {
  if (which === 'start' ? snappedStart : snappedEnd) return;
  if (which === 'start') snappedStart = true; else snappedEnd = true;
  for (const s of streams) {
    for (const d of [s.ab, s.ba]) {
      if (which === 'start') { d.winFirst = d.counter; d.recvAtStart = d.recvTotal; } else d.winEnd = d.counter;
    }
  }
}

function summarize() {
  const dirs = [{ sentWin: 0, lostWin: 0, recvWin: 0, recvTotal: 0, sentTotal: 0, bad: 0, dup: 0, deadStreams: 0, pt: -1, len: -1 },
    { sentWin: 0, lostWin: 0, recvWin: 0, recvTotal: 0, sentTotal: 0, bad: 0, dup: 0, deadStreams: 0, pt: -1, len: -1 }];
  for (const s of streams) {
    for (const d of [s.ab, s.ba]) {
      const agg = dirs[d.k & 1];
      d.sentWin = d.winFirst >= 0 && d.winEnd >= d.winFirst ? d.winEnd - d.winFirst : 0;
      agg.sentWin += d.sentWin;
      agg.recvSinceStart = (agg.recvSinceStart ?? 0) + (d.winFirst >= 0 ? d.recvTotal - d.recvAtStart : 0);
      agg.sentTotal += d.counter;
      agg.recvWin += d.recvWin;
      agg.recvTotal += d.recvTotal;
      agg.bad += d.bad;
      agg.dup += d.dup;
      if (d.recvTotal === 0) agg.deadStreams++;
      if (agg.pt < 0 && d.firstPt >= 0) { agg.pt = d.firstPt; agg.len = d.firstLen; }
      if (opts.mode === 'relay' && d.winFirst >= 0) {
        let lost = 0;
        for (let c = d.winFirst; c < d.winEnd; c++) if (!d.got[c]) lost++;
        agg.lostWin += lost;
      }
    }
  }
  // transcode: everything received after the window started (drain included) against what was
  // sent in the window; a packet in flight at the start counts as received, so this can miss up
  // to one lost packet per stream direction, and only when the one-way delay is that long
  if (opts.mode !== 'relay') for (const agg of dirs) agg.lostWin = Math.max(0, agg.sentWin - agg.recvSinceStart);
  return {
    streams: streams.length, dirs,
    hist: hist.map((h) => Array.from(h)), // per direction; merged by the runner
    histCorr: opts.mode === 'relay' ? Array.from(histCorr) : null,
    histDelay: opts.mode === 'relay' ? Array.from(histDelay) : null,
    unexpected, rtcp, sendErrors, lateTicks, maxLateMs, skippedMs: skippedTicks * TICK_MS,
  };
}

function closeAll() {
  for (const s of streams) { try { s.caller.close(); } catch { /* closed */ } try { s.callee.close(); } catch { /* closed */ } }
  for (const r of rtcpSockets.splice(0)) { try { r.close(); } catch { /* closed */ } }
  streams = [];
}

process.on('message', (msg) => {
  const fail = (err) => { process.send({ type: 'error', error: String(err?.stack ?? err) }); };
  if (msg.type === 'open') handleOpen(msg).catch(fail);
  else if (msg.type === 'start') handleStart(msg).catch(fail);
  else if (msg.type === 'close') { closeAll(); process.disconnect(); }
});
process.on('disconnect', () => { closeAll(); process.exit(0); });
