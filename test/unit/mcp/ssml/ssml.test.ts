import t from 'tap';
import fc from 'fast-check';
import { InvalidInputError } from '../../../../src/lib/index.js';
import { parseSsml, ssmlToSegments, ssmlToText, SsmlError } from '../../../../src/mcp/ssml/index.js';

const NS = 'xmlns="http://www.w3.org/2001/10/synthesis"';

t.test('parse: the tree of a typical prompt', async (t) => {
  const doc = parseSsml(
    `<?xml version="1.0"?><speak version="1.0" ${NS} xml:lang="en-US">` +
      '<p><s xml:lang="en-GB">Hi</s></p><break time="1.5s"/><break strength="x-weak"/><break/>' +
      '<emphasis level="strong">now</emphasis><prosody rate="fast" pitch="+2st" volume="loud" contour="(0%,+20Hz)">quick</prosody>' +
      '<say-as interpret-as="date" format="mdy" detail="x">11/28/2026</say-as><audio src="a.wav">fallback<desc>a chime</desc></audio>' +
      '<mark name="here"/><sub alias="World Wide Web">WWW</sub><phoneme alphabet="ipa" ph="təmɑtoʊ">tomato</phoneme>' +
      '<voice gender="female" age="30" name="anna" xml:lang="de-DE">Hallo</voice><lexicon uri="x.pls"/><meta name="a" content="b"/>' +
      '<metadata><x/></metadata><custom>kept</custom></speak>',
  );
  t.equal(doc.version, '1.0');
  t.equal(doc.language, 'en-US');
  t.same(doc.children, [
    { kind: 'p', children: [{ kind: 's', language: 'en-GB', children: [{ kind: 'text', text: 'Hi' }] }] },
    { kind: 'break', time: '1.5s', ms: 1500 },
    { kind: 'break', strength: 'x-weak', ms: 100 },
    { kind: 'break', ms: 500 },
    { kind: 'emphasis', level: 'strong', children: [{ kind: 'text', text: 'now' }] },
    { kind: 'prosody', prosody: { rate: 'fast', pitch: '+2st', volume: 'loud' }, children: [{ kind: 'text', text: 'quick' }] },
    { kind: 'say-as', interpretAs: 'date', format: 'mdy', detail: 'x', text: '11/28/2026' },
    { kind: 'audio', src: 'a.wav', children: [{ kind: 'text', text: 'fallback' }] },
    { kind: 'mark', name: 'here' },
    { kind: 'sub', alias: 'World Wide Web', text: 'WWW' },
    { kind: 'phoneme', ph: 'təmɑtoʊ', alphabet: 'ipa', text: 'tomato' },
    { kind: 'voice', voice: { gender: 'female', age: 30, name: 'anna', language: 'de-DE' }, children: [{ kind: 'text', text: 'Hallo' }] },
    { kind: 'unknown', name: 'custom', children: [{ kind: 'text', text: 'kept' }] },
  ]);
});

t.test('parse: namespace-tolerant (none, default, prefixed)', async (t) => {
  const bare = parseSsml('<speak><emphasis>a</emphasis></speak>');
  const withNs = parseSsml(`<speak ${NS}><emphasis>a</emphasis></speak>`);
  const prefixed = parseSsml('<ss:speak xmlns:ss="http://www.w3.org/2001/10/synthesis"><ss:emphasis>a</ss:emphasis></ss:speak>');
  t.same(withNs, bare);
  t.same(prefixed, bare);
  t.same(bare.children, [{ kind: 'emphasis', level: 'moderate', children: [{ kind: 'text', text: 'a' }] }]);
});

t.test('parse: malformed input throws SsmlError', async (t) => {
  const bad = [
    '',
    'just text',
    '<speak>unclosed',
    '<speak><p></speak>',
    '<notspeak/>',
    '<speak><break time="soon"/></speak>',
    '<speak><break strength="huge"/></speak>',
    '<speak><emphasis level="loudest">x</emphasis></speak>',
    '<speak><prosody rate="warp">x</prosody></speak>',
    '<speak><say-as>12</say-as></speak>',
    '<speak><mark/></speak>',
    '<speak><sub>x</sub></speak>',
    '<speak><audio>no src</audio></speak>',
    '<speak><voice gender="robot">x</voice></speak>',
    '<speak>&undefined;</speak>',
  ];
  for (const input of bad) {
    t.throws(() => parseSsml(input), SsmlError, JSON.stringify(input));
  }
  try {
    parseSsml('<speak><p></speak>');
  } catch (err) {
    t.ok(err instanceof InvalidInputError, 'an InvalidInputError');
    t.equal((err as Error).name, 'SsmlError');
    t.match((err as Error).message, /malformed SSML/);
  }
});

