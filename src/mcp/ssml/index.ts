/**
 * SSML 1.0 for the MCP: parsing prompts, turning them into speech segments and plain words, and
 * say-as in English.
 */
export * from './types.js';
export { parseSsml, parseTimeDesignation, BREAK_STRENGTH_MS } from './parse-ssml.js';
export { ssmlToSegments, ssmlToText } from './render.js';
export { sayAs } from './say-as.js';
export { applyProsody, applyEmphasis, type ProsodyState } from './prosody.js';
