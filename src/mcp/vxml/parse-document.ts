/** Parsing a fetched VoiceXML document: well-formed XML, a <vxml> root, and the structural checks of validate.ts. */
import { DOMParser } from '@xmldom/xmldom';
import { nameOf, type XmlElement } from './dom.js';
import { validateDocument } from './validate.js';

/** parses a VoiceXML document; undefined with the reason when it is not well-formed or not <vxml> */
export function parseVoiceXml(text: string): { root: XmlElement } | { error: string } {
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
