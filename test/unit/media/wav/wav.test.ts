import t from 'tap';
import { dominantFrequency, generateTone } from '../../../../src/media/dsp/index.js';
import {
  ALAW_TO_LINEAR,
  decodeWavChannels,
  encodeWav,
  interleave,
  parseWav,
  pcm16Bytes,
  pcm16FromBytes,
  ULAW_TO_LINEAR,
  wavHeader,
  type WavErrorCode,
} from '../../../../src/media/wav/index.js';

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** a chunk with its pad byte when the body is odd */
function chunk(id: string, body: ArrayLike<number>, declared = body.length): number[] {
  const out = [...ascii(id), ...u32(declared), ...Array.from(body)];
  if (body.length % 2 === 1) out.push(0);
  return out;
}

function riff(...chunks: number[][]): Uint8Array {
  const body = chunks.flat();
  return Uint8Array.from([...ascii('RIFF'), ...u32(4 + body.length), ...ascii('WAVE'), ...body]);
}

function fmt(tag: number, channels: number, rate: number, bits: number): number[] {
  const align = (channels * bits) / 8;
  return chunk('fmt ', [...u16(tag), ...u16(channels), ...u32(rate), ...u32(rate * align), ...u16(align), ...u16(bits)]);
}

/** WAVE_FORMAT_EXTENSIBLE wrapping `subTag` */
function fmtExtensible(subTag: number, channels: number, rate: number, bits: number): number[] {
  const align = (channels * bits) / 8;
  const guid = [...u16(subTag), 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
  return chunk('fmt ', [
    ...u16(0xfffe), ...u16(channels), ...u32(rate), ...u32(rate * align), ...u16(align), ...u16(bits),
    ...u16(22), ...u16(bits), ...u32(channels === 2 ? 3 : 4), ...guid,
  ]);
}

/** test-side G.711 encoders (the codec layer owns the real ones): search the decode table */
function encodeByTable(table: Int16Array, samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    let best = 0;
    let bestErr = Infinity;
    for (let b = 0; b < 256; b++) {
      const err = Math.abs((table[b] as number) - (samples[i] as number));
      if (err < bestErr) [best, bestErr] = [b, err];
    }
    out[i] = best;
  }
  return out;
}

const TONE_CANDIDATES = [500, 700, 1000, 1300, 2000];

t.test('G.711 tables match known points (G.711 tables 1a/2a)', async (t) => {
  t.equal(ULAW_TO_LINEAR[0xff], 0, 'μ-law 0xFF is zero');
  t.equal(ULAW_TO_LINEAR[0x7f], 0, 'μ-law 0x7F is (negative) zero');
  t.equal(ULAW_TO_LINEAR[0x80], 32124, 'μ-law 0x80 is the positive peak');
  t.equal(ULAW_TO_LINEAR[0x00], -32124, 'μ-law 0x00 is the negative peak');
  t.equal(ALAW_TO_LINEAR[0xd5], 8, 'A-law 0xD5 is the smallest positive step');
  t.equal(ALAW_TO_LINEAR[0x55], -8);
  t.equal(ALAW_TO_LINEAR[0xaa], 32256, 'A-law 0xAA is the positive peak');
  t.equal(ALAW_TO_LINEAR[0x2a], -32256);
  for (const [name, table] of [['μ-law', ULAW_TO_LINEAR], ['A-law', ALAW_TO_LINEAR]] as const) {
    const positives = [...table].filter((v) => v > 0).sort((a, b) => a - b);
    t.equal(new Set(positives).size, name === 'μ-law' ? 127 : 128, `${name}: distinct positive levels`);
  }
});

t.test('pcm16 round trip at common rates, mono and stereo', async (t) => {
  for (const rate of [8000, 16000, 22050, 44100, 48000]) {
    const tone = generateTone({ frequenciesHz: [1000] }, rate, 200);
    const file = encodeWav(tone, { sampleRate: rate });
    t.equal(file.length, 44 + tone.length * 2);
    const r = parseWav(file);
    if (!r.ok) {
      t.fail(`parse at ${rate}: ${r.error.message}`);
      continue;
    }
    t.same(r.format, { audioFormat: 'pcm16', sampleRate: rate, channels: 1 }, `${rate} Hz format`);
    t.same(Array.from(r.samples), Array.from(tone), `${rate} Hz samples identical`);
    t.equal(r.truncated, false);
  }
  const left = generateTone({ frequenciesHz: [1000] }, 16000, 100);
  const right = generateTone({ frequenciesHz: [500] }, 16000, 100);
  const stereo = encodeWav(interleave([left, right]), { sampleRate: 16000, channels: 2 });
  const channels = decodeWavChannels(stereo);
  t.ok(channels.ok);
  if (channels.ok) {
    t.equal(channels.format.channels, 2);
    t.same(Array.from(channels.channels[0]!), Array.from(left), 'left channel kept');
    t.same(Array.from(channels.channels[1]!), Array.from(right), 'right channel kept');
  }
  const mono = parseWav(stereo);
  t.ok(mono.ok);
  if (mono.ok) {
    t.equal(mono.samples.length, left.length);
    t.equal(mono.samples[10], Math.round(((left[10] as number) + (right[10] as number)) / 2), 'stereo averaged to mono');
  }
});

