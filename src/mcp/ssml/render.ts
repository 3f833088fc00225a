/**
 * From SSML to what is heard: speech segments for a TTS renderer and an audio player, and the
 * plain words (for logs, for ASR-free tests, for a TTS that takes text only). Neither throws:
 * malformed SSML falls back to its text with the tags stripped.
 */
import { parseSsmlLenient } from './parse-ssml.js';
import { applyEmphasis, applyProsody, type ProsodyState } from './prosody.js';
import { sayAs } from './say-as.js';
import type { SegmentVoice, SpeechSegment, SsmlNode } from './types.js';

interface Context {
  prosody: ProsodyState;
  voice: SegmentVoice;
}

type TextSegment = Extract<SpeechSegment, { kind: 'text' }>;

const collapse = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Collects segments, merging consecutive text spoken with the same prosody and voice. */
class SegmentWriter {
  readonly segments: SpeechSegment[] = [];
  private pending: { text: string; context: Context } | undefined;

  text(text: string, context: Context): void {
    if (this.pending !== undefined && sameStyle(this.pending.context, context)) {
      this.pending.text += text;
      return;
    }
    if (text.trim() === '') {
      // whitespace in another style separates words but is not worth a segment
      if (this.pending !== undefined) this.pending.text += ' ';
      return;
    }
    this.flush();
    this.pending = { text, context };
  }

  /** a paragraph or sentence edge: words on either side must not run together */
  boundary(): void {
    if (this.pending !== undefined) this.pending.text += ' ';
  }

  push(segment: SpeechSegment): void {
    this.flush();
    this.segments.push(segment);
  }

  finish(): SpeechSegment[] {
    this.flush();
    return this.segments;
  }

  private flush(): void {
    if (this.pending === undefined) return;
    const text = collapse(this.pending.text);
    if (text !== '') this.segments.push(textSegment(text, this.pending.context));
    this.pending = undefined;
  }
}

function sameStyle(a: Context, b: Context): boolean {
  return (
    a.prosody.rate === b.prosody.rate &&
    a.prosody.pitch === b.prosody.pitch &&
    a.prosody.volume === b.prosody.volume &&
    a.voice.name === b.voice.name &&
    a.voice.gender === b.voice.gender &&
    a.voice.language === b.voice.language
  );
}

function textSegment(text: string, context: Context): TextSegment {
  const { rate, pitch, volume } = context.prosody;
  const { name, gender, language } = context.voice;
  const voice: SegmentVoice = {
    ...(name !== undefined && { name }),
    ...(gender !== undefined && { gender }),
    ...(language !== undefined && { language }),
  };
  return {
    kind: 'text',
    text,
    ...(rate !== undefined && { rate }),
    ...(pitch !== undefined && { pitch }),
    ...(volume !== undefined && { volume }),
    ...(Object.keys(voice).length > 0 && { voice }),
  };
}

function withLanguage(context: Context, language: string | undefined): Context {
  return language === undefined ? context : { ...context, voice: { ...context.voice, language } };
}

function render(nodes: readonly SsmlNode[], context: Context, out: SegmentWriter): void {
  for (const node of nodes) renderNode(node, context, out);
}

function renderNode(node: SsmlNode, context: Context, out: SegmentWriter): void {
  switch (node.kind) {
    case 'text':
      out.text(node.text, context);
      return;
    case 'p':
    case 's':
      out.boundary();
      render(node.children, withLanguage(context, node.language), out);
      out.boundary();
      return;
    case 'break':
      out.push({ kind: 'break', ms: node.ms });
      return;
    case 'emphasis':
      render(node.children, { ...context, prosody: applyEmphasis(context.prosody, node.level) }, out);
      return;
    case 'prosody':
      render(node.children, { ...context, prosody: applyProsody(context.prosody, node.prosody) }, out);
      return;
    case 'say-as':
      out.text(` ${sayAs(node.text, node.interpretAs, node.format, node.detail, context.voice.language)} `, context);
      return;
    case 'sub':
      out.text(` ${node.alias} `, context);
      return;
    case 'phoneme':
      out.text(node.text, context);
      return;
    case 'audio': {
      const fallback = new SegmentWriter();
      render(node.children, context, fallback);
      out.push({ kind: 'audio', src: node.src, fallback: fallback.finish() });
      return;
    }
    case 'mark':
      out.push({ kind: 'mark', name: node.name });
      return;
    case 'voice': {
      const { name, gender, language } = node.voice;
      const voice: SegmentVoice = {
        ...context.voice,
        ...(name !== undefined && { name }),
        ...(gender !== undefined && { gender }),
        ...(language !== undefined && { language }),
      };
      render(node.children, { ...context, voice }, out);
      return;
    }
    case 'unknown':
      render(node.children, context, out);
      return;
  }
}

/**
 * The segments a TTS renderer and an audio player need, in order. options.language is the
 * language when the document names none (its xml:lang wins).
 */
export function ssmlToSegments(ssml: string, options: { language?: string } = {}): SpeechSegment[] {
  const base: Context = { prosody: {}, voice: options.language === undefined ? {} : { language: options.language } };
  try {
    const doc = parseSsmlLenient(ssml);
    const out = new SegmentWriter();
    render(doc.children, withLanguage(base, doc.language), out);
    return out.finish();
  } catch {
    const text = stripTags(ssml);
    return text === '' ? [] : [textSegment(text, base)];
  }
}

/** The words a listener hears; audio counts as its fallback text. Never throws. */
export function ssmlToText(ssml: string): string {
  const words: string[] = [];
  const collect = (segments: readonly SpeechSegment[]): void => {
    for (const segment of segments) {
      if (segment.kind === 'text') words.push(segment.text);
      else if (segment.kind === 'audio') collect(segment.fallback);
    }
  };
  collect(ssmlToSegments(ssml));
  // segments split around emphasis and the like: punctuation rejoins the word before it
  return collapse(words.join(' ')).replace(/ ([.,;:!?]+)(?=\s|$)/g, '$1');
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Best effort for input that is not SSML at all: drop tags, comments and CDATA markers, decode entities. */
export function stripTags(input: string): string {
  if (typeof input !== 'string') return '';
  const withoutMarkup = input
    .replace(/<!--[\s\S]*?(?:-->|$)/g, ' ')
    .replace(/<!\[CDATA\[([\s\S]*?)(?:\]\]>|$)/g, '$1')
    .replace(/<[^>]*>?/g, ' ');
  const decoded = withoutMarkup.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : ' ';
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
  return collapse(decoded);
}
