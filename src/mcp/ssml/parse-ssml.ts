/**
 * Parsing SSML 1.0 into the SsmlDocument tree. Elements are recognised by localName, so a
 * document with or without the SSML namespace (or with a prefix) reads the same. Strict mode
 * (parseSsml) throws SsmlError on anything invalid; the lenient mode the renderers use drops
 * invalid attributes and keeps going, so one bad value does not silence a prompt.
 */
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';
import { SsmlError, type BreakStrength, type EmphasisLevel, type ProsodyAttributes, type SsmlDocument, type SsmlNode, type VoiceAttributes } from './types.js';

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;

/** SSML 1.0 §3.2.3 break strengths in ms (the mapping is the platform's choice) */
export const BREAK_STRENGTH_MS: Record<BreakStrength, number> = {
  none: 0,
  'x-weak': 100,
  weak: 250,
  medium: 500,
  strong: 750,
  'x-strong': 1000,
};

const EMPHASIS_LEVELS = new Set<string>(['strong', 'moderate', 'none', 'reduced']);
/** elements whose content is never spoken (§3.1.5 lexicon, §3.1.6 meta/metadata, §3.3.3 desc) */
const SILENT = new Set(['lexicon', 'meta', 'metadata', 'desc']);

/** Parse a <speak> document; throws SsmlError for malformed input. */
export function parseSsml(ssml: string): SsmlDocument {
  return parseWith(ssml, true);
}

/** The lenient parse of the renderers: still throws SsmlError for XML that is not well-formed. */
export function parseSsmlLenient(ssml: string): SsmlDocument {
  return parseWith(ssml, false);
}

function parseWith(ssml: string, strict: boolean): SsmlDocument {
  if (typeof ssml !== 'string') throw new SsmlError('SSML must be a string');
  let root: Element | null;
  let firstProblem: string | undefined;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level === 'warning') return;
        firstProblem ??= message;
        throw new SsmlError(`malformed SSML: ${message}`);
      },
    }).parseFromString(ssml, 'application/xml');
    root = doc.documentElement;
  } catch (err) {
    const problem = firstProblem ?? (err instanceof Error ? err.message : String(err));
    throw new SsmlError(`malformed SSML: ${problem}`, 400, 400, { cause: err });
  }
  if (root === null) throw new SsmlError('malformed SSML: no root element');
  if (strict && root.localName !== 'speak') throw new SsmlError(`the root element is <${root.nodeName}>, not <speak>`);
  const builder = new TreeBuilder(strict);
  const language = languageOf(root);
  const version = root.getAttribute('version');
  return {
    ...(version !== null && version !== '' && { version }),
    ...(language !== undefined && { language }),
    // lenient: a fragment such as <audio> or <p> as the root is read as if inside <speak>
    children: root.localName === 'speak' ? builder.children(root) : builder.element(root),
  };
}

function languageOf(el: Element): string | undefined {
  const lang = el.getAttributeNS(XML_NS, 'lang') ?? el.getAttribute('xml:lang');
  return lang === null || lang === '' ? undefined : lang;
}

function attr(el: Element, name: string): string | undefined {
  const value = el.getAttribute(name);
  return value === null ? undefined : value;
}

/** "500ms", "1.5s", "3s" → ms (SSML 1.0 §3.2.3 time designation) */
export function parseTimeDesignation(value: string): number | undefined {
  const m = /^\s*\+?(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)\s*$/i.exec(value);
  if (m?.[1] === undefined) return undefined;
  const n = Number(m[1]);
  return Math.round((m[2] ?? '').toLowerCase() === 's' ? n * 1000 : n);
}

class TreeBuilder {
  constructor(private readonly strict: boolean) {}

  children(parent: Element): SsmlNode[] {
    const out: SsmlNode[] = [];
    for (let child: Node | null = parent.firstChild; child !== null; child = child.nextSibling) {
      if (child.nodeType === TEXT_NODE || child.nodeType === CDATA_SECTION_NODE) {
        const text = child.nodeValue ?? '';
        if (text !== '') out.push({ kind: 'text', text });
      } else if (child.nodeType === ELEMENT_NODE) {
        out.push(...this.element(child as Element));
      }
    }
    return out;
  }

  /** invalid input: an error in strict mode, ignored otherwise */
  private invalid(el: Element, message: string): undefined {
    if (this.strict) throw new SsmlError(`<${el.localName ?? el.nodeName}>: ${message}`);
    return undefined;
  }

