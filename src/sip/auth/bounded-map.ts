/**
 * Room for one more entry in a Map kept as a bounded FIFO (insertion order is age): at `max`
 * entries or more, the oldest 1/16 of `max` (and whatever is over it) go in one pass. Dropping
 * one entry per insert started a fresh iterator over the Map every time, and each had to step
 * over the holes the deletes before it left (a Map keeps them until it shrinks): at 10,000
 * REGISTER/s with a full map, that walk was most of what an insert cost.
 */
export function makeRoom<K, V>(map: Map<K, V>, max: number): void {
  if (map.size < max) return;
  let excess = map.size - max + 1 + (max >>> 4);
  for (const key of map.keys()) {
    if (excess-- <= 0) break;
    map.delete(key);
  }
}
