import t from 'tap';
import { dominantFrequency, generateTone, levelDbfs, toneAmplitude } from '../../../../src/media/dsp/index.js';
import type { PlayItem } from '../../../../src/media/engine/api.js';
import { Player, type PlayerOptions } from '../../../../src/media/player/index.js';
import { encodeWav, interleave } from '../../../../src/media/wav/index.js';

const CANDIDATES = [400, 500, 697, 770, 852, 941, 1000, 1209, 1336, 1477, 1633, 2000, 3000];

/** a Player whose loaders serve an in-memory file table */
function player(items: PlayItem[], options: Partial<PlayerOptions> & { files?: Record<string, Uint8Array> } = {}): Player {
  const files = options.files ?? {};
  const load = async (name: string): Promise<Uint8Array> => {
    const f = files[name];
    if (f === undefined) throw new Error(`ENOENT: ${name}`);
    return f;
  };
  return new Player({ items, sampleRate: 8000, loadFile: load, loadBlob: load, ...options });
}

/** let pending loads settle between ticks, as the real 20 ms tick would */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** pull frames until the player ends (or max frames) */
async function drain(p: Player, max = 1000): Promise<Int16Array[]> {
  const frames: Int16Array[] = [];
  for (let i = 0; i < max; i++) {
    const f = p.nextFrame();
    if (f === undefined) return frames;
    frames.push(f);
    await tick();
  }
  return frames;
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

const dominant = (samples: Int16Array, rate: number): number => dominantFrequency(samples, rate, CANDIDATES).frequencyHz;

t.test('items play in order, gaplessly, then the player ends', async (t) => {
  const p = player([
    { kind: 'tone', frequenciesHz: [1000], durationMs: 100 },
    { kind: 'silence', durationMs: 100 },
    { kind: 'tone', frequenciesHz: [2000], durationMs: 100, levelDbfs: -20 },
  ]);
  t.equal(p.frameSamples, 160);
  const frames = await drain(p);
  t.equal(frames.length, 15, '300 ms = 15 frames of 20 ms');
  t.ok(frames.every((f) => f.length === 160), 'every frame is 160 samples');
  t.equal(dominant(concat(frames.slice(0, 5)), 8000), 1000, 'first the 1 kHz tone');
  t.equal(levelDbfs(concat(frames.slice(5, 10))), -Infinity, 'then silence');
  const last = concat(frames.slice(10));
  t.equal(dominant(last, 8000), 2000, 'then the 2 kHz tone');
  t.ok(Math.abs(toneAmplitude(last, 2000, 8000) - 32767 * 10 ** (-20 / 20)) < 100, 'at the requested level');
  t.equal(p.nextFrame(), undefined);
  t.same(p.outcome, { reason: 'finished' });
  t.equal(p.state, 'finished');
});

t.test('a tone has the right frequency at every output rate', async (t) => {
  for (const rate of [8000, 16000, 48000]) {
    const p = player([{ kind: 'tone', frequenciesHz: [1000], durationMs: 200 }], { sampleRate: rate });
    const frames = await drain(p);
    t.equal(frames.length, 10, `${rate}: 10 frames`);
    t.equal(frames[0]?.length, rate / 50, `${rate}: frame is rate/50 samples`);
    const d = dominantFrequency(concat(frames), rate, CANDIDATES);
    t.equal(d.frequencyHz, 1000, `${rate}: 1 kHz`);
    t.ok(d.share > 0.95, `${rate}: pure (share ${d.share.toFixed(3)})`);
  }
});

t.test('a 44.1 kHz WAV played at 8 kHz keeps its 1 kHz tone and its length', async (t) => {
  const wav = encodeWav(generateTone({ frequenciesHz: [1000] }, 44100, 500), { sampleRate: 44100 });
  const p = player([{ kind: 'file', path: 'prompt.wav' }], { files: { 'prompt.wav': wav } });
  await p.ready();
  const frames = await drain(p);
  t.equal(frames.length, 25, '500 ms = 25 frames');
  const middle = concat(frames.slice(2, 23));
  const d = dominantFrequency(middle, 8000, CANDIDATES);
  t.equal(d.frequencyHz, 1000);
  t.ok(d.share > 0.95, `no aliasing or distortion to speak of (share ${d.share.toFixed(3)})`);
  t.ok(Math.abs(toneAmplitude(middle, 1000, 8000) - 32767 * 10 ** (-10 / 20)) < 500, 'level kept');
  t.equal(p.errors.length, 0);
});

t.test('a stereo 48 kHz blob is downmixed and resampled to 16 kHz', async (t) => {
  const left = generateTone({ frequenciesHz: [1000] }, 48000, 200);
  const right = generateTone({ frequenciesHz: [1000] }, 48000, 200);
  const wav = encodeWav(interleave([left, right]), { sampleRate: 48000, channels: 2 });
  const p = player([{ kind: 'blob', key: 'moh/a.wav' }], { sampleRate: 16000, files: { 'moh/a.wav': wav } });
  await p.ready();
  const frames = await drain(p);
  t.equal(frames.length, 10);
  t.equal(dominant(concat(frames.slice(1, 9)), 16000), 1000);
});

t.test('loop repeats the list until stopped; a file is loaded once', async (t) => {
  let loads = 0;
  const wav = encodeWav(generateTone({ frequenciesHz: [500] }, 8000, 40), { sampleRate: 8000 });
  const p = new Player({
    items: [
      { kind: 'tone', frequenciesHz: [1000], durationMs: 40 },
      { kind: 'file', path: 'x.wav' },
    ],
    sampleRate: 8000,
    loop: true,
    loadFile: async () => {
      loads++;
      return wav;
    },
    loadBlob: async () => new Uint8Array(0),
  });
  await p.ready();
  const frames = await drain(p, 40);
  t.equal(frames.length, 40, 'still playing after 40 frames (10 passes)');
  for (let pass = 0; pass < 10; pass++) {
    t.equal(dominant(concat(frames.slice(pass * 4, pass * 4 + 2)), 8000), 1000, `pass ${pass}: tone`);
    t.equal(dominant(concat(frames.slice(pass * 4 + 2, pass * 4 + 4)), 8000), 500, `pass ${pass}: file`);
  }
  t.equal(loads, 1, 'the file was fetched once');
  p.stop();
  t.equal(p.nextFrame(), undefined);
  t.same(p.outcome, { reason: 'stopped' });
});

t.test('a loop whose every item fails ends instead of spinning', async (t) => {
  const p = player([{ kind: 'file', path: 'gone.wav' }], { loop: true });
  await p.ready();
  t.equal(p.nextFrame(), undefined);
  t.equal(p.outcome?.reason, 'error');
  t.equal(p.errors.length, 1);
});

t.test('pause gives silence and keeps the position; resume continues', async (t) => {
  const p = player([{ kind: 'tone', frequenciesHz: [1000], durationMs: 100 }]);
  const heard: Int16Array[] = [];
  heard.push(p.nextFrame()!, p.nextFrame()!);
  p.pause();
  t.equal(p.state, 'paused');
  for (let i = 0; i < 3; i++) t.equal(levelDbfs(p.nextFrame()!), -Infinity, `paused frame ${i} is silent`);
  p.resume();
  t.equal(p.state, 'playing');
  heard.push(...(await drain(p)));
  t.equal(heard.length, 5, 'the whole 100 ms is still played');
  t.ok(heard.every((f) => dominant(f, 8000) === 1000));
});

t.test('stop(reason) ends at once with that reason; stop again changes nothing', async (t) => {
  const p = player([{ kind: 'tone', frequenciesHz: [1000], durationMs: 10_000 }]);
  p.nextFrame();
  p.stop('barge-in');
  p.stop('stopped');
  t.equal(p.nextFrame(), undefined);
  t.same(p.outcome, { reason: 'barge-in' });
  t.equal(p.write(new Int16Array(10)), false, 'nothing to write into');
});

t.test('stream item: silence while dry, audio when written, ends when ended', async (t) => {
  const p = player([
    { kind: 'tone', frequenciesHz: [500], durationMs: 40 },
    { kind: 'stream', streamId: 'tts-1', sampleRate: 16000 },
    { kind: 'tone', frequenciesHz: [2000], durationMs: 40 },
  ]);
  t.equal(dominant(concat([p.nextFrame()!, p.nextFrame()!]), 8000), 500, 'the tone before the stream');
  for (let i = 0; i < 3; i++) {
    const f = p.nextFrame();
    t.ok(f !== undefined && levelDbfs(f) === -Infinity, `underrun frame ${i}: silence, not the end`);
  }
  t.equal(p.state, 'playing');
  // 100 ms of 1 kHz at the stream's own rate (16 kHz), in two writes
  const speech = generateTone({ frequenciesHz: [1000] }, 16000, 100);
  t.equal(p.writeStream('tts-1', speech.subarray(0, 800)), true);
  t.equal(p.write(speech.subarray(800)), true, 'write() goes to the open stream');
  t.equal(p.writeStream('other', speech), false, 'unknown stream id');
  const spoken = [p.nextFrame()!, p.nextFrame()!, p.nextFrame()!, p.nextFrame()!, p.nextFrame()!];
  t.equal(dominant(concat(spoken.slice(1, 4)), 8000), 1000, 'the streamed audio, resampled to 8 kHz');
  const dry = p.nextFrame()!;
  t.ok(levelDbfs(dry.subarray(80)) < -40, 'ran dry again: silence, still waiting');
  p.write(new Int16Array(0), true);
  t.equal(p.write(new Int16Array(10)), false, 'an ended stream takes no more');
  const rest = await drain(p);
  t.equal(dominant(concat(rest), 8000), 2000, 'after the end the next item plays');
  t.same(p.outcome, { reason: 'finished' });
});

t.test('a stream written before its turn keeps what was written', async (t) => {
  const p = player([
    { kind: 'silence', durationMs: 40 },
    { kind: 'stream', streamId: 's', sampleRate: 8000 },
  ]);
  p.write(generateTone({ frequenciesHz: [1000] }, 8000, 40), true);
  const frames = await drain(p);
  t.equal(frames.length, 4);
  t.equal(levelDbfs(concat(frames.slice(0, 2))), -Infinity);
  t.equal(dominant(concat(frames.slice(2)), 8000), 1000);
});

t.test('a file that fails to load or parse is recorded and the next item plays', async (t) => {
  const p = player(
    [
      { kind: 'file', path: 'missing.wav' },
      { kind: 'blob', key: 'garbage.wav' },
      { kind: 'tone', frequenciesHz: [1000], durationMs: 100 },
    ],
    { files: { 'garbage.wav': Uint8Array.from([1, 2, 3, 4, 5]) } },
  );
  await p.ready();
  const frames = await drain(p);
  t.equal(frames.length, 5, 'only the tone plays');
  t.equal(dominant(concat(frames), 8000), 1000);
  t.equal(p.errors.length, 2);
  t.match(p.errors[0], { index: 0, message: /missing\.wav.*ENOENT/ });
  t.match(p.errors[1], { index: 1, message: /garbage\.wav.*RIFF/ });
  t.equal(p.outcome?.reason, 'error');
  t.match(p.outcome?.error, /missing\.wav/);
});

t.test('a file still loading when its turn comes plays silence until it arrives', async (t) => {
  let release: (b: Uint8Array) => void = () => {};
  const pending = new Promise<Uint8Array>((resolve) => (release = resolve));
  const p = new Player({
    items: [{ kind: 'file', path: 'slow.wav' }],
    sampleRate: 8000,
    loadFile: () => pending,
    loadBlob: () => pending,
  });
  for (let i = 0; i < 3; i++) {
    t.equal(levelDbfs(p.nextFrame()!), -Infinity, `frame ${i}: waiting`);
    await tick();
  }
  release(encodeWav(generateTone({ frequenciesHz: [1000] }, 8000, 60), { sampleRate: 8000 }));
  await p.ready();
  const frames = await drain(p);
  t.equal(frames.length, 3);
  t.equal(dominant(concat(frames), 8000), 1000);
  t.same(p.outcome, { reason: 'finished' });
});

t.test('the next file is fetched while the items before it play', async (t) => {
  const requested: string[] = [];
  const wav = encodeWav(generateTone({ frequenciesHz: [1000] }, 8000, 20), { sampleRate: 8000 });
  const p = new Player({
    items: [
      { kind: 'silence', durationMs: 20 },
      { kind: 'silence', durationMs: 20 },
      { kind: 'file', path: 'a.wav' },
      { kind: 'file', path: 'b.wav' },
    ],
    sampleRate: 8000,
    loadFile: async (path) => {
      requested.push(path);
      return wav;
    },
    loadBlob: async () => wav,
  });
  await p.ready();
  t.same(requested, ['a.wav'], 'the first file is fetched at once, the one after it is not yet');
  p.nextFrame();
  p.nextFrame();
  await tick();
  t.same(requested, ['a.wav'], 'still only the first');
  p.nextFrame();
  await tick();
  t.same(requested, ['a.wav', 'b.wav'], 'a.wav playing fetches b.wav');
  const frames = await drain(p);
  t.equal(frames.length, 1, 'no waiting frames: files were there in time');
  t.ok(frames.every((f) => levelDbfs(f) > -20));
});

t.test('dtmf-tones: Q.23 pairs with the requested timing; bad characters are reported', async (t) => {
  const p = player([{ kind: 'dtmf-tones', digits: '1#x', toneMs: 100, gapMs: 60 }]);
  const all = concat(await drain(p));
  t.equal(all.length, 8 * 260, '100 + 60 + 100 ms');
  const one = all.subarray(0, 800);
  const gap = all.subarray(800, 800 + 480);
  const hash = all.subarray(1280);
  t.ok(toneAmplitude(one, 697, 8000) > 5000 && toneAmplitude(one, 1209, 8000) > 5000, '1 = 697 + 1209 Hz');
  t.equal(levelDbfs(gap), -Infinity, 'gap is silent');
  t.ok(toneAmplitude(hash, 941, 8000) > 5000 && toneAmplitude(hash, 1477, 8000) > 5000, '# = 941 + 1477 Hz');
  t.ok(toneAmplitude(hash, 1209, 8000) < 500, 'and not the 1 column');
  t.match(p.errors, [{ message: /"X"/ }]);
});

t.test('nonsense items do not break the player', async (t) => {
  const p = player([
    { kind: 'tone', frequenciesHz: [1000], durationMs: Number.NaN },
    { kind: 'silence', durationMs: -5 },
    { kind: 'tone', frequenciesHz: [1000], durationMs: Number.POSITIVE_INFINITY },
    { kind: 'stream', streamId: 'bad', sampleRate: 0 },
    { kind: 'tone', frequenciesHz: [1000], durationMs: 20 },
  ]);
  const frames = await drain(p);
  t.equal(frames.length, 1, 'only the valid 20 ms tone plays');
  t.match(p.errors, [{ index: 3, message: /sample rate 0/ }]);
  t.throws(() => player([], { sampleRate: 0 }), /sample rate/);
  const empty = player([]);
  t.equal(empty.nextFrame(), undefined, 'an empty list ends at once');
  t.same(empty.outcome, { reason: 'finished' });
});

t.test('readyAhead: a frame may be taken early only when it holds real audio or the end', async (t) => {
  // two streams: the first written in part, the second not yet
  const p = player([
    { kind: 'stream', streamId: 's1', sampleRate: 8000 },
    { kind: 'stream', streamId: 's2', sampleRate: 8000 },
  ]);
  t.equal(p.readyAhead(), false, 'nothing written yet: the frame would be silence standing in for audio');
  p.writeStream('s1', new Int16Array(200).fill(1000));
  t.equal(p.readyAhead(), true, '200 samples buffered: a 160-sample frame is real audio');
  p.nextFrame();
  t.equal(p.readyAhead(), false, '40 left and the stream still open');
  p.writeStream('s1', new Int16Array(0), true);
  t.equal(p.readyAhead(), false, 'the first stream ends after 40, the second has nothing yet');
  p.writeStream('s2', new Int16Array(120).fill(-1000), true);
  t.equal(p.readyAhead(), true, '40 + 120 samples and then the end');
  t.equal(p.nextFrame()?.length, 160);
  t.equal(p.readyAhead(), true, 'at the end: the next call ends the play');
  t.equal(p.nextFrame(), undefined);
  t.equal(p.readyAhead(), true);

  const paused = player([{ kind: 'tone', frequenciesHz: [1000], durationMs: 500 }]);
  t.equal(paused.readyAhead(), true, 'a tone is always ready');
  paused.pause();
  t.equal(paused.readyAhead(), false, 'paused: silence must not be queued ahead of the resume');
  paused.resume();

  const wav = encodeWav(generateTone({ frequenciesHz: [1000] }, 8000, 800), { sampleRate: 8000 });
  const file = player([{ kind: 'tone', frequenciesHz: [400], durationMs: 10 }, { kind: 'file', path: 'a.wav' }], { files: { 'a.wav': wav } });
  t.equal(file.readyAhead(), false, '10 ms of tone, then a file still loading');
  await file.ready();
  t.equal(file.readyAhead(), true, 'the file has loaded');
  const looped = player([{ kind: 'silence', durationMs: 0 }], { loop: true });
  t.equal(looped.readyAhead(), true, 'a loop of nothing ends rather than waiting');
});
