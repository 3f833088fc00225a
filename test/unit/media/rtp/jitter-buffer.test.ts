import t from 'tap';
import { JitterBuffer, type JitterBufferOutput } from '../../../../src/media/rtp/index.js';
import type { RtpPacket } from '../../../../src/media/types.js';

function pkt(seq: number, options: { ts?: number; marker?: boolean; ssrc?: number } = {}): RtpPacket {
  return {
    marker: options.marker ?? false,
    payloadType: 0,
    sequenceNumber: seq & 0xffff,
    timestamp: (options.ts ?? seq * 160) >>> 0,
    ssrc: options.ssrc ?? 1,
    csrcs: [],
    payload: new Uint8Array([seq & 0xff]),
  };
}

/** what came out, as sequence numbers, 'lost' or 'empty' */
function describe(out: JitterBufferOutput): number | 'lost' | 'empty' {
  return out.kind === 'packet' ? out.packet.sequenceNumber : out.kind;
}

/**
 * Run a schedule: packets arrive at given times, pop ticks every 20 ms from tick0.
 * Returns what each tick produced.
 */
function run(jb: JitterBuffer, arrivals: [number, RtpPacket][], ticks: number, tick0 = 0): (number | 'lost' | 'empty')[] {
  const sorted = [...arrivals].sort((a, b) => a[0] - b[0]);
  const out: (number | 'lost' | 'empty')[] = [];
  let i = 0;
  for (let k = 0; k < ticks; k++) {
    const now = tick0 + k * 20;
    while (i < sorted.length && sorted[i]![0] <= now) {
      jb.push(sorted[i]![1], sorted[i]![0]);
      i++;
    }
    out.push(describe(jb.pop(now)));
  }
  return out;
}

const played = (out: (number | 'lost' | 'empty')[]) => out.filter((x): x is number => typeof x === 'number');

t.test('in order: every packet comes out once, in order, after the minimum delay', async (t) => {
  const jb = new JitterBuffer();
  const out = run(jb, Array.from({ length: 50 }, (_, i) => [i * 20 + 5, pkt(100 + i)] as [number, RtpPacket]), 60);
  t.same(played(out), Array.from({ length: 50 }, (_, i) => 100 + i));
  t.equal(out.indexOf(100), 2, 'first packet (arrived at 5 ms) waits 20 ms: played at the 40 ms tick');
  t.notOk(out.includes('lost'));
  const s = jb.stats();
  t.equal(s.lost, 0);
  t.equal(s.late, 0);
  t.equal(s.played, 50);
  t.equal(s.targetDelayMs, 20, 'steady arrivals keep the minimum target');
});

t.test('reordering inside the delay is repaired and counted', async (t) => {
  const jb = new JitterBuffer({ minDelayMs: 60 });
  const arrivals: [number, RtpPacket][] = Array.from({ length: 20 }, (_, i) => [i * 20 + 1, pkt(i)] as [number, RtpPacket]);
  // swap 5 and 6 on the wire
  arrivals[5] = [6 * 20 + 1, pkt(5)];
  arrivals[6] = [5 * 20 + 1, pkt(6)];
  const out = run(jb, arrivals, 30);
  t.same(played(out), Array.from({ length: 20 }, (_, i) => i));
  t.equal(jb.stats().reordered, 1);
  t.equal(jb.stats().lost, 0);
});

t.test('a missing packet gives one lost frame at its turn', async (t) => {
  const jb = new JitterBuffer({ minDelayMs: 40 });
  const arrivals = Array.from({ length: 20 }, (_, i) => [i * 20 + 1, pkt(i)] as [number, RtpPacket]).filter(([, p]) => p.sequenceNumber !== 7);
  const out = run(jb, arrivals, 30);
  const at = out.indexOf(6);
  t.equal(out[at + 1], 'lost', 'lost where 7 would play');
  t.equal(out[at + 2], 8);
  t.equal(jb.stats().lost, 1);
});

t.test('duplicates are dropped and counted', async (t) => {
  const jb = new JitterBuffer({ minDelayMs: 40 });
  t.equal(jb.push(pkt(1), 0), 'queued');
  t.equal(jb.push(pkt(1), 1), 'duplicate');
  t.equal(jb.push(pkt(2), 20), 'queued');
  const out = run(jb, [], 6, 40);
  t.same(played(out), [1, 2]);
  t.equal(jb.push(pkt(1), 200), 'late', 'a copy of a played packet is late');
  t.equal(jb.stats().duplicates, 1);
  t.equal(jb.stats().late, 1);
});

t.test('a packet after its playout time is dropped as late', async (t) => {
  const jb = new JitterBuffer({ minDelayMs: 40 });
  const arrivals = Array.from({ length: 10 }, (_, i) => [i * 20 + 1, pkt(i)] as [number, RtpPacket]).filter(([, p]) => p.sequenceNumber !== 4);
  arrivals.push([400, pkt(4)]);
  const out = run(jb, arrivals, 25);
  t.equal(out.filter((x) => x === 'lost').length, 1);
  t.notOk(played(out).includes(4));
  t.equal(jb.stats().late, 1);
});

