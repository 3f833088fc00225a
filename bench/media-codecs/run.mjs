// Micro benchmark for the media codecs: encode+decode cost per 20 ms frame for each codec, and
// how many 50-packets-per-second transcoding streams one core sustains. Prints a Markdown table.
//
// Usage: npm run build && node bench/media-codecs/run.mjs [--dist <dir>] [--seconds <s>]
//   --dist     compiled output root holding src/media/codec/index.js (default: dist)
//   --seconds  measuring time per row (default 1)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus } from 'node:os';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const distRoot = resolve(option('dist', 'dist'));
const seconds = Number(option('seconds', '1'));
const codec = await import(pathToFileURL(resolve(distRoot, 'src/media/codec/index.js')).href);
const dsp = await import(pathToFileURL(resolve(distRoot, 'src/media/dsp/index.js')).href);

/** 20 ms frames of a speech-like test signal: two tones plus a little noise, so Opus works for real. */
function testFrames(rate, count) {
  const tones = new dsp.ToneGenerator({ frequenciesHz: [440, 1270], levelDbfs: -16 }, rate);
  let seed = 12345;
  const frames = [];
  for (let i = 0; i < count; i++) {
    const frame = tones.next(rate / 50);
    for (let k = 0; k < frame.length; k++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      frame[k] = dsp.clamp16(frame[k] + ((seed / 2 ** 32) - 0.5) * 600);
    }
    frames.push(frame);
  }
  return frames;
}

/** CPU time of this process in ms: on a shared machine wall time would measure the neighbours. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Run `step(i)` for about `seconds` of CPU time; returns calls per CPU-second. A warm-up of a
 * third of that comes first so the JIT and V8's optimising WebAssembly tier (Opus) have kicked in.
 */
function measure(step) {
  let calls = 0;
  const loop = (durationMs) => {
    const start = cpuMs();
    const deadline = start + durationMs;
    let now = start;
    let counted = 0;
    while (now < deadline) {
      for (let k = 0; k < 50; k++) step(calls++);
      counted += 50;
      now = cpuMs();
    }
    return (counted * 1000) / (now - start);
  };
  loop((seconds * 1000) / 3);
  return loop(seconds * 1000);
}

const rows = [];

for (const name of codec.CODEC_NAMES) {
  const info = codec.codecInfo(name);
  const frames = testFrames(info.sampleRate, 50);
  const encoder = codec.createEncoder(name);
  const decoder = codec.createDecoder(name);
  const perSecond = measure((i) => decoder.decode(encoder.encode(frames[i % frames.length])));
  encoder.close();
  decoder.close();
  rows.push({ what: `${name} encode+decode (${info.sampleRate / 50} samples)`, perSecond });
}

for (const [from, to] of [['PCMU', 'opus'], ['opus', 'PCMU'], ['PCMU', 'G722'], ['G722', 'PCMU'], ['PCMU', 'PCMA']]) {
  const info = codec.codecInfo(from);
  const encoder = codec.createEncoder(from);
  const payloads = testFrames(info.sampleRate, 50).map((frame) => encoder.encode(frame));
  encoder.close();
  const transcoder = codec.createTranscoder(from, to);
  const perSecond = measure((i) => transcoder.transcode(payloads[i % payloads.length]));
  transcoder.close();
  rows.push({ what: `transcode ${from} → ${to}`, perSecond });
}

const format = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(`Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, one thread, ${seconds} CPU-s per row (rates are per CPU-second)\n`);
console.log('| operation (20 ms frames) | frames per CPU-s | CPU µs/frame | 50 packets/s streams per core |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  console.log(`| ${row.what} | ${format(row.perSecond)} | ${format(1e6 / row.perSecond, 1)} | ${format(row.perSecond / 50)} |`);
}
