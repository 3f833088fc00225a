/**
 * Two Debian baresip phones register with `opencx start` (alice over UDP, bob over TLS with the
 * server's self-signed certificate) and alice calls bob through opencx's proxy. Each plays a tone
 * (alice 440 Hz, bob 1,000 Hz) and records what it receives (`sndfile`); each recording's dominant
 * frequency must be the other side's tone.
 *
 * Twice: through a SIP-only node (proxy: RTP flows phone to phone) and through the calls role
 * (B2BUA: each phone talks RTP to opencx's media engine, which bridges the two legs).
 *
 * The server offers MD5 only here (OPENCX_SIP__AUTH_ALGORITHMS=MD5): libre 1.1 (Debian
 * bookworm's baresip 1.0) fails the whole challenge with ENOSYS as soon as one WWW-Authenticate
 * names an algorithm other than MD5, so with the default MD5 + SHA-256 offer it cannot register.
 */
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dominantFrequency, fileSize, readWav, tonePower, toneWav, type BaresipPhone } from '../helpers/baresip.js';
import { startPbx } from '../helpers/pbx.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitForRecording(phone: BaresipPhone, minBytes: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const file = phone.decodedRecordings()[0];
    if (file !== undefined && fileSize(file) >= minBytes) return file;
    if (Date.now() > deadline) throw new Error(`no received-audio recording of ${minBytes} bytes in ${phone.dir} within ${timeoutMs} ms:\n${phone.output().slice(-4000)}`);
    await sleep(200);
  }
}

for (const mode of ['proxy', 'b2bua'] as const) {
t.test(`baresip over UDP calls baresip over TLS through opencx (${mode}); audio flows both ways`, async (t) => {
  // proxy: a SIP-only node (registrar + §16 proxy, media flows phone to phone);
  // b2bua: every role, so the calls role anchors the call in the media engine
  const pbx = await startPbx(t, ['alice', 'bob'], mode === 'proxy' ? { roles: ['sip', 'control'] } : {});
  if (pbx === undefined) return;
  const { server, work } = pbx;

  const tone440 = path.join(work, 'tone440.wav');
  const tone1000 = path.join(work, 'tone1000.wav');
  writeFileSync(tone440, toneWav(440, 30));
  writeFileSync(tone1000, toneWav(1000, 30));

  const bob = await pbx.phone('bob', { transport: 'tls', answer: true, audioSource: tone1000 });
  const alice = await pbx.phone('alice', { audioSource: tone440, commands: ['/dial sip:bob@127.0.0.1'] });

  t.ok(await bob.waitFor(/Call established: sip:alice@127\.0\.0\.1/, 15000), 'bob: call from alice established');
  const established = await alice.waitFor(/Call established: sip:bob@127\.0\.0\.1/, 15000);
  t.ok(established, 'alice: call to bob established');
  if (!established) t.comment(server.output.slice(-40).join('\n'));
  // the INVITE reached bob over TLS, from opencx
  t.match(bob.output(), /TLS 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+\s+INVITE sip:bob/, 'bob received the INVITE over TLS');

  if (mode === 'b2bua') {
    // the call is anchored: two media endpoints bridged in opencx's engine
    const metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    t.match(metrics, /opencx_media_bridges 1\b/, 'one bridge in the media engine');
    t.match(metrics, /opencx_media_endpoints 2\b/, 'two media endpoints (one per leg)');
  }
  // 3 s of audio (8 kHz 16-bit) received on each side
  const minBytes = 8000 * 2 * 3;
  const aliceRec = await waitForRecording(alice, minBytes, 20000);
  const bobRec = await waitForRecording(bob, minBytes, 20000);

  // read the recordings now: stopping a phone removes its directory
  const heard = { alice: readFileSync(aliceRec), bob: readFileSync(bobRec) };

  // alice hangs up (baresip sends BYE when terminated); bob sees the BYE and the call end
  await alice.stop();
  t.ok(await bob.waitFor(/BYE sip:bob[^\n]*SIP\/2\.0/, 10000), 'bob received the BYE through opencx');

  for (const [who, data, expected, other] of [
    ['alice', heard.alice, 1000, 440],
    ['bob', heard.bob, 440, 1000],
  ] as const) {
    const { rate, samples } = readWav(data);
    t.equal(rate, 8000, `${who}'s recording is 8 kHz`);
    const dom = dominantFrequency(samples, rate);
    t.ok(Math.abs(dom.freq - expected) <= 20, `${who} hears ${expected} Hz (dominant ${dom.freq} Hz)`);
    const want = tonePower(samples, rate, expected);
    const own = tonePower(samples, rate, other);
    t.ok(want > 100 * own, `${who}: the other side's ${expected} Hz is far above its own ${other} Hz (${want.toExponential(2)} vs ${own.toExponential(2)})`);
  }
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
}
