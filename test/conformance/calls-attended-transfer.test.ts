/**
 * Attended transfer through the B2BUA (RFC 5589 §7: REFER with Replaces, RFC 3515 + RFC 3891),
 * with three real phones: alice is linphonec (liblinphone 5.1, `transfer 1 --to-call 2`), bob
 * and carol are Debian baresip phones that auto-answer and play their own tones (bob 1000 Hz,
 * carol 1400 Hz).
 *
 * alice calls bob (call 1), holds him, calls carol (call 2), then transfers bob to carol. A second
 * case has the called party transfer: alice (baresip) calls tom (linphonec), who holds her, calls
 * carol and transfers alice to carol. opencx must answer the REFER 202, join bob and carol inside the media engine,
 * NOTIFY 200 (message/sipfrag) and release both of alice's calls with BYE. Then bob and carol
 * hear each other, two endpoints remain, and bob's hang-up leaves nothing behind.
 *
 * Failure cases: an INVITE with a Replaces that names no dialog gets 481 (RFC 3891 §3, from a
 * raw UDP socket); a REFER whose Replaces names no dialog of ours (a call that is gone) is
 * accepted and its NOTIFY reports 481, the call going on (SIPp as the transferor, baresip bob).
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readWav, tonePower, toneWav, type BaresipPhone } from '../helpers/baresip.js';
import { linphoneAvailable, LINPHONEC_BIN, startLinphone, type LinphonePhone } from '../helpers/linphone.js';
import { startPbx } from '../helpers/pbx.js';
import { fixture } from '../helpers/paths.js';
import { statusOf, udpExchange } from '../helpers/sip-client.js';
import { authCsv, describeRun, runSipp } from '../helpers/sipp.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** baresip starts a new recording when a re-INVITE restarts its audio: the newest is the current one */
function latest(phone: BaresipPhone): string | undefined {
  return phone.decodedRecordings().sort().at(-1);
}

/** power of a tone in the last `seconds` of the phone's current received-audio recording */
function heardLast(phone: BaresipPhone, hz: number, seconds: number): number {
  const file = latest(phone);
  if (file === undefined) return 0;
  const { rate, samples } = readWav(readFileSync(file));
  return tonePower(samples.subarray(Math.max(0, samples.length - Math.floor(seconds * rate))), rate, hz);
}

