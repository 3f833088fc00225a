/**
 * Token normalisation shared by the parsers and the matcher. Voice words are compared lower-case
 * with punctuation stripped (SRGS §2.1 leaves token comparison to the platform); DTMF tokens are
 * single keys 0-9 * # A-D (SRGS §2.1, DTMF).
 */

const DTMF_KEYS = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D']);

/** Splits a recogniser's text (or a grammar token) into normalised voice words. */
export function normaliseTokens(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}'’]+/gu, ' ')
    .split(' ')
    .map((word) => word.replace(/^['’]+|['’]+$/g, '').replace(/’/g, "'"))
    .filter((word) => word !== '');
}

/** Normalises a list of recogniser tokens: each may itself hold several words. */
export function normaliseVoiceTokens(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const token of tokens) for (const word of normaliseTokens(token)) out.push(word);
  return out;
}

export function isDtmfKey(key: string): boolean {
  return DTMF_KEYS.has(key);
}

/**
 * Splits DTMF text into keys: "1 2", "12" and "1, 2" all give ["1", "2"]; lower-case a-d are
 * the A-D keys. Returns undefined when a character is not a key.
 */
export function splitDtmfKeys(text: string): string[] | undefined {
  const keys: string[] = [];
  for (const ch of text) {
    if (/\s|,/.test(ch)) continue;
    const key = ch.toUpperCase();
    if (!DTMF_KEYS.has(key)) return undefined;
    keys.push(key);
  }
  return keys;
}

/** Normalises DTMF input tokens (each may hold several keys); unknown characters are kept so they fail to match. */
export function normaliseDtmfTokens(tokens: readonly string[]): string[] {
  const out: string[] = [];
  for (const token of tokens) {
    for (const ch of token) {
      if (/\s/.test(ch)) continue;
      out.push(ch.toUpperCase());
    }
  }
  return out;
}
