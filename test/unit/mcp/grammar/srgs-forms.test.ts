import t, { type Test } from 'tap';
import { GrammarError, loadGrammar, normaliseTokens, type Grammar, type GrammarMatch } from '../../../../src/mcp/grammar/index.js';

const SRGS = 'xmlns="http://www.w3.org/2001/06/grammar" version="1.0"';
const words = (text: string): string[] => (text === '' ? [] : text.split(' '));
const xml = (body: string, attrs = 'root="main"'): string => `<?xml version="1.0"?>\n<grammar ${SRGS} xml:lang="en-US" ${attrs}>\n${body}\n</grammar>`;

async function summary(grammar: Grammar, input: string): Promise<Pick<GrammarMatch, 'status' | 'canExtend' | 'interpretation'>> {
  const m = await grammar.match(words(input));
  return { status: m.status, canExtend: m.canExtend, interpretation: m.interpretation };
}

/** The same grammar in both forms must answer every probe identically. */
async function sameMatches(t: Test, xmlText: string, abnfText: string, probes: Array<[string, GrammarMatch['status'], unknown?]>): Promise<void> {
  const fromXml = await loadGrammar({ text: xmlText });
  const fromAbnf = await loadGrammar({ text: abnfText });
  for (const [input, status, interpretation] of probes) {
    const a = await summary(fromXml, input);
    const b = await summary(fromAbnf, input);
    t.same(b, a, `"${input}": ABNF and XML agree`);
    t.equal(a.status, status, `"${input}" is ${status}`);
    if (interpretation !== undefined) t.same(a.interpretation, interpretation, `"${input}" means ${JSON.stringify(interpretation)}`);
  }
}


t.test('normaliseTokens lower-cases and strips punctuation', async (t) => {
  t.same(normaliseTokens('  San Francisco, CA!  '), ['san', 'francisco', 'ca']);
  t.same(normaliseTokens("Don't  stop."), ["don't", 'stop']);
  t.same(normaliseTokens(''), []);
});

t.test('yes/no (SRGS §2.2 style): XML and ABNF agree', async (t) => {
  await sameMatches(
    t,
    xml(`<rule id="main" scope="public"><one-of><item>yes</item><item>yeah</item><item><token>you bet</token></item><item>no</item></one-of></rule>`),
    '#ABNF 1.0 UTF-8;\nlanguage en-US;\nroot $main;\npublic $main = yes | yeah | "you bet" | no;',
    [['yes', 'complete', 'yes'], ['You bet!', 'complete', 'you bet'], ['you', 'prefix'], ['maybe', 'nomatch'], ['yes no', 'nomatch'], ['', 'prefix']],
  );
});

t.test('cities and states with rulerefs and weights: XML and ABNF agree', async (t) => {
  await sameMatches(
    t,
    xml(`<rule id="main" scope="public"><ruleref uri="#city"/><item repeat="0-1"><ruleref uri="#state"/></item></rule>
<rule id="city"><one-of><item weight="10">Boston</item><item weight="2">Philadelphia</item><item>Fargo</item><item>San Francisco</item></one-of></rule>
<rule id="state"><one-of><item>Florida</item><item>North Dakota</item><item>New York</item></one-of></rule>`),
    `#ABNF 1.0;
root $main;
public $main = $city [$state];
$city = /10/ Boston | /2/ Philadelphia | /1/ Fargo | /1/ "San Francisco";
$state = Florida | North Dakota | New York;`,
    [['boston', 'complete', 'boston'], ['fargo north dakota', 'complete', 'fargo north dakota'], ['fargo north', 'prefix'], ['san', 'prefix'], ['new york', 'nomatch']],
  );
  const g = await loadGrammar({ text: xml('<rule id="main"><ruleref uri="#city"/><item repeat="0-1"><ruleref uri="#state"/></item></rule><rule id="city"><one-of><item>boston</item></one-of></rule><rule id="state"><one-of><item>ohio</item></one-of></rule>') });
  const m = await g.match(['boston']);
  t.equal(m.status, 'complete');
  t.equal(m.canExtend, true, 'a state may follow');
});

