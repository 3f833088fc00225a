/** PromptRenderer with a fake TTS: text, breaks, audio (WAV, raw G.711, fallback), marks, bad SSML. */
import t from 'tap';
import { silentLogger } from '../../../../src/lib/index.js';
import { ssmlToSegments } from '../../../../src/mcp/ssml/index.js';
import { PromptRenderer, PromptRenderError, decodeAudio } from '../../../../src/mcp/platform/prompt-renderer.js';
import type { PromptSegment } from '../../../../src/mcp/platform/ports.js';
import { encodeWav } from '../../../../src/media/index.js';

function fakeTts() {
  const asked: string[] = [];
  return {
    asked,
    synthesize: async (req: { ssml: string; sampleRate: number }) => {
      asked.push(req.ssml);
      // 100 ms of a constant per request at 16 kHz, to see the resampling to the call's rate
      return { pcm: new Int16Array(1600).fill(1000), sampleRate: 16000 };
    },
  };
}

const prompt = (ssml: string, text = '') => ({ ssml, text, bargein: true, bargeinType: 'speech' as const });

t.test('text through TTS (escaped, resampled), breaks as silence, marks as nothing', async (t) => {
  const tts = fakeTts();
  const renderer = new PromptRenderer({ tts, segments: ssmlToSegments, loadAudio: async () => new Uint8Array(0), logger: silentLogger });
  const pcm = await renderer.render(prompt('<speak>Tom &amp; Jerry<break time="500ms"/><mark name="m"/>again</speak>'), 8000);
  t.equal(tts.asked.length, 2, 'two text segments');
  t.match(tts.asked[0], /Tom &#38; Jerry/, 'the text is escaped into the SSML the engine gets');
  t.equal(pcm.length, 800 + 4000 + 800, '100 ms + 500 ms silence + 100 ms at 8 kHz');
  t.equal(pcm[900], 0, 'the break is silence');
});

t.test('audio: WAV at another rate, raw µ-law by extension, fallback when it cannot be had', async (t) => {
  const wav = encodeWav(new Int16Array(16000).fill(500), { sampleRate: 16000 });
  const files = new Map<string, Uint8Array>([
    ['http://a/hello.wav', wav],
    ['http://a/raw.ul', new Uint8Array(800).fill(0xff)],
  ]);
  const tts = fakeTts();
  const renderer = new PromptRenderer({
    tts,
    segments: ssmlToSegments,
    loadAudio: async (url) => {
      const f = files.get(url);
      if (f === undefined) throw new Error(`404 ${url}`);
      return f;
    },
    logger: silentLogger,
  });
  t.equal((await renderer.render(prompt('<speak><audio src="http://a/hello.wav"/></speak>'), 8000)).length, 8000, '1 s of 16 kHz WAV becomes 8000 samples');
  t.equal((await renderer.render(prompt('<speak><audio src="http://a/raw.ul"/></speak>'), 8000)).length, 800, 'raw µ-law, one sample a byte');
  const fallback = await renderer.render(prompt('<speak><audio src="http://a/missing.wav">the fallback</audio></speak>'), 8000);
  t.equal(fallback.length, 800, 'the fallback text was spoken instead');
  t.match(tts.asked.at(-1), /the fallback/);
  t.throws(() => decodeAudio('http://a/x.mp3', new Uint8Array([1, 2, 3]), 8000), PromptRenderError, 'an unknown format is a named error');
});

t.test('SSML the segmenter refuses is spoken as the prompt text; a TTS failure rejects', async (t) => {
  const tts = fakeTts();
  const throwing = (): PromptSegment[] => {
    throw new Error('bad ssml');
  };
  const renderer = new PromptRenderer({ tts, segments: throwing, loadAudio: async () => new Uint8Array(0), logger: silentLogger });
  t.equal((await renderer.render(prompt('<speak><oops', 'hello there'), 8000)).length, 800);
  t.match(tts.asked[0], /hello there/);
  const failing = new PromptRenderer({
    tts: { synthesize: async () => Promise.reject(new Error('provider down')) },
    segments: ssmlToSegments,
    loadAudio: async () => new Uint8Array(0),
    logger: silentLogger,
  });
  await t.rejects(failing.render(prompt('<speak>hi</speak>'), 8000), /provider down/);
});
