import t from 'tap';
import { workerPortRange } from '../../../src/cli/media-role.js';

t.test('each SIP worker gets a disjoint, even-aligned slice of the media port range', async (t) => {
  const slices = [0, 1, 2].map((i) => workerPortRange(20000, 45000, i, 3));
  for (const s of slices) {
    t.equal(s.portMin % 2, 0, `${s.portMin} is even (RTP)`);
    t.equal(s.portMax % 2, 1, `${s.portMax} is odd (the last RTCP port)`);
    t.ok(s.portMin >= 20000 && s.portMax <= 45000, 'inside the configured range');
  }
  for (let i = 1; i < slices.length; i++) t.ok(slices[i - 1]!.portMax < slices[i]!.portMin, `slice ${i - 1} ends before slice ${i}`);
  t.same(workerPortRange(20001, 20010, 1, 2), { portMin: 20006, portMax: 20009 }, 'an odd start is rounded up to the next even port');
  t.throws(() => workerPortRange(20000, 20002, 0, 4), /too small for 4 workers/, 'a range without a port pair per worker is refused');
});
