/**
 * Payload-to-payload transcoding for one direction of one stream: decode a `from` payload,
 * convert the audio to the `to` codec's rate, re-cut it into ptime frames and encode each. Runs
 * per packet (50 times a second per stream), so the only allocations per packet are the decoded
 * frame and the encoded payloads; resampling and framing reuse their buffers.
 */

import type { AudioDecoder, AudioEncoder, CodecInfo, CodecName } from '../types.js';
import { createDecoder, createEncoder } from './factory.js';
import { createPcmConverter } from './pcm-converter.js';
import type { PcmConverter } from './pcm-converter.js';

export interface TranscoderOptions {
  /** duration of each output payload; default 20 ms (RFC 3551 §4.5: the usual packetisation) */
  ptimeMs?: number;
}

export interface Transcoder {
  readonly from: CodecInfo;
  readonly to: CodecInfo;
  readonly ptimeMs: number;
  /**
   * One RTP payload of `from` in, zero or more payloads of `to` out (zero while a frame is still
   * filling, e.g. 10 ms packets into 20 ms ones). Garbage in gives fewer payloads, never a throw.
   */
  transcode(payload: Uint8Array): Uint8Array[];
  /** A lost `from` packet of `durationMs`: the decoder's concealment, transcoded. */
  conceal(durationMs: number): Uint8Array[];
  /** idempotent; frees the codecs (Opus holds WASM memory) */
  close(): void;
}

export function createTranscoder(from: CodecName, to: CodecName, options: TranscoderOptions = {}): Transcoder {
  return new PipelineTranscoder(from, to, options.ptimeMs ?? 20);
}

class PipelineTranscoder implements Transcoder {
  readonly from: CodecInfo;
  readonly to: CodecInfo;
  private readonly decoder: AudioDecoder;
  private readonly encoder: AudioEncoder;
  private readonly converter: PcmConverter;
  private output: Uint8Array[] = [];
  private closed = false;
  private readonly encodeFrame = (frame: Int16Array): void => {
    this.output.push(this.encoder.encode(frame));
  };

  constructor(
    fromName: CodecName,
    toName: CodecName,
    readonly ptimeMs: number,
  ) {
    this.decoder = createDecoder(fromName);
    this.encoder = createEncoder(toName);
    this.from = this.decoder.info;
    this.to = this.encoder.info;
    this.converter = createPcmConverter(this.from.sampleRate, this.to.sampleRate, ptimeMs);
  }

  transcode(payload: Uint8Array): Uint8Array[] {
    if (this.closed) return [];
    return this.run(this.decoder.decode(payload));
  }

  conceal(durationMs: number): Uint8Array[] {
    if (this.closed) return [];
    return this.run(this.decoder.conceal(Math.round((this.from.sampleRate * durationMs) / 1000)));
  }

  private run(pcm: Int16Array): Uint8Array[] {
    this.output = [];
    this.converter.pushTo(pcm, this.encodeFrame);
    return this.output;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.decoder.close();
    this.encoder.close();
    this.converter.reset();
  }
}