t.test('text: what a listener hears', async (t) => {
  t.equal(ssmlToText('<speak>Hello   <emphasis>world</emphasis>!</speak>'), 'Hello world!');
  t.equal(ssmlToText('<speak><p>One.</p><p>Two.</p><s>Three</s><s>four</s></speak>'), 'One. Two. Three four');
  t.equal(ssmlToText('<speak>Pay <say-as interpret-as="currency">$12.50</say-as> by <say-as interpret-as="date" format="md">11/28</say-as>.</speak>'),
    'Pay twelve dollars and fifty cents by November twenty-eighth.');
  t.equal(ssmlToText('<speak><sub alias="World Wide Web Consortium">W3C</sub></speak>'), 'World Wide Web Consortium');
  t.equal(ssmlToText('<speak>a<break/>b<mark name="m"/>c</speak>'), 'a b c');
  t.equal(ssmlToText('<speak><audio src="x.wav">Sorry, <emphasis>no</emphasis> audio<desc>beep</desc></audio></speak>'), 'Sorry, no audio');
  t.equal(ssmlToText('<speak><phoneme ph="x">tomato</phoneme><lexicon uri="l"/><meta name="a" content="b"/></speak>'), 'tomato');
  t.equal(ssmlToText('<speak>Tom &amp; Jerry<![CDATA[ <raw> ]]></speak>'), 'Tom & Jerry <raw>');
  t.equal(ssmlToText('<speak><unknown-thing>kept <b>words</b></unknown-thing></speak>'), 'kept words');
});

t.test('text: malformed SSML gives the best-effort text, never throws', async (t) => {
  t.equal(ssmlToText('<speak>Tom & Jerry <break></speak>'), 'Tom & Jerry');
  t.equal(ssmlToText('plain words'), 'plain words');
  t.equal(ssmlToText('<speak>x<say-as>1</say-as><break time="zz"/>y</speak>'), 'x1 y', 'invalid attributes are dropped, not fatal');
  t.equal(ssmlToText('<p>a fragment</p>'), 'a fragment');
  t.equal(ssmlToText('<speak>caf&#233; &#x263A; &lt;3 <!-- note --> end'), 'café ☺ <3 end');
  t.equal(ssmlToText(''), '');
});

t.test('segments: nested prosody, emphasis, breaks, marks, audio with fallback', async (t) => {
  const segments = ssmlToSegments(
    `<speak ${NS} xml:lang="en-US">Welcome <break strength="strong"/>` +
      '<prosody rate="slow" volume="soft">slow <prosody rate="+100%" pitch="high">and fast</prosody> slow again</prosody>' +
      '<emphasis level="strong">important</emphasis><emphasis level="none">plain</emphasis> text' +
      '<mark name="m1"/><audio src="http://x/beep.wav">no <emphasis level="reduced">beep</emphasis></audio>' +
      '<voice name="anna" gender="female">one<break time="250ms"/>two</voice>' +
      '<p xml:lang="fr-FR">Bonjour</p><break strength="none"/></speak>',
  );
  const en = { language: 'en-US' };
  t.same(segments, [
    { kind: 'text', text: 'Welcome', voice: en },
    { kind: 'break', ms: 750 },
    { kind: 'text', text: 'slow', rate: 0.75, volume: 0.4, voice: en },
    { kind: 'text', text: 'and fast', rate: 1.5, pitch: 4, volume: 0.4, voice: en },
    { kind: 'text', text: 'slow again', rate: 0.75, volume: 0.4, voice: en },
    { kind: 'text', text: 'important', rate: 0.9, pitch: 2, voice: en },
    { kind: 'text', text: 'plain text', voice: en },
    { kind: 'mark', name: 'm1' },
    {
      kind: 'audio',
      src: 'http://x/beep.wav',
      fallback: [
        { kind: 'text', text: 'no', voice: en },
        { kind: 'text', text: 'beep', rate: 1.1, pitch: -1, voice: en },
      ],
    },
    { kind: 'text', text: 'one', voice: { name: 'anna', gender: 'female', language: 'en-US' } },
    { kind: 'break', ms: 250 },
    { kind: 'text', text: 'two', voice: { name: 'anna', gender: 'female', language: 'en-US' } },
    { kind: 'text', text: 'Bonjour', voice: { language: 'fr-FR' } },
    { kind: 'break', ms: 0 },
  ]);
});

