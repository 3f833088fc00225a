/**
 * Opus (RFC 6716) through libopus compiled to WebAssembly by the opusscript package. The engine
 * runs Opus at 48 kHz mono; SDP still says opus/48000/2 (RFC 7587 §7), and a mono decoder
 * accepts stereo packets by downmixing (RFC 7587 §3.4 leaves the choice to the receiver).
 *
 * We talk to opusscript's native module directly instead of through its OpusScript class: that
 * class keeps typed-array views of the WASM heap made at construction, and they go stale (detached)
 * as soon as another instance makes the heap grow, so a second or hundredth stream would break the
 * first. Here every call takes fresh views, and each instance owns its scratch buffers, freed
 * on close().
 */

import { createRequire } from 'node:module';
import type { AudioDecoder, AudioEncoder, CodecInfo } from '../types.js';
import { CODECS } from './registry.js';

/** The Embind handler opusscript compiles: one libopus encoder and decoder per instance. */
interface NativeHandler {
  /** pcm: each byte of the little-endian samples widened to an int16 (opusscript's convention) */
  _encode(pcmPointer: number, pcmBytes: number, packetPointer: number, frameSize: number): number;
  /** writes each byte of the little-endian output widened to an int16; returns samples per channel */
  _decode(packetPointer: number, packetBytes: number, pcmPointer: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

interface NativeModule {
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): NativeHandler;
    destroy_handler(handler: NativeHandler): void;
  };
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAP16: Int16Array;
  HEAPU8: Uint8Array;
}

/** OPUS_APPLICATION_VOIP (opus_defines.h): tuned for speech intelligibility. */
const APPLICATION_VOIP = 2048;
/** OPUS_SET_BITRATE_REQUEST (opus_defines.h). */
const SET_BITRATE = 4002;
/**
 * 32 kbit/s: RFC 7587 §3.1.1 puts fullband speech at 28–40 kbit/s; libopus' own default for
 * 48 kHz mono is about twice that, which buys nothing on a phone call.
 */
const DEFAULT_BITRATE = 32000;
/** The largest packet opusscript's handler accepts or produces (3 × 1276 octets). */
const MAX_PACKET = 3828;
/** The longest frame libopus decodes in one call here: 120 ms at 48 kHz (and what PLC yields). */
const MAX_DECODE_SAMPLES = 5760;
/** Frame sizes libopus can encode at 48 kHz: 2.5, 5, 10, 20, 40 and 60 ms (RFC 6716 §2.1.4). */
const ENCODABLE_FRAMES = [120, 240, 480, 960, 1920, 2880] as const;
const MAX_ENCODE_SAMPLES = 2880;

let native: NativeModule | undefined;

/** The WASM module, instantiated once per process on first use. */
function opusNative(): NativeModule {
  if (native === undefined) {
    const require = createRequire(import.meta.url);
    const factory = require('opusscript/build/opusscript_native_wasm.js') as () => NativeModule;
    native = factory();
  }
  return native;
}

/** Size of the shared WASM heap in bytes (it only grows): a gauge for leaks and capacity planning. */
export function opusHeapBytes(): number {
  return opusNative().HEAPU8.length;
}

/**
 * A frame length libopus accepts for `length` input samples: the same when valid, else the next
 * valid size up (the frame is zero-padded), capped at 60 ms (longer input is truncated).
 */
export function opusFrameSize(length: number): number {
  for (const size of ENCODABLE_FRAMES) if (length <= size) return size;
  return MAX_ENCODE_SAMPLES;
}

/**
 * Owns one native handler and a scratch area: opusscript widens every PCM byte to an int16 and
 * converts in place, so PCM of n bytes needs 4n bytes of room.
 */
class OpusInstance {
  readonly module = opusNative();
  readonly handler: NativeHandler;
  readonly pcmPointer: number;
  readonly packetPointer: number;
  private closed = false;

  constructor() {
    this.handler = new this.module.OpusScriptHandler(48000, 1, APPLICATION_VOIP);
    this.pcmPointer = this.module._malloc(4 * 2 * MAX_DECODE_SAMPLES);
    this.packetPointer = this.module._malloc(MAX_PACKET);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.module.OpusScriptHandler.destroy_handler(this.handler);
    this.module._free(this.pcmPointer);
    this.module._free(this.packetPointer);
  }
}

