/**
 * PBX features through the B2BUA with three Debian baresip phones:
 * - hold: alice puts bob on hold (re-INVITE sendonly); bob's recording holds opencx's music on
 *   hold (its 440/554 Hz chord) instead of alice's voice; alice resumes and bob hears her again;
 * - blind transfer: alice transfers bob to carol (REFER, RFC 3515/5589); bob and carol end up
 *   talking through opencx and alice is released. (baresip stops its own recording when it puts
 *   a call on hold, so the recordings checked are always those of phones that did not.)
 * Each phone plays its own tone: alice 700 Hz, bob 1000 Hz, carol 1400 Hz.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readWav, tonePower, toneWav, type BaresipPhone } from '../helpers/baresip.js';
import { startPbx } from '../helpers/pbx.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** power of a tone in the last `seconds` of a phone's received-audio recording */
/** baresip starts a new recording when a re-INVITE restarts its audio: the newest is the current one */
function latest(phone: BaresipPhone): string | undefined {
  return phone.decodedRecordings().sort().at(-1);
}

function heard(phone: BaresipPhone, hz: number, fromSec: number, toSec: number): number {
  const file = latest(phone);
  if (file === undefined) return 0;
  const { rate, samples } = readWav(readFileSync(file));
  return tonePower(samples.subarray(Math.floor(fromSec * rate), Math.floor(toSec * rate)), rate, hz);
}

function recordedSeconds(phone: BaresipPhone): number {
  const file = latest(phone);
  if (file === undefined) return 0;
  const { rate, samples } = readWav(readFileSync(file));
  return samples.length / rate;
}

t.test('hold with music, then blind transfer, between three baresip phones', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob', 'carol']);
  if (pbx === undefined) return;
  const server = pbx.server;
  const tones: Record<string, number> = { alice: 700, bob: 1000, carol: 1400 };
  for (const u of Object.keys(tones)) writeFileSync(path.join(pbx.work, `${u}.wav`), toneWav(tones[u] as number, 60));
  const start = (u: string, extra: { commands?: string[]; answer: boolean }): Promise<BaresipPhone> =>
    pbx.phone(u, { answer: extra.answer, audioSource: path.join(pbx.work, `${u}.wav`), console: true, ...(extra.commands !== undefined ? { commands: extra.commands } : {}) });
  const bob = await start('bob', { answer: true });
  const carol = await start('carol', { answer: true });
  const alice = await start('alice', { answer: false, commands: ['/dial sip:bob@127.0.0.1'] });
  t.ok(await bob.waitFor(/Call established/, 15000), 'alice → bob established');
  await sleep(2500);

  // --- hold: alice holds bob; bob hears music on hold, not alice
  const beforeHold = recordedSeconds(bob);
  await alice.type('x');
  await sleep(3500);
  const holdEnd = recordedSeconds(bob);
  await alice.type('X');
  await sleep(2500);
  const afterResume = recordedSeconds(bob);
  const moh = heard(bob, 440, beforeHold + 1, holdEnd - 0.3) + heard(bob, 554, beforeHold + 1, holdEnd - 0.3);
  const aliceDuringHold = heard(bob, 700, beforeHold + 1, holdEnd - 0.3);
  t.ok(moh > 10 * aliceDuringHold, `on hold bob hears the music (${moh.toExponential(2)}) not alice (${aliceDuringHold.toExponential(2)})`);
  const aliceAfter = heard(bob, 700, holdEnd + 1, afterResume);
  t.ok(aliceAfter > 10 * heard(bob, 440, holdEnd + 1, afterResume), `after resume bob hears alice again (${aliceAfter.toExponential(2)})`);

  // --- blind transfer: alice sends bob to carol
  await alice.type('/transfer sip:carol@127.0.0.1');
  t.ok(await carol.waitFor(/Call established/, 15000), 'carol answered the transferred call');
  t.ok(await alice.waitFor(/BYE|terminated|closed/, 10000), 'alice is released');
  await sleep(3000);
  const c = recordedSeconds(carol);
  t.ok(heard(carol, 1000, Math.max(0, c - 2), c) > 10 * heard(carol, 700, Math.max(0, c - 2), c), 'carol hears bob (1000 Hz), not alice');
  const b = recordedSeconds(bob);
  t.ok(heard(bob, 1400, b - 2, b) > 10 * heard(bob, 700, b - 2, b), 'bob hears carol (1400 Hz) now');
  const metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
  t.match(metrics, /opencx_media_endpoints 2\b/, 'two endpoints remain: bob and carol (alice\'s was freed)');
  await bob.stop();
  await sleep(1000);
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