t.test('segments: prosody values', async (t) => {
  const one = (prosody: string): unknown => {
    const [first] = ssmlToSegments(`<speak><prosody ${prosody}>x</prosody></speak>`);
    return first;
  };
  t.same(one('rate="1.5"'), { kind: 'text', text: 'x', rate: 1.5 });
  t.same(one('rate="50%"'), { kind: 'text', text: 'x', rate: 0.5 });
  t.same(one('rate="-20%"'), { kind: 'text', text: 'x', rate: 0.8 });
  t.same(one('rate="x-fast" pitch="-3st"'), { kind: 'text', text: 'x', rate: 2, pitch: -3 });
  t.same(one('pitch="240Hz"'), { kind: 'text', text: 'x', pitch: 12 }, 'an octave above the nominal 120 Hz');
  t.same(one('pitch="+100%"'), { kind: 'text', text: 'x', pitch: 12 });
  t.same(one('volume="50"'), { kind: 'text', text: 'x', volume: 0.5 });
  t.same(one('volume="-10"'), { kind: 'text', text: 'x', volume: 0.9 });
  t.same(one('volume="silent"'), { kind: 'text', text: 'x', volume: 0 });
  t.same(one('rate="default" duration="2s"'), { kind: 'text', text: 'x' });
  t.same(ssmlToSegments('<speak><prosody rate="fast"><prosody rate="default">x</prosody></prosody></speak>'), [{ kind: 'text', text: 'x' }]);
});

t.test('segments: the language option applies when the document has none', async (t) => {
  t.same(ssmlToSegments('<speak>hi</speak>', { language: 'en-GB' }), [{ kind: 'text', text: 'hi', voice: { language: 'en-GB' } }]);
  t.same(ssmlToSegments('<speak xml:lang="es-ES">hola</speak>', { language: 'en-GB' }), [{ kind: 'text', text: 'hola', voice: { language: 'es-ES' } }]);
  t.same(ssmlToSegments('not <xml', { language: 'en-GB' }), [{ kind: 'text', text: 'not', voice: { language: 'en-GB' } }]);
  t.same(ssmlToSegments('<speak>  </speak>'), []);
  t.same(ssmlToSegments('<speak><break time="300"/></speak>'), [{ kind: 'break', ms: 300 }], 'VoiceXML 1.0 bare milliseconds');
  t.throws(() => parseSsml('<speak><break time="300"/></speak>'), SsmlError, 'but not in strict parsing');
});

const SAMPLES = [
  `<speak ${NS} xml:lang="en-US"><p><s>Hello <emphasis>there</emphasis></s></p><break time="300ms"/></speak>`,
  '<speak><prosody rate="slow" pitch="+2st" volume="+10">a <say-as interpret-as="date">20261128</say-as></prosody></speak>',
  '<speak><audio src="x.wav">fb <sub alias="alias">s</sub></audio><mark name="m"/><voice gender="male">v</voice></speak>',
  '<speak>Tom &amp; Jerry <say-as interpret-as="currency">USD12.50</say-as> <say-as interpret-as="time">0330p</say-as></speak>',
];

t.test('fast-check: mutated SSML never makes ssmlToText/ssmlToSegments throw; parseSsml throws only SsmlError', async (t) => {
  const mutation = fc.record({
    sample: fc.constantFrom(...SAMPLES),
    cuts: fc.array(fc.tuple(fc.nat(), fc.nat(8), fc.string({ maxLength: 6 })), { maxLength: 5 }),
  });
  const noise = fc.oneof(
    mutation.map(({ sample, cuts }) =>
      cuts.reduce((s, [at, len, insert]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + insert + s.slice(i + len);
      }, sample),
    ),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: fc.constantFrom('<', '>', '/', '&', ';', '"', '=', ' ', 'speak', 'break', 'say-as', 'a', 'x:'), maxLength: 40 }),
  );
  let parsed = 0;
  fc.assert(
    fc.property(noise, (input) => {
      const text = ssmlToText(input);
      if (typeof text !== 'string') return false;
      const segments = ssmlToSegments(input);
      if (!Array.isArray(segments)) return false;
      try {
        parseSsml(input);
        parsed++;
      } catch (err) {
        if (!(err instanceof SsmlError)) throw err;
      }
      return true;
    }),
    { numRuns: 1500 },
  );
  t.ok(parsed >= 0, `${parsed} mutants still parsed`);
});
