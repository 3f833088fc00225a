import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { createResampler, encodeWav } from '../../../../src/media/index.js';
import { TtsError, espeakVoiceFor, type TtsRequest } from '../../../../src/mcp/tts/index.js';
import { checkTtsRequest, withDeadline } from '../../../../src/mcp/tts/request-checks.js';
import { looksLikeWav, rawLinear16, resample, wavToPcm } from '../../../../src/mcp/tts/pcm-audio.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('espeak voices from BCP 47 tags and voice names', async (t) => {
  t.equal(espeakVoiceFor('en-US'), 'en-us');
  t.equal(espeakVoiceFor('en-GB'), 'en-gb');
  t.equal(espeakVoiceFor('en'), 'en-us');
  t.equal(espeakVoiceFor('en-AU'), 'en-gb');
  t.equal(espeakVoiceFor('fr-FR'), 'fr-fr');
  t.equal(espeakVoiceFor('fr-CA'), 'fr-fr');
  t.equal(espeakVoiceFor('fr'), 'fr-fr');
  t.equal(espeakVoiceFor('de-DE'), 'de');
  t.equal(espeakVoiceFor('es-ES'), 'es');
  t.equal(espeakVoiceFor('es-MX'), 'es-419');
  t.equal(espeakVoiceFor('pt-BR'), 'pt-br');
  t.equal(espeakVoiceFor('zh-CN'), 'cmn');
  t.equal(espeakVoiceFor('it-IT-x-foo'), 'it', 'subtags dropped from the right');
  t.equal(espeakVoiceFor('xx-YY'), undefined);
  t.equal(espeakVoiceFor('en-US', 'en-gb-scotland'), 'en-gb-scotland', 'an espeak voice name wins');
  t.equal(espeakVoiceFor('en-US', 'en-us+f3'), 'en-us+f3', 'with a variant');
  t.equal(espeakVoiceFor('de-DE', '+f2'), 'de+f2', 'a variant alone applies to the language');
  t.equal(espeakVoiceFor('en-US', 'en-US-Wavenet-D'), 'en-us', 'a foreign voice name is ignored');
  t.equal(espeakVoiceFor('en-US', 'en-us; rm -rf'), 'en-us');
});

t.test('requests are checked before any engine sees them', async (t) => {
  const ok: TtsRequest = { ssml: '<speak>x</speak>', language: 'en-US', sampleRate: 8000 };
  t.doesNotThrow(() => checkTtsRequest(ok, 'p'));
  const bad: unknown[] = [
    { ...ok, ssml: '   ' },
    { ...ok, ssml: 42 },
    { ...ok, ssml: 'x'.repeat(100_001) },
    { ...ok, sampleRate: 44100 },
    { ...ok, language: 'english please' },
    { ...ok, language: undefined },
    { ...ok, voice: 7 },
  ];
  for (const r of bad) {
    t.throws(() => checkTtsRequest(r as TtsRequest, 'p'), { name: 'TtsError', provider: 'p', cause: { name: 'InvalidInputError' } });
  }
  const err = new TtsError('boom', 'espeak');
  t.equal(err.message, 'espeak TTS: boom');
  t.equal(err.name, 'TtsError');
  t.ok(err instanceof Error);
});

t.test('withDeadline: result, failure, timeout and abort', async (t) => {
  const scheduler = new FakeScheduler();
  const base = { provider: 'p', timeoutMs: 1000, scheduler };
  t.equal(await withDeadline(base, async () => 5), 5);
  await t.rejects(withDeadline(base, async () => Promise.reject(new Error('nope'))), { name: 'TtsError', message: 'p TTS: nope' });
  await t.rejects(
    withDeadline(base, () => {
      throw new Error('sync throw');
    }),
    { name: 'TtsError', message: /sync throw/ },
  );

  let innerAborted = false;
  let timeoutHook = 0;
  const hanging = withDeadline({ ...base, onTimeout: () => timeoutHook++ }, (signal) => {
    signal.addEventListener('abort', () => (innerAborted = true));
    return new Promise<number>(() => {});
  });
  await tick();
  scheduler.advance(999);
  await tick();
  t.notOk(innerAborted, 'not before the deadline');
  scheduler.advance(1);
  await t.rejects(hanging, { name: 'TtsError', message: /no audio within 1000 ms/, cause: { name: 'TimeoutError' } });
  t.ok(innerAborted, 'the work was told to stop');
  t.equal(timeoutHook, 1);

  const controller = new AbortController();
  const aborted = withDeadline({ ...base, signal: controller.signal }, () => new Promise<number>(() => {}));
  controller.abort(new Error('caller hung up'));
  await t.rejects(aborted, { name: 'TtsError', message: /aborted/ });
  await t.rejects(withDeadline({ ...base, signal: AbortSignal.abort() }, async () => 1), { name: 'TtsError' });
  t.equal(scheduler.pending, 0, 'no timer left behind');
});

t.test('PCM helpers: WAV detection, raw LINEAR16, resampling keeps duration and tone', async (t) => {
  const tone = new Int16Array(22050);
  for (let i = 0; i < tone.length; i++) tone[i] = Math.round(10000 * Math.sin((2 * Math.PI * 440 * i) / 22050));
  const wav = encodeWav(tone, { sampleRate: 22050 });
  t.ok(looksLikeWav(wav));
  t.notOk(looksLikeWav(new Uint8Array(100)));
  const at8k = await wavToPcm(wav, 8000, 'p');
  t.equal(at8k.length, 8000, 'one second stays one second');
  let peak = 0;
  for (const s of at8k.subarray(100, 7900)) peak = Math.max(peak, Math.abs(s));
  t.ok(peak > 9000 && peak < 11000, `amplitude preserved (${peak})`);
  t.equal((await resample(tone, 22050, 16000)).length, 16000);
  t.equal(await resample(tone, 16000, 16000), tone, 'same rate: untouched');
  const padded = new Int16Array(tone.length + 441);
  padded.set(tone);
  const oneGo = createResampler(22050, 8000).process(padded).subarray(0, 8000);
  t.same([...at8k], [...oneGo], 'slicing gives the same samples as one pass');
  t.same([...rawLinear16(new Uint8Array([0x01, 0x00, 0xff, 0xff, 0x07]))], [1, -1], 'odd trailing byte ignored');
  await t.rejects(wavToPcm(new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x41, 0x56, 0x45]), 8000, 'p'), { name: 'TtsError', provider: 'p' });
});
