import t from 'tap';
import {
  MAX_SEGMENT_DURATION,
  Rfc4733Receiver,
  Rfc4733Sender,
  parseTelephoneEvent,
  planTelephoneEvent,
  serializeTelephoneEvent,
  type Rfc4733OutgoingPacket,
} from '../../../../src/media/dtmf/index.js';
import { DTMF_DIGITS } from '../../../../src/media/types.js';

/** Run the sender on a 10 ms tick until it is idle; returns every packet in order. */
function drain(sender: Rfc4733Sender, fromMs = 0, stepMs = 10): Rfc4733OutgoingPacket[] {
  const out: Rfc4733OutgoingPacket[] = [];
  for (let now = fromMs; sender.busy && now < fromMs + 600_000; now += stepMs) out.push(...sender.tick(now));
  return out;
}

t.test('payload encoding (RFC 4733 §2.3)', async (t) => {
  const bytes = serializeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 });
  t.same([...bytes], [11, 0x8a, 0x03, 0x20]);
  t.same(parseTelephoneEvent(bytes), { event: 11, end: true, volume: 10, duration: 800 });
  t.same(parseTelephoneEvent(new Uint8Array([1, 0x40 | 5, 0, 1])), { event: 1, end: false, volume: 5, duration: 1 }, 'the R bit is ignored');
  t.same([...serializeTelephoneEvent({ event: 1, end: false, volume: 99, duration: 1e9 })], [1, 63, 0xff, 0xff], 'out-of-range fields are clamped');
  t.equal(parseTelephoneEvent(new Uint8Array(3)), undefined);
});

t.test('one digit at 50 ms updates: start with marker, updates, three identical end packets', async (t) => {
  const packets = planTelephoneEvent('5', 1000, 12345, 100);
  t.same(
    packets.map((p) => [p.atMs, p.marker, p.duration, p.end, p.timestamp]),
    [
      [1000, true, 400, false, 12345],
      [1050, false, 800, false, 12345],
      [1100, false, 800, true, 12345],
      [1120, false, 800, true, 12345],
      [1140, false, 800, true, 12345],
    ],
  );
  const last = packets.slice(-3).map((p) => [...p.payload]);
  t.same(last[0], last[1], 'the end packets are identical');
  t.same(last[1], last[2]);
  t.same(parseTelephoneEvent(packets[0]!.payload), { event: 5, end: false, volume: 10, duration: 400 });
});

t.test('20 ms updates and a tone length that is not a multiple of the interval', async (t) => {
  const packets = planTelephoneEvent('#', 0, 0, 70, { packetIntervalMs: 20, volume: 6 });
  t.same(
    packets.map((p) => [p.atMs, p.duration, p.end]),
    [
      [0, 160, false],
      [20, 320, false],
      [40, 480, false],
      [60, 560, false],
      [70, 560, true],
      [90, 560, true],
      [110, 560, true],
    ],
  );
  t.equal(parseTelephoneEvent(packets[0]!.payload)?.volume, 6);
});

t.test('a queue of digits with inter-digit gaps, timestamps on the stream clock', async (t) => {
  const sender = new Rfc4733Sender({ referenceTimestamp: 160_000, referenceMs: 5000 });
  t.equal(sender.enqueue('1x2'), 2, 'unknown characters are skipped');
  const packets = drain(sender, 5000);
  const starts = packets.filter((p) => p.marker);
  t.same(starts.map((p) => [p.digit, p.atMs, p.timestamp]), [
    ['1', 5000, 160_000],
    ['2', 5170, 160_000 + 170 * 8],
  ], '100 ms tone + 70 ms gap, timestamps advance with the stream clock');
  t.equal(packets.filter((p) => p.end).length, 6);
  t.notOk(sender.busy);
  t.same(sender.tick(99_999), []);
});

t.test('per-call tone and gap, lower-case letters, clear()', async (t) => {
  const sender = new Rfc4733Sender({ referenceTimestamp: 0, referenceMs: 0, toneMs: 200, gapMs: 100 });
  sender.enqueue('ab', 80, 60);
  const first = sender.tick(0);
  t.same(first.map((p) => p.digit), ['A']);
  t.ok(sender.sendingEvent, 'voice should be held back now');
  sender.clear();
  const rest = drain(sender, 10);
  t.same([...new Set(rest.map((p) => p.digit))], ['A'], 'the digit under way finishes, the queued one is dropped');
  t.equal(rest.filter((p) => p.end).length, 3);
  t.equal(rest.find((p) => p.end)?.duration, 640, '80 ms tone');
  t.notOk(sender.sendingEvent);
  sender.enqueue('1', 10);
  t.equal(drain(sender, 1000).find((p) => p.end)?.duration, 320, 'tones are at least 40 ms (ITU-T Q.24)');
});

