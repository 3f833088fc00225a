/**
 * EngineEndpoint taking prompt frames ahead of their tick (leadTick), the bookkeeping of what is
 * queued (dropAhead, skipFrames) and how it meets frame-by-frame sending (endTick). The transport
 * is a fake whose pacer records what it is given: this is the sequence/timestamp logic only; the
 * real thread is covered by test/integration/media/prompt-lead.test.ts.
 */
import t from 'tap';
import { silentLogger } from '../../../../src/lib/index.js';
import { EngineEndpoint } from '../../../../src/media/engine/engine-endpoint.js';
import type { MediaTransport, NegotiatedStream, RtpPacket } from '../../../../src/media/types.js';

interface Queued {
  seq: number;
  ts: number;
  marker: boolean;
  delayMs: number;
  first: number;
}

function fakeTransport(withPacer = true) {
  const queued: Queued[] = [];
  const direct: Queued[] = [];
  const record = (list: Queued[], p: RtpPacket, delayMs: number) => list.push({ seq: p.sequenceNumber, ts: p.timestamp, marker: p.marker, delayMs, first: p.payload[0] ?? -1 });
  const transport = {
    kind: 'rtp' as const,
    local: { address: '127.0.0.1', port: 4000, family: 'IPv4' as const },
    remote: undefined,
    setRemote: () => undefined,
    sendRtp: (p: RtpPacket) => record(direct, p, 0),
    sendRtcp: () => undefined,
    pacer: withPacer ? { sendAt: (p: RtpPacket, delayMs: number) => record(queued, p, delayMs), cancel: () => 0 } : undefined,
    stats: () => ({ packetsSent: 0, packetsReceived: 0, packetsLost: 0, bytesSent: 0, bytesReceived: 0, jitterMs: 0 }),
    on: () => () => undefined,
    close: () => undefined,
  };
  return { transport: transport as unknown as MediaTransport & { pacer: { cancel: () => number } | undefined }, queued, direct };
}

const stream: NegotiatedStream = {
  remote: { address: '127.0.0.1', port: 5000, family: 'IPv4' },
  rtcpMux: true,
  codecs: [{ name: 'PCMU', payloadType: 0, clockRate: 8000 }],
  direction: 'sendrecv',
  ptimeMs: 20,
};

function endpoint(withPacer = true, telephoneEvent = false) {
  const f = fakeTransport(withPacer);
  let now = 1000;
  const ep = new EngineEndpoint(
    { id: 'ep1', kind: 'rtp', transport: f.transport, session: undefined, logger: silentLogger, jitterBufferMaxMs: 200, labels: {} },
    () => undefined,
    () => now,
  );
  ep.applyStream(telephoneEvent ? { ...stream, telephoneEvent: { payloadType: 101, clockRate: 8000 } } : stream);
  return { ep, ...f, setNow: (ms: number) => (now = ms) };
}

const lead = (playId: string, bargeIn: boolean, src: { ready(): boolean; next(): Int16Array | undefined }) => ({ playId, bargeIn, ready: () => src.ready(), next: () => src.next() });

/** frames numbered 1..n (the first sample holds the number, µ-law keeps it distinguishable) */
function source(n: number, readyFrom = 1) {
  let i = 0;
  return {
    ready: () => i + 1 >= readyFrom,
    next: () => (i < n ? new Int16Array(160).fill(++i * 100) : undefined),
    get taken() {
      return i;
    },
  };
}

t.test('the first tick queues this frame and the lead, due 20 ms apart; later ticks add one each', async (t) => {
  const { ep, queued, setNow } = endpoint();
  t.equal(ep.canLead, true);
  const src = source(100);
  ep.beginTick(1, 1000);
  t.equal(ep.leadTick(1000, 5, lead('p1', false, src)), true);
  t.equal(queued.length, 6, 'this tick + 5 ahead');
  t.same(queued.map((q) => q.delayMs), [0, 20, 40, 60, 80, 100]);
  t.same(queued.slice(1).map((q, i) => (q.seq - (queued[i] as Queued).seq) & 0xffff), [1, 1, 1, 1, 1]);
  t.same(queued.slice(1).map((q, i) => (q.ts - (queued[i] as Queued).ts) >>> 0), [160, 160, 160, 160, 160]);
  t.same(queued.map((q) => q.marker), [true, false, false, false, false, false]);
  t.equal(ep.aheadMs, 100, '5 frames after this tick');
  setNow(1020);
  ep.beginTick(2, 1020);
  ep.leadTick(1020, 5, lead('p1', false, src));
  t.equal(queued.length, 7, 'one more');
  t.equal(queued[6]?.delayMs, 100, 'due at the end of the lead');
  t.equal(((queued[6] as Queued).ts - (queued[0] as Queued).ts) >>> 0, 6 * 160);
  t.match(ep.aheadPlay, { playId: 'p1', bargeIn: false }, 'the queued audio belongs to play p1');
});

