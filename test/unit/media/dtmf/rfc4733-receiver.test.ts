import t from 'tap';
import { Rfc4733Receiver, serializeTelephoneEvent, type TelephoneEventPacket } from '../../../../src/media/dtmf/index.js';

interface P {
  event?: number;
  ts?: number;
  duration: number;
  end?: boolean;
  marker?: boolean;
  volume?: number;
  at: number;
}

function packet(p: P): TelephoneEventPacket {
  return {
    payload: serializeTelephoneEvent({ event: p.event ?? 5, end: p.end ?? false, volume: p.volume ?? 10, duration: p.duration }),
    timestamp: p.ts ?? 1000,
    marker: p.marker ?? false,
    arrivalMs: p.at,
  };
}

/** The usual packet train for one 100 ms press at 50 ms updates (durations in 8 kHz units). */
function press(event: number, ts: number, at: number): TelephoneEventPacket[] {
  return [
    packet({ event, ts, duration: 400, marker: true, at }),
    packet({ event, ts, duration: 800, at: at + 50 }),
    packet({ event, ts, duration: 800, end: true, at: at + 100 }),
    packet({ event, ts, duration: 800, end: true, at: at + 120 }),
    packet({ event, ts, duration: 800, end: true, at: at + 140 }),
  ];
}

function feed(r: Rfc4733Receiver, packets: TelephoneEventPacket[]) {
  return packets.flatMap((p) => r.receive(p));
}

t.test('a normal press: start, update, three redundant ends reported once', async (t) => {
  const r = new Rfc4733Receiver();
  const [start, update, end1, end2, end3] = press(5, 1000, 0);
  t.same(r.receive(start!), [], 'nothing at the start');
  t.equal(r.activeDigit, '5', 'the digit under way is visible');
  t.same(r.receive(update!), []);
  const events = r.receive(end1!);
  t.same(events, [{ digit: '5', durationMs: 100, source: 'rfc4733', timestamp: 1000, volume: 10, endedBy: 'end-bit' }]);
  t.same(r.receive(end2!), [], 'second end packet ignored');
  t.same(r.receive(end3!), [], 'third end packet ignored');
  t.equal(r.activeDigit, undefined);
  t.same(r.tick(10_000), [], 'no timeout after a proper end');
});

t.test('event codes map to digits (RFC 4733 §3.2)', async (t) => {
  const r = new Rfc4733Receiver();
  const digits: string[] = [];
  for (let code = 0; code < 16; code++) digits.push(...feed(r, press(code, 1000 + code * 2000, code * 300)).map((e) => e.digit));
  t.equal(digits.join(''), '0123456789*#ABCD');
});

t.test('non-DTMF events (flash = 16, others) and malformed payloads are ignored', async (t) => {
  const r = new Rfc4733Receiver();
  t.same(feed(r, press(16, 1000, 0)), [], 'flash hook');
  t.same(feed(r, press(255, 5000, 300)), []);
  for (const bad of [new Uint8Array(0), new Uint8Array([5]), new Uint8Array([5, 0x80, 3])]) {
    t.same(r.receive({ payload: bad, timestamp: 9000, marker: true, arrivalMs: 600 }), [], `${bad.length} bytes`);
  }
  t.equal(r.activeDigit, undefined);
  t.same(r.tick(100_000), []);
  const withExtra = packet({ event: 9, ts: 20_000, duration: 800, end: true, at: 700 });
  const longer = new Uint8Array(8);
  longer.set(withExtra.payload);
  t.equal(r.receive({ ...withExtra, payload: longer })[0]?.digit, '9', 'bytes after the first block are ignored');
});

t.test('lost start packet: the first packet seen is an update', async (t) => {
  const r = new Rfc4733Receiver();
  const events = feed(r, press(3, 1000, 0).slice(1));
  t.equal(events.length, 1);
  t.equal(events[0]?.digit, '3');
  t.equal(events[0]?.durationMs, 100);
});

t.test('only an end packet survives', async (t) => {
  const r = new Rfc4733Receiver();
  const events = feed(r, press(3, 1000, 0).slice(4));
  t.equal(events.length, 1);
  t.equal(events[0]?.durationMs, 100);
});

