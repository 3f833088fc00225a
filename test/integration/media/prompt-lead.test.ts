/**
 * Prompt audio taken ahead of its time (LocalMediaEngine promptLeadMs): the engine hands a
 * play's frames to the native UDP engine's sending thread up to 300 ms before they are due, so a
 * prompt plays on while the event loop is held up. Real sockets on loopback; the phone that
 * times arrivals runs in a worker thread, whose event loop this thread cannot block.
 */
import t from 'tap';
import { Worker } from 'node:worker_threads';
import { dominantFrequency } from '../../../src/media/index.js';
import { nativeUdpAvailable } from '../../../src/platform/index.js';
import { RtpPeer, sleep } from '../../helpers/rtp-peer.js';
import { withEngine } from './engine-helpers.js';

const seqGaps = (seqs: number[]): number[] => seqs.slice(1).map((s, i) => (s - (seqs[i] as number)) & 0xffff).filter((d) => d !== 1);

t.test('the native UDP engine is there (prompt lead needs it)', async (t) => {
  const status = nativeUdpAvailable();
  t.same(status, { ok: true }, status.ok ? 'loaded' : `not available: ${status.reason}`);
});

t.test('a prompt taken ahead arrives whole: one sequence, 160-sample steps, one marker, done with its tail pending', async (t) => {
  await withEngine(t, async (engine, events) => {
    const a = await RtpPeer.open({ codec: 'PCMU' });
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
    a.useRemoteSdp(ep.localSdp);
    const { playId } = await engine.play({ endpointId: ep.id, items: [{ kind: 'tone', frequenciesHz: [600], durationMs: 1000 }] });
    await sleep(1500);
    const got = a.received.filter((p) => p.payloadType === 0);
    t.equal(got.length, 50, '50 packets of 20 ms for a 1 s tone');
    t.same(seqGaps(got.map((p) => p.sequenceNumber)), [], 'sequence numbers without a gap');
    t.same(
      got.slice(1).map((p, i) => (p.timestamp - (got[i] as { timestamp: number }).timestamp) >>> 0).filter((d) => d !== 160),
      [],
      'timestamps 160 apart',
    );
    t.same(got.map((p, i) => (p.marker ? i : -1)).filter((i) => i >= 0), [0], 'the marker bit on the first packet only');
    t.equal(dominantFrequency(a.audio(), 8000, [400, 600, 1000]).frequencyHz, 600, 'the phone hears the tone');
    const done = events.find((e) => e.type === 'play.done');
    t.match(done, { type: 'play.done', playId, reason: 'finished' }, 'the play finished');
    const pending = done?.type === 'play.done' ? done.pendingMs : undefined;
    t.ok(pending !== undefined && pending > 0 && pending <= 320, `it ended with its last audio still queued (pendingMs ${String(pending)})`);
    a.close();
  });
});

t.test('a stopped prompt drops its queued audio: the next prompt continues the sequence, nothing of the first comes after it', async (t) => {
  await withEngine(t, async (engine) => {
    const a = await RtpPeer.open({ codec: 'PCMU' });
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: a.sdp() });
    a.useRemoteSdp(ep.localSdp);
    const first = await engine.play({ endpointId: ep.id, items: [{ kind: 'tone', frequenciesHz: [1000], durationMs: 3000 }] });
    await sleep(400);
    await engine.stopPlay(first.playId);
    const sentBeforeStop = a.received.length;
    await engine.play({ endpointId: ep.id, items: [{ kind: 'silence', durationMs: 400 }] });
    await sleep(900);
    const got = a.received.filter((p) => p.payloadType === 0);
    t.ok(sentBeforeStop < 40, `the 3 s tone was cut off (${sentBeforeStop} packets before the stop)`);
    t.same(seqGaps(got.map((p) => p.sequenceNumber)), [], 'one sequence without a gap across the stop: the dropped packets gave their numbers back');
    const firstSilent = got.findIndex((p) => p.payload.every((b) => b === 0xff || b === 0x7f));
    t.ok(firstSilent > 0, 'the second prompt arrived');
    const toneAfter = got.slice(firstSilent).filter((p) => !p.payload.every((b) => b === 0xff || b === 0x7f));
    t.equal(toneAfter.length, 0, 'no packet of the stopped tone after the first of the next prompt');
    t.equal(got.length - firstSilent, 20, 'the 400 ms of the next prompt in full');
    a.close();
  });
});

/** A phone in a worker thread: the arrival time (performance.timeOrigin-based, ms) of every datagram. */
async function threadPhone(): Promise<{ port: number; arrivals(): Promise<number[]>; close(): Promise<void> }> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const dgram = require('node:dgram');
    const arrivals = [];
    const s = dgram.createSocket('udp4');
    s.on('message', () => arrivals.push(performance.timeOrigin + performance.now()));
    s.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }));
    parentPort.on('message', (m) => {
      if (m === 'report') parentPort.postMessage({ arrivals });
      if (m === 'close') s.close(() => parentPort.close());
    });`;
  const worker = new Worker(code, { eval: true });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: { port: number }) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    port,
    arrivals: () =>
      new Promise((resolve) => {
        worker.once('message', (m: { arrivals: number[] }) => resolve(m.arrivals));
        worker.postMessage('report');
      }),
    close: async () => {
      worker.postMessage('close');
      await new Promise((resolve) => worker.once('exit', resolve));
    },
  };
}

function phoneSdp(port: number): string {
  return ['v=0', 'o=p 1 1 IN IP4 127.0.0.1', 's=p', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

/** Holds this thread for `ms` without letting its event loop run (a garbage collection, a burst of work). */
function blockFor(ms: number): { from: number; to: number } {
  const from = performance.timeOrigin + performance.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return { from, to: performance.timeOrigin + performance.now() };
}

for (const lead of [300, 0]) {
  t.test(`with the event loop held for 250 ms, the prompt ${lead > 0 ? 'goes on from the queue' : 'stops (no lead: the tick cannot run)'}`, async (t) => {
    await withEngine(t, async (engine) => {
      const phone = await threadPhone();
      try {
        const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phoneSdp(phone.port) });
        await engine.play({ endpointId: ep.id, items: [{ kind: 'tone', frequenciesHz: [600], durationMs: 2000 }] });
        await sleep(400);
        const held = blockFor(250);
        await sleep(300);
        const arrivals = await phone.arrivals();
        // packets that arrived well inside the window this thread could not send in
        const during = arrivals.filter((at) => at > held.from + 30 && at < held.to - 30).length;
        if (lead > 0) t.ok(during >= 6, `${during} packets arrived while the event loop was held (about 9 expected)`);
        else t.equal(during, 0, 'no packet while the event loop was held');
      } finally {
        await phone.close();
      }
    }, { promptLeadMs: lead });
  });
}
