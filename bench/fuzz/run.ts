/**
 * Long fuzz run of the SIP parser: >= 1,000,000 mutated messages (RFC 4475 corpus, a typical
 * INVITE and generated valid messages; byte flips, truncation, insertion, line duplication).
 * Counts exceptions from the unguarded parser and round-trip failures of accepted messages.
 *   npx tsc -p tsconfig.json && node dist/bench/fuzz/run.js [iterations] [max-seconds]
 */
import fc from 'fast-check';
import { parseMessageUnguarded } from '../../src/sip/message/parser.js';
import { formatUri, parseMessage, serializeMessage, type SipMessage } from '../../src/sip/message/index.js';
import { conformanceDir } from '../../test/helpers/paths.js';
import { TYPICAL_INVITE } from '../parser/messages.js';
import { mutatedMessage, tortureSeeds } from './mutations.js';

const iterations = Number(process.argv[2] ?? '1000000');
const maxSeconds = Number(process.argv[3] ?? '600');

function stable(m: SipMessage): boolean {
  const once = serializeMessage(m);
  const r = parseMessage(once);
  if (!r.ok) return false;
  const a = r.message;
  if (a.kind !== m.kind) return false;
  if (a.kind === 'request' && m.kind === 'request' && (a.method !== m.method || formatUri(a.uri) !== formatUri(m.uri))) return false;
  if (a.kind === 'response' && m.kind === 'response' && (a.status !== m.status || a.reason !== m.reason)) return false;
  return serializeMessage(a).equals(once) && a.body.equals(m.body);
}

const seeds = [TYPICAL_INVITE, ...tortureSeeds(conformanceDir())];
const arb = mutatedMessage(seeds);
const BATCH = 10000;
let done = 0;
let exceptions = 0;
let accepted = 0;
let unstable = 0;
let maxMs = 0;
let slowest: Buffer | undefined;
let firstFailure: string | undefined;
const start = performance.now();
const deadline = start + maxSeconds * 1000;
let seed = 1;
while (done < iterations && performance.now() < deadline) {
  const samples = fc.sample(arb, { numRuns: BATCH, seed: seed++ });
  for (const data of samples) {
    const t0 = performance.now();
    try {
      const r = parseMessageUnguarded(data);
      const dt = performance.now() - t0;
      if (dt > maxMs) {
        maxMs = dt;
        slowest = data;
      }
      if (r.ok) {
        accepted++;
        if (!stable(r.message)) {
          unstable++;
          firstFailure ??= 'unstable: ' + JSON.stringify(data.toString('latin1'));
        }
      }
    } catch (err) {
      exceptions++;
      firstFailure ??= String(err) + ' on ' + JSON.stringify(data.toString('latin1'));
    }
    done++;
  }
}
const total = (performance.now() - start) / 1000;
console.log(`node ${process.version}`);
console.log(`iterations:        ${done.toLocaleString('en-US')}`);
console.log(`accepted:          ${accepted.toLocaleString('en-US')}`);
console.log(`exceptions:        ${exceptions}`);
console.log(`unstable roundtrip: ${unstable}`);
console.log(`max single parse:  ${maxMs.toFixed(3)} ms`);
console.log(`total time:        ${total.toFixed(1)} s (generation + parse + round-trip checks)`);
if (slowest !== undefined) {
  // re-time the slowest input: a one-off spike is a GC pause or the scheduler, a repeatable one is the parser
  const times: number[] = [];
  for (let i = 0; i < 101; i++) {
    const t0 = performance.now();
    parseMessageUnguarded(slowest);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`slowest input (${slowest.length} bytes) re-timed: median ${times[50]!.toFixed(4)} ms, max ${times[100]!.toFixed(4)} ms over 101 runs`);
}
if (firstFailure !== undefined) console.log('first failure:', firstFailure.slice(0, 2000));
process.exitCode = exceptions > 0 || unstable > 0 ? 1 : 0;
