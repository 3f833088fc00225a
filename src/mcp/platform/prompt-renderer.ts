/**
 * Turns a queued prompt into PCM at the call's rate: text through TTS, <break> as silence,
 * <audio> fetched and decoded (WAV: PCM, µ-law, A-law at any rate; raw .ul/.al G.711), its
 * fallback spoken when the fetch or the decoding fails (SSML 1.0 §3.3.1).
 */
import { describeError, type Logger } from '../../lib/index.js';
import { ALAW_TO_LINEAR, ULAW_TO_LINEAR, createResampler, parseWav } from '../../media/index.js';
import type { QueuedPrompt } from '../vxml/platform.js';
import type { AudioLoader, PromptSegment, SpeechSynthesizer, SsmlSegmenter } from './ports.js';

export interface PromptRendererOptions {
  tts: SpeechSynthesizer;
  segments: SsmlSegmenter;
  loadAudio: AudioLoader;
  language?: string;
  voice?: string;
  logger: Logger;
}

/** A prompt that could not be rendered at all (TTS down and no audio): error.noresource. */
export class PromptRenderError extends Error {
  override readonly name = 'PromptRenderError';
}

/**
 * Segments by SSML text, per segmenter: every call of an application queues the same prompts, and
 * parsing their SSML again on each call (an XML parse per prompt) is main-thread time per call
 * for the same answer. The segments are only read here, never changed, so one copy serves all.
 */
const SEGMENTS_CACHE_ENTRIES = 512;
/** longer SSML is segmented every time rather than held */
const SEGMENTS_CACHE_MAX_CHARS = 16 * 1024;
const segmentsCache = new WeakMap<SsmlSegmenter, Map<string, readonly PromptSegment[]>>();

function cachedSegments(segmenter: SsmlSegmenter, ssml: string, language: string): readonly PromptSegment[] {
  if (ssml.length > SEGMENTS_CACHE_MAX_CHARS) return segmenter(ssml, { language });
  let cache = segmentsCache.get(segmenter);
  if (cache === undefined) {
    cache = new Map();
    segmentsCache.set(segmenter, cache);
  }
  const key = `${language}\u0000${ssml}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const segments = segmenter(ssml, { language });
  if (cache.size >= SEGMENTS_CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, segments);
  return segments;
}

export class PromptRenderer {
  constructor(private readonly options: PromptRendererOptions) {}

  async render(prompt: QueuedPrompt, sampleRate: 8000 | 16000, signal?: AbortSignal): Promise<Int16Array> {
    let segments: readonly PromptSegment[];
    try {
      segments = cachedSegments(this.options.segments, prompt.ssml, this.options.language ?? 'en-US');
    } catch (err) {
      this.options.logger.warn({ err: describeError(err) }, 'prompt SSML not understood; speaking its text');
      segments = prompt.text === '' ? [] : [{ kind: 'text', text: prompt.text }];
    }
    const parts: Int16Array[] = [];
    for (const segment of segments) {
      signal?.throwIfAborted();
      parts.push(...(await this.segment(segment, sampleRate, signal)));
    }
    return concat(parts);
  }

  private async segment(segment: PromptSegment, sampleRate: 8000 | 16000, signal?: AbortSignal): Promise<Int16Array[]> {
    switch (segment.kind) {
      case 'mark':
        return [];
      case 'break':
        return [new Int16Array(Math.round((Math.max(0, Math.min(segment.ms, 10_000)) * sampleRate) / 1000))];
      case 'text':
        return [await this.speak(segment, sampleRate, signal)];
      case 'audio':
        try {
          const bytes = await this.options.loadAudio(segment.src, signal);
          return [decodeAudio(segment.src, bytes, sampleRate)];
        } catch (err) {
          if (signal?.aborted === true) throw err;
          this.options.logger.info({ src: segment.src, err: describeError(err) }, 'audio not played; its fallback is');
          const out: Int16Array[] = [];
          for (const s of segment.fallback) out.push(...(await this.segment(s, sampleRate, signal)));
          return out;
        }
    }
  }

  private async speak(segment: Extract<PromptSegment, { kind: 'text' }>, sampleRate: 8000 | 16000, signal?: AbortSignal): Promise<Int16Array> {
    const text = segment.text.trim();
    if (text === '') return new Int16Array(0);
    let body = escapeXml(text);
    const prosody: string[] = [];
    if (segment.rate !== undefined && segment.rate !== 1) prosody.push(`rate="${Math.round(segment.rate * 100)}%"`);
    if (segment.volume !== undefined && segment.volume !== 1) prosody.push(`volume="${Math.round(segment.volume * 100)}"`);
    if (prosody.length > 0) body = `<prosody ${prosody.join(' ')}>${body}</prosody>`;
    const language = segment.voice?.language ?? this.options.language ?? 'en-US';
    const request: { ssml: string; language: string; voice?: string; sampleRate: 8000 | 16000 } = {
      ssml: `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="${escapeXml(language)}">${body}</speak>`,
      language,
      sampleRate,
    };
    const voice = segment.voice?.name ?? this.options.voice;
    if (voice !== undefined) request.voice = voice;
    const audio = await this.options.tts.synthesize(request, signal);
    return audio.sampleRate === sampleRate ? audio.pcm : createResampler(audio.sampleRate, sampleRate).process(audio.pcm);
  }
}

/** WAV (any rate, PCM or G.711) or raw G.711 by extension, as mono PCM at `rate`. */
export function decodeAudio(src: string, bytes: Uint8Array, rate: number): Int16Array {
  const wav = parseWav(bytes);
  if (wav.ok) return wav.format.sampleRate === rate ? wav.samples : createResampler(wav.format.sampleRate, rate).process(wav.samples);
  const path = src.toLowerCase().split(/[?#]/)[0] ?? '';
  const table = path.endsWith('.ul') || path.endsWith('.mulaw') || path.endsWith('.g711u') ? 'ulaw' : path.endsWith('.al') || path.endsWith('.alaw') || path.endsWith('.g711a') ? 'alaw' : undefined;
  if (table === undefined) throw new PromptRenderError(`${src}: ${wav.error.message}`);
  const lut = table === 'ulaw' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
  const samples = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) samples[i] = lut[bytes[i] as number] as number;
  return rate === 8000 ? samples : createResampler(8000, rate).process(samples);
}

function concat(parts: Int16Array[]): Int16Array {
  if (parts.length === 1) return parts[0] as Int16Array;
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