t.test('pcm16Bytes and pcm16FromBytes are little-endian inverses', async (t) => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
  const bytes = pcm16Bytes(samples);
  t.same(Array.from(bytes.subarray(10)), [0x34, 0x12], 'low byte first');
  t.same(Array.from(pcm16FromBytes(bytes)), Array.from(samples));
  t.same(Array.from(pcm16FromBytes(Uint8Array.from([1, 0, 9]))), [1], 'odd trailing byte dropped');
  t.same(Array.from(pcm16FromBytes(bytes.subarray(1, 5))), [256, -256], 'works at an odd byte offset');
});

t.test('wavHeader is the canonical 44-byte PCM header', async (t) => {
  const h = wavHeader({ sampleRate: 8000, channels: 2, dataBytes: 1000 });
  const view = new DataView(h.buffer);
  t.equal(h.length, 44);
  t.equal(String.fromCharCode(...h.subarray(0, 4)), 'RIFF');
  t.equal(view.getUint32(4, true), 1036, 'RIFF size = 36 + data');
  t.equal(String.fromCharCode(...h.subarray(8, 16)), 'WAVEfmt ');
  t.equal(view.getUint16(20, true), 1, 'PCM');
  t.equal(view.getUint16(22, true), 2);
  t.equal(view.getUint32(24, true), 8000);
  t.equal(view.getUint32(28, true), 32000, 'byte rate');
  t.equal(view.getUint16(32, true), 4, 'block align');
  t.equal(view.getUint16(34, true), 16);
  t.equal(String.fromCharCode(...h.subarray(36, 40)), 'data');
  t.equal(view.getUint32(40, true), 1000);
});

t.test('μ-law and A-law files decode to the tone they hold', async (t) => {
  const tone = generateTone({ frequenciesHz: [1000] }, 8000, 200);
  for (const [tag, table, name] of [[7, ULAW_TO_LINEAR, 'ulaw'], [6, ALAW_TO_LINEAR, 'alaw']] as const) {
    const file = riff(fmt(tag, 1, 8000, 8), chunk('data', encodeByTable(table, tone)));
    const r = parseWav(file);
    if (!r.ok) {
      t.fail(`${name}: ${r.error.message}`);
      continue;
    }
    t.equal(r.format.audioFormat, name);
    t.equal(r.samples.length, tone.length);
    const worst = Math.max(...Array.from(r.samples, (v, i) => Math.abs(v - (tone[i] as number))));
    t.ok(worst < 400, `${name}: companding error ${worst} is within one step at this level`);
    t.equal(dominantFrequency(r.samples, 8000, TONE_CANDIDATES).frequencyHz, 1000);
  }
});

t.test('8-bit PCM is unsigned around 128', async (t) => {
  const r = parseWav(riff(fmt(1, 1, 8000, 8), chunk('data', [128, 255, 0, 192])));
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.format.audioFormat, 'pcm8');
    t.same(Array.from(r.samples), [0, 127 << 8, -128 << 8, 64 << 8]);
  }
});

t.test('WAVE_FORMAT_EXTENSIBLE with PCM and μ-law subformats', async (t) => {
  const samples = Int16Array.from([1, -2, 3, -4, 1000, -1000]);
  const pcm = parseWav(riff(fmtExtensible(1, 2, 48000, 16), chunk('data', pcm16Bytes(samples))));
  t.ok(pcm.ok);
  if (pcm.ok) {
    t.same(pcm.format, { audioFormat: 'pcm16', sampleRate: 48000, channels: 2 });
    t.same(Array.from(pcm.samples), [Math.round(-1 / 2), Math.round(-1 / 2), 0], 'stereo frames averaged');
  }
  const ulaw = parseWav(riff(fmtExtensible(7, 1, 8000, 8), chunk('data', [0xff, 0x80])));
  t.ok(ulaw.ok);
  if (ulaw.ok) t.same(Array.from(ulaw.samples), [0, 32124]);
  const odd = riff(fmtExtensible(1, 1, 8000, 16).map((b, i) => (i === 8 + 24 + 4 ? 0x99 : b)), chunk('data', [0, 0]));
  const r = parseWav(odd);
  t.equal(r.ok ? 'ok' : r.error.code, 'unsupported-format', 'a non-standard SubFormat GUID is refused');
});