t.test('audio not there yet is not queued ahead: only the frame of this tick', async (t) => {
  const { ep, queued } = endpoint();
  const src = source(100, 4); // frames 1..3 would be "waiting"
  ep.beginTick(1, 1000);
  ep.leadTick(1000, 5, lead('p1', false, src));
  t.equal(queued.length, 1, 'this tick only');
  ep.beginTick(2, 1020);
  ep.leadTick(1020, 5, lead('p1', false, src));
  t.equal(queued.length, 2);
  ep.beginTick(3, 1040);
  ep.leadTick(1040, 5, lead('p1', false, src));
  t.equal(queued.length, 8, 'ready from there: this tick + 5 ahead');
});

t.test('the end of a play: false, its tail counted; frame-by-frame sending waits for the tail', async (t) => {
  const { ep, queued, direct } = endpoint();
  const src = source(3);
  ep.beginTick(1, 1000);
  t.equal(ep.leadTick(1000, 5, lead('p1', false, src)), false, 'the source ended');
  t.equal(queued.length, 3);
  t.equal(ep.aheadMs, 40, '2 frames after this tick');
  // nothing else to send: the tail plays out
  ep.beginTick(2, 1020);
  ep.endTick(undefined, 1020);
  ep.beginTick(3, 1040);
  ep.endTick(undefined, 1040);
  t.equal(ep.aheadMs, 0);
  t.equal(ep.aheadPlay, undefined);
  ep.beginTick(4, 1060);
  ep.endTick(new Int16Array(160), 1060);
  t.equal(direct.length, 1, 'after the tail, frames go out at their tick');
  t.equal((direct[0]!.seq - queued[2]!.seq) & 0xffff, 1, 'the sequence goes on');
  t.equal((direct[0]!.ts - queued[2]!.ts) >>> 0, 160, 'and the clock');
  t.equal(direct[0]!.marker, false, 'no gap: no marker');
});

t.test('dropAhead gives the dropped sequence numbers back; sent ones keep their ticks', async (t) => {
  const { ep, queued, direct, transport } = endpoint();
  const src = source(100);
  ep.beginTick(1, 1000);
  ep.leadTick(1000, 5, lead('p1', true, src));
  // the pacer had sent this tick's frame; 5 were still waiting
  transport.pacer!.cancel = () => 5;
  ep.dropAhead();
  t.equal(ep.aheadMs, 0);
  ep.beginTick(2, 1020);
  ep.endTick(new Int16Array(160), 1020);
  t.equal((direct[0]!.seq - queued[0]!.seq) & 0xffff, 1, 'the next packet follows the last one that left');
  t.equal((direct[0]!.ts - queued[0]!.ts) >>> 0, 160);
  t.equal(direct[0]!.marker, false);

  const two = endpoint();
  const s2 = source(100);
  two.ep.beginTick(1, 1000);
  two.ep.leadTick(1000, 5, lead('p1', false, s2));
  two.transport.pacer!.cancel = () => 3; // two of the ahead ones had left too
  two.ep.dropAhead();
  two.transport.pacer!.cancel = () => 0;
  t.equal(two.ep.aheadMs, 40, 'two frames after this tick are out already');
  two.ep.beginTick(2, 1020);
  two.ep.endTick(new Int16Array(160), 1020);
  two.ep.beginTick(3, 1040);
  two.ep.endTick(new Int16Array(160), 1040);
  t.equal(two.direct.length, 0, 'their ticks send nothing more');
  two.ep.beginTick(4, 1060);
  two.ep.endTick(new Int16Array(160), 1060);
  t.equal((two.direct[0]!.seq - two.queued[2]!.seq) & 0xffff, 1, 'then the sequence continues after the last packet out');
  t.equal((two.direct[0]!.ts - two.queued[2]!.ts) >>> 0, 160);
});