t.test('16-bit sequence wrap plays straight through', async (t) => {
  const jb = new JitterBuffer({ minDelayMs: 40 });
  const seqs = Array.from({ length: 20 }, (_, i) => (65526 + i) & 0xffff);
  const arrivals = seqs.map((s, i) => [i * 20 + 1, pkt(s, { ts: 1000 + i * 160 })] as [number, RtpPacket]);
  // and one reordered across the wrap
  arrivals[9] = [10 * 20 + 1, pkt(seqs[9]!, { ts: 1000 + 9 * 160 })];
  arrivals[10] = [9 * 20 + 1, pkt(seqs[10]!, { ts: 1000 + 10 * 160 })];
  const out = run(jb, arrivals, 30);
  t.same(played(out), seqs);
  t.equal(jb.stats().lost, 0);
});

t.test('SSRC change or a sequence jump starts over', async (t) => {
  const jb = new JitterBuffer();
  run(jb, Array.from({ length: 5 }, (_, i) => [i * 20, pkt(i)] as [number, RtpPacket]), 8);
  const out = run(jb, Array.from({ length: 5 }, (_, i) => [200 + i * 20, pkt(30000 + i, { ssrc: 2 })] as [number, RtpPacket]), 10, 200);
  t.same(played(out), [30000, 30001, 30002, 30003, 30004]);
  t.equal(jb.stats().resyncs, 1);
  t.equal(jb.stats().lost, 0, 'the jump is not counted as loss');
});

t.test('target delay grows fast with jitter and shrinks slowly', async (t) => {
  const jb = new JitterBuffer();
  let now = 0;
  let seq = 0;
  // calm: 20 ms spacing
  for (let i = 0; i < 50; i++, seq++, now += 20) jb.push(pkt(seq), now);
  t.equal(jb.stats().targetDelayMs, 20);
  // bursty: packets arrive in pairs, 40 ms apart (±20 ms variation)
  for (let i = 0; i < 10; i++, seq++) jb.push(pkt(seq), now + (i % 2 === 0 ? 20 : 0) + i * 20);
  now += 200;
  const raised = jb.stats().targetDelayMs;
  t.ok(raised >= 50, `ten jittery packets raise the target to ${raised} ms`);
  t.ok(raised <= 200, 'never over the maximum');
  for (let i = 0; i < 25; i++, seq++, now += 20) jb.push(pkt(seq), now);
  const half = jb.stats().targetDelayMs;
  t.ok(half < raised && half > 20, `half a second of calm lowers it a little (${half} ms)`);
  for (let i = 0; i < 1500; i++, seq++, now += 20) jb.push(pkt(seq), now);
  t.ok(jb.stats().targetDelayMs < 21, `30 s of calm bring it back to the minimum (${jb.stats().targetDelayMs} ms)`);
});

t.test('big spikes are capped at the maximum delay', async (t) => {
  const jb = new JitterBuffer({ maxDelayMs: 200 });
  for (let i = 0; i < 40; i++) jb.push(pkt(i), i * 20 + (i % 2 === 0 ? 0 : 400));
  t.equal(jb.stats().targetDelayMs, 200);
});

t.test('a new talkspurt (marker) starts with the adapted delay', async (t) => {
  const jb = new JitterBuffer();
  // talkspurt 1 with jitter: the target rises
  const first: [number, RtpPacket][] = Array.from({ length: 20 }, (_, i) => [i * 20 + (i % 2 === 0 ? 0 : 30), pkt(i)] as [number, RtpPacket]);
  run(jb, first, 40);
  const target = jb.stats().targetDelayMs;
  t.ok(target > 40, `target ${target} ms after a jittery talkspurt`);
  // silence, then talkspurt 2 with marker and a timestamp jump, arriving steadily
  const start = 2000;
  const second: [number, RtpPacket][] = Array.from({ length: 10 }, (_, i) => [start + 5 + i * 20, pkt(20 + i, { ts: 100_000 + i * 160, marker: i === 0 })] as [number, RtpPacket]);
  const out = run(jb, second, 30, start);
  const firstPlayed = out.indexOf(20);
  t.ok(firstPlayed * 20 - 5 >= Math.floor(target) - 20, `talkspurt 2 buffered about the target (${firstPlayed * 20 - 5} ms)`);
  t.same(played(out), Array.from({ length: 10 }, (_, i) => 20 + i));
});

t.test('an overfull buffer drops frames slowly to come back to target', async (t) => {
  const jb = new JitterBuffer();
  // a burst of 15 packets at once, then steady 20 ms arrivals: the backlog stays unless frames are dropped
  const arrivals: [number, RtpPacket][] = Array.from({ length: 15 }, (_, i) => [0, pkt(i)] as [number, RtpPacket]);
  for (let i = 15; i < 400; i++) arrivals.push([(i - 14) * 20, pkt(i)]);
  const early = run(jb, arrivals.filter(([at]) => at <= 600), 31);
  const depthEarly = jb.stats().depth;
  const later = run(jb, arrivals.filter(([at]) => at > 600 && at <= 6000), 270, 620);
  const s = jb.stats();
  t.ok(depthEarly >= 10, `backlog of ${depthEarly} after the burst`);
  t.ok(s.depth <= depthEarly - 8, `depth down to ${s.depth} while packets keep coming`);
  t.ok(s.discarded <= 300 / 25, `dropped ${s.discarded}: no more than one per half second`);
  t.notOk([...early, ...later].includes('lost'), 'drops are not reported as loss');
});

t.test('empty buffer reports empty, never throws', async (t) => {
  const jb = new JitterBuffer();
  t.same(jb.pop(0), { kind: 'empty' });
  t.same(jb.pop(1000), { kind: 'empty' });
});