/**
 * Encodes 48 kHz mono PCM. A frame that is not a valid Opus duration is zero-padded to the next
 * one (e.g. 900 samples → 960) or truncated to 60 ms; after close() it encodes to an empty payload.
 */
export class OpusEncoder implements AudioEncoder {
  readonly info: CodecInfo = CODECS.opus;
  private readonly instance = new OpusInstance();

  constructor(bitrate = DEFAULT_BITRATE) {
    this.instance.handler._encoder_ctl(SET_BITRATE, bitrate);
  }

  encode(pcm: Int16Array): Uint8Array {
    const instance = this.instance;
    if (instance.isClosed) return new Uint8Array(0);
    const frameSize = opusFrameSize(pcm.length);
    const used = Math.min(pcm.length, frameSize);
    const { module, pcmPointer, packetPointer } = instance;
    const heap = module.HEAP16;
    const base = pcmPointer >> 1;
    for (let i = 0; i < used; i++) {
      const v = pcm[i] as number;
      heap[base + 2 * i] = v & 0xff;
      heap[base + 2 * i + 1] = (v >> 8) & 0xff;
    }
    heap.fill(0, base + 2 * used, base + 2 * frameSize);
    const length = instance.handler._encode(pcmPointer, 2 * frameSize, packetPointer, frameSize);
    // a negative length is a libopus error code; with valid frame sizes it does not happen
    if (length <= 0) return new Uint8Array(0);
    return module.HEAPU8.slice(packetPointer, packetPointer + length);
  }

  close(): void {
    this.instance.close();
  }
}

/**
 * Decodes Opus packets to 48 kHz mono. An empty, oversized or invalid packet gives an empty
 * frame (the caller conceals); conceal() runs libopus' own packet-loss concealment.
 */
export class OpusDecoder implements AudioDecoder {
  readonly info: CodecInfo = CODECS.opus;
  private readonly instance = new OpusInstance();
  /**
   * libopus conceals in one call as much as its output buffer holds (120 ms here); what is not
   * needed yet is kept for the next conceal() and dropped when a real packet arrives.
   */
  private concealed: Int16Array = new Int16Array(0);
  private concealedOffset = 0;

  decode(payload: Uint8Array): Int16Array {
    this.concealed = new Int16Array(0);
    this.concealedOffset = 0;
    if (payload.length === 0 || payload.length > MAX_PACKET) return new Int16Array(0);
    const instance = this.instance;
    if (instance.isClosed) return new Int16Array(0);
    instance.module.HEAPU8.set(payload, instance.packetPointer);
    return this.run(payload.length);
  }

  conceal(samples: number): Int16Array {
    const count = Math.max(0, Math.floor(samples));
    const out = new Int16Array(count);
    let filled = 0;
    while (filled < count) {
      if (this.concealedOffset >= this.concealed.length) {
        if (this.instance.isClosed) break;
        // a zero-length packet asks libopus for concealment (RFC 6716 §4.4)
        this.concealed = this.run(0);
        this.concealedOffset = 0;
        if (this.concealed.length === 0) break;
      }
      const take = Math.min(count - filled, this.concealed.length - this.concealedOffset);
      out.set(this.concealed.subarray(this.concealedOffset, this.concealedOffset + take), filled);
      this.concealedOffset += take;
      filled += take;
    }
    return out;
  }

  private run(packetBytes: number): Int16Array {
    const { module, handler, packetPointer, pcmPointer } = this.instance;
    const samples = handler._decode(packetPointer, packetBytes, pcmPointer);
    if (samples <= 0) return new Int16Array(0);
    const count = Math.min(samples, MAX_DECODE_SAMPLES);
    const out = new Int16Array(count);
    const heap = module.HEAP16;
    const base = pcmPointer >> 1;
    for (let i = 0; i < count; i++) out[i] = (((heap[base + 2 * i + 1] as number) << 24) >> 16) | ((heap[base + 2 * i] as number) & 0xff);
    return out;
  }

  close(): void {
    this.concealed = new Int16Array(0);
    this.instance.close();
  }
}