t.test('attended transfer: linphonec transfers baresip bob to baresip carol', async (t) => {
  t.ok(linphoneAvailable(), `linphonec found at ${LINPHONEC_BIN} (install Debian linphone-cli)`);
  if (!linphoneAvailable()) return;
  const pbx = await startPbx(t, ['alice', 'bob', 'carol']);
  if (pbx === undefined) return;
  const server = pbx.server;
  const saw = (p: Promise<string>): Promise<boolean> =>
    p.then(
      () => true,
      (err: unknown) => {
        t.comment(String(err));
        return false;
      },
    );
  for (const [u, hz] of [['bob', 1000], ['carol', 1400]] as const) writeFileSync(path.join(pbx.work, `${u}.wav`), toneWav(hz, 90));
  const bob = await pbx.phone('bob', { answer: true, audioSource: path.join(pbx.work, 'bob.wav') });
  const carol = await pbx.phone('carol', { answer: true, audioSource: path.join(pbx.work, 'carol.wav') });

  const alice: LinphonePhone = await startLinphone();
  t.teardown(async () => {
    if (process.env.DUMP_LINPHONE_LOG !== undefined) writeFileSync(process.env.DUMP_LINPHONE_LOG, alice.output());
    await alice.stop();
  });
  alice.send(`register sip:alice@127.0.0.1 sip:127.0.0.1:${pbx.udp} pw-alice`);
  t.ok(await alice.waitRegistered(15000), 'alice (linphonec) registered');

  // call 1: alice → bob
  alice.send('call sip:bob@127.0.0.1');
  t.ok(await saw(bob.waitFor(/Call established/, 15000)), 'bob answered call 1');
  t.ok(await saw(alice.waitFor(/Call 1 with sip:bob@127\.0\.0\.1 connected/, 15000)), 'alice: call 1 connected');
  await sleep(1000);

  // call 2: alice holds bob (linphonec places no second call while one is active), calls carol
  alice.send('pause');
  t.ok(await saw(alice.waitFor(/Call 1 [^\n]*paused/i, 15000)), 'alice: call 1 on hold');
  alice.send('call sip:carol@127.0.0.1');
  t.ok(await saw(carol.waitFor(/Call established/, 15000)), 'carol answered call 2');
  t.ok(await saw(alice.waitFor(/Call 2 with sip:carol@127\.0\.0\.1 connected/, 15000)), 'alice: call 2 connected');
  await sleep(1500);
  const calls = await fetch(`http://127.0.0.1:${server.ports.http}/metrics`).then((r) => r.text());
  t.match(calls, /^opencx_calls_active 2$/m, 'two calls through opencx before the transfer');

  // attended transfer: REFER on call 1 with Replaces naming call 2
  alice.transferToCall(1, 2);
  t.ok(await saw(alice.waitFor(/Call 1 with sip:bob@127\.0\.0\.1 ended/, 15000)), 'alice: call 1 released');
  t.ok(await saw(alice.waitFor(/Call 2 with sip:carol@127\.0\.0\.1 ended/, 15000)), 'alice: call 2 released');
  t.match(alice.output(), /transfer|Transfer/, 'linphonec reported the transfer');
  await sleep(3500);
  const metrics = await fetch(`http://127.0.0.1:${server.ports.http}/metrics`).then((r) => r.text());
  t.match(metrics, /^opencx_calls_active 1$/m, 'one call remains: bob with carol');
  t.match(metrics, /^opencx_media_endpoints 2$/m, "two endpoints remain: bob's and carol's (alice's three were freed)");
  t.match(metrics, /^opencx_sip_ua_dialogs 2$/m, 'two dialogs remain: bob and carol');

  const bobHearsCarol = heardLast(bob, 1400, 2);
  const carolHearsBob = heardLast(carol, 1000, 2);
  t.ok(bobHearsCarol > 10 * heardLast(bob, 440, 2) && bobHearsCarol > 1e-4, `bob hears carol (1400 Hz power ${bobHearsCarol.toExponential(2)})`);
  t.ok(carolHearsBob > 10 * heardLast(carol, 440, 2) && carolHearsBob > 1e-4, `carol hears bob (1000 Hz power ${carolHearsBob.toExponential(2)})`);

  // bob hangs up: carol gets the BYE and nothing is left
  await bob.stop();
  t.ok(await saw(carol.waitFor(/session closed|terminated/, 10000)), 'carol: the call ended with bob\'s hang-up');
  await pbx.assertIdle(t);

  // CDRs: call 2 records the transfer; call 1 keeps alice's leg as a released leg
  const cdrs = await pbx.cli('cdr', 'list', '--limit', '50');
  t.match(cdrs.stdout, /Attended Transfer: joined to call-/, 'the second call\'s CDR says it was joined to the first');
  t.match(cdrs.stdout, /Transferred \(attended\)/, "alice's legs are recorded as transferred");

  // RFC 3891 §3: an INVITE whose Replaces names no dialog gets 481
  const replies = await udpExchange(
    '127.0.0.1',
    pbx.udp,
    (port) =>
      Buffer.from(
        `INVITE sip:carol@127.0.0.1 SIP/2.0\r\n` +
          `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-repl-1;rport\r\n` +
          'Max-Forwards: 70\r\n' +
          'From: <sip:dave@example.org>;tag=d1\r\n' +
          'To: <sip:carol@127.0.0.1>\r\n' +
          'Call-ID: replaces-unknown-1\r\n' +
          'CSeq: 1 INVITE\r\n' +
          `Contact: <sip:dave@127.0.0.1:${port}>\r\n` +
          'Replaces: no-such-call@example.org;to-tag=aaa;from-tag=bbb\r\n' +
          'Content-Length: 0\r\n\r\n',
      ),
    { waitMs: 5000, until: (msgs) => msgs.some((m) => (statusOf(m) ?? 0) >= 200) },
  );
  const final = replies.map((m) => statusOf(m) ?? 0).find((s) => s >= 200);
  t.equal(final, 481, 'INVITE with a Replaces naming no dialog: 481');
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});