t.test('chunks in any order, odd sizes padded, unknown chunks skipped', async (t) => {
  const samples = Int16Array.from([100, -100, 200, -200]);
  const data = chunk('data', pcm16Bytes(samples));
  const list = chunk('LIST', ascii('INFOISFT\x03\x00\x00\x00ab\x00')); // 15 bytes: odd, padded
  const fact = chunk('fact', u32(4));
  for (const [name, file] of [
    ['LIST before fmt', riff(list, fmt(1, 1, 8000, 16), data)],
    ['fact and LIST between', riff(fmt(1, 1, 8000, 16), fact, list, data)],
    ['data before fmt', riff(data, list, fmt(1, 1, 8000, 16))],
    ['odd junk chunk', riff(chunk('junk', [1, 2, 3]), fmt(1, 1, 8000, 16), data)],
  ] as const) {
    const r = parseWav(file);
    t.ok(r.ok, name);
    if (r.ok) t.same(Array.from(r.samples), Array.from(samples), `${name}: samples`);
  }
});

t.test('truncated data: what is there is used', async (t) => {
  const samples = generateTone({ frequenciesHz: [1000] }, 8000, 100);
  const full = encodeWav(samples, { sampleRate: 8000 });
  const cut = full.subarray(0, 44 + 301); // 150 samples and half of one more
  const r = parseWav(cut);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.samples.length, 150, 'the partial last sample is dropped');
    t.equal(r.truncated, true);
    t.same(Array.from(r.samples), Array.from(samples.subarray(0, 150)));
  }
  // a streaming writer's placeholder size (0 or 0xFFFFFFFF) means "to the end of the file"
  for (const placeholder of [0, 0xffffffff]) {
    const copy = full.slice();
    new DataView(copy.buffer).setUint32(40, placeholder, true);
    const p = parseWav(copy);
    t.equal(p.ok && p.samples.length, samples.length, `data size ${placeholder} read to the end`);
  }
  const empty = parseWav(wavHeader({ sampleRate: 8000, channels: 1, dataBytes: 0 }));
  t.ok(empty.ok && empty.samples.length === 0 && !empty.truncated, 'an empty recording is valid');
});

t.test('garbage gives a typed error, never a throw', async (t) => {
  const valid = encodeWav(Int16Array.from([1, 2, 3]), { sampleRate: 8000 });
  const cases: [string, Uint8Array, WavErrorCode][] = [
    ['empty', new Uint8Array(0), 'not-riff'],
    ['short', Uint8Array.from(ascii('RIFF')), 'not-riff'],
    ['not RIFF', Uint8Array.from(ascii('OggS\0\0\0\0WAVEfmt ')), 'not-riff'],
    ['RIFF but AVI', Uint8Array.from([...ascii('RIFF'), ...u32(4), ...ascii('AVI ')]), 'not-wave'],
    ['no chunks', Uint8Array.from([...ascii('RIFF'), ...u32(4), ...ascii('WAVE')]), 'missing-fmt'],
    ['no data', riff(fmt(1, 1, 8000, 16)), 'missing-data'],
    ['only data', riff(chunk('data', [0, 0])), 'missing-fmt'],
    ['short fmt', riff(chunk('fmt ', [1, 0, 1, 0]), chunk('data', [0, 0])), 'bad-fmt'],
    ['fmt past end', valid.subarray(0, 30), 'bad-fmt'],
    ['zero channels', riff(fmt(1, 0, 8000, 16), chunk('data', [0, 0])), 'bad-fmt'],
    ['zero rate', riff(fmt(1, 1, 0, 16), chunk('data', [0, 0])), 'bad-fmt'],
    ['24-bit', riff(fmt(1, 1, 8000, 24), chunk('data', [0, 0, 0])), 'unsupported-format'],
    ['float', riff(fmt(3, 1, 8000, 32), chunk('data', [0, 0, 0, 0])), 'unsupported-format'],
    ['MP3 in WAV', riff(fmt(0x55, 1, 8000, 0), chunk('data', [0xff])), 'unsupported-format'],
  ];
  for (const [name, bytes, code] of cases) {
    const r = parseWav(bytes);
    t.equal(r.ok ? 'ok' : r.error.code, code, name);
  }
  // random bytes, with and without a plausible start: only results, no exceptions
  let seed = 42;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  const thrown: string[] = [];
  for (let i = 0; i < 300; i++) {
    const bytes = Uint8Array.from({ length: rand() + (i % 7) * 40 }, rand);
    if (i % 2 === 0) bytes.set(valid.subarray(0, Math.min(bytes.length, 12 + (i % 30))));
    try {
      parseWav(bytes);
    } catch (err) {
      thrown.push(`case ${i}: ${String(err)}`);
    }
  }
  t.same(thrown, [], '300 random inputs: no throw');
  t.doesNotThrow(() => parseWav(Uint8Array.from([...ascii('RIFF'), ...u32(99), ...ascii('WAVE'), ...ascii('data'), ...u32(0xfffffff0)])));
});