t.test('repeats: 1-, n, n-m, 0-1 and repeat-prob', async (t) => {
  await sameMatches(
    t,
    xml(`<rule id="main"><item repeat="1-">very</item> big <item repeat="2">dog</item><item repeat="0-2" repeat-prob="0.5">woof</item></rule>`),
    '#ABNF 1.0; root $main; $main = very<1-> big dog<2> woof<0-2 /0.5/>;',
    [
      ['very big dog dog', 'complete'],
      ['very very very big dog dog woof woof', 'complete'],
      ['very big dog dog woof woof woof', 'nomatch'],
      ['big dog dog', 'nomatch'],
      ['very very', 'prefix'],
      ['very big dog', 'prefix'],
    ],
  );
});

t.test('weights pick the parse when the tokens are ambiguous', async (t) => {
  const tags = 'tag-format="semantics/1.0" root="main"';
  await sameMatches(
    t,
    xml(`<rule id="main"><one-of><item weight="0.2">new york<tag>out='state'</tag></item><item weight="0.8">new york<tag>out='city'</tag></item></one-of></rule>`, tags),
    "#ABNF 1.0; tag-format <semantics/1.0>; root $main; $main = /0.2/ new york {out='state'} | /0.8/ new york {out='city'};",
    [['new york', 'complete', 'city']],
  );
});

t.test('special rules NULL, VOID, GARBAGE', async (t) => {
  await sameMatches(
    t,
    xml(`<rule id="main"><one-of><item><ruleref special="GARBAGE"/> ticket</item><item>cancel <ruleref special="NULL"/></item><item>never <ruleref special="VOID"/></item></one-of></rule>`),
    '#ABNF 1.0; root $main; $main = $GARBAGE ticket | cancel $NULL | never $VOID;',
    [['i would like a ticket', 'complete'], ['ticket', 'complete'], ['cancel', 'complete'], ['never', 'prefix']],
  );
  const voided = await loadGrammar({ text: '#ABNF 1.0; root $main; $main = cancel | never $VOID;' });
  t.equal((await voided.match(['never'])).status, 'nomatch', 'an alternative through VOID is dead, not a prefix');
  t.equal((await voided.match([])).canExtend, true);
  const onlyVoid = await loadGrammar({ text: '#ABNF 1.0; root $r; $r = $VOID;' });
  t.equal((await onlyVoid.match([])).status, 'nomatch', 'VOID never matches, even nothing');
});

t.test('DTMF grammars: keys are tokens, "1 2" and "12" are two keys', async (t) => {
  const g = await loadGrammar({ text: xml('<rule id="main"><one-of><item>1 2</item><item>3<item repeat="0-">4</item></item><item>*9</item><item>#</item></one-of></rule>', 'root="main" mode="dtmf"') });
  t.equal(g.mode, 'dtmf');
  t.equal((await g.match(['1', '2'])).status, 'complete');
  t.equal((await g.match(['1'])).status, 'prefix');
  t.same(await summary(g, '3'), { status: 'complete', canExtend: true, interpretation: '3' });
  const long = await g.match(['3', '4', '4']);
  t.equal(long.utterance, '344', 'DTMF utterance has no separators');
  t.equal((await g.match(['*', '9'])).interpretation, '*9');
  t.same(await summary(g, '#'), { status: 'complete', canExtend: false, interpretation: '#' });
  const abnf = await loadGrammar({ text: '#ABNF 1.0; mode dtmf; root $pin; $pin = (1|2|3)<4>;' });
  t.same(await summary(abnf, '1 2 3 1'), { status: 'complete', canExtend: false, interpretation: '1231' });
  await t.rejects(loadGrammar({ text: '#ABNF 1.0; mode dtmf; root $r; $r = hello;' }), GrammarError, 'a word is not a DTMF key');
});

