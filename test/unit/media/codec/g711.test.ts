import t from 'tap';
import { G711Decoder, G711Encoder, alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from '../../../../src/media/codec/g711.js';
import { levelDbfs } from '../../../../src/media/dsp/goertzel.js';
import { dominant, gainDb, roundTrip, tone } from './helpers.js';

t.test('μ-law known values (G.711 table 2)', async (t) => {
  t.equal(linearToUlaw(0), 0xff, 'zero encodes as 0xFF');
  t.equal(ulawToLinear(0xff), 0);
  t.equal(ulawToLinear(0x7f), 0, 'negative zero');
  t.equal(ulawToLinear(0x80), 32124, 'positive full scale');
  t.equal(ulawToLinear(0x00), -32124, 'negative full scale');
  t.equal(linearToUlaw(32767), 0x80);
  t.equal(linearToUlaw(-32768), 0x00);
  t.equal(ulawToLinear(0xfe), 8, 'smallest positive step');
  t.equal(ulawToLinear(0x7e), -8);
  t.equal(linearToUlaw(-1), 0x7e, '−1 floors to the first negative step, as the reference code does');
  t.equal(linearToUlaw(3), 0xff);
  t.equal(linearToUlaw(4), 0xfe);
});

t.test('bytes match the reference implementation (Sun g711.c / Python audioop) at sampled points', async (t) => {
  // [sample, μ-law, A-law] computed with Python's audioop.lin2ulaw / lin2alaw
  const reference: Array<[number, number, number]> = [
    [-32768, 0x00, 0x2a], [-31613, 0x00, 0x2b], [-31612, 0x00, 0x2b], [-31608, 0x01, 0x2b], [-9, 0x7d, 0x55],
    [-8, 0x7e, 0x55], [-5, 0x7e, 0x55], [-1, 0x7e, 0x55], [0, 0xff, 0xd5], [1, 0xff, 0xd5], [4, 0xfe, 0xd5],
    [31608, 0x81, 0xab], [31612, 0x80, 0xab], [32767, 0x80, 0xaa],
  ];
  for (const [sample, mu, a] of reference) {
    t.equal(linearToUlaw(sample), mu, `μ-law of ${sample}`);
    t.equal(linearToAlaw(sample), a, `A-law of ${sample}`);
  }
});

t.test('A-law known values (G.711 table 1)', async (t) => {
  t.equal(linearToAlaw(0), 0xd5, 'zero encodes as 0xD5');
  t.equal(alawToLinear(0xd5), 8);
  t.equal(alawToLinear(0x55), -8);
  t.equal(linearToAlaw(-1), 0x55);
  t.equal(alawToLinear(0xaa), 32256, 'positive full scale');
  t.equal(alawToLinear(0x2a), -32256, 'negative full scale');
  t.equal(linearToAlaw(32767), 0xaa);
  t.equal(linearToAlaw(-32768), 0x2a);
});

t.test('every code decodes to a value that encodes back to the same code', async (t) => {
  let ulawBad = 0;
  let alawBad = 0;
  for (let code = 0; code < 256; code++) {
    // μ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes as 0xFF
    if (code !== 0x7f && linearToUlaw(ulawToLinear(code)) !== code) ulawBad++;
    if (linearToAlaw(alawToLinear(code)) !== code) alawBad++;
  }
  t.equal(ulawBad, 0);
  t.equal(alawBad, 0);
});

t.test('encoding is monotonic and within half a step', async (t) => {
  for (const law of ['PCMU', 'PCMA'] as const) {
    const toByte = law === 'PCMU' ? linearToUlaw : linearToAlaw;
    const toLinear = law === 'PCMU' ? ulawToLinear : alawToLinear;
    let previous = -Infinity;
    let monotonic = true;
    let worstRelative = 0;
    for (let x = -32768; x <= 32767; x += 7) {
      const y = toLinear(toByte(x));
      if (y < previous) monotonic = false;
      previous = y;
      if (Math.abs(x) > 256 && Math.abs(x) < 32000) worstRelative = Math.max(worstRelative, Math.abs(y - x) / Math.abs(x));
    }
    t.ok(monotonic, `${law} is monotonic`);
    // 16 steps per segment: the error is at most half a step, about 1/32 of the value (a little
    // more for μ-law near the bottom of a segment, where its bias of 33 makes values smaller)
    t.ok(worstRelative < (law === 'PCMU' ? 0.045 : 0.035), `${law} worst relative error ${worstRelative.toFixed(4)}`);
  }
});

t.test('block helpers agree with the sample functions', async (t) => {
  const pcm = Int16Array.from([0, 1, -1, 100, -100, 32767, -32768, 1234]);
  t.same(Array.from(encodeG711('PCMU', pcm)), Array.from(pcm, linearToUlaw));
  t.same(Array.from(encodeG711('PCMA', pcm)), Array.from(pcm, linearToAlaw));
  const bytes = Uint8Array.from([0, 0x55, 0x7f, 0x80, 0xd5, 0xff]);
  t.same(Array.from(decodeG711('PCMU', bytes)), Array.from(bytes, ulawToLinear));
  t.same(Array.from(decodeG711('PCMA', bytes)), Array.from(bytes, alawToLinear));
});

for (const law of ['PCMU', 'PCMA'] as const) {
  t.test(`${law} round trip keeps a 1 kHz tone`, async (t) => {
    const input = tone(1000, 8000);
    const output = roundTrip(new G711Encoder(law), new G711Decoder(law), input);
    t.equal(output.length, input.length);
    const gain = gainDb(input, 8000, output, 8000, 1000);
    t.ok(Math.abs(gain) < 3, `gain ${gain.toFixed(2)} dB`);
    const d = dominant(output, 8000);
    t.equal(d.frequencyHz, 1000);
    t.ok(d.share > 0.99, `share ${d.share.toFixed(4)}`);
  });

  t.test(`${law} encoder: 20 ms is 160 octets, other lengths are one octet per sample`, async (t) => {
    const encoder = new G711Encoder(law);
    t.equal(encoder.encode(new Int16Array(160)).length, 160);
    t.equal(encoder.encode(new Int16Array(161)).length, 161);
    t.equal(encoder.encode(new Int16Array(0)).length, 0);
    t.equal(encoder.info.name, law);
    encoder.close();
    encoder.close();
  });

  t.test(`${law} encodeInto/decodeInto give encode/decode's bytes and samples in the caller's buffers`, async (t) => {
    const encoder = new G711Encoder(law);
    const frame = tone(1000, 8000, -10, 20);
    const bytes = new Uint8Array(200);
    const encoded = encoder.encodeInto(frame, bytes);
    t.same(encoded === undefined ? undefined : [...encoded], [...encoder.encode(frame)]);
    t.equal(encoded?.buffer, bytes.buffer, 'written into the caller buffer');
    t.equal(encoder.encodeInto(frame, new Uint8Array(159)), undefined, 'too small: undefined');
    const plain = new G711Decoder(law);
    const into = new G711Decoder(law);
    const exact = new Int16Array(160);
    const decoded = into.decodeInto(encoder.encode(frame), exact);
    t.equal(decoded, exact, 'a buffer of the exact size is handed back itself');
    t.same([...exact], [...plain.decode(encoder.encode(frame))]);
    const roomy = new Int16Array(400);
    const short = into.decodeInto(encoder.encode(frame.subarray(0, 80)), roomy);
    t.equal(short?.length, 80, 'a bigger buffer gives a view of the samples written');
    t.same(short === undefined ? undefined : [...short], [...plain.decode(encoder.encode(frame.subarray(0, 80)))]);
    t.equal(into.decodeInto(new Uint8Array(161), exact), undefined, 'too small: undefined');
    // the concealment state follows decodeInto as it follows decode
    t.same([...into.conceal(160)], [...plain.conceal(160)]);
  });

  t.test(`${law} concealment repeats the last frame, fading to silence`, async (t) => {
    const decoder = new G711Decoder(law);
    t.equal(levelDbfs(decoder.conceal(160)), -Infinity, 'nothing heard yet: silence');
    const encoder = new G711Encoder(law);
    const frame = tone(1000, 8000, -10, 20);
    const decoded = decoder.decode(encoder.encode(frame));
    const first = decoder.conceal(160);
    t.equal(first.length, 160);
    t.ok(Math.abs(levelDbfs(first) - levelDbfs(decoded)) < 3, 'first concealed frame near the original level');
    const second = decoder.conceal(160);
    t.ok(levelDbfs(second) < levelDbfs(first), 'fades');
    const third = decoder.conceal(160);
    t.ok(levelDbfs(third) < levelDbfs(second), 'keeps fading');
    t.equal(levelDbfs(decoder.conceal(160)), -Infinity, 'silent after 60 ms');
    // a good packet restarts concealment from full level
    decoder.decode(encoder.encode(frame));
    t.ok(Math.abs(levelDbfs(decoder.conceal(160)) - levelDbfs(decoded)) < 3);
    decoder.close();
    decoder.close();
  });
}
