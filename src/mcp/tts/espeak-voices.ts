/**
 * Which espeak-ng voice speaks a language. espeak names its voices by lower-case language tags
 * (`en-us`, `fr-fr`, `es-419`); SSML and VoiceXML use BCP 47 (`en-US`, `fr-CA`, `es-MX`).
 */

/** The voices built into the npm espeak-ng data (`espeak-ng --voices`). */
const ESPEAK_VOICES: ReadonlySet<string> = new Set(
  ('af am an ar as az ba be bg bn bpy bs ca chr-us-qaaa-x-west cmn cmn-latn-pinyin cs cv cy da de el ' +
    'en-029 en-gb en-gb-scotland en-gb-x-gbclan en-gb-x-gbcwmd en-gb-x-rp en-us en-us-nyc eo es es-419 et eu ' +
    'fa fa-latn fi fr-be fr-ch fr-fr ga gd gn grc gu hak haw he hi hr ht hu hy hyw ia id io is it ja jbo ka kk ' +
    'kl kn ko kok ku ky la lb lfn lt ltg lv mi mk ml mr ms mt mto my nb nci ne nl nog om or pa pap piqd pl pt ' +
    'pt-br py qdb qu quc qya ro ru ru-cl ru-lv sd shn si sjn sk sl smj sq sr sv sw ta te th tk tn tr tt ug uk ' +
    'ur uz vi vi-vn-x-central vi-vn-x-south yue').split(' '),
);

/** Tags whose espeak voice is not the tag itself (regional variants and macro-languages). */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['en', 'en-us'],
  ['en-ca', 'en-us'],
  ['en-au', 'en-gb'],
  ['en-nz', 'en-gb'],
  ['en-ie', 'en-gb'],
  ['en-in', 'en-gb'],
  ['en-za', 'en-gb'],
  ['fr', 'fr-fr'],
  ['fr-ca', 'fr-fr'],
  ['fr-lu', 'fr-fr'],
  ['es-es', 'es'],
  ['es-mx', 'es-419'],
  ['es-us', 'es-419'],
  ['es-ar', 'es-419'],
  ['es-co', 'es-419'],
  ['de-de', 'de'],
  ['de-at', 'de'],
  ['de-ch', 'de'],
  ['it-it', 'it'],
  ['pt-pt', 'pt'],
  ['nl-nl', 'nl'],
  ['nl-be', 'nl'],
  ['no', 'nb'],
  ['nb-no', 'nb'],
  ['zh', 'cmn'],
  ['zh-cn', 'cmn'],
  ['zh-tw', 'cmn'],
  ['zh-hk', 'yue'],
  ['cmn-cn', 'cmn'],
  ['yue-hk', 'yue'],
  ['ja-jp', 'ja'],
  ['ko-kr', 'ko'],
  ['sv-se', 'sv'],
  ['da-dk', 'da'],
  ['fi-fi', 'fi'],
  ['pl-pl', 'pl'],
  ['ru-ru', 'ru'],
  ['tr-tr', 'tr'],
  ['ar-sa', 'ar'],
  ['he-il', 'he'],
  ['hi-in', 'hi'],
]);

/** A voice name with an optional `+variant` (espeak-ng-data/voices/!v), e.g. `en-us+f3`. */
const VOICE_WITH_VARIANT = /^([a-z0-9-]+)(\+[a-z0-9_]{1,20})?$/;

/**
 * The espeak voice for `language`, or undefined when espeak has none. A `voice` that names an
 * espeak voice (optionally with a variant) wins; a variant alone (`+f3`) is applied to the
 * language's voice; any other name (a Google voice, say) is ignored.
 */
export function espeakVoiceFor(language: string, voice?: string): string | undefined {
  const requested = voice?.trim().toLowerCase();
  if (requested !== undefined && requested.length > 0) {
    const match = VOICE_WITH_VARIANT.exec(requested.startsWith('+') ? `x${requested}` : requested);
    if (match !== null) {
      const base = requested.startsWith('+') ? undefined : voiceForTag(match[1] ?? '');
      const variant = match[2] ?? '';
      if (base !== undefined) return base + variant;
      if (requested.startsWith('+')) {
        const forLanguage = voiceForTag(language.toLowerCase());
        if (forLanguage !== undefined) return forLanguage + variant;
      }
    }
  }
  return voiceForTag(language.toLowerCase());
}

function voiceForTag(tag: string): string | undefined {
  let candidate = tag;
  // RFC 4647 §3.4 lookup: drop subtags from the right until something matches
  for (;;) {
    const alias = ALIASES.get(candidate);
    if (alias !== undefined) return alias;
    if (ESPEAK_VOICES.has(candidate)) return candidate;
    const cut = candidate.lastIndexOf('-');
    if (cut <= 0) return undefined;
    candidate = candidate.slice(0, cut);
  }
}