t.test('external rulerefs through a fake fetch, resolved against baseUri', async (t) => {
  const documents = new Map<string, string>([
    ['http://example.com/grammars/city.grxml', xml('<rule id="city" scope="public"><one-of><item>boston</item><item>london</item></one-of></rule><rule id="other" scope="public">paris</rule>', 'root="city"')],
    ['http://example.com/grammars/abnf/num.gram', '#ABNF 1.0; root $n; public $n = one | two; public $loop = again $<../city.grxml#other>;'],
  ]);
  const fetched: string[] = [];
  const fetch = (uri: string): Promise<{ text: string; contentType?: string }> => {
    fetched.push(uri);
    const text = documents.get(uri);
    return text === undefined ? Promise.reject(new Error(`${uri}: 404 Not Found`)) : Promise.resolve({ text });
  };
  const g = await loadGrammar(
    {
      text: xml('<rule id="main"><ruleref uri="city.grxml"/> <ruleref uri="abnf/num.gram"/> <item repeat="0-1"><ruleref uri="city.grxml#other"/></item> <item repeat="0-1"><ruleref uri="http://example.com/grammars/abnf/num.gram#loop"/></item></rule>'),
      baseUri: 'http://example.com/grammars/main.grxml',
    },
    { fetch },
  );
  t.same(fetched.sort(), ['http://example.com/grammars/abnf/num.gram', 'http://example.com/grammars/city.grxml'], 'each document fetched once');
  t.ok(g.rules?.rules.has('http://example.com/grammars/city.grxml#city'), 'external rules keyed by absolute uri#id');
  t.ok(g.rules?.rules.has('main'), 'main grammar rules keyed by id');
  t.equal((await g.match(words('london two paris'))).status, 'complete');
  t.equal((await g.match(words('boston one again paris'))).status, 'complete');
  t.equal((await g.match(words('boston three'))).status, 'nomatch');

  const missing = loadGrammar({ text: xml('<rule id="main"><ruleref uri="nowhere.grxml"/></rule>'), baseUri: 'http://example.com/a.vxml' }, { fetch });
  await t.rejects(missing, { name: 'GrammarError', message: /nowhere\.grxml.*404/ }, 'a failed fetch names the URI and status');
  await t.rejects(loadGrammar({ text: xml('<rule id="main"><ruleref uri="x.grxml"/></rule>') }), GrammarError, 'no fetcher');
  await t.rejects(
    loadGrammar({ text: xml('<rule id="main"><ruleref uri="city.grxml#nosuch"/></rule>'), baseUri: 'http://example.com/grammars/m.grxml' }, { fetch }),
    { name: 'GrammarError', message: /nosuch/ },
  );
});

t.test('documents that refer to each other (fetch cycles) load once each', async (t) => {
  const docs = new Map([
    ['http://x/a.gram', '#ABNF 1.0; root $a; public $a = a [$<b.gram>];'],
    ['http://x/b.gram', '#ABNF 1.0; root $b; public $b = b [$<a.gram>];'],
  ]);
  let count = 0;
  const g = await loadGrammar({ text: docs.get('http://x/a.gram')!, baseUri: 'http://x/a.gram' }, {
    fetch: (uri) => {
      count++;
      return Promise.resolve({ text: docs.get(uri) ?? '' });
    },
  });
  t.equal(count, 1, 'only b is fetched: a is the main document');
  t.equal((await g.match(words('a b a b'))).status, 'complete');
});

t.test('grammars inline in VoiceXML: vxml namespace, ABNF text, legacy rule content', async (t) => {
  const vxmlInline = await loadGrammar({
    text: '<grammar xmlns="http://www.w3.org/2001/vxml" type="application/srgs+xml" root="r" version="1.0"><rule id="r" scope="public"><one-of><item>chicago</item></one-of></rule></grammar>',
  });
  t.equal((await vxmlInline.match(['Chicago'])).status, 'complete');
  const abnfInside = await loadGrammar({ text: '<grammar mode="voice" type="application/srgs">yes | no | "of course"</grammar>' });
  t.equal((await abnfInside.match(['of', 'course'])).status, 'complete');
  const abnfRules = await loadGrammar({ text: '<grammar><![CDATA[#ABNF 1.0; root $r; $r = red | blue;]]></grammar>' });
  t.equal((await abnfRules.match(['blue'])).status, 'complete');
  const legacy = await loadGrammar({ text: '<grammar root="colour"><one-of><item>green</item><item>red</item></one-of></grammar>' });
  t.equal((await legacy.match(['red'])).status, 'complete');
  const dtmfMode = await loadGrammar({ text: '<grammar root="r"><rule id="r">1 2</rule></grammar>', mode: 'dtmf' });
  t.equal(dtmfMode.mode, 'dtmf', 'mode from the source when the grammar does not say');
  t.equal(vxmlInline.weight, 1);
  t.equal((await loadGrammar({ text: xml('<rule id="main">x</rule>') })).rules?.language, 'en-US', 'xml:lang');
  t.equal((await loadGrammar({ text: '#ABNF 1.0; language de-DE; root $r; $r = x;' })).rules?.language, 'de-DE');
  const weighted = await loadGrammar({ text: 'a | b', weight: 2.5 });
  t.equal(weighted.weight, 2.5);
  t.match(weighted.id, /^inline:/);
});