t.test('a frame of another source while a tail is queued drops the tail first', async (t) => {
  const { ep, queued, direct, transport } = endpoint();
  let cancelled = 0;
  transport.pacer!.cancel = () => {
    cancelled++;
    return 4;
  };
  const src = source(5);
  ep.beginTick(1, 1000);
  ep.leadTick(1000, 5, lead('p1', false, src));
  t.equal(queued.length, 5);
  ep.beginTick(2, 1020);
  ep.endTick(new Int16Array(160).fill(7), 1020);
  t.equal(cancelled, 1, 'the queue was cancelled');
  t.equal(direct.length, 1, 'the new frame went out at its tick');
  t.equal((direct[0]!.seq - queued[0]!.seq) & 0xffff, 1);
});

t.test('skipped ticks: the clock moves on and the frames sent meanwhile leave the count', async (t) => {
  const { ep, queued, setNow } = endpoint();
  const src = source(100);
  ep.beginTick(1, 1000);
  ep.leadTick(1000, 5, lead('p1', false, src));
  ep.skipFrames(3);
  setNow(1080);
  t.equal(ep.aheadMs, 40, '5 ahead, 3 of them went out during the stall');
  ep.beginTick(2, 1080);
  ep.leadTick(1080, 5, lead('p1', false, src));
  const added = queued.slice(6);
  t.equal(added.length, 4, 'topped up to 5 ahead again');
  t.same(added.map((q) => q.delayMs), [40, 60, 80, 100]);
  t.equal((added[0]!.ts - queued[5]!.ts) >>> 0, 160, 'timestamps continue from the last queued frame');
  t.equal((added[0]!.seq - queued[5]!.seq) & 0xffff, 1);
  ep.skipFrames(50);
  t.equal(ep.aheadMs, 0, 'a stall longer than the lead empties it');
  setNow(2100);
  ep.beginTick(3, 2100);
  ep.leadTick(2100, 5, lead('p1', false, src));
  const after = queued.slice(10);
  t.equal(after[0]!.marker, true, 'after a gap the marker bit is set');
  // the last queued frame was due at 1180, this one at 2100: 920 ms = 46 frames later
  t.equal((after[0]!.ts - added[3]!.ts) >>> 0, 160 * 46, 'and the timestamp says how long the gap was');
});

t.test('no pacer, or DTMF being sent: no lead', async (t) => {
  t.equal(endpoint(false).ep.canLead, false);
  const { ep } = endpoint(true, true);
  t.equal(ep.canLead, true);
  t.equal(ep.sendDtmf('1', 100, 1000), true);
  t.equal(ep.canLead, false);
});

t.test('leadEarly between ticks: the first frame leaves at once, the next ones on the tick grid; the tick then carries on', async (t) => {
  const { ep, queued, setNow } = endpoint();
  const src = source(100);
  // tick 1 ran with nothing to send
  ep.beginTick(1, 1000);
  ep.endTick(undefined, 1000);
  // audio arrives at 1007; the next tick (2) is due at 1020
  setNow(1007);
  t.equal(ep.leadEarly(2, 1020, 5, lead('p1', false, src)), true);
  t.same(queued.map((q) => q.delayMs), [0, 33, 53, 73, 93, 113], 'at once, then 1040, 1060 ... (tick 2 + 1 ...)');
  t.equal(queued[0]!.marker, true);
  t.equal(ep.aheadMs, 120, 'six frames from tick 2 on');
  t.equal(ep.leadEarly(2, 1020, 5, lead('p1', false, src)), true);
  t.equal(queued.length, 6, 'a second call takes nothing: the queue is full');
  setNow(1020);
  ep.beginTick(2, 1020);
  ep.leadTick(1020, 5, lead('p1', false, src));
  t.equal(queued.length, 6, 'tick 2 finds its frame and 5 more queued: nothing to add');
  setNow(1040);
  ep.beginTick(3, 1040);
  ep.leadTick(1040, 5, lead('p1', false, src));
  t.equal(queued.length, 7);
  t.equal(queued[6]!.delayMs, 100);
  t.same(queued.slice(1).map((q, i) => (q.seq - queued[i]!.seq) & 0xffff), [1, 1, 1, 1, 1, 1]);
  t.same(queued.slice(1).map((q, i) => (q.ts - queued[i]!.ts) >>> 0), [160, 160, 160, 160, 160, 160]);
  t.same(queued.map((q) => q.marker), [true, false, false, false, false, false, false]);

  const waiting = endpoint();
  const later = source(100, 99);
  t.equal(waiting.ep.leadEarly(1, 1020, 5, lead('p1', false, later)), true);
  t.equal(waiting.queued.length, 0, 'audio not there yet: nothing early, not even silence');
});
