import t from 'tap';
import { GrammarError, loadGrammar } from '../../../../src/mcp/grammar/index.js';

/**
 * The grammars of the W3C VoiceXML 2.0/2.1 Implementation Report tests (vxml-ir), copied here
 * as fixtures (W3C test material, W3C document licence) so the unit tier runs without the
 * conformance folder. Each is loaded and fed the input its test asks for.
 */

const HEADER = '<?xml version="1.0"?>\n<!-- @ Copyright 2004 W3C (MIT, ERCIM, Keio), All Rights Reserved. See http://www.w3.org/Consortium/Legal/. @ -->\n';
const dtmfOne = (root: string, key: string): string => `${HEADER}<grammar xmlns="http://www.w3.org/2001/06/grammar" root="${root}" version="1.0" mode="dtmf">
  <rule id="${root}" scope="public">
    <one-of>
      <item>${key}</item>
    </one-of>
  </rule>
</grammar>`;

interface Fixture {
  name: string;
  text: string;
  input: string[];
  interpretation: unknown;
  mode: 'dtmf' | 'voice';
}

const FIXTURES: Fixture[] = [
  { name: 'vxml21/1/1_grammar.grxml', text: dtmfOne('rule1', '1'), input: ['1'], interpretation: '1', mode: 'dtmf' },
  { name: 'vxml21/5/first.grxml', text: dtmfOne('rule1', '4'), input: ['4'], interpretation: '4', mode: 'dtmf' },
  { name: 'vxml21/5/second.grxml', text: dtmfOne('rule1', '4'), input: ['4'], interpretation: '4', mode: 'dtmf' },
  { name: 'vxml21/5/third.grxml', text: dtmfOne('rule3', '1'), input: ['1'], interpretation: '1', mode: 'dtmf' },
  { name: 'vxml21/7/7.grxml', text: dtmfOne('rule1', '1'), input: ['1'], interpretation: '1', mode: 'dtmf' },
  { name: 'vxml21/8/8.grxml', text: dtmfOne('rule1', '1'), input: ['1'], interpretation: '1', mode: 'dtmf' },
  {
    name: 'vxml20/1174_grammar.grxml',
    text: `<?xml version="1.0"?>
<!-- This is the grammar that is supposed to be found and used by the link in root. -->
<grammar xml:lang="en-US" xmlns="http://www.w3.org/2001/06/grammar" root="CityName" version="1.0" mode="voice">
\t<rule id="CityName" scope="public">
\t\t<one-of>
\t\t\t<item>Chicago</item>
\t\t</one-of>
\t</rule>
</grammar>`,
    input: ['Chicago'],
    interpretation: 'chicago',
    mode: 'voice',
  },
  {
    name: 'vxml20/246_abs_grammar.grxml',
    text: `<?xml version="1.0"?>
<grammar xmlns="http://www.w3.org/2001/06/grammar" root="CityName" version="1.0" mode="voice" xml:lang="en-US">
\t<rule id="CityName" scope="public">
\t\t<one-of>
\t\t\t<item>San Francisco</item>
\t\t</one-of>
\t</rule>
</grammar>`,
    input: ['San', 'Francisco'],
    interpretation: 'san francisco',
    mode: 'voice',
  },
  {
    name: 'vxml20/assert185.vxml (inline)',
    text: '<grammar type="application/srgs+xml" root="CityNameid1" version="1.0"><rule id="CityNameid1" scope="public"><one-of><item>chicago</item></one-of></rule></grammar>',
    input: ['Chicago'],
    interpretation: 'chicago',
    mode: 'voice',
  },
  {
    name: 'vxml20/232.vxml (inline, expects a == \'foo\')',
    text: "<grammar type=\"application/srgs+xml\" root=\"CityNameid1\" version=\"1.0\"><rule id=\"CityNameid1\" scope=\"public\"><one-of><item>chicago<tag>'foo'</tag></item></one-of></rule></grammar>",
    input: ['Chicago'],
    interpretation: 'foo',
    mode: 'voice',
  },
  {
    name: 'vxml20/assert153.vxml (inline, expects f1 == \'alpha\')',
    text: "<grammar type=\"application/srgs+xml\" root=\"CityNameid1\" version=\"1.0\"><rule id=\"CityNameid1\" scope=\"public\"><one-of><item>chicago<tag>'alpha'</tag></item></one-of></rule></grammar>",
    input: ['chicago'],
    interpretation: 'alpha',
    mode: 'voice',
  },
];

for (const fixture of FIXTURES) {
  t.test(fixture.name, async (t) => {
    // VoiceXML <grammar> inline in a vxml document: parse inside its vxml element like the interpreter would
    const grammar = await loadGrammar({ text: fixture.text, baseUri: `http://conformance.test/${fixture.name.split(' ')[0]!}`, mode: 'voice' });
    t.equal(grammar.mode, fixture.mode);
    const match = await grammar.match(fixture.input);
    t.equal(match.status, 'complete');
    t.same(match.interpretation, fixture.interpretation);
    t.equal((await grammar.match(fixture.mode === 'dtmf' ? ['9'] : ['boston'])).status, 'nomatch', 'other input does not match');
  });
}

t.test('a grammar inside a whole VoiceXML document is found by localName', async (t) => {
  const vxml = `<?xml version="1.0"?><vxml xmlns="http://www.w3.org/2001/vxml" version="2.0"><form><field name="a">
    <grammar type="application/srgs+xml" root="CityNameid1" version="1.0"><rule id="CityNameid1" scope="public"><one-of><item>chicago</item></one-of></rule></grammar>
  </field></form></vxml>`;
  t.equal((await (await loadGrammar({ text: vxml })).match(['chicago'])).status, 'complete');
});

t.test('vxml21/3/3b.vxml: root names a rule that does not exist (test expects error.badfetch)', async (t) => {
  const text = `<grammar root="3b_root" version="1.0">
    <rule id="root_3b" scope="public">
      <one-of>
        <item>1</item>
      </one-of>
    </rule>
  </grammar>`;
  await t.rejects(loadGrammar({ text, mode: 'dtmf' }), { name: 'GrammarError', message: /root rule "3b_root"/ });
  await t.rejects(loadGrammar({ text, mode: 'dtmf' }), GrammarError);
});