t.test('REFER with a Replaces naming no dialog: NOTIFY 481, the call goes on', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;
  const bob = await pbx.phone('bob', { answer: true });
  const run = await runSipp({
    target: `127.0.0.1:${pbx.udp}`,
    scenario: fixture(import.meta.url, 'sipp/refer-replaces-unknown-uac.xml'),
    csv: authCsv([{ user: 'alice', domain: '127.0.0.1', password: 'pw-alice', extra: ['bob'] }]),
    calls: 1,
    timeoutS: 20,
  });
  t.equal(run.code, 0, `SIPp: 202, NOTIFY 100, NOTIFY 481 (terminated), BYE 200${run.code === 0 ? '' : '\n' + describeRun(run)}`);
  t.ok(await bob.waitFor(/session closed|terminated/, 10000).then(() => true, () => false), "bob's call ended with alice's BYE, not before");
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});

t.test('attended transfer by the called party: linphonec tom, called by alice, transfers her to carol', async (t) => {
  t.ok(linphoneAvailable(), `linphonec found at ${LINPHONEC_BIN} (install Debian linphone-cli)`);
  if (!linphoneAvailable()) return;
  const pbx = await startPbx(t, ['alice', 'tom', 'carol']);
  if (pbx === undefined) return;
  const saw = (p: Promise<string>): Promise<boolean> =>
    p.then(
      () => true,
      (err: unknown) => {
        t.comment(String(err));
        return false;
      },
    );
  for (const [u, hz] of [['alice', 1000], ['carol', 1400]] as const) writeFileSync(path.join(pbx.work, `${u}.wav`), toneWav(hz, 90));
  const tom: LinphonePhone = await startLinphone();
  t.teardown(() => tom.stop());
  tom.send(`register sip:tom@127.0.0.1 sip:127.0.0.1:${pbx.udp} pw-tom`);
  t.ok(await tom.waitRegistered(15000), 'tom (linphonec) registered');
  const carol = await pbx.phone('carol', { answer: true, audioSource: path.join(pbx.work, 'carol.wav') });
  const alice = await pbx.phone('alice', { audioSource: path.join(pbx.work, 'alice.wav'), commands: ['/dial sip:tom@127.0.0.1'] });

  // call 1: alice → tom, answered by hand
  t.ok(await saw(tom.waitFor(/Receiving new incoming call/, 15000)), 'tom is rung');
  tom.send('answer');
  t.ok(await saw(alice.waitFor(/Call established/, 15000)), 'alice: call 1 established');
  t.ok(await saw(tom.waitFor(/Call 1 with sip:alice@127\.0\.0\.1 connected/, 15000)), 'tom: call 1 connected');
  await sleep(1000);
  tom.send('pause');
  t.ok(await saw(tom.waitFor(/Call 1 [^\n]*paused/i, 15000)), 'tom: call 1 on hold');
  tom.send('call sip:carol@127.0.0.1');
  t.ok(await saw(carol.waitFor(/Call established/, 15000)), 'carol answered call 2');
  t.ok(await saw(tom.waitFor(/Call 2 with sip:carol@127\.0\.0\.1 connected/, 15000)), 'tom: call 2 connected');
  await sleep(1500);

  tom.transferToCall(1, 2);
  t.ok(await saw(tom.waitFor(/Call 1 with sip:alice@127\.0\.0\.1 ended/, 15000)), 'tom: call 1 released');
  t.ok(await saw(tom.waitFor(/Call 2 with sip:carol@127\.0\.0\.1 ended/, 15000)), 'tom: call 2 released');
  await sleep(3500);
  const metrics = await fetch(`http://127.0.0.1:${pbx.server.ports.http}/metrics`).then((r) => r.text());
  t.match(metrics, /^opencx_calls_active 1$/m, 'one call remains: alice with carol');
  t.match(metrics, /^opencx_media_endpoints 2$/m, "two endpoints remain: alice's and carol's");
  const aliceHearsCarol = heardLast(alice, 1400, 2);
  const carolHearsAlice = heardLast(carol, 1000, 2);
  t.ok(aliceHearsCarol > 10 * heardLast(alice, 440, 2) && aliceHearsCarol > 1e-4, `alice hears carol (1400 Hz power ${aliceHearsCarol.toExponential(2)})`);
  t.ok(carolHearsAlice > 10 * heardLast(carol, 440, 2) && carolHearsAlice > 1e-4, `carol hears alice (1000 Hz power ${carolHearsAlice.toExponential(2)})`);

  // carol hangs up this time: the moved leg ends the call it joined
  await carol.stop();
  t.ok(await saw(alice.waitFor(/session closed|terminated/, 10000)), "alice: the call ended with carol's hang-up");
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
