import t from 'tap';
import { GrammarError, loadGrammar } from '../../../../src/mcp/grammar/index.js';

const words = (text: string): string[] => text.split(' ');
const SRGS = 'xmlns="http://www.w3.org/2001/06/grammar" version="1.0" xml:lang="en-US"';

async function interpret(text: string, input: string): Promise<unknown> {
  const grammar = await loadGrammar({ text });
  const match = await grammar.match(words(input));
  if (match.status !== 'complete') throw new Error(`"${input}" did not match: ${match.status}`);
  return match.interpretation;
}

const PIZZA = `<grammar ${SRGS} root="order" tag-format="semantics/1.0">
  <rule id="order" scope="public">
    I would like a <ruleref uri="#size"/> pizza <item repeat="0-1">with <ruleref uri="#toppings"/></item>
    <tag>out.size = rules.size; out.toppings = rules.toppings ? rules.toppings : [];</tag>
  </rule>
  <rule id="size">
    <one-of><item>small<tag>out = "S"</tag></item><item>medium</item><item>large<tag>out = "L"</tag></item></one-of>
  </rule>
  <rule id="toppings">
    <tag>out = [];</tag>
    <ruleref uri="#topping"/><tag>out.push(rules.latest());</tag>
    <item repeat="0-">and <ruleref uri="#topping"/><tag>out.push(rules.latest());</tag></item>
  </rule>
  <rule id="topping">
    <one-of><item>mushrooms<tag>out = "mushroom"</tag></item><item>extra cheese<tag>out = "cheese"</tag></item><item>pepperoni</item></one-of>
  </rule>
</grammar>`;

t.test('pizza order: out is an object with size and toppings', async (t) => {
  t.same(await interpret(PIZZA, 'I would like a large pizza with mushrooms and extra cheese'), { size: 'L', toppings: ['mushroom', 'cheese'] });
  t.same(await interpret(PIZZA, 'i would like a medium pizza with pepperoni'), { size: 'medium', toppings: ['pepperoni'] }, 'a rule where no tag ran gives its text');
  t.same(await interpret(PIZZA, 'i would like a small pizza'), { size: 'S', toppings: [] });
});

t.test('out.city = rules.city (ABNF form, semantics/1.0)', async (t) => {
  const abnf = `#ABNF 1.0 UTF-8;
language en-US;
tag-format <semantics/1.0>;
root $flight;
public $flight = from $city {out.from = rules.city} to $city {out.to = rules.latest(); out.said = meta.current().text; out.last = meta.latest().text};
$city = boston {out = "BOS"} | "san francisco" {out = "SFO"} | new york;`;
  t.same(await interpret(abnf, 'from boston to San Francisco'), { from: 'BOS', to: 'SFO', said: 'from boston to san francisco', last: 'san francisco' });
  t.same(await interpret(abnf, 'from new york to boston'), { from: 'new york', to: 'BOS', said: 'from new york to boston', last: 'boston' });
});

t.test('rules.<id> and meta.<id>.text', async (t) => {
  const abnf = `#ABNF 1.0; tag-format <semantics/1.0>; root $main;
$main = $digit $digit {out = { n: rules.digit, text: meta.digit.text, both: meta.current().text }};
$digit = one {out = 1} | two {out = 2};`;
  t.same(await interpret(abnf, 'one two'), { n: 2, text: 'two', both: 'one two' }, 'the latest match of a rule wins');
});

t.test('literal tags (semantics/1.0-literals)', async (t) => {
  const xml = `<grammar ${SRGS} root="city" tag-format="semantics/1.0-literals"><rule id="city"><one-of>
    <item>new york<tag>NY</tag></item><item>los angeles<tag>LA</tag></item><item>chicago</item></one-of></rule></grammar>`;
  t.equal(await interpret(xml, 'new york'), 'NY');
  t.equal(await interpret(xml, 'chicago'), 'chicago');
  const abnf = '#ABNF 1.0; tag-format <semantics/1.0-literals>; root $city; $city = new york {NY} | los angeles {LA} | chicago;';
  t.equal(await interpret(abnf, 'los angeles'), 'LA');
});

t.test('VoiceXML-style tags without tag-format: a bare string literal is the result', async (t) => {
  const g = `<grammar type="application/srgs+xml" root="CityNameid1" version="1.0"><rule id="CityNameid1" scope="public"><one-of><item>chicago<tag>'foo'</tag></item></one-of></rule></grammar>`;
  t.equal(await interpret(g, 'chicago'), 'foo');
  t.equal(await interpret('#ABNF 1.0; tag-format <swi-semantics/1.0>; root $r; $r = yes {out = true} | no {out = false};', 'no'), false, 'swi-semantics/1.0 is semantics/1.0');
});

