/**
 * L16: uncompressed 16-bit linear PCM in network byte order (RFC 3551 §4.5.11), here mono at
 * 16 kHz. Any frame length encodes to two octets per sample; a trailing odd octet in a payload
 * is not a sample and is dropped.
 */

import type { AudioDecoder, AudioEncoder, CodecInfo } from '../types.js';
import { CODECS } from './registry.js';
import { FadeConcealer } from './plc.js';

export class L16Encoder implements AudioEncoder {
  readonly info: CodecInfo = CODECS.L16;

  encode(pcm: Int16Array): Uint8Array {
    const out = new Uint8Array(pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) {
      const v = pcm[i] as number;
      out[2 * i] = (v >> 8) & 0xff;
      out[2 * i + 1] = v & 0xff;
    }
    return out;
  }

  close(): void {}
}

export class L16Decoder implements AudioDecoder {
  readonly info: CodecInfo = CODECS.L16;
  private readonly concealer = new FadeConcealer(CODECS.L16.sampleRate);

  decode(payload: Uint8Array): Int16Array {
    const out = new Int16Array(payload.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = (((payload[2 * i] as number) << 24) >> 16) | (payload[2 * i + 1] as number);
    this.concealer.remember(out);
    return out;
  }

  conceal(samples: number): Int16Array {
    return this.concealer.conceal(samples);
  }

  close(): void {
    this.concealer.reset();
  }
}
