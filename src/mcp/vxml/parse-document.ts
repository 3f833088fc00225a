/** Parsing a fetched VoiceXML document: well-formed XML, a <vxml> root, and the structural checks of validate.ts. */
import { DOMParser } from '@xmldom/xmldom';
import { nameOf, type XmlElement } from './dom.js';
import { validateDocument } from './validate.js';

export type ParsedVoiceXml = { root: XmlElement } | { error: string };

/**
 * Parsed documents by their text. Every call of an application fetches the same few documents
 * (the fetch cache hands back the same text), and nothing in the interpreter ever changes a
 * parsed tree, so one tree serves every session; parsing each time cost every call several
 * milliseconds of main-thread time. Small and bounded: the oldest entry goes first.
 */
const PARSED_CACHE_ENTRIES = 64;
/** a larger document is parsed every time rather than held */
const PARSED_CACHE_MAX_CHARS = 256 * 1024;
const parsedCache = new Map<string, ParsedVoiceXml>();

/** parses a VoiceXML document; the reason when it is not well-formed or not <vxml> */
export function parseVoiceXml(text: string): ParsedVoiceXml {
  if (text.length > PARSED_CACHE_MAX_CHARS) return parseUncached(text);
  const cached = parsedCache.get(text);
  if (cached !== undefined) {
    // most recently used last
    parsedCache.delete(text);
    parsedCache.set(text, cached);
    return cached;
  }
  const parsed = parseUncached(text);
  parsedCache.set(text, parsed);
  if (parsedCache.size > PARSED_CACHE_ENTRIES) {
    const oldest = parsedCache.keys().next();
    if (oldest.done !== true) parsedCache.delete(oldest.value);
  }
  return parsed;
}

function parseUncached(text: string): ParsedVoiceXml {
  const problems: string[] = [];
  let root: XmlElement | null = null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') problems.push(message);
      },
    }).parseFromString(text, 'text/xml');
    root = doc.documentElement;
  } catch (err) {
    return { error: `not well-formed XML: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (problems.length > 0) return { error: `not well-formed XML: ${problems[0] ?? ''}` };
  if (root === null || nameOf(root) !== 'vxml') return { error: 'not a VoiceXML document (no <vxml> root)' };
  const problem = validateDocument(root);
  if (problem !== undefined) return { error: `invalid VoiceXML: ${problem}` };
  return { root };
}
