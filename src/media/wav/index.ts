export {
  parseWav,
  decodeWavChannels,
  downmix,
  wavHeader,
  wavSizePatches,
  pcm16Bytes,
  pcm16FromBytes,
  interleave,
  encodeWav,
  pcm16DurationMs,
  WAV_HEADER_BYTES,
} from './wav.js';
export type { WavAudioFormat, WavFormat, WavError, WavErrorCode, WavParseResult, WavChannelsResult, WavHeaderOptions } from './wav.js';
export { ULAW_TO_LINEAR, ALAW_TO_LINEAR } from './g711.js';
