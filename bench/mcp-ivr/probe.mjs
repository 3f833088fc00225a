#!/usr/bin/env node
// The sampled caller of bench/mcp-ivr: a minimal SIP UAC over UDP (node:dgram only) that places one
// RFC 5552 call to opencx's MCP and times what comes back.
//
//   node bench/mcp-ivr/probe.mjs --sip 127.0.0.1:PORT --vxml URL [--hold-ms 4000] [--keys 1500:1,1750:2] [--segments]
//
// - INVITE sip:dialog@HOST:PORT;voicexml=URL with an SDP offer PCMU/8000 + telephone-event 101
//   (ptime 20); retransmitted on RFC 3261 timer A (500 ms doubling) until a response; ACK on the 200;
// - records when the 200 arrived and the arrival of every RTP packet (monotonic clock,
//   performance.now()); the caller sends µ-law silence itself every 20 ms (a real phone sends RTP
//   both ways) and, with --keys, RFC 4733 key presses at the given times after the 200;
// - first prompt packet = the first RTP packet (PT 0) whose µ-law payload is not silence (some sample
//   with |linear| > SILENCE_LEVEL, i.e. not all bytes ≈ 0xFF/0x7F); firstPromptMs = its arrival − 200 OK;
// - underruns: while the prompts play (from the first prompt packet to the hang-up: without keys the
//   welcome and the account prompt play back to back for ~4.5 s, longer than --hold-ms 4000), every
//   inter-arrival gap > 60 ms between consecutive packets counts as an underrun; sequence-number
//   jumps are counted apart (lost or skipped packets). Use --keys only to explore the application;
// - hangs up with BYE --hold-ms after the 200 (or answers the MCP's BYE with 200).
// As a module: `probeCall({ sipHost, sipPort, vxmlUrl, holdMs, keys })` → result object (never throws).
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const GAP_LIMIT_MS = 60;
const SILENCE_LEVEL = 64; // |linear 16-bit| at or below this counts as silence (µ-law 0xFF/0x7F decode to 0, 0xFE/0x7E to ±8 ...)
const PROMPT_END_SILENCE_MS = 300;

