import t from 'tap';
import { L16Decoder, L16Encoder } from '../../../../src/media/codec/l16.js';
import { dominant, gainDb, roundTrip, tone } from './helpers.js';

t.test('big-endian on the wire (RFC 3551 §4.5.11)', async (t) => {
  const encoder = new L16Encoder();
  t.same(Array.from(encoder.encode(Int16Array.from([0x0102, -2, 0, 32767, -32768]))), [0x01, 0x02, 0xff, 0xfe, 0, 0, 0x7f, 0xff, 0x80, 0x00]);
  const decoder = new L16Decoder();
  t.same(Array.from(decoder.decode(Uint8Array.from([0x01, 0x02, 0xff, 0xfe, 0x80, 0x00]))), [0x0102, -2, -32768]);
  t.equal(decoder.decode(Uint8Array.from([1, 2, 3])).length, 1, 'a trailing odd octet is dropped');
  t.equal(encoder.info.sampleRate, 16000);
});

t.test('round trip is lossless and keeps a 1 kHz tone', async (t) => {
  const input = tone(1000, 16000);
  const output = roundTrip(new L16Encoder(), new L16Decoder(), input);
  t.same(Array.from(output), Array.from(input));
  t.ok(Math.abs(gainDb(input, 16000, output, 16000, 1000)) < 0.01);
  t.equal(dominant(output, 16000).frequencyHz, 1000);
});
