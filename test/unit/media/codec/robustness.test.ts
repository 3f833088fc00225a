import t from 'tap';
import { createDecoder, createEncoder } from '../../../../src/media/codec/factory.js';
import { CODEC_NAMES } from '../../../../src/media/codec/registry.js';
import { createTranscoder } from '../../../../src/media/codec/transcoder.js';

/** a deterministic PRNG so a failure reproduces */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** the most samples one payload of `length` octets can honestly decode to */
function bound(name: string, length: number): number {
  // G.711: 1 sample per octet; G.722: 2; L16: 1 per 2 octets; Opus: at most 120 ms at 48 kHz
  return name === 'opus' ? 5760 : name === 'G722' ? 2 * length : length;
}

for (const name of CODEC_NAMES) {
  t.test(`${name} decoder survives garbage, empty and huge payloads`, async (t) => {
    const decoder = createDecoder(name);
    const next = random(name.length * 7919);
    let worst = 0;
    let threw = 0;
    for (let i = 0; i < 300; i++) {
      const payload = new Uint8Array(Math.floor(next() * 400));
      for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(next() * 256);
      try {
        const pcm = decoder.decode(payload);
        if (!(pcm instanceof Int16Array)) threw++;
        worst = Math.max(worst, pcm.length - bound(name, payload.length));
      } catch {
        threw++;
      }
    }
    t.equal(threw, 0, 'never throws, always Int16Array');
    t.ok(worst <= 0, `output bounded by payload size (excess ${worst})`);
    t.equal(decoder.decode(new Uint8Array(0)).length, 0, 'empty payload: no samples');
    const huge = decoder.decode(new Uint8Array(70000).fill(0xfc));
    t.ok(huge.length <= Math.max(bound(name, 70000), 0), 'huge payload bounded');
    t.equal(decoder.conceal(0).length, 0);
    t.equal(decoder.conceal(-5).length, 0, 'negative concealment length gives nothing');
    t.equal(decoder.conceal(480).length, 480);
    decoder.close();
    decoder.close();
    t.doesNotThrow(() => decoder.decode(new Uint8Array(10)), 'decode after close does not throw');
  });

  t.test(`${name} encoder handles frames of the wrong length`, async (t) => {
    const encoder = createEncoder(name);
    const rate = encoder.info.sampleRate;
    for (const length of [0, 1, rate / 100 + 1, rate / 50 - 3, rate / 25 + 7]) {
      t.doesNotThrow(() => encoder.encode(new Int16Array(length).fill(1000)), `${length} samples`);
    }
    encoder.close();
    encoder.close();
  });
}

t.test('a transcoder fed garbage never throws', async (t) => {
  const next = random(42);
  for (const from of CODEC_NAMES) {
    const transcoder = createTranscoder(from, 'PCMU');
    let threw = 0;
    for (let i = 0; i < 50; i++) {
      const payload = new Uint8Array(Math.floor(next() * 300));
      for (let k = 0; k < payload.length; k++) payload[k] = Math.floor(next() * 256);
      try {
        transcoder.transcode(payload);
      } catch {
        threw++;
      }
    }
    t.equal(threw, 0, `${from} → PCMU`);
    transcoder.close();
  }
});
