import t from 'tap';
import { makeRoom } from '../../../../src/sip/auth/bounded-map.js';

t.test('makeRoom keeps a Map under its bound, dropping the oldest entries in batches of 1/16', async (t) => {
  const map = new Map<number, number>();
  let largest = 0;
  for (let i = 0; i < 1000; i++) {
    makeRoom(map, 64);
    map.set(i, i);
    largest = Math.max(largest, map.size);
  }
  t.equal(largest, 64, 'never over 64 entries');
  const keys = [...map.keys()];
  t.equal(keys.at(-1), 999, 'the newest is kept');
  t.same(keys, keys.map((_, k) => 1000 - keys.length + k), 'what is left is the newest, in order');
  t.ok(map.size >= 60, 'a batch is 1/16 of the bound, not more');
  const small = new Map([[1, 1]]);
  makeRoom(small, 3);
  t.same([...small.keys()], [1], 'under the bound nothing goes');
});