t.test('all end packets lost: the event ends by timeout', async (t) => {
  const r = new Rfc4733Receiver({ endTimeoutMs: 300 });
  t.same(feed(r, press(8, 1000, 0).slice(0, 2)), []);
  t.same(r.tick(200), [], 'not yet: 150 ms since the last packet');
  const events = r.tick(350);
  t.equal(events.length, 1);
  t.same(events[0], { digit: '8', durationMs: 100, source: 'rfc4733', timestamp: 1000, volume: 10, endedBy: 'timeout' });
  t.same(r.tick(1000), [], 'reported once');
  t.same(r.receive(packet({ event: 8, ts: 1000, duration: 800, end: true, at: 400 })), [], 'a very late end packet is not a new press');
});

t.test('all end packets lost, then the next press: the new timestamp ends the old event', async (t) => {
  const r = new Rfc4733Receiver();
  t.same(feed(r, press(1, 1000, 0).slice(0, 2)), []);
  const events = r.receive(press(2, 2600, 170)[0]!);
  t.same(events.map((e) => [e.digit, e.endedBy]), [['1', 'new-event']]);
  t.same(feed(r, press(2, 2600, 170).slice(1)).map((e) => e.digit), ['2']);
});

t.test('the same digit pressed twice is two events (new timestamp)', async (t) => {
  const r = new Rfc4733Receiver();
  const events = [...feed(r, press(4, 1000, 0)), ...feed(r, press(4, 2360, 170))];
  t.same(events.map((e) => e.digit), ['4', '4']);
});

t.test('duplicated packets change nothing', async (t) => {
  const r = new Rfc4733Receiver();
  const events = feed(r, press(6, 1000, 0).flatMap((p) => [p, p]));
  t.equal(events.length, 1);
  t.equal(events[0]?.durationMs, 100);
});

t.test('reordering: updates overtaking each other, an update after the end', async (t) => {
  const r = new Rfc4733Receiver();
  const [start, update, end1, end2, end3] = press(7, 1000, 0);
  const longer = packet({ event: 7, ts: 1000, duration: 1200, at: 60 });
  // arrival order: update, longer update, start, end, late update, end, end
  const events = feed(r, [update!, longer, start!, packet({ event: 7, ts: 1000, duration: 1600, end: true, at: 120 }), update!, end2!, end3!]);
  t.equal(events.length, 1, 'one event');
  t.equal(events[0]?.durationMs, 200, 'the duration never shrinks');
  void end1;
  // a packet of the previous press arriving after the next press started is dropped
  const next = press(9, 3000, 300);
  t.same(r.receive(next[0]!), []);
  t.same(r.receive(packet({ event: 7, ts: 1000, duration: 800, at: 310 })), [], 'stale packet of an ended event');
  t.same(r.receive(packet({ event: 2, ts: 900, duration: 800, at: 320 })), [], 'stale packet of an event never seen');
  t.same(feed(r, next.slice(1)).map((e) => e.digit), ['9'], 'the current press is unaffected');
});

t.test('volume is reported from the packets (RFC 4733 §2.3)', async (t) => {
  const r = new Rfc4733Receiver();
  const events = feed(r, [packet({ event: 0, duration: 160, marker: true, volume: 7, at: 0 }), packet({ event: 0, duration: 320, end: true, volume: 7, at: 20 })]);
  t.equal(events[0]?.volume, 7);
});

t.test('a long event split into segments (RFC 4733 §2.5.2.3) is one press with the summed duration', async (t) => {
  const r = new Rfc4733Receiver();
  const ts = 4_294_960_000; // wraps past 2^32 in the second segment
  const out = [
    ...r.receive(packet({ event: 0, ts, duration: 400, marker: true, at: 0 })),
    ...r.receive(packet({ event: 0, ts, duration: 65_000, at: 8125 })),
    ...r.receive(packet({ event: 0, ts, duration: 0xffff, at: 8150 })),
    ...r.receive(packet({ event: 0, ts: (ts + 0xffff) >>> 0, duration: 400, at: 8200 })),
    ...r.receive(packet({ event: 0, ts: (ts + 0xffff) >>> 0, duration: 8000, at: 9200 })),
    ...r.receive(packet({ event: 0, ts: (ts + 0xffff) >>> 0, duration: 8000, end: true, at: 9250 })),
    ...r.receive(packet({ event: 0, ts: (ts + 0xffff) >>> 0, duration: 8000, end: true, at: 9270 })),
  ];
  t.equal(out.length, 1, 'one event');
  t.equal(out[0]?.durationMs, Math.round(((0xffff + 8000) * 1000) / 8000));
  t.equal(out[0]?.timestamp, ts, 'identified by the first segment');
  t.same(r.receive(packet({ event: 0, ts, duration: 0xffff, at: 9300 })), [], 'a late packet of the first segment is stale');
});

