import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { levelDbfs } from '../../../../src/media/index.js';
import { EspeakTtsProvider, createTtsProvider, type TtsAudio } from '../../../../src/mcp/tts/index.js';

const PROMPT = '<speak>Welcome to opencx. Press 1 for sales, 2 for support.</speak>';

function seconds(audio: TtsAudio): number {
  return audio.pcm.length / audio.sampleRate;
}

function peak(audio: TtsAudio): number {
  let max = 0;
  for (const s of audio.pcm) max = Math.max(max, Math.abs(s));
  return max;
}

t.test('espeak speaks a prompt at 8 kHz and 16 kHz, in process, and reports its timing', async (t) => {
  const tts = new EspeakTtsProvider();
  t.teardown(() => tts.close());
  const request = { ssml: PROMPT, language: 'en-US', sampleRate: 8000 } as const;

  let started = performance.now();
  const cold = await tts.synthesize(request);
  const coldMs = performance.now() - started;
  started = performance.now();
  const warm = await tts.synthesize(request);
  const warmMs = performance.now() - started;
  t.comment(`espeak, typical prompt at 8 kHz: cold ${coldMs.toFixed(0)} ms (compile + worker start), warm ${warmMs.toFixed(0)} ms; ${seconds(cold).toFixed(2)} s of audio`);

  t.equal(cold.sampleRate, 8000);
  t.ok(seconds(cold) > 0.5 && seconds(cold) < 10, `plausible length ${seconds(cold)} s`);
  t.ok(peak(cold) > 3000, `not silent (peak ${peak(cold)})`);
  t.ok(levelDbfs(cold.pcm) > -40, `speech level ${levelDbfs(cold.pcm).toFixed(1)} dBFS`);
  t.same(warm.pcm.length, cold.pcm.length, 'deterministic');
  t.equal(cold.marks, undefined, 'espeak reports no marks');

  const wide = await tts.synthesize({ ...request, sampleRate: 16000 });
  t.equal(wide.sampleRate, 16000);
  t.ok(Math.abs(seconds(wide) - seconds(cold)) < 0.01, 'same duration at 16 kHz');
  t.ok(peak(wide) > 3000, 'not silent at 16 kHz');
});

t.test('a <break time="1s"/> makes the prompt about a second longer', async (t) => {
  const tts = new EspeakTtsProvider();
  t.teardown(() => tts.close());
  // no full stop before the break: espeak's own sentence pause would be folded into it
  const plain = await tts.synthesize({ ssml: '<speak>Hello there and goodbye now</speak>', language: 'en-US', sampleRate: 8000 });
  const paused = await tts.synthesize({ ssml: '<speak>Hello there <break time="1s"/> and goodbye now</speak>', language: 'en-US', sampleRate: 8000 });
  const extra = seconds(paused) - seconds(plain);
  t.ok(extra > 0.6 && extra < 1.5, `break adds ${extra.toFixed(2)} s`);
});

t.test('languages, voices, SSML markup and odd input', async (t) => {
  const tts = new EspeakTtsProvider();
  t.teardown(() => tts.close());
  const french = await tts.synthesize({ ssml: '<speak xml:lang="fr-FR">Bonjour, bienvenue.</speak>', language: 'fr-FR', sampleRate: 8000 });
  t.ok(peak(french) > 3000, 'French spoken');
  const variant = await tts.synthesize({ ssml: '<speak>Hello</speak>', language: 'en-US', voice: 'en-us+f3', sampleRate: 8000 });
  t.ok(peak(variant) > 1000, 'voice variant spoken');
  const plainText = await tts.synthesize({ ssml: '--help -w /etc/passwd café', language: 'en-US', sampleRate: 8000 });
  t.ok(seconds(plainText) > 0.5, 'text that looks like options is spoken, not parsed');
  const bare = await tts.synthesize({ ssml: '<speak>Hello</speak>', language: 'en-US', sampleRate: 8000 });
  const full = await tts.synthesize({
    ssml: '<?xml version="1.0" encoding="UTF-8"?>\n<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">Hello</speak>',
    language: 'en-US',
    sampleRate: 8000,
  });
  t.equal(full.pcm.length, bare.pcm.length, 'XML declaration and namespace are markup, not words');
  const broken = await tts.synthesize({ ssml: '<speak><prosody rate="slow">unclosed', language: 'en-US', sampleRate: 8000 });
  t.ok(seconds(broken) > 0.2, 'espeak is lenient with broken markup');
  await t.rejects(tts.synthesize({ ssml: '<speak>x</speak>', language: 'xx-YY', sampleRate: 8000 }), { name: 'TtsError', provider: 'espeak', message: /no espeak voice/ });
  await t.rejects(tts.synthesize({ ssml: '', language: 'en-US', sampleRate: 8000 }), { name: 'TtsError' });
});

t.test('concurrent requests are serialised through the worker and all complete', async (t) => {
  const tts = new EspeakTtsProvider();
  t.teardown(() => tts.close());
  const texts = ['one', 'two two', 'three three three'];
  const results = await Promise.all(texts.map((w) => tts.synthesize({ ssml: `<speak>${w}</speak>`, language: 'en-US', sampleRate: 8000 })));
  t.ok(seconds(results[0]!) < seconds(results[2]!), 'each got its own audio');
  for (const r of results) t.ok(peak(r) > 1000);
});

t.test('a run past its deadline is stopped with a TtsError, and the same provider carries on', async (t) => {
  const scheduler = new FakeScheduler();
  const tts = new EspeakTtsProvider({ scheduler, timeoutMs: 5000 });
  t.teardown(() => tts.close());
  await tts.warmUp();
  const late = tts.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 });
  await new Promise((r) => setTimeout(r, 20)); // the job is with the worker now
  scheduler.advance(5000);
  await t.rejects(late, { name: 'TtsError', message: /no audio within 5000 ms/ });
  const next = await tts.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 });
  t.ok(peak(next) > 3000, 'a fresh worker took over');

  const hasty = new EspeakTtsProvider({ timeoutMs: 1 });
  t.teardown(() => hasty.close());
  await t.rejects(hasty.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /no audio within 1 ms/ }, 'real timers too');
});

t.test('abort, close and the factory', async (t) => {
  const tts = new EspeakTtsProvider();
  const controller = new AbortController();
  const request = tts.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 }, controller.signal);
  controller.abort();
  await t.rejects(request, { name: 'TtsError', message: /aborted/ });
  const inFlight = tts.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 });
  await Promise.all([tts.close(), tts.close()]);
  await t.rejects(inFlight, { name: 'TtsError', message: /closed/ }, 'pending work fails when closed');
  await t.rejects(tts.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /closed/ });

  const cached = createTtsProvider({ provider: 'espeak' });
  t.teardown(() => cached.close());
  const a = await cached.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 });
  const b = await cached.synthesize({ ssml: PROMPT, language: 'en-US', sampleRate: 8000 });
  t.equal(a, b, 'second prompt served from the cache');
  t.equal(process.exitCode, undefined, 'the engine never touches process.exitCode');
});
