import net from 'node:net';
import t from 'tap';
import { GoogleTtsProvider, createTtsProvider } from '../../../../src/mcp/tts/index.js';
import { GoogleTtsServer, toneSamples } from '../../../helpers/google-tts-server.js';

const SSML = '<speak>Your call is important to us.</speak>';

/** A port nothing listens on: bound once, then closed. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

t.test('SSML in, LINEAR16 at the requested rate out, WAV header stripped', async (t) => {
  const server = await GoogleTtsServer.start();
  t.teardown(() => server.close());
  const tts = new GoogleTtsProvider({
    apiEndpoint: '127.0.0.1',
    port: server.port,
    insecure: true,
    timeoutMs: 5000,
    voice: { languageCode: 'en-US', name: 'en-US-Test-A', ssmlGender: 'FEMALE' },
  });
  t.teardown(() => tts.close());

  const narrow = await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  t.equal(narrow.sampleRate, 8000);
  t.same([...narrow.pcm], [...toneSamples(8000)], 'exactly the samples the server sent, no header bytes');
  t.match(server.requests[0], {
    input: { ssml: SSML },
    voice: { languageCode: 'en-US', name: 'en-US-Test-A', ssmlGender: 'FEMALE' },
    audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 8000 },
  });
  t.equal(server.requests[0]?.input?.text, undefined, 'no plain-text input');

  const wide = await tts.synthesize({ ssml: SSML, language: 'fr-FR', voice: 'fr-FR-Test-B', sampleRate: 16000 });
  t.equal(wide.pcm.length, 8000, '0.5 s at 16 kHz');
  t.match(server.requests[1], { voice: { languageCode: 'fr-FR', name: 'fr-FR-Test-B' }, audioConfig: { sampleRateHertz: 16000 } });

  await tts.synthesize({ ssml: SSML, language: 'de-DE', sampleRate: 8000 });
  t.equal(server.requests[2]?.voice?.name, undefined, 'the default voice name is not sent for another language');
});

t.test('audio at another rate than asked is resampled to the asked rate', async (t) => {
  const server = await GoogleTtsServer.start({ answerRate: 24000, audio: (_request, rate) => toneSamples(rate, 1000) });
  t.teardown(() => server.close());
  const tts = new GoogleTtsProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 5000 });
  t.teardown(() => tts.close());
  const audio = await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  t.equal(audio.sampleRate, 8000);
  t.equal(audio.pcm.length, 8000, 'one second of 24 kHz became one second of 8 kHz');
});

t.test('UNAVAILABLE from the server is a TtsError, fast and without retries', async (t) => {
  const server = await GoogleTtsServer.start({ mode: 'unavailable' });
  t.teardown(() => server.close());
  const tts = new GoogleTtsProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 5000 });
  t.teardown(() => tts.close());
  const started = performance.now();
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', provider: 'google', message: /UNAVAILABLE/ });
  t.ok(performance.now() - started < 5000, 'before the deadline');
  t.equal(server.requests.length, 1, 'not retried');
  server.mode = 'ok';
  const audio = await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  t.equal(audio.pcm.length, 4000, 'works again once the server does');
  server.mode = 'unauthenticated';
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /UNAUTHENTICATED/ }, 'auth errors');
  server.mode = 'invalid-argument';
  await t.rejects(tts.synthesize({ ssml: '<speak>oops', language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /INVALID_ARGUMENT.*SSML/ }, 'SSML the engine refuses');
});

t.test('a server that never answers gives a TtsError after the timeout', async (t) => {
  const server = await GoogleTtsServer.start({ mode: 'hang' });
  t.teardown(() => server.close());
  const tts = new GoogleTtsProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 500 });
  t.teardown(() => tts.close());
  // the client library loads outside the deadline; warm it so the timing below is the RPC's
  server.mode = 'ok';
  await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  server.mode = 'hang';
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /DEADLINE_EXCEEDED|no audio within 500 ms/ });
  t.equal(server.requests.length, 2);
});

t.test('a dead endpoint is a TtsError, and so is an abort', async (t) => {
  const port = await closedPort();
  const tts = new GoogleTtsProvider({ apiEndpoint: '127.0.0.1', port, insecure: true, timeoutMs: 3000 });
  t.teardown(() => tts.close());
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', provider: 'google' });

  const server = await GoogleTtsServer.start({ mode: 'hang' });
  t.teardown(() => server.close());
  const hung = new GoogleTtsProvider({ apiEndpoint: '127.0.0.1', port: server.port, insecure: true, timeoutMs: 10_000 });
  t.teardown(() => hung.close());
  const controller = new AbortController();
  const pending = hung.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }, controller.signal);
  while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
  controller.abort();
  await t.rejects(pending, { name: 'TtsError', message: /aborted/ });
});

t.test('bad requests and a closed provider are refused before the network', async (t) => {
  const server = await GoogleTtsServer.start();
  t.teardown(() => server.close());
  const tts = createTtsProvider({ provider: 'google', google: { apiEndpoint: '127.0.0.1', port: server.port, insecure: true } });
  await t.rejects(tts.synthesize({ ssml: '', language: 'en-US', sampleRate: 8000 }), { name: 'TtsError' });
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 44100 as 8000 }), { name: 'TtsError' });
  const a = await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  const b = await tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 });
  t.equal(a, b, 'cached by the factory');
  t.equal(server.requests.length, 1);
  await tts.close();
  await tts.close();
  await t.rejects(tts.synthesize({ ssml: SSML, language: 'en-US', sampleRate: 8000 }), { name: 'TtsError', message: /closed/ });
});