t.test('ABNF details: comments, {!{ }!} tags, header declarations, language attachments', async (t) => {
  const g = await loadGrammar({
    text: `#ABNF 1.0 ISO-8859-1;
// a comment
language en-US; mode voice; root $r; tag-format <semantics/1.0>;
base <http://example.com/>; lexicon <lex.pls>; meta "author" is "me"; http-equiv "Expires" is "0";
/* block
   comment */
public $r = hello!en-US (world | there) {!{ out = {said: "}"}; }!};`,
  });
  t.same((await g.match(words('hello world'))).interpretation, { said: '}' });
});

t.test('malformed grammars give GrammarError naming the problem', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['<grammar root="a"><rule id="a">x</rule>', /malformed XML/],
    [xml('<rule id="main"><ruleref uri="#nope"/></rule>'), /unknown rule "#nope"/],
    [xml('<rule id="other">x</rule>', 'root="main"'), /root rule "main" is not defined/],
    [xml('<rule id="a">x</rule><rule id="b">y</rule>', ''), /root/],
    [xml('<rule id="main"><item repeat="3-1">x</item></rule>'), /bad repeat "3-1"/],
    [xml('<rule id="main"><item repeat="many">x</item></rule>'), /bad repeat/],
    [xml('<rule id="main"><one-of><item weight="-1">x</item></one-of></rule>'), /bad weight/],
    [xml('<rule id="main"><bogus/></rule>'), /unexpected <bogus>/],
    [xml('<rule id="main"><ruleref special="NOTHING"/></rule>'), /special/],
    [xml('<rule id="main"><ruleref uri="#b"/> x</rule><rule id="b"><item repeat="0-1">y</item><ruleref uri="#main"/></rule>'), /left-recursive/],
    ['#ABNF 1.0; root $a; $a = $a x;', /rule "a" is left-recursive/],
    ['#ABNF 1.0; root $a; $a = x <2-1>;', /bad repeat/],
    ['#ABNF 1.0; root $a; $a = (x | y;', /expected "\)"/],
    ['#ABNF 1.0; root $a; $a = x', /expected ";"/],
    ['#ABNF 2.0;', /version/],
    ['#ABNF 1.0; mode fax;', /mode/],
    ['#ABNF 1.0; root $a;\n$a = x;\n$a = y;', /line 3.*duplicate/],
    ['<html/>', /no <grammar>/],
  ];
  for (const [text, message] of bad) {
    await t.rejects(loadGrammar({ text }), { name: 'GrammarError', message }, text.slice(0, 60));
  }
  const err = await loadGrammar({ text: xml('<rule id="main"><ruleref uri="#nope"/></rule>'), baseUri: 'http://h/g.grxml' }).catch((e: unknown) => e);
  t.ok(err instanceof GrammarError);
  t.equal((err as GrammarError).grammarId, 'http://h/g.grxml');
  t.match((err as Error).message, /^grammar http:\/\/h\/g\.grxml line \d+: /, 'names the grammar and line');
});

t.test('right recursion is allowed; the matcher handles it', async (t) => {
  const g = await loadGrammar({ text: '#ABNF 1.0; root $list; $list = item [and $list];' });
  t.equal((await g.match(words('item and item and item'))).status, 'complete');
  t.equal((await g.match(words('item and'))).status, 'prefix');
});
