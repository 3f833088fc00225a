import t from 'tap';
import {
  ReceiverStatistics,
  SenderStatistics,
  ntpFromWallMs,
  ntpMiddle32,
  roundTripMs,
  type ReportBlock,
} from '../../../../src/media/rtp/index.js';

/** feed seqs 20 ms apart with matching timestamps (no jitter) */
function feed(rx: ReceiverStatistics, seqs: number[], startMs = 0): void {
  seqs.forEach((seq, i) => rx.update(seq & 0xffff, (seq * 160) >>> 0, startMs + i * 20, 172));
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

t.test('a new source is on probation until two packets arrive in sequence (A.1)', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  t.equal(rx.update(100, 0, 0, 172), 'probation');
  t.equal(rx.update(101, 160, 20, 172), 'valid');
  t.equal(rx.received, 1, 'counting starts with the packet that ends probation');
  t.equal(rx.expected, 1);
  const jumpy = new ReceiverStatistics(2, 8000);
  t.equal(jumpy.update(100, 0, 0, 172), 'probation');
  t.equal(jumpy.update(500, 0, 20, 172), 'probation', 'out of sequence restarts probation');
  t.equal(jumpy.update(501, 0, 40, 172), 'valid');
});

t.test('in-order stream: nothing lost, fraction 0', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  feed(rx, range(1000, 101));
  t.equal(rx.received, 100);
  t.equal(rx.expected, 100);
  t.equal(rx.lost, 0);
  const b = rx.reportBlock(2000);
  t.equal(b.fractionLost, 0);
  t.equal(b.cumulativeLost, 0);
  t.equal(b.highestSequence, 1100);
  t.equal(rx.jitterMs, 0, 'constant transit, no jitter');
});

t.test('loss: expected − received and the interval fraction (A.3)', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  const seqs = range(0, 101).filter((s) => s === 0 || s % 10 !== 5); // 10 of 100 missing
  feed(rx, seqs);
  t.equal(rx.expected, 100);
  t.equal(rx.lost, 10);
  const first = rx.reportBlock(0);
  t.equal(first.fractionLost, Math.floor((10 * 256) / 100));
  t.equal(first.cumulativeLost, 10);
  feed(rx, range(101, 50), 3000);
  const second = rx.reportBlock(0);
  t.equal(second.fractionLost, 0, 'no loss in the second interval');
  t.equal(second.cumulativeLost, 10, 'cumulative stays');
});

t.test('duplicates make loss negative, reordering is no loss', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  feed(rx, [0, 1, 2, 4, 3, 5, 5, 5, 6]);
  t.equal(rx.expected, 6);
  t.equal(rx.received, 8);
  t.equal(rx.lost, -2);
  t.equal(rx.reportBlock(0).fractionLost, 0, 'negative interval loss reports 0');
});

t.test('16-bit wrap is counted in cycles (A.1)', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  feed(rx, range(65530, 16)); // 65530..65535, 0..9
  t.equal(rx.extendedHighest, 65536 + 9);
  t.equal(rx.expected, 15);
  t.equal(rx.lost, 0);
  t.equal(rx.reportBlock(0).highestSequence, 0x0001_0009);
  rx.update(65535, 0, 400, 172);
  t.equal(rx.extendedHighest, 65536 + 9, 'a late packet from before the wrap does not unwrap');
});

t.test('a big jump is believed only when the next packet follows it (A.1 restart)', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  feed(rx, range(0, 11));
  t.equal(rx.update(20000, 0, 1000, 172), 'invalid');
  t.equal(rx.update(20001, 160, 1020, 172), 'valid');
  t.equal(rx.received, 1, 'counting restarted');
  t.equal(rx.expected, 1);
});

t.test('interarrival jitter on a synthetic series has the A.8 answer', async (t) => {
  // 20 ms packets (160 ts units) arriving alternately on time and 10 ms late: |D| = 10 ms = 80 units every time
  const rx = new ReceiverStatistics(1, 8000);
  const n = 200;
  for (let i = 0; i < n; i++) rx.update(i, i * 160, i * 20 + (i % 2 === 1 ? 10 : 0), 172);
  // packet 0 is probation, packet 1 the first counted: n − 2 updates of J += (80 − J) / 16
  let j = 0;
  for (let i = 0; i < n - 2; i++) j += (80 - j) / 16;
  t.ok(Math.abs(rx.jitter - j) < 1e-9, `jitter ${rx.jitter} = ${j} timestamp units`);
  t.ok(Math.abs(rx.jitterMs - (j * 1000) / 8000) < 1e-9, 'in ms');
  t.ok(Math.abs(rx.jitterMs - 10) < 0.01, 'converges on 10 ms');
  t.equal(rx.reportBlock(0).jitter, Math.floor(j));
});

t.test('jitter survives a 32-bit timestamp wrap', async (t) => {
  const rx = new ReceiverStatistics(1, 8000);
  const start = 0xffffffff - 160 * 5;
  for (let i = 0; i < 20; i++) rx.update(i, (start + i * 160) >>> 0, 1e9 + i * 20, 172);
  t.equal(rx.jitter, 0);
});

t.test('LSR/DLSR in our reports, and RTT from theirs (§6.4.1)', async (t) => {
  const rx = new ReceiverStatistics(9, 8000);
  feed(rx, range(0, 5));
  rx.senderReportReceived(0x00012345, 0x67890000, 1000);
  const b = rx.reportBlock(1500);
  t.equal(b.lastSr, ntpMiddle32(0x00012345, 0x67890000));
  t.equal(b.delaySinceLastSr, 32768, '0.5 s in 1/65536 s');

  const srSentAt = Date.UTC(2026, 0, 1, 12);
  const ntp = ntpFromWallMs(srSentAt);
  const theirs: ReportBlock = { ...b, lastSr: ntpMiddle32(ntp.seconds, ntp.fraction), delaySinceLastSr: 65536 };
  const rtt = roundTripMs(theirs, srSentAt + 1000 + 150);
  t.ok(rtt !== undefined && Math.abs(rtt - 150) < 0.1, `rtt ${rtt} ≈ 150 ms`);
  t.equal(roundTripMs({ ...theirs, lastSr: 0 }, srSentAt), undefined, 'no SR seen yet');
});

t.test('sender statistics and SR sender info', async (t) => {
  const tx = new SenderStatistics(8000);
  tx.packetSent(5, 1000, 160, 172, 0);
  tx.packetSent(5, 1160, 160, 172, 20);
  t.equal(tx.packets, 2);
  t.equal(tx.payloadOctets, 320);
  t.equal(tx.bytes, 344);
  const info = tx.senderInfo(Date.UTC(2026, 0, 1), 120);
  t.equal(info.packetCount, 2);
  t.equal(info.octetCount, 320);
  t.equal(info.rtpTimestamp, 1160 + 800, 'advanced by 100 ms at 8 kHz');
  t.equal(info.ntpSeconds, ntpFromWallMs(Date.UTC(2026, 0, 1)).seconds);
});