t.test('grammar-level tags declare globals for every rule', async (t) => {
  const xml = `<grammar ${SRGS} root="r" tag-format="semantics/1.0"><tag>var prefix = 'city:';</tag>
    <rule id="r"><one-of><item>paris<tag>out = prefix + meta.current().text</tag></item></one-of></rule></grammar>`;
  t.equal(await interpret(xml, 'paris'), 'city:paris');
  const abnf = "#ABNF 1.0; tag-format <semantics/1.0>; {var n = 40;}; root $r; $r = answer {out = n + 2};";
  t.equal(await interpret(abnf, 'answer'), 42);
});

t.test('no tags anywhere: the interpretation is the utterance', async (t) => {
  t.equal(await interpret('#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = Hello World;', 'HELLO, world!'), 'hello world');
});

t.test('tags that only assign string literals: the same results (the interpreter skips QuickJS for them)', async (t) => {
  const menu = '#ABNF 1.0; tag-format <semantics/1.0>; root $main; $main = $digit $digit {out = \'pair\'}; $digit = one {out = \'x\'} | two;';
  t.equal(await interpret(menu, 'one two'), 'pair', 'the root\'s own tag decides, whatever its rules gave');
  const plain = '#ABNF 1.0; tag-format <semantics/1.0>; root $main; $main = $digit and $digit; $digit = one {out = "x"} | two {out = "y"};';
  t.equal(await interpret(plain, 'one and two'), 'one and two', 'a root without a tag gives its text');
  t.equal(await interpret('#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = a {out = \'first\'} b {out = "second"};', 'a b'), 'second', 'the last assignment wins');
  const reads = '#ABNF 1.0; tag-format <semantics/1.0>; root $main; $main = $digit {out = rules.latest() + \'!\'}; $digit = one {out = \'1\'};';
  t.equal(await interpret(reads, 'one'), '1!', 'a tag that reads its rules still runs as script');
  t.equal(await interpret("#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = a {out = 'it\\'s'};", 'a'), "it's", 'an escaped literal runs as script');
});

t.test('JSON-compatible values come back: numbers, booleans, arrays, nested objects', async (t) => {
  const abnf = "#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = go {out = {a: [1, 'two', true, null], b: {c: 3.5}, f: function () {}}};";
  t.same(await interpret(abnf, 'go'), { a: [1, 'two', true, null], b: { c: 3.5 } });
});

t.test('hostile or broken tags give a GrammarError, and the next match still works', async (t) => {
  const spin = await loadGrammar({ text: '#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = spin {while (true) {}} | ok {out = "fine"};' });
  await t.rejects(spin.match(['spin']), { name: 'GrammarError', message: /semantic interpretation failed.*interrupted/ }, 'an endless loop is interrupted');
  const hog = await loadGrammar({ text: '#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = hog {var a = []; for (;;) a.push({ n: a.length, s: "abc" + a.length });};' });
  await t.rejects(hog.match(['hog']), GrammarError, 'memory is limited');
  const broken = await loadGrammar({ text: '#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = x {out = = 1};' });
  await t.rejects(broken.match(['x']), { name: 'GrammarError', message: /SyntaxError/ });
  const thrower = await loadGrammar({ text: '#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = x {throw new Error("nope")};' });
  await t.rejects(thrower.match(['x']), { name: 'GrammarError', message: /nope/ });
  const deep = await loadGrammar({ text: '#ABNF 1.0; tag-format <semantics/1.0>; root $r; $r = x {(function f() { f(); })()};' });
  await t.rejects(deep.match(['x']), GrammarError, 'stack overflow');
  t.equal((await spin.match(['ok'])).interpretation, 'fine');
});

t.test('very long input with tags: an interpretation or a GrammarError, never a RangeError', async (t) => {
  const g = await loadGrammar({ text: '#ABNF 1.0; mode dtmf; tag-format <semantics/1.0>; root $d; $d = ((0|1|2|3|4|5|6|7|8|9) {out = 1})<1-> {out = meta.current().text.length};' });
  t.equal((await g.match('12345678901234567890'.split(''))).interpretation, 20);
  const long = await g.match('1'.repeat(3000).split('')).then(
    (m) => m.interpretation,
    (err: unknown) => err,
  );
  t.ok(long === 3000 || long instanceof GrammarError, `3000 keys: ${String(long)}`);
});
