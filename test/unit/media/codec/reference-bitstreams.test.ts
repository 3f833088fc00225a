/**
 * Bit-exactness against independent implementations. The digests below were produced outside
 * this repository: G.711 tables by Python's audioop (lin2ulaw/lin2alaw/ulaw2lin/alaw2lin over
 * every 16-bit value and every code), G.722 by spandsp 0.0.6 (g722_encode/g722_decode at
 * 64 kbit/s), an implementation that passes the ITU-T G.722 test sequences.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { G722Decoder, G722Encoder } from '../../../../src/media/codec/g722.js';
import { alawToLinear, linearToAlaw, linearToUlaw, ulawToLinear } from '../../../../src/media/codec/g711.js';

const sha256 = (bytes: Uint8Array | Int16Array): string => createHash('sha256').update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest('hex');

t.test('G.711 tables equal the reference implementation over all inputs', async (t) => {
  const ulaw = new Uint8Array(65536);
  const alaw = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) {
    ulaw[i] = linearToUlaw(i - 32768);
    alaw[i] = linearToAlaw(i - 32768);
  }
  t.equal(sha256(ulaw), '81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a', 'μ-law encoder, samples −32768..32767');
  t.equal(sha256(alaw), '38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b', 'A-law encoder');
  const ulawLinear = Int16Array.from({ length: 256 }, (_, code) => ulawToLinear(code));
  const alawLinear = Int16Array.from({ length: 256 }, (_, code) => alawToLinear(code));
  t.equal(sha256(ulawLinear), '3dab54339e520bb2c924826e3b72a917a2b612e9fd12fc867500f1d983a75827', 'μ-law decoder, codes 0..255 (little-endian)');
  t.equal(sha256(alawLinear), 'e04788d110e58ff8c70c93b8480190d973e3b67876b6119abbaec766cc75c174', 'A-law decoder');
});

/** One second at 16 kHz from integer arithmetic only (no Math.sin), so it is the same everywhere. */
function referenceSignal(): Int16Array {
  const x = new Int16Array(16000);
  let seed = 20240611;
  for (let i = 0; i < x.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const noise = (seed >>> 20) - 2048;
    const slow = Math.abs(((i * 37) % 1600) - 800) - 400; // 370 Hz triangle
    const fast = Math.abs(((i * 11) % 48) - 24) - 12; // 3.7 kHz triangle, rich in upper-band harmonics
    const level = 1 + (i >> 11); // rises in eight steps so the scale factors adapt
    x[i] = (level * (slow * 4 + fast * 100)) / 2 + noise;
  }
  return x;
}

t.test('G.722 encoder bitstream equals the reference', async (t) => {
  const code = new G722Encoder().encode(referenceSignal());
  t.equal(code.length, 8000);
  t.same(Array.from(code.subarray(0, 16)), [0x7a, 0x96, 0x28, 0x8c, 0x23, 0x84, 0x29, 0x20, 0x27, 0x22, 0xb6, 0x17, 0xbc, 0x16, 0xb6, 0x99]);
  t.equal(sha256(code), '418dcd83cb79fe9ee17abc6ae0bb2e367f12f63c340984d3e9fb60be68b6f99a');
});

t.test('G.722 decoder output equals the reference', async (t) => {
  const code = new G722Encoder().encode(referenceSignal());
  const pcm = new G722Decoder().decode(code);
  t.equal(pcm.length, 16000);
  t.equal(sha256(pcm), '28dcb26ab5c7f1a9dafc73567b770b1d5377f1aaa77580b2c9c0ad1f4d81eb16', 'little-endian samples');
});
