/**
 * In-process audio taps of the local engine (LocalAudioTaps.tapAudio): a phone on real loopback
 * RTP sends a tone, the tap's consumer gets it frame by frame at the rate it asked for.
 */
import t from 'tap';
import { dominantFrequency, hasLocalAudioTaps, type MediaEngineApi } from '../../../src/media/index.js';
import { RtpPeer, sleep } from '../../helpers/rtp-peer.js';
import { withEngine } from './engine-helpers.js';


/** Poll until `condition` holds; rejects after 5 s so a broken path fails instead of hanging. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function joined(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

t.test('the local engine has in-process taps; an engine without tapAudio does not', async (t) => {
  await withEngine(t, async (engine) => {
    t.ok(hasLocalAudioTaps(engine));
    const withoutTaps = Object.create(engine, { tapAudio: { value: undefined } }) as MediaEngineApi;
    t.notOk(hasLocalAudioTaps(withoutTaps));
  });
});

t.test('a tap gets the caller\'s tone frame by frame at 8 and 16 kHz; close() and deleting the endpoint end it', async (t) => {
  await withEngine(t, async (engine) => {
    const phone = await RtpPeer.open({ codec: 'PCMU', telephoneEventPt: 101 });
    t.teardown(() => phone.close());
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phone.sdp() });
    phone.useRemoteSdp(ep.localSdp);
    phone.startTone(1000);
    const narrow: Int16Array[] = [];
    const wide: Int16Array[] = [];
    const tapNarrow = engine.tapAudio(ep.id, 8000, (pcm) => narrow.push(pcm));
    engine.tapAudio(ep.id, 16000, (pcm) => wide.push(pcm));
    await until(() => narrow.length >= 60 && wide.length >= 60, '60 frames on both taps');
    t.ok(narrow.every((f) => f.length === 160), '20 ms frames of 160 samples at 8 kHz');
    t.ok(wide.every((f) => f.length === 320), '20 ms frames of 320 samples at 16 kHz');
    // the last 30 frames are well past the jitter buffer's start
    t.equal(dominantFrequency(joined(narrow.slice(-30)), 8000, [400, 700, 1000, 1400]).frequencyHz, 1000, 'the 8 kHz tap hears 1 kHz');
    t.equal(dominantFrequency(joined(wide.slice(-30)), 16000, [400, 700, 1000, 1400]).frequencyHz, 1000, 'the 16 kHz tap hears 1 kHz');
    const last = narrow.at(-1) as Int16Array;
    const copy = last.slice();
    (wide.at(-1) as Int16Array).fill(0);
    t.same(last, copy, 'each consumer owns its arrays');

    tapNarrow.close();
    tapNarrow.close();
    const narrowAtClose = narrow.length;
    const wideAtClose = wide.length;
    await until(() => wide.length >= wideAtClose + 20, '20 more frames on the open tap');
    t.equal(narrow.length, narrowAtClose, 'a closed tap gets nothing more while another keeps going');

    await engine.deleteEndpoint(ep.id);
    const wideAtDelete = wide.length;
    await sleep(200);
    t.equal(wide.length, wideAtDelete, 'deleting the endpoint ends its taps');
  });
});

t.test('a consumer that throws keeps neither the tick nor the other taps from running', async (t) => {
  await withEngine(t, async (engine) => {
    const phone = await RtpPeer.open({ codec: 'PCMU', telephoneEventPt: 101 });
    t.teardown(() => phone.close());
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phone.sdp() });
    phone.useRemoteSdp(ep.localSdp);
    phone.startTone(700);
    let thrown = 0;
    const frames: Int16Array[] = [];
    engine.tapAudio(ep.id, 8000, () => {
      thrown++;
      throw new Error('consumer bug');
    });
    engine.tapAudio(ep.id, 8000, (pcm) => frames.push(pcm));
    await engine.play({ endpointId: ep.id, items: [{ kind: 'tone', frequenciesHz: [400], durationMs: 5000 }] });
    await until(() => frames.length >= 40 && thrown >= 40, '40 frames after a throwing consumer');
    await until(() => phone.audio().length >= 8000 * 0.5, 'half a second of the prompt at the phone');
    t.equal(dominantFrequency(phone.recentAudio(300), 8000, [400, 700, 1000]).frequencyHz, 400, 'the prompt still plays');
    t.equal(dominantFrequency(joined(frames.slice(-20)), 8000, [400, 700, 1000]).frequencyHz, 700, 'the other tap still hears the caller');
  });
});

t.test('tapAudio refuses an unknown endpoint and an odd rate', async (t) => {
  await withEngine(t, async (engine) => {
    t.throws(() => engine.tapAudio('ep-none', 8000, () => undefined), { name: 'NotFoundError' });
    const phone = await RtpPeer.open({ codec: 'PCMU' });
    t.teardown(() => phone.close());
    const ep = await engine.createEndpoint({ kind: 'rtp', remoteSdp: phone.sdp() });
    t.throws(() => engine.tapAudio(ep.id, 44100 as 8000, () => undefined), { name: 'InvalidInputError' });
  });
});