/** G.711 µ-law byte → linear 16-bit. */
function ulawToLinear(u) {
  u = ~u & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
const ULAW_ABS = Uint16Array.from({ length: 256 }, (_, i) => Math.abs(ulawToLinear(i)));
const isSilent = (payload) => {
  for (let i = 0; i < payload.length; i++) if (ULAW_ABS[payload[i]] > SILENCE_LEVEL) return false;
  return true;
};

const rid = () => crypto.randomBytes(6).toString('hex');
const bind = (sock, port = 0, host = '127.0.0.1') => new Promise((resolve, reject) => { sock.once('error', reject); sock.bind(port, host, () => { sock.off('error', reject); resolve(sock.address().port); }); });

/**
 * An even UDP port with no one on it (RTP), bound. PROBE_RTP_PORT_MIN (env) keeps it in
 * [min, min + 1000), so that a packet capture can pick out the probes' traffic by port.
 */
async function bindRtp(host) {
  const min = Number(process.env.PROBE_RTP_PORT_MIN ?? 0);
  for (let i = 0; i < 30; i++) {
    const s = dgram.createSocket('udp4');
    const p = await bind(s, min > 0 ? min + 2 * crypto.randomInt(500) : 0, host).catch(() => -1);
    if (p < 0) { s.close(); continue; }
    if (p % 2 === 0) return { sock: s, port: p };
    s.close();
  }
  throw new Error('no even RTP port');
}

function parseSip(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = (end < 0 ? text : text.slice(0, end)).split('\r\n');
  const body = end < 0 ? '' : text.slice(end + 4);
  const first = head.shift() ?? '';
  const headers = new Map();
  for (const l of head) {
    const i = l.indexOf(':');
    if (i < 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    if (!headers.has(k)) headers.set(k, []);
    headers.get(k).push(v);
  }
  const alias = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length' };
  for (const [s, l] of Object.entries(alias)) if (headers.has(s)) headers.set(l, [...(headers.get(l) ?? []), ...headers.get(s)]);
  const status = /^SIP\/2\.0 (\d{3})/.exec(first);
  const req = /^([A-Z]+) (\S+) SIP\/2\.0/.exec(first);
  return { status: status ? Number(status[1]) : 0, method: req?.[1], uri: req?.[2], headers, h: (k) => headers.get(k)?.[0], all: (k) => headers.get(k) ?? [], body };
}

/**
 * Place one call. Options: sipHost, sipPort, vxmlUrl, holdMs (4000), keys ([{ atMs, digit }] after the 200),
 * timeoutMs (overall, 15000 + holdMs), segments (also return every non-silent stretch: [startMs, endMs] after the 200).
 */
export async function probeCall({ sipHost = '127.0.0.1', sipPort, vxmlUrl, holdMs = 4000, keys = [], timeoutMs, segments = false, localHost = '127.0.0.1' }) {
  const res = { ok: false, error: null, setupMs: NaN, firstPromptMs: NaN, packets: 0, promptPackets: 0, underruns: 0, maxGapMs: NaN, seqJumps: 0, byeFrom: null, segments: [] };
  const sip = dgram.createSocket('udp4');
  let rtp = null;
  const timers = new Set();
  const later = (ms, fn) => { const t = setTimeout(() => { timers.delete(t); fn(); }, ms); timers.add(t); return t; };
  let finish;
  const done = new Promise((r) => { finish = r; });
  try {
    const lport = await bind(sip, 0, localHost);
    rtp = await bindRtp(localHost);
    const callId = `probe-${rid()}@${localHost}`;
    const fromTag = rid();
    const ruri = `sip:dialog@${sipHost}:${sipPort};voicexml=${vxmlUrl}`;
    const branch = () => `z9hG4bK${rid()}`;
    const inviteBranch = branch();
    const sdp = ['v=0', `o=probe ${Date.now()} 1 IN IP4 ${localHost}`, 's=-', `c=IN IP4 ${localHost}`, 't=0 0',
      `m=audio ${rtp.port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
    const msg = (first, hdrs, body = '') => Buffer.from([first, ...hdrs, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'), 'latin1');
    const via = (b) => `Via: SIP/2.0/UDP ${localHost}:${lport};branch=${b};rport`;
    const from = `From: <sip:probe@${localHost}:${lport}>;tag=${fromTag}`;
    const invite = msg(`INVITE ${ruri} SIP/2.0`, [via(inviteBranch), 'Max-Forwards: 70', from, `To: <sip:dialog@${sipHost}:${sipPort}>`, `Call-ID: ${callId}`,
      'CSeq: 1 INVITE', `Contact: <sip:probe@${localHost}:${lport}>`, 'Content-Type: application/sdp'], sdp);
    const send = (b) => sip.send(b, sipPort, sipHost);

    let t0 = 0; // INVITE sent
    let t200 = NaN;
    let toHeader = null;
    let target = null;
    let remoteRtp = null;
    let byeSent = false;
    let state = 'calling';
    // ---- RTP receive
    const arrivals = []; // [t, silent, seq]
    rtp.sock.on('message', (m) => {
      const t = performance.now();
      if (m.length < 12 || m[0] >> 6 !== 2) return;
      const pt = m[1] & 0x7f;
      if (pt !== 0) return;
      let h = 12 + (m[0] & 15) * 4;
      if (m[0] & 0x10) h += 4 + m.readUInt16BE(h + 2) * 4;
      arrivals.push([t, isSilent(m.subarray(h)), m.readUInt16BE(2), m[1] >> 7, m.readUInt32BE(4)]);
    });
    // ---- RTP send: silence every 20 ms, RFC 4733 events for keys
    const ssrc = crypto.randomBytes(4).readUInt32BE(0);
    let seq = crypto.randomInt(0, 30000);
    let ts = crypto.randomInt(0, 1e6);
    const silence = Buffer.alloc(160, 0xff);
    let key = null; // { code, ts, n, end }
    const queue = keys.map((k) => ({ ...k })).sort((a, b) => a.atMs - b.atMs);
    const codeOf = (d) => (d === '*' ? 10 : d === '#' ? 11 : Number(d));
    const tick = () => {
      if (!remoteRtp || state === 'ended') return;
      const now = performance.now() - t200;
      if (!key && queue.length && now >= queue[0].atMs) { const k = queue.shift(); key = { code: codeOf(k.digit), ts, n: 0 }; }
      const pkt = Buffer.alloc(12);
      pkt[0] = 0x80;
      pkt.writeUInt16BE(seq & 0xffff, 2);
      pkt.writeUInt32BE(ssrc, 8);
      seq++;
      if (key) {
        // 100 ms tone (5 packets), then 3 end packets, all with the event's start timestamp
        const endPkt = key.n >= 5;
        pkt[1] = 101 | (key.n === 0 ? 0x80 : 0);
        pkt.writeUInt32BE(key.ts >>> 0, 4);
        const dur = Math.min(5, key.n + 1) * 160;
        const ev = Buffer.from([key.code, (endPkt ? 0x80 : 0) | 10, dur >> 8, dur & 0xff]);
        rtp.sock.send(Buffer.concat([pkt, ev]), remoteRtp.port, remoteRtp.host);
        key.n++;
        if (key.n >= 8) key = null;
      } else {
        pkt[1] = 0;
        pkt.writeUInt32BE(ts >>> 0, 4);
        rtp.sock.send(Buffer.concat([pkt, silence]), remoteRtp.port, remoteRtp.host);
      }
      ts += 160;
    };
    let rtpTimer = null;

    const end = (why) => {
      if (state === 'ended') return;
      state = 'ended';
      if (why) res.error = why;
      finish();
    };
    const sendBye = () => {
      if (byeSent || !toHeader) return;
      byeSent = true;
      const bye = msg(`BYE ${target} SIP/2.0`, [via(branch()), 'Max-Forwards: 70', from, toHeader, `Call-ID: ${callId}`, 'CSeq: 2 BYE'], '');
      let n = 0;
      const again = () => { if (state !== 'byeing') return; send(bye); n++; if (n < 5) later(500 * 2 ** (n - 1), again); else end(); };
      state = 'byeing';
      res.byeFrom = 'probe';
      again();
    };

    sip.on('message', (buf) => {
      const m = parseSip(buf);
      if (m.h('call-id') !== callId) return;
      if (m.status) {
        const cseq = m.h('cseq') ?? '';
        if (/INVITE/.test(cseq)) {
          if (m.status < 200) { if (state === 'calling') state = 'proceeding'; return; }
          if (m.status >= 300) {
            send(msg(`ACK ${ruri} SIP/2.0`, [via(inviteBranch), 'Max-Forwards: 70', from, m.h('to'), `Call-ID: ${callId}`, 'CSeq: 1 ACK'], ''));
            end(`INVITE answered ${m.status}`);
            return;
          }
          const first = Number.isNaN(t200);
          if (first) {
            t200 = performance.now();
            res.setupMs = t200 - t0;
            toHeader = `To: ${m.h('to')}`;
            const contact = /<([^>]+)>/.exec(m.h('contact') ?? '')?.[1] ?? m.h('contact') ?? ruri;
            target = contact;
            const c = /c=IN IP4 (\S+)/.exec(m.body)?.[1];
            const p = /m=audio (\d+)/.exec(m.body)?.[1];
            if (c && p) remoteRtp = { host: c, port: Number(p) };
            state = 'confirmed';
            rtpTimer = setInterval(tick, 20);
            later(holdMs, sendBye);
          }
          // ACK (also for a retransmitted 200)
          send(msg(`ACK ${target} SIP/2.0`, [via(branch()), 'Max-Forwards: 70', from, toHeader, `Call-ID: ${callId}`, 'CSeq: 1 ACK'], ''));
        } else if (/BYE/.test(cseq) && state === 'byeing') {
          end();
        }
        return;
      }
      if (m.method) {
        // a request from the MCP: answer BYE (and anything else) with 200
        const resp = msg('SIP/2.0 200 OK', [...m.all('via').map((v) => `Via: ${v}`), `From: ${m.h('from')}`, `To: ${m.h('to')}`, `Call-ID: ${callId}`, `CSeq: ${m.h('cseq')}`], '');
        send(resp);
        if (m.method === 'BYE') { if (!byeSent) res.byeFrom = 'mcp'; later(50, () => end()); }
      }
    });

    // INVITE with timer A until a response
    t0 = performance.now();
    let n = 0;
    const again = () => { if (state !== 'calling') return; send(invite); n++; if (n < 7) later(500 * 2 ** (n - 1), again); else end('no answer to INVITE'); };
    again();
    later(timeoutMs ?? 15000 + holdMs, () => end('probe timeout'));
    await done;
    if (rtpTimer) clearInterval(rtpTimer);

    // ---- results
    res.packets = arrivals.length;
    const firstIdx = arrivals.findIndex((a) => !a[1]);
    if (firstIdx >= 0 && Number.isFinite(t200)) {
      res.firstPromptMs = arrivals[firstIdx][0] - t200;
      // the prompts play back to back (welcome, then "please enter your four digit account number",
      // ~4.5 s): the probe presses no key, so every packet from the first prompt packet to the hang-up
      // belongs to the prompt stream and every gap > 60 ms is an underrun
      const last = arrivals.length - 1;
      let maxGap = 0;
      for (let i = firstIdx + 1; i <= last; i++) {
        const gap = arrivals[i][0] - arrivals[i - 1][0];
        if (gap > maxGap) maxGap = gap;
        if (gap > GAP_LIMIT_MS) res.underruns++;
        if (((arrivals[i][2] - arrivals[i - 1][2]) & 0xffff) !== 1) res.seqJumps++;
      }
      res.maxGapMs = maxGap;
      res.promptPackets = last - firstIdx + 1;
    }
    if (segments && Number.isFinite(t200)) {
      let cur = null;
      for (const [t, silent] of arrivals) {
        const rel = Math.round(t - t200);
        if (!silent) { if (cur && rel - cur[1] < PROMPT_END_SILENCE_MS) cur[1] = rel; else { cur = [rel, rel]; res.segments.push(cur); } }
      }
    }
    if (process.env.PROBE_DEBUG) for (let i = 1; i < arrivals.length; i++) { const g = arrivals[i][0] - arrivals[i - 1][0]; if (g > 40 || arrivals[i][3]) console.error(`gap ${g.toFixed(1)} at ${(arrivals[i][0] - t200).toFixed(0)} m=${arrivals[i][3]} dseq=${arrivals[i][2] - arrivals[i - 1][2]} dts=${arrivals[i][4] - arrivals[i - 1][4]} silentBefore=${arrivals[i - 1][1]}`); }
    res.ok = Number.isFinite(t200) && res.error === null;
    if (res.ok && firstIdx < 0) { res.ok = false; res.error = 'no prompt audio received'; }
  } catch (e) {
    res.error = String(e?.message ?? e);
  } finally {
    for (const t of timers) clearTimeout(t);
    try { sip.close(); } catch { /* closed */ }
    try { rtp?.sock.close(); } catch { /* closed */ }
  }
  return res;
}

// ---- command line
if (import.meta.url === `file://${process.argv[1]}`) {
  const a = process.argv.slice(2);
  const get = (k, d) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : d; };
  const [host, port] = (get('--sip', '127.0.0.1:5060')).split(':');
  const keys = (get('--keys', '') || '').split(',').filter(Boolean).map((s) => { const [t, d] = s.split(':'); return { atMs: Number(t), digit: d }; });
  const r = await probeCall({ sipHost: host, sipPort: Number(port), vxmlUrl: get('--vxml'), holdMs: Number(get('--hold-ms', 4000)), keys, segments: a.includes('--segments') });
  console.log(JSON.stringify(r));
}