t.test('a late tick sends everything already due, in order', async (t) => {
  const sender = new Rfc4733Sender({ referenceTimestamp: 0, referenceMs: 0 });
  sender.enqueue('12');
  t.equal(sender.tick(0).length, 1);
  const burst = sender.tick(1000);
  t.same(
    burst.map((p) => [p.digit, p.marker, p.end, p.atMs]),
    [
      ['1', false, false, 50],
      ['1', false, true, 100],
      ['1', false, true, 120],
      ['1', false, true, 140],
      ['2', true, false, 1000],
    ],
    'the rest of 1, then 2 starts now (not in the past)',
  );
  t.equal(burst.at(-1)?.timestamp, 8000, 'with the timestamp of now');
  drain(sender, 1010);
  t.notOk(sender.busy);
});

t.test('timestamps wrap at 2^32', async (t) => {
  const sender = new Rfc4733Sender({ referenceTimestamp: 0xffffff00, referenceMs: 0 });
  sender.enqueue('0');
  const start = sender.tick(100)[0];
  t.equal(start?.timestamp, (0xffffff00 + 800) >>> 0);
});

t.test('round trip: every digit from the sender comes out of the receiver once, with its duration', async (t) => {
  for (const intervalMs of [50, 20]) {
    const sender = new Rfc4733Sender({ referenceTimestamp: 4_294_900_000, referenceMs: 0, packetIntervalMs: intervalMs });
    sender.enqueue(DTMF_DIGITS.join(''));
    const receiver = new Rfc4733Receiver();
    const received = drain(sender).flatMap((p) => receiver.receive({ payload: p.payload, timestamp: p.timestamp, marker: p.marker, arrivalMs: p.atMs + 30 }));
    t.equal(received.map((e) => e.digit).join(''), '0123456789*#ABCD', `all 16 digits at ${intervalMs} ms updates`);
    t.ok(received.every((e) => e.durationMs === 100 && e.endedBy === 'end-bit' && e.volume === 10));
  }
});

t.test('round trip of a long event in segments (RFC 4733 §2.5.1.3)', async (t) => {
  const packets = planTelephoneEvent('9', 0, 100, 20_000);
  const segments = [...new Set(packets.map((p) => p.timestamp))];
  t.same(segments, [100, 100 + MAX_SEGMENT_DURATION, 100 + 2 * MAX_SEGMENT_DURATION], '160 000 units need three segments');
  t.equal(packets.filter((p) => p.marker).length, 1, 'only the first segment has the marker');
  t.ok(packets.filter((p) => p.timestamp !== segments[2]).every((p) => !p.end), 'no E bit before the last segment');
  t.same(
    packets.filter((p) => p.timestamp === segments[0]).at(-1)?.duration,
    MAX_SEGMENT_DURATION,
    'a segment is closed at 0xFFFF',
  );
  const receiver = new Rfc4733Receiver();
  const events = packets.flatMap((p) => receiver.receive({ payload: p.payload, timestamp: p.timestamp, marker: p.marker, arrivalMs: p.atMs }));
  t.same(events.map((e) => [e.digit, e.durationMs]), [['9', 20_000]]);
});

t.test('round trip with loss: start lost, one update lost, two of three ends lost', async (t) => {
  const sender = new Rfc4733Sender({ referenceTimestamp: 0, referenceMs: 0, toneMs: 200 });
  sender.enqueue('357');
  const packets = drain(sender);
  const receiver = new Rfc4733Receiver();
  const lost = new Set<Rfc4733OutgoingPacket>();
  for (const digit of ['3', '5', '7']) {
    const own = packets.filter((p) => p.digit === digit);
    lost.add(own[0]!).add(own[2]!).add(own.at(-1)!).add(own.at(-2)!);
  }
  const events = packets.filter((p) => !lost.has(p)).flatMap((p) => receiver.receive({ payload: p.payload, timestamp: p.timestamp, marker: p.marker, arrivalMs: p.atMs }));
  t.same(events.map((e) => [e.digit, e.durationMs]), [['3', 200], ['5', 200], ['7', 200]]);
});