t.test('segment continuation when the last packets of a segment were lost', async (t) => {
  const r = new Rfc4733Receiver();
  r.receive(packet({ event: 1, ts: 0, duration: 64_800, marker: true, at: 0 }));
  const out = [
    ...r.receive(packet({ event: 1, ts: 0xffff, duration: 800, at: 150 })),
    ...r.receive(packet({ event: 1, ts: 0xffff, duration: 800, end: true, at: 200 })),
  ];
  t.same(out.map((e) => [e.digit, e.durationMs]), [['1', Math.round(((0xffff + 800) * 1000) / 8000)]]);
});

t.test('a new press of the same digit with its marker is not a continuation', async (t) => {
  const r = new Rfc4733Receiver();
  r.receive(packet({ event: 1, ts: 0, duration: 800, marker: true, at: 0 }));
  const out = r.receive(packet({ event: 1, ts: 800, duration: 400, marker: true, at: 150 }));
  t.same(out.map((e) => [e.digit, e.durationMs, e.endedBy]), [['1', 100, 'new-event']]);
  t.equal(r.activeDigit, '1');
});

t.test('flush and reset', async (t) => {
  const r = new Rfc4733Receiver();
  r.receive(packet({ event: 11, duration: 400, marker: true, at: 0 }));
  t.same(r.flush().map((e) => [e.digit, e.endedBy]), [['#', 'flush']]);
  t.same(r.flush(), []);
  r.receive(packet({ event: 11, ts: 5000, duration: 400, marker: true, at: 0 }));
  r.reset();
  t.same(r.tick(10_000), [], 'reset drops the event under way');
  t.equal(r.receive(packet({ event: 11, ts: 1000, duration: 400, end: true, at: 0 })).length, 1, 'after reset, old timestamps are new again');
});

t.test('a stream whose timestamps jump far back is treated as restarted', async (t) => {
  const r = new Rfc4733Receiver();
  feed(r, press(5, 1_000_000, 0));
  t.equal(feed(r, press(6, 10, 300)).length, 1);
});

t.test('receiveRtp takes parsed RTP packets and filters on the payload type', async (t) => {
  const r = new Rfc4733Receiver({ payloadType: 101 });
  const rtp = (payloadType: number, p: P) => {
    const { payload, timestamp, marker } = packet(p);
    return { payloadType, payload, timestamp, marker, sequenceNumber: 1, ssrc: 1, csrcs: [] };
  };
  t.same(r.receiveRtp(rtp(0, { event: 2, duration: 800, end: true, at: 0 }), 0), [], 'a voice packet is not an event');
  t.same(r.receiveRtp(rtp(101, { event: 2, duration: 800, end: true, at: 0 }), 0).map((e) => e.digit), ['2']);
});

t.test('a new press whose timestamp went backwards still counts when it starts with the marker bit', async (t) => {
  // SIPp replays its dtmf_2833_*.pcap files with their recorded timestamps: '#' at 92640, then '9' at 67840
  const r = new Rfc4733Receiver();
  const digits = [...feed(r, press(11, 92640, 0)), ...feed(r, press(9, 67840, 700))].map((e) => e.digit);
  t.same(digits, ['#', '9']);
  // without the marker, an older timestamp is a straggler of something already over
  const r2 = new Rfc4733Receiver();
  const late = [...feed(r2, press(11, 92640, 0)), ...r2.receive(packet({ event: 9, ts: 67840, duration: 800, end: true, at: 700 }))];
  t.same(late.map((e) => e.digit), ['#'], 'an old end packet alone is ignored');
});