  element(el: Element): SsmlNode[] {
    const name = el.localName ?? el.nodeName;
    if (SILENT.has(name)) return [];
    switch (name) {
      case 'p':
      case 's': {
        const language = languageOf(el);
        return [{ kind: name, ...(language !== undefined && { language }), children: this.children(el) }];
      }
      case 'break':
        return [this.breakNode(el)];
      case 'emphasis': {
        const level = attr(el, 'level') ?? 'moderate';
        if (!EMPHASIS_LEVELS.has(level)) this.invalid(el, `level ${JSON.stringify(level)} is not strong, moderate, none or reduced`);
        return [{ kind: 'emphasis', level: EMPHASIS_LEVELS.has(level) ? (level as EmphasisLevel) : 'moderate', children: this.children(el) }];
      }
      case 'prosody':
        return [{ kind: 'prosody', prosody: this.prosody(el), children: this.children(el) }];
      case 'say-as':
        return this.sayAs(el);
      case 'audio':
        return this.audio(el);
      case 'mark': {
        const markName = attr(el, 'name');
        if (markName === undefined || markName === '') return this.invalid(el, 'the name attribute is required') ?? [];
        return [{ kind: 'mark', name: markName }];
      }
      case 'sub': {
        const alias = attr(el, 'alias');
        if (alias === undefined) return this.invalid(el, 'the alias attribute is required') ?? this.children(el);
        return [{ kind: 'sub', alias, text: el.textContent ?? '' }];
      }
      case 'phoneme': {
        const ph = attr(el, 'ph');
        if (ph === undefined) return this.invalid(el, 'the ph attribute is required') ?? this.children(el);
        const alphabet = attr(el, 'alphabet');
        return [{ kind: 'phoneme', ph, ...(alphabet !== undefined && { alphabet }), text: el.textContent ?? '' }];
      }
      case 'voice':
        return [{ kind: 'voice', voice: this.voice(el), children: this.children(el) }];
      case 'speak':
        // a nested <speak> is not SSML, but its content is still words
        return [{ kind: 'unknown', name, children: this.children(el) }];
      default:
        return [{ kind: 'unknown', name, children: this.children(el) }];
    }
  }

  private breakNode(el: Element): SsmlNode {
    const time = attr(el, 'time');
    const strength = attr(el, 'strength');
    const validStrength = strength !== undefined && strength in BREAK_STRENGTH_MS ? (strength as BreakStrength) : undefined;
    if (strength !== undefined && validStrength === undefined) this.invalid(el, `strength ${JSON.stringify(strength)} is not a break strength`);
    let timeMs = time === undefined ? undefined : parseTimeDesignation(time);
    // lenient: VoiceXML 1.0 wrote break times as bare milliseconds
    if (timeMs === undefined && !this.strict && time !== undefined && /^\s*\d+\s*$/.test(time)) timeMs = Number(time);
    if (time !== undefined && timeMs === undefined) this.invalid(el, `time ${JSON.stringify(time)} is not like 250ms or 1.5s`);
    const ms = timeMs ?? BREAK_STRENGTH_MS[validStrength ?? 'medium'];
    return {
      kind: 'break',
      ...(timeMs !== undefined && time !== undefined && { time }),
      ...(validStrength !== undefined && { strength: validStrength }),
      ms,
    };
  }

  private prosody(el: Element): ProsodyAttributes {
    const out: ProsodyAttributes = {};
    for (const name of ['rate', 'pitch', 'volume', 'duration'] as const) {
      const value = attr(el, name);
      if (value === undefined) continue;
      const valid = name === 'duration' ? parseTimeDesignation(value) !== undefined : PROSODY_PATTERNS[name].test(value.trim());
      if (valid) out[name] = value.trim();
      else this.invalid(el, `${name} ${JSON.stringify(value)} is not a valid value`);
    }
    return out;
  }

  private sayAs(el: Element): SsmlNode[] {
    const interpretAs = attr(el, 'interpret-as');
    const text = el.textContent ?? '';
    if (interpretAs === undefined || interpretAs === '') {
      return this.invalid(el, 'the interpret-as attribute is required') ?? [{ kind: 'text', text }];
    }
    const format = attr(el, 'format');
    const detail = attr(el, 'detail');
    return [{ kind: 'say-as', interpretAs, ...(format !== undefined && { format }), ...(detail !== undefined && { detail }), text }];
  }

  private audio(el: Element): SsmlNode[] {
    const src = attr(el, 'src');
    if (src === undefined || src === '') {
      // no audio to play: what remains is the fallback content
      return this.invalid(el, 'the src attribute is required') ?? this.children(el);
    }
    return [{ kind: 'audio', src, children: this.children(el) }];
  }

  private voice(el: Element): VoiceAttributes {
    const out: VoiceAttributes = {};
    const gender = attr(el, 'gender');
    if (gender !== undefined) {
      if (['male', 'female', 'neutral'].includes(gender)) out.gender = gender;
      else this.invalid(el, `gender ${JSON.stringify(gender)} is not male, female or neutral`);
    }
    for (const name of ['age', 'variant'] as const) {
      const value = attr(el, name);
      if (value === undefined) continue;
      if (/^\d+$/.test(value.trim())) out[name] = Number(value.trim());
      else this.invalid(el, `${name} ${JSON.stringify(value)} is not a non-negative integer`);
    }
    const voiceName = attr(el, 'name');
    if (voiceName !== undefined && voiceName.trim() !== '') out.name = voiceName.trim();
    const language = languageOf(el);
    if (language !== undefined) out.language = language;
    return out;
  }
}

const RELATIVE = String.raw`[+-](?:\d+(?:\.\d*)?|\.\d+)`;
const NUMBER = String.raw`(?:\d+(?:\.\d*)?|\.\d+)`;

/** SSML 1.0 §3.2.4 value syntax (with SSML 1.1's percentages accepted for rate and volume) */
const PROSODY_PATTERNS = {
  rate: new RegExp(`^(?:x-slow|slow|medium|fast|x-fast|default|${RELATIVE}%?|${NUMBER}%?)$`),
  pitch: new RegExp(`^(?:x-low|low|medium|high|x-high|default|${RELATIVE}(?:%|st|Hz)?|${NUMBER}Hz)$`),
  volume: new RegExp(`^(?:silent|x-soft|soft|medium|loud|x-loud|default|${RELATIVE}(?:%|dB)?|${NUMBER}%?)$`),
} as const;
